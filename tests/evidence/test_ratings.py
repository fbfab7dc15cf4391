"""Evidence levels and GRADE certainty: every rule firing and not firing.

Expected levels come from the rules in docs/methods/evidence-ratings.md, worked by hand for
each case; the SWIS case uses the published trial result (data/evidence/studies.csv).
"""

from __future__ import annotations

from typing import Any

import pytest

from whatworks.core.errors import WhatworksError
from whatworks.evidence.ratings import (
    InvalidEvidence,
    StudyFinding,
    grade_certainty,
    rate_outcome,
    rate_outcomes,
)


def finding(study_id: str = "A", **given: Any) -> StudyFinding:
    """A rigorous, independent, short-term positive randomised trial unless told otherwise."""
    values: dict[str, Any] = {
        "outcome": "care entry",
        "design": "RCT",
        "maryland_level": 5,
        "direction": "positive",
        "risk_of_bias": "low",
        "independent": True,
        "sample_size": 500,
        "follow_up_months": 6,
        "year": 2020,
    }
    values.update(given)
    return StudyFinding(study_id=study_id, **values)


def steps(certainty: Any) -> dict[str, int]:
    return {d.domain: d.steps for d in certainty.downgrades}


# --- what counts as rigorous, long-term and positive -------------------------------------


@pytest.mark.parametrize(
    ("maryland", "bias", "n", "rigorous"),
    [
        (5, "low", 40, True),
        (5, "some concerns", None, True),
        (5, "high", 5000, False),
        (4, "some concerns", 50, True),
        (4, "high", 5000, False),
        (3, "low", 100, True),
        (3, "low", 99, False),
        (3, "low", None, False),
        (3, "some concerns", 10_000, False),
        (2, "low", 10_000, False),
    ],
)
def test_rigour(maryland: int, bias: str, n: int | None, rigorous: bool) -> None:
    case = finding(maryland_level=maryland, risk_of_bias=bias, sample_size=n)
    assert case.rigorous is rigorous


@pytest.mark.parametrize(("months", "long"), [(12, True), (11.9, False), (None, False), (60, True)])
def test_long_term_is_twelve_months_or_more(months: float | None, long: bool) -> None:
    assert finding(follow_up_months=months).long_term is long


@pytest.mark.parametrize(
    ("direction", "significant", "reading"),
    [
        ("positive", None, "positive"),
        ("positive", True, "positive"),
        ("positive", False, "null"),
        ("negative", False, "null"),
        ("negative", True, "negative"),
        ("mixed", False, "mixed"),
    ],
)
def test_a_result_reported_not_significant_reads_as_null(
    direction: str, significant: bool | None, reading: str
) -> None:
    assert finding(direction=direction, significant=significant).reading == reading


@pytest.mark.parametrize(
    "bad",
    [
        {"maryland_level": 6},
        {"maryland_level": 0},
        {"direction": "good"},
        {"risk_of_bias": "medium"},
        {"ci_low": 2.0, "ci_high": 1.0},
        {"ci_low": 1.0},
        {"sample_size": -1},
        {"outcome": " "},
    ],
)
def test_unusable_findings_are_refused_with_the_study_named(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvidence) as raised:
        finding("SWIS-2023", **bad)
    assert isinstance(raised.value, WhatworksError)
    assert "SWIS-2023" in str(raised.value)


# --- levels: each rule firing and not firing ---------------------------------------------


def test_not_effective_fires_on_a_rigorous_null_with_no_rigorous_positive() -> None:
    # SWIS: a pilot with no comparison found "evidence of promise"; the cluster RCT found a
    # 5.5% higher s47 rate (95% CI -4.5% to +16.6%), not significant.
    pilot = finding("SWIS-pilot", maryland_level=2, risk_of_bias="high", independent=False)
    trial = finding(
        "SWIS-trial",
        direction="null",
        significant=False,
        estimate=5.5,
        ci_low=-4.5,
        ci_high=16.6,
        sample_size=268,
        follow_up_months=23,
    )
    level = rate_outcome([pilot, trial])
    assert (level.level, level.rule) == ("NE", "not-effective")
    assert level.supporting == ("SWIS-trial",)
    assert level.contrary == ("SWIS-pilot",)
    assert level.qualifications == ()


def test_not_effective_does_not_fire_on_a_weak_null() -> None:
    weak = finding(maryland_level=3, risk_of_bias="some concerns", direction="null")
    assert rate_outcome([weak]).level == "NL2"


