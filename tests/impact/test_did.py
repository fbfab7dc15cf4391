"""Staggered DiD against the R did package's published examples, plus a Monte Carlo.

Published numbers and their sources:
- mpdta (county teen employment, Callaway & Sant'Anna 2021): the did package README
  (bcallaway11/did, README.md: `att_gt(..., est_method = "reg")`, `aggte` "dynamic" and
  "group") and the "Getting Started with the did Package" vignette (did-basics: the
  doubly-robust run `mw.attgt`, `aggte(type = "dynamic")` and `balance_e = 1`).
- ehec (Medicaid expansion and insurance coverage): the Mixtape Sessions "Advanced DiD"
  exercise solutions (Mixtape-Sessions/Advanced-DID, Exercises/Exercise-1/Solutions/
  medicaid-analysis-solutions-R.md), output of did's `att_gt(control_group =
  "notyettreated")`, `aggte(type = "simple")` and fixest's clustered TWFE.
The data files are in tests/impact/data (see docs/methods/difference-in-differences.md).

Point estimates and the pre-test are deterministic and match to the digits printed. The
printed standard errors come from did's random multiplier bootstrap (1,000 draws, a robust
interquartile-range scale): published runs of the same mpdta cell differ by up to 10% (the
2004 cohort in 2006: 0.0380 in the README, 0.0412 in the vignette), so SEs are checked within
15% (`SE_TOLERANCE`), and only to the 3 decimals printed where did rounds them so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from whatworks.impact.did import staggered_did
from whatworks.impact.panel import Panel, PanelProblem

DATA = Path(__file__).parent / "data"
SE_TOLERANCE = 0.15

# README, est_method = "reg": (group, time, ATT(g,t), bootstrap SE)
MPDTA_ATTGT = [
    (2004, 2004, -0.0105, 0.0241),
    (2004, 2005, -0.0704, 0.0313),
    (2004, 2006, -0.1373, 0.0380),
    (2004, 2007, -0.1008, 0.0337),
    (2006, 2004, 0.0065, 0.0223),
    (2006, 2005, -0.0028, 0.0196),
    (2006, 2006, -0.0046, 0.0188),
    (2006, 2007, -0.0412, 0.0202),
    (2007, 2004, 0.0305, 0.0154),
    (2007, 2005, -0.0027, 0.0168),
    (2007, 2006, -0.0311, 0.0190),
    (2007, 2007, -0.0261, 0.0182),
]
# did-basics vignette (doubly robust, same points): bootstrap SEs of the same cells
MPDTA_ATTGT_SE_VIGNETTE = [
    0.0243, 0.0331, 0.0412, 0.0358, 0.0230, 0.0210, 0.0175, 0.0196, 0.0147, 0.0156,
    0.0179, 0.0175,
]  # fmt: skip
# README aggte(type = "dynamic"): overall -0.0772 (SE 0.0196); (e, estimate, SE)
MPDTA_DYNAMIC = [
    (-3, 0.0305, 0.0153),
    (-2, -0.0006, 0.0136),
    (-1, -0.0245, 0.0138),
    (0, -0.0199, 0.0115),
    (1, -0.0510, 0.0174),
    (2, -0.1373, 0.0356),
    (3, -0.1008, 0.0354),
]
# README aggte(type = "group"): overall -0.031 (SE 0.0123); (group, estimate, SE)
MPDTA_GROUP = [(2004, -0.0797, 0.0277), (2006, -0.0229, 0.0172), (2007, -0.0261, 0.0177)]
# did-basics aggte(type = "dynamic", balance_e = 1): overall -0.0288 (SE 0.0135)
MPDTA_BALANCED = [(-2, 0.0065), (-1, -0.0028), (0, -0.0066), (1, -0.0510)]
# Mixtape solutions, summary(cs_results), notyettreated: {(group, time): ATT(g,t)}
EHEC_ATTGT = {
    2014: [-0.0065, 0.0111, 0.0015, 0.0016, 0.0009, 0.0467, 0.0692, 0.0785, 0.0725, 0.0738,
           0.0803],
    2015: [0.0071, -0.0245, -0.0027, 0.0003, -0.0100, -0.0020, 0.0491, 0.0526, 0.0682, 0.0663,
           0.0738],
    2016: [0.0022, 0.0511, -0.0262, -0.0276, 0.0440, -0.0322, 0.0409, 0.0317, 0.0368, 0.0645,
           0.0825],
    2017: [0.0102, -0.0161, 0.0019, 0.0177, 0.0012, -0.0063, 0.0036, 0.0398, 0.0471, 0.0681,
           0.0650],
    2019: [0.0189, -0.0269, -0.0244, 0.0024, 0.0129, 0.0003, -0.0108, -0.0182, 0.0093, 0.0062,
           0.0365],
}  # fmt: skip


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(DATA / "mpdta.csv")


@pytest.fixture(scope="module")
def mpdta_panel(mpdta: pd.DataFrame) -> Panel:
    return Panel.from_frame(
        mpdta, unit="countyreal", time="year", outcome="lemp", first_treated="first.treat"
    )


@pytest.fixture(scope="module")
def ehec() -> pd.DataFrame:
    return pd.read_csv(DATA / "ehec.csv")


def ehec_panel(frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(
        frame, unit="stfips", time="year", outcome="dins", first_treated="yexp2"
    )


def test_mpdta_is_the_published_data(mpdta: pd.DataFrame) -> None:
    """README: 500 counties, 2003-2007, 2,500 rows; did-basics prints head(mpdta)."""
    assert len(mpdta) == 2500 and mpdta["countyreal"].nunique() == 500
    assert sorted(mpdta["year"].unique()) == [2003, 2004, 2005, 2006, 2007]
    assert sorted(mpdta["first.treat"].unique()) == [0, 2004, 2006, 2007]
    head = mpdta.sort_values(["countyreal", "year"]).head(6)
    assert head["lemp"].round(6).tolist() == [
        8.461469,
        8.336870,
        8.340217,
        8.378161,
        8.487352,
        4.997212,
    ]
    assert head["lpop"].round(6).tolist()[:2] == [5.896761, 5.896761]
    assert head["countyreal"].tolist() == [8001] * 5 + [8019]


def test_mpdta_group_time_effects_and_pretest(mpdta_panel: Panel) -> None:
    result = staggered_did(mpdta_panel, inference="analytic")
    cells = [(x.group, x.time, round(x.att, 4)) for x in result.group_time]
    assert cells == [(g, t, att) for g, t, att, _ in MPDTA_ATTGT]
    # P-value for pre-test of parallel trends assumption: 0.16812 (deterministic)
    assert round(result.pretrend_p, 5) == 0.16812
    assert result.pretrend_df == 5
    for cell, (*_, readme_se), vignette_se in zip(
        result.group_time, MPDTA_ATTGT, MPDTA_ATTGT_SE_VIGNETTE, strict=True
    ):
        assert cell.se == pytest.approx(readme_se, rel=SE_TOLERANCE)
        assert cell.se == pytest.approx(vignette_se, rel=SE_TOLERANCE)


def test_mpdta_aggregations(mpdta_panel: Panel) -> None:
    result = staggered_did(mpdta_panel, inference="analytic")
    assert round(result.overall["dynamic"].att, 4) == -0.0772
    assert result.overall["dynamic"].se == pytest.approx(0.0196, rel=SE_TOLERANCE)
    assert [(x.e, round(x.att, 4)) for x in result.event_study] == [
        (e, att) for e, att, _ in MPDTA_DYNAMIC
    ]
    for effect, (_, _, se) in zip(result.event_study, MPDTA_DYNAMIC, strict=True):
        assert effect.se == pytest.approx(se, rel=SE_TOLERANCE)
    # the headline is the group aggregation, -0.031 (SE 0.0123)
    assert round(result.att, 3) == -0.031 == round(result.overall["group"].att, 3)
    assert result.se == pytest.approx(0.0123, rel=SE_TOLERANCE)
    assert [(x.group, round(x.att, 4)) for x in result.by_cohort] == [
        (g, att) for g, att, _ in MPDTA_GROUP
    ]
    for effect, (_, _, se) in zip(result.by_cohort, MPDTA_GROUP, strict=True):
        assert effect.se == pytest.approx(se, rel=SE_TOLERANCE)


def test_mpdta_simple_aggregation_by_hand(mpdta_panel: Panel) -> None:
    """'simple' weights post-adoption ATT(g,t) by cohort size: 20, 40 and 131 counties."""
    post = [(g, att) for g, t, att, _ in MPDTA_ATTGT if t >= g]
    size = {2004: 20, 2006: 40, 2007: 131}
    by_hand = sum(size[g] * att for g, att in post) / sum(size[g] for g, _ in post)
    result = staggered_did(mpdta_panel, overall="simple", inference="analytic")
    assert result.att == pytest.approx(by_hand, abs=1e-4)
    assert round(result.att, 4) == -0.0400


def test_mpdta_balanced_event_study(mpdta_panel: Panel) -> None:
    result = staggered_did(mpdta_panel, balance_e=1, overall="dynamic", inference="analytic")
    assert [(x.e, round(x.att, 4)) for x in result.event_study] == MPDTA_BALANCED
    assert round(result.att, 4) == -0.0288
    assert result.se == pytest.approx(0.0135, rel=SE_TOLERANCE)


def test_bootstrap_standard_errors_are_close_to_did_s(mpdta_panel: Panel) -> None:
    result = staggered_did(mpdta_panel, inference="bootstrap", n_boot=999)
    assert result.method["inference_kind"] == "bootstrap"
    for cell, (*_, se) in zip(result.group_time, MPDTA_ATTGT, strict=True):
        assert cell.se == pytest.approx(se, rel=0.15)
    assert result.se == pytest.approx(0.0123, rel=SE_TOLERANCE)


def test_ehec_not_yet_treated_comparisons(ehec: pd.DataFrame) -> None:
    result = staggered_did(
        ehec_panel(ehec), control="notyet", overall="simple", inference="analytic"
    )
    years = range(2009, 2020)
    published = [
        (g, t, att) for g, row in EHEC_ATTGT.items() for t, att in zip(years, row, strict=True)
    ]
    assert [(x.group, x.time, round(x.att, 4)) for x in result.group_time] == published
    # aggte(type = "simple"): 0.068, SE 0.008
    assert round(result.att, 3) == 0.068
    assert round(result.se, 3) == 0.008
    # the 2x2 computed by hand in the solutions: 0.04670243
    first = result.group_time[5]
    assert (first.group, first.time) == (2014, 2014) and round(first.att, 8) == 0.04670243
    # feols(dins ~ postTreated | stfips + year, cluster = "stfips"): 0.070321 (0.007401)
    assert round(result.twfe.att, 6) == 0.070321 and round(result.twfe.se, 6) == 0.007401
    assert result.twfe.agrees
    # did prints no pre-test here: its covariance is singular (one-state cohorts)
    assert result.pretrend_p is None
    assert any("could not be tested" in w for w in result.warnings)


def test_ehec_without_never_treated_states(ehec: pd.DataFrame) -> None:
    adopters = ehec[ehec["yexp2"].notna()]
    result = staggered_did(
        ehec_panel(adopters), control="notyet", overall="simple", inference="analytic"
    )
    assert round(result.att, 4) == 0.0728  # aggte simple: 0.0728 (SE 0.0092)
    assert result.se == pytest.approx(0.0092, rel=SE_TOLERANCE)
    assert round(result.twfe.att, 6) == 0.062817 and round(result.twfe.se, 6) == 0.007653
    # TWFE differs from the staggered estimate by more than its SE: a plain warning
    assert not result.twfe.agrees
    assert any("Goodman-Bacon" in w for w in result.warnings)
    with pytest.raises(PanelProblem, match="no unit is never treated"):
        staggered_did(ehec_panel(adopters), control="never")


def test_same_seed_same_numbers_to_the_digit(mpdta_panel: Panel) -> None:
    first = staggered_did(mpdta_panel, seed=7, inference="bootstrap").as_dict()
    again = staggered_did(mpdta_panel, seed=7, inference="bootstrap").as_dict()
    other = staggered_did(mpdta_panel, seed=8, inference="bootstrap").as_dict()
    assert json.dumps(first) == json.dumps(again)
    assert first["se"] != other["se"] and first["att"] == other["att"]
    assert first["seed"] == 7


def test_as_dict_has_the_cli_shape(mpdta_panel: Panel) -> None:
    shape = staggered_did(mpdta_panel).as_dict()
    for key in ("att", "se", "ci_low", "ci_high", "p", "pretrend_p", "warnings", "method"):
        assert key in shape
    assert shape["event_study"][0] == {"e": -3, "att": shape["event_study"][0]["att"],
                                       "se": shape["event_study"][0]["se"]}  # fmt: skip
    assert set(shape["group_time"][0]) == {"group", "time", "att", "se"}
    assert shape["group_time"][0]["group"] == 2004 and isinstance(
        shape["group_time"][0]["group"], int
    )
    assert shape["ci_low"] < shape["att"] < shape["ci_high"]
    json.dumps(shape)


def test_sensitivity_bound_by_hand(mpdta_panel: Panel) -> None:
    """Largest pre-period step 0.0305 (e = -3); group weights give mean exposure 241/191."""
    result = staggered_did(mpdta_panel, inference="analytic")
    bounds = {b.m: b for b in result.sensitivity}
    assert bounds[0.0].lower == bounds[0.0].upper == result.att
    reach = (20 * 2.5 + 40 * 1.5 + 131 * 1) / 191
    assert bounds[1.0].upper - result.att == pytest.approx(0.0305 * reach, abs=1e-4)
    assert bounds[2.0].lower == pytest.approx(result.att - 2 * 0.0305 * reach, abs=2e-4)
    assert bounds[0.5].ci_low == pytest.approx(result.ci_low - 0.5 * 0.0305 * reach, abs=1e-4)
    # the interval excludes 0 until M reaches the breakdown value
    assert result.breakdown_m == pytest.approx(
        (abs(result.att) - 1.959964 * result.se) / (0.0305 * reach), rel=1e-3
    )


def test_universal_base_period(mpdta_panel: Panel) -> None:
    result = staggered_did(mpdta_panel, base_period="universal", inference="analytic")
    reference = {x.e: x.att for x in result.event_study}
    assert reference[-1] == 0.0
    # post-adoption effects do not depend on the base period convention
    assert round(reference[0], 4) == -0.0199 and round(result.att, 3) == -0.031


def test_few_adopters_use_randomisation_inference(mpdta: pd.DataFrame) -> None:
    keep = mpdta["countyreal"].isin(
        mpdta.loc[mpdta["first.treat"] == 0, "countyreal"].unique()[:60].tolist()
        + mpdta.loc[mpdta["first.treat"] == 2006, "countyreal"].unique()[:2].tolist()
    )
    panel = Panel.from_frame(
        mpdta[keep], unit="countyreal", time="year", outcome="lemp", first_treated="first.treat"
    )
    result = staggered_did(panel, n_perm=499)
    assert result.method["inference_kind"] == "randomisation"
    assert "randomisation inference" in result.method["inference"]
    assert any(
        w.startswith("Only 2 councils adopted: the estimate is imprecise") for w in result.warnings
    )
    assert result.ci_low < result.att < result.ci_high and 0 < result.p <= 1
    assert staggered_did(panel, n_perm=499).as_dict() == result.as_dict()


def test_unbalanced_panel_is_estimated_with_a_warning(mpdta: pd.DataFrame) -> None:
    dropped = mpdta.drop(index=[0, 7, 13])
    panel = Panel.from_frame(
        dropped, unit="countyreal", time="year", outcome="lemp", first_treated="first.treat"
    )
    result = staggered_did(panel, inference="analytic")
    assert any("unbalanced (3 councils miss some periods)" in w for w in result.warnings)
    # each ATT(g,t) uses the counties observed in both of its years: by hand for (2007, 2007)
    wide = dropped.pivot(index="countyreal", columns="year", values="lemp")
    change = (wide[2007] - wide[2006]).dropna()
    cohort = dropped.groupby("countyreal")["first.treat"].first().reindex(change.index)
    by_hand = change[cohort == 2007].mean() - change[cohort == 0].mean()
    assert (cohort == 2007).sum() == 130
    assert result.group_time[-1].att == pytest.approx(by_hand, abs=1e-12)


def simulate(
    rng: np.random.Generator, cohorts: dict[int, int], effect: float | list[float]
) -> Panel:
    """150 councils, 2016-2023: council and year effects, noise sd 1, a planted effect.

    `effect` is constant, or one value per year since adoption (0, 1, 2, ...).
    """
    n, years = 150, list(range(2016, 2024))
    first = np.zeros(n, dtype=int)
    order, at = rng.permutation(n), 0
    for year, size in cohorts.items():
        first[order[at : at + size]] = year
        at += size
    y = rng.normal(0, 1, n)[:, None] + rng.normal(0, 0.5, len(years))[None, :]
    y = y + rng.normal(0, 1, (n, len(years)))
    for j, year in enumerate(years):
        on = (first > 0) & (year >= first)
        since = year - first[on]
        y[on, j] += effect if isinstance(effect, float) else np.asarray(effect)[since]
    frame = pd.DataFrame(
        {
            "la": np.repeat(np.arange(n), len(years)),
            "year": np.tile(years, n),
            "rate": y.ravel(),
            "adopted": np.repeat(first, len(years)),
        }
    )
    return Panel.from_frame(frame, **{"unit": "la", "time": "year", "outcome": "rate",
                                      "first_treated": "adopted"})  # fmt: skip


def monte_carlo(
    cohorts: dict[int, int], effect: float | list[float], seed: int, **options: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    att, covers, significant, pretrend = [], [], [], []
    truth = effect if isinstance(effect, float) else None
    for replication in range(200):
        panel = simulate(rng, cohorts, effect)
        result = staggered_did(panel, seed=replication, twfe=False, **options)  # type: ignore[arg-type]
        target = truth if truth is not None else group_truth(cohorts, effect)  # type: ignore[arg-type]
        att.append(result.att)
        covers.append(result.ci_low <= target <= result.ci_high)
        significant.append(result.p < 0.05)
        pretrend.append(result.pretrend_p is not None and result.pretrend_p < 0.05)
    return np.array(att), np.array(covers), np.array(significant), np.array(pretrend)


def group_truth(cohorts: dict[int, int], effect: list[float]) -> float:
    """The group-aggregated ATT implied by the planted effects (cohorts averaged by size)."""
    per_cohort = {g: np.mean(effect[: 2023 - g + 1]) for g in cohorts}
    return sum(cohorts[g] * per_cohort[g] for g in cohorts) / sum(cohorts.values())


@pytest.mark.slow
def test_monte_carlo_few_adopters_randomisation_inference() -> None:
    """6 of 150 councils adopt (2 each in 2019, 2020, 2021): randomisation inference."""
    few = {2019: 2, 2020: 2, 2021: 2}
    att, covers, _, _ = monte_carlo(few, 1.0, seed=11, n_perm=499, n_boot=99)
    assert abs(att.mean() - 1.0) < 0.10  # mean bias within 10% of the effect
    assert 0.90 <= covers.mean() <= 0.99  # 95% intervals cover the truth
    _, _, significant, pretrend = monte_carlo(few, 0.0, seed=12, n_perm=499, n_boot=99)
    assert significant.mean() <= 0.10  # a planted null is rarely called significant
    # trends are parallel in the simulation: the randomisation pre-test rarely rejects them
    assert pretrend.mean() <= 0.10


@pytest.mark.slow
def test_monte_carlo_many_adopters_dynamic_effects_bootstrap() -> None:
    """45 of 150 councils adopt; the effect grows with time since adoption."""
    many = {2019: 15, 2020: 15, 2021: 15}
    effect = [0.5, 0.75, 1.0, 1.25, 1.5]
    truth = group_truth(many, effect)
    att, covers, significant, _ = monte_carlo(many, effect, seed=13, n_boot=499)
    assert abs(att.mean() - truth) < 0.10 * truth
    assert 0.90 <= covers.mean() <= 0.99
    assert significant.mean() > 0.9
    _, _, significant, _ = monte_carlo(many, 0.0, seed=14, n_boot=499)
    assert significant.mean() <= 0.10


def test_one_adopter_among_few_units_has_an_interval_without_ends() -> None:
    """1 of 12 units adopts: the 12 ways to give the adoption to one unit are enumerated
    exactly, so the smallest attainable p-value is 1/12 > 0.05 and no effect size can be
    rejected: the interval has no ends."""
    rng = np.random.default_rng(3)
    years = list(range(2016, 2024))
    y = rng.normal(0, 1, (12, len(years)))
    first = np.zeros(12, dtype=int)
    first[0] = 2020
    y[0, 4:] += 2.0
    frame = pd.DataFrame(
        {
            "la": np.repeat(np.arange(12), len(years)),
            "year": np.tile(years, 12),
            "rate": y.ravel(),
            "adopted": np.repeat(first, len(years)),
        }
    )
    panel = Panel.from_frame(frame, unit="la", time="year", outcome="rate", first_treated="adopted")
    result = staggered_did(panel, seed=1, n_perm=199)
    assert result.method["inference_kind"] == "randomisation"
    assert result.ci_bounded is False
    assert result.as_dict()["ci_bounded"] is False
    assert any("no finite ends" in w for w in result.warnings)
    assert result.p == pytest.approx(1 / 12)
    assert "randomisation pre-test" in result.method["pretrend_test"]
    assert result.pretrend_p is not None and result.pretrend_p >= 1 / 12 - 1e-12


def test_one_adopter_with_missing_years_keeps_an_honest_p_value() -> None:
    """The adopter's series has gaps (as Cornwall's re-referrals miss 2014 and 2015): its own
    assignment is still counted once, so p is at least 1/(others + 1), never 0, and the
    interval is not a single point."""
    rng = np.random.default_rng(5)
    years = list(range(2012, 2024))
    n = 30
    y = rng.normal(0, 1, (n, len(years)))
    first = np.zeros(n, dtype=int)
    first[0] = 2019
    y[0, years.index(2019) :] += 1.0
    frame = pd.DataFrame(
        {
            "la": np.repeat(np.arange(n), len(years)),
            "year": np.tile(years, n),
            "rate": y.ravel(),
            "adopted": np.repeat(first, len(years)),
        }
    )
    frame = frame[~((frame["la"] == 0) & frame["year"].isin([2014, 2015]))]
    panel = Panel.from_frame(frame, unit="la", time="year", outcome="rate", first_treated="adopted")
    result = staggered_did(panel, seed=2, n_perm=199)
    assert result.method["inference_kind"] == "randomisation"
    assert result.p >= 1 / n - 1e-12
    assert result.ci_high > result.ci_low