def test_a_rigorous_negative_result_is_not_effective_and_says_harm() -> None:
    level = rate_outcome([finding(direction="negative", significant=True)])
    assert level.level == "NE"
    assert "a rigorous study found harm" in level.qualifications


def test_a_positive_trial_reported_not_significant_counts_as_null() -> None:
    assert rate_outcome([finding(significant=False)]).level == "NE"


def test_best_evidence_null_fires_when_the_strongest_rigorous_study_found_nothing() -> None:
    comparison = finding("QED", maryland_level=3, sample_size=200)
    trial = finding("RCT", direction="null")
    level = rate_outcome([comparison, trial])
    assert (level.level, level.rule) == ("NE", "best-evidence-null")
    assert level.mixed
    assert (level.supporting, level.contrary) == (("RCT",), ("QED",))


def test_equally_strong_studies_that_disagree_give_not_effective() -> None:
    level = rate_outcome([finding("A"), finding("B", direction="null")])
    assert (level.level, level.rule) == ("NE", "best-evidence-null")


def test_mixed_rigorous_fires_when_the_strongest_rigorous_study_found_an_improvement() -> None:
    # Two long-term independent trials would be level 4; a weaker rigorous null holds it at 3.
    trials = [finding("T1", follow_up_months=24), finding("T2", sample_size=900)]
    comparison = finding("QED", maryland_level=3, sample_size=150, direction="null")
    level = rate_outcome([*trials, comparison])
    assert (level.level, level.rule) == ("3", "mixed-rigorous")
    assert level.qualifications == ("mixed evidence",)
    assert (level.supporting, level.contrary) == (("T1", "T2"), ("QED",))


def test_long_term_replicated_fires_with_two_studies_one_long_term_one_independent() -> None:
    level = rate_outcome(
        [finding("T1", follow_up_months=24, independent=False), finding("T2", year=2022)]
    )
    assert (level.level, level.rule) == ("4", "long-term-replicated")
    assert level.supporting == ("T1", "T2")


@pytest.mark.parametrize(
    ("findings", "missing"),
    [
        ([finding("T1", follow_up_months=24), finding("T1", outcome="care entry")], "one"),
        ([finding("T1"), finding("T2")], "short-term only"),
        (
            [
                finding("T1", follow_up_months=24, independent=False),
                finding("T2", independent=False),
            ],
            "no independent evaluation",
        ),
        (
            [finding("T1", follow_up_months=24), finding("T2"), finding("T3", direction="mixed")],
            "mixed evidence",
        ),
    ],
)
def test_long_term_replicated_does_not_fire_when_a_condition_is_missing(
    findings: list[StudyFinding], missing: str
) -> None:
    level = rate_outcome(findings)
    assert (level.level, level.rule) == ("3", "one-rigorous")
    expected = "one rigorous study" if missing == "one" else missing
    assert expected in level.qualifications


def test_one_rigorous_fires_on_a_single_positive_trial() -> None:
    # Family Group Conferencing at pre-proceedings: one RCT, looked after at 12 months.
    level = rate_outcome([finding("FGC", follow_up_months=12, sample_size=2500)])
    assert (level.level, level.rule) == ("3", "one-rigorous")
    assert level.qualifications == ("one rigorous study",)


def test_one_rigorous_does_not_fire_on_a_trial_at_high_risk_of_bias() -> None:
    assert rate_outcome([finding(risk_of_bias="high")]).rule == "preliminary"


@pytest.mark.parametrize(
    "evidence",
    [
        {"maryland_level": 2, "risk_of_bias": "high"},
        {"maryland_level": 3, "risk_of_bias": "some concerns"},
        {"maryland_level": 4, "risk_of_bias": "high"},
        {"direction": "mixed"},
    ],
)
def test_preliminary_fires_on_a_positive_weaker_study_or_a_rigorous_mixed_one(
    evidence: dict[str, Any],
) -> None:
    level = rate_outcome([finding("P", **evidence)])
    assert (level.level, level.rule) == ("2", "preliminary")
    assert level.supporting == ("P",)


def test_preliminary_says_when_weaker_studies_also_found_nothing() -> None:
    level = rate_outcome(
        [
            finding("P", maryland_level=2, risk_of_bias="high"),
            finding("Q", maryland_level=3, risk_of_bias="high", direction="null"),
        ]
    )
    assert level.level == "2"
    assert level.qualifications == ("weaker studies also found no improvement",)
    assert level.contrary == ("Q",)


def test_preliminary_does_not_fire_on_a_single_snapshot_correlation() -> None:
    level = rate_outcome([finding(maryland_level=1, risk_of_bias="high")])
    assert (level.level, level.rule) == ("NL2", "below-level-2")


def test_inconclusive_findings_are_set_aside_not_read_as_no_effect() -> None:
    level = rate_outcome([finding("M", direction="inconclusive")])
    assert (level.level, level.rule) == ("NL2", "below-level-2")
    assert level.set_aside == ("M",)
    assert level.contrary == ()


def test_adding_rigorous_nulls_lowers_the_level_step_by_step() -> None:
    base = [finding("T1", follow_up_months=24), finding("T2")]
    assert rate_outcome(base).level == "4"
    weaker_null = finding("QED", maryland_level=3, sample_size=150, direction="null")
    assert rate_outcome([*base, weaker_null]).level == "3"
    stronger_null = finding("BIG", direction="null", sample_size=5000)
    assert rate_outcome([*base, weaker_null, stronger_null]).level == "NE"


def test_outcomes_are_rated_separately_and_together_refused() -> None:
    findings = [finding("A"), finding("B", outcome="offending", direction="null")]
    with pytest.raises(InvalidEvidence, match="several outcomes"):
        rate_outcome(findings)
    with pytest.raises(InvalidEvidence, match="at least one"):
        rate_outcome([])
    levels = rate_outcomes(findings)
    assert [(x.outcome, x.level) for x in levels] == [("care entry", "3"), ("offending", "NE")]
    assert levels[0].as_dict()["supporting"] == ("A",)


# --- GRADE certainty ---------------------------------------------------------------------


def test_randomised_evidence_starts_high_and_stays_high_without_concerns() -> None:
    certainty = grade_certainty([finding(ci_low=0.1, ci_high=0.5)])
    assert (certainty.start, certainty.grade, certainty.downgrades) == ("high", "high", ())


def test_observational_evidence_starts_low() -> None:
    certainty = grade_certainty([finding(maryland_level=3, ci_low=0.1, ci_high=0.5)])
    assert (certainty.start, certainty.grade) == ("low", "low")


def test_when_trials_exist_other_designs_are_set_aside_with_a_note() -> None:
    certainty = grade_certainty(
        [finding("RCT", ci_low=0.1, ci_high=0.5), finding("QED", maryland_level=3)]
    )
    assert certainty.studies == ("RCT",)
    assert any("QED" in note for note in certainty.notes)


def test_risk_of_bias_by_share_of_participants() -> None:
    ci: dict[str, Any] = {"ci_low": 0.1, "ci_high": 0.5}
    most_high = [finding("A", risk_of_bias="high", sample_size=600, **ci), finding("B", **ci)]
    assert steps(grade_certainty(most_high)) == {"risk of bias": 2}
    most_concern = [finding("A", risk_of_bias="some concerns", sample_size=600, **ci)]
    assert steps(grade_certainty([*most_concern, finding("B", **ci)])) == {"risk of bias": 1}
    small_high = [finding("A", risk_of_bias="high", sample_size=100, **ci)]
    assert steps(grade_certainty([*small_high, finding("B", sample_size=900, **ci)])) == {}
    # Exactly half is not "most": no downgrade.
    half = [finding("A", risk_of_bias="some concerns", **ci), finding("B", **ci)]
    assert steps(grade_certainty(half)) == {}


def test_risk_of_bias_counts_studies_when_sample_sizes_are_missing() -> None:
    ci: dict[str, Any] = {"ci_low": 0.1, "ci_high": 0.5, "sample_size": None}
    found = [finding("A", risk_of_bias="high", **ci), finding("B", risk_of_bias="high", **ci)]
    certainty = grade_certainty([*found, finding("C", **ci)])
    assert certainty.downgrades[0].reason == "67% of studies at high risk of bias."


@pytest.mark.parametrize(("i2", "expected"), [(49.9, 0), (50.0, 1), (74.9, 1), (75.0, 2)])
def test_inconsistency_from_i_squared(i2: float, expected: int) -> None:
    certainty = grade_certainty(
        [finding("A"), finding("B")], i_squared_percent=i2, pooled_ci=(0.1, 0.4)
    )
    assert steps(certainty).get("inconsistency", 0) == expected


def test_inconsistency_without_i_squared_from_disagreeing_directions() -> None:
    ci: dict[str, Any] = {"ci_low": 0.1, "ci_high": 0.5}
    agree = grade_certainty([finding("A", **ci), finding("B", **ci)])
    assert "inconsistency" not in steps(agree)
    disagree = grade_certainty([finding("A", **ci), finding("B", direction="null", **ci)])
    assert steps(disagree)["inconsistency"] == 1
    single = grade_certainty([finding("A", **ci)])
    assert "Inconsistency not judged: one study." in single.notes


def test_i_squared_must_be_a_percentage() -> None:
    with pytest.raises(InvalidEvidence, match="percentage"):
        grade_certainty([finding()], i_squared_percent=150)


def test_indirectness_one_step_per_reason_up_to_two() -> None:
    one = grade_certainty([finding(ci_low=0.1, ci_high=0.5)], indirectness=["US population"])
    assert steps(one) == {"indirectness": 1}
    assert one.downgrades[0].reason == "US population"
    two = grade_certainty(
        [finding(ci_low=0.1, ci_high=0.5)], indirectness=["US population", "proxy outcome", " "]
    )
    assert steps(two) == {"indirectness": 2}
    assert steps(grade_certainty([finding(ci_low=0.1, ci_high=0.5)], indirectness=[" "])) == {}


def test_imprecision_interval_crossing_no_effect_and_small_samples() -> None:
    assert steps(grade_certainty([finding(ci_low=-0.1, ci_high=0.5)])) == {"imprecision": 1}
    assert steps(grade_certainty([finding(ci_low=0.0, ci_high=0.5)])) == {"imprecision": 1}
    assert steps(grade_certainty([finding(ci_low=0.1, ci_high=0.5)])) == {}
    small = grade_certainty([finding(ci_low=0.1, ci_high=0.5, sample_size=399)])
    assert steps(small) == {"imprecision": 1}
    assert steps(grade_certainty([finding(ci_low=0.1, ci_high=0.5, sample_size=400)])) == {}
    both = grade_certainty([finding(ci_low=-0.1, ci_high=0.5, sample_size=100)])
    assert steps(both) == {"imprecision": 2}
    assert steps(grade_certainty([finding()])) == {"imprecision": 1}  # no interval at all


def test_imprecision_on_a_ratio_uses_one_as_no_effect() -> None:
    # MST in START: out-of-home placement OR 1.25 (95% CI 0.77 to 2.05), 684 young people.
    mst = finding(direction="null", estimate=1.25, ci_low=0.77, ci_high=2.05, sample_size=684)
    certainty = grade_certainty([mst], no_effect=1.0)
    assert steps(certainty) == {"imprecision": 1}
    assert "0.77 to 2.05" in certainty.downgrades[0].reason


def test_a_pooled_interval_is_used_in_preference_to_the_studies_own() -> None:
    found = [finding("A", ci_low=-0.2, ci_high=0.6), finding("B", ci_low=-0.1, ci_high=0.7)]
    assert steps(grade_certainty(found)) == {"imprecision": 1}
    assert steps(grade_certainty(found, pooled_ci=(0.05, 0.4), i_squared_percent=0)) == {}


def test_publication_bias_from_a_reason_or_eggers_test() -> None:
    ci: dict[str, Any] = {"ci_low": 0.1, "ci_high": 0.5}
    reason = grade_certainty([finding(**ci)], publication_bias="only developer-run studies found")
    assert steps(reason) == {"publication bias": 1}
    assert steps(grade_certainty([finding(**ci)], egger_p=0.04)) == {"publication bias": 1}
    assert steps(grade_certainty([finding(**ci)], egger_p=0.10)) == {}


def test_certainty_adds_downgrades_and_stops_at_very_low() -> None:
    # Start high; some concerns (-1); interval crosses 0 (-1) -> low.
    two = grade_certainty([finding(risk_of_bias="some concerns", ci_low=-0.1, ci_high=0.5)])
    assert two.grade == "low"
    assert [d.domain for d in two.downgrades] == ["risk of bias", "imprecision"]
    # Start low; high risk (-2), crosses and small (-2), indirect (-1): floor at very low.
    floor = grade_certainty(
        [finding(maryland_level=3, risk_of_bias="high", ci_low=-1, ci_high=1, sample_size=50)],
        indirectness=["different country"],
    )
    assert floor.grade == "very low"
    assert sum(d.steps for d in floor.downgrades) == 5
    assert floor.as_dict()["downgrades"][0]["domain"] == "risk of bias"


def test_certainty_with_only_inconclusive_findings_is_very_low() -> None:
    certainty = grade_certainty([finding(direction="inconclusive")])
    assert certainty.grade == "very low"
    assert certainty.studies == ()
