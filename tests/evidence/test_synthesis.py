"""The synthesis engine against values published in R metafor's documentation.

Every expected number below is copied from a published metafor page (cited above its test)
or computed by hand in the test; none comes from this code's own output. Pages cited:

- [rma.uni] https://wviechtb.github.io/metafor/reference/rma.uni.html (Examples)
- [dat.bcg] https://wviechtb.github.io/metafor/reference/dat.bcg.html (Examples; dat.colditz1994)
- [README] https://github.com/wviechtb/metafor README.md (also the package home page):
  `rma(yi, vi, data=dat, test="knha")`, its `predict`, `regtest`, and the knha
  meta-regression on absolute latitude
- [confint] https://wviechtb.github.io/metafor/reference/confint.rma.html (Examples)
- [trimfill] https://wviechtb.github.io/metafor/reference/trimfill.html (Examples)
- [ranktest] https://wviechtb.github.io/metafor/reference/ranktest.html (Examples)
- [regtest] https://wviechtb.github.io/metafor/reference/regtest.html (Examples)
- [normand] https://wviechtb.github.io/metafor/reference/dat.normand1999.html (Examples)
- [metan test] metafor's test suite, tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
  (DL results checked there against Stata's metan)
- [pub_bias test] metafor's test suite, tests/testthat/test_misc_pub_bias.r (all 16 trials
  of dat.egger2001)

"To 4 decimals" means the value rounded to 4 decimals equals the printed value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from whatworks.evidence.effects import from_counts, from_means
from whatworks.evidence.synthesis import (
    egger_test,
    heterogeneity_confint,
    meta,
    rank_test,
    subgroups,
    trim_and_fill,
)

# dat.bcg (dat.bcg.html): tpos, tneg, cpos, cneg, ablat, year, alloc
BCG = [
    (4, 119, 11, 128, 44, 1948, "random"),
    (6, 300, 29, 274, 55, 1949, "random"),
    (3, 228, 11, 209, 42, 1960, "random"),
    (62, 13536, 248, 12619, 52, 1977, "random"),
    (33, 5036, 47, 5761, 13, 1973, "alternate"),
    (180, 1361, 372, 1079, 44, 1953, "alternate"),
    (8, 2537, 10, 619, 19, 1973, "random"),
    (505, 87886, 499, 87892, 13, 1980, "random"),
    (29, 7470, 45, 7232, 27, 1968, "random"),
    (17, 1699, 65, 1600, 42, 1961, "systematic"),
    (186, 50448, 141, 27197, 18, 1974, "systematic"),
    (5, 2493, 3, 2338, 33, 1969, "systematic"),
    (27, 16886, 29, 17825, 33, 1976, "systematic"),
]
_RR = [from_counts("RR", a, b, c, d) for a, b, c, d, *_ in BCG]
YI = [e.yi for e in _RR]
VI = [e.vi for e in _RR]
ABLAT = [float(row[4]) for row in BCG]
YEAR = [float(row[5]) for row in BCG]
ALLOC = [row[6] for row in BCG]

# dat.egger2001 (dat.egger2001.html): ai, n1i, ci, n2i; trial 16 is ISIS-4
EGGER = [
    (1, 40, 2, 36), (9, 135, 23, 135), (2, 200, 7, 200), (1, 48, 1, 46), (10, 150, 8, 148),
    (1, 59, 9, 56), (1, 25, 3, 23), (0, 22, 1, 21), (6, 76, 11, 75), (1, 27, 7, 27),
    (2, 89, 12, 80), (5, 23, 13, 33), (4, 130, 8, 122), (90, 1159, 118, 1157),
    (4, 107, 17, 108), (2216, 29011, 2103, 29039),
]  # fmt: skip
_OR = [from_counts("OR", a, n1 - a, c, n2 - c) for a, n1, c, n2 in EGGER]
EGGER_YI = [e.yi for e in _OR]
EGGER_VI = [e.vi for e in _OR]

# dat.normand1999 (dat.normand1999.html): n1i, m1i, sd1i, n2i, m2i, sd2i
NORMAND = [
    (155, 55, 47, 156, 75, 64), (31, 27, 7, 32, 29, 4), (75, 64, 17, 71, 119, 29),
    (18, 66, 20, 18, 137, 48), (8, 14, 8, 13, 18, 11), (57, 19, 7, 52, 18, 4),
    (34, 52, 45, 33, 41, 34), (110, 21, 16, 183, 31, 27), (60, 30, 27, 52, 23, 20),
]  # fmt: skip


def r4(value: float | None) -> float:
    """Round to 4 decimals, as metafor prints."""
    assert value is not None
    return round(value, 4)


# --- dat.bcg, random effects ------------------------------------------------------------


def test_bcg_reml_matches_rma_uni_page() -> None:
    # [rma.uni], [dat.bcg]: rma(yi, vi, data=dat, method="REML")
    res = meta(YI, VI, method="REML")
    assert res.k == 13
    assert r4(res.tau2) == 0.3132
    assert round(res.i2 or 0, 2) == 92.22
    assert round(res.h2 or 0, 2) == 12.86
    assert (r4(res.q), res.q_df) == (152.2330, 12)
    assert (r4(res.estimate), r4(res.se), r4(res.stat)) == (-0.7145, 0.1798, -3.9744)
    assert (r4(res.ci_low), r4(res.ci_high)) == (-1.0669, -0.3622)
    assert res.p < 0.0001 and (res.q_p or 1) < 0.0001


def test_bcg_prediction_interval_normal_quantile() -> None:
    # [dat.bcg]: predict(res, transf=exp) -> pred 0.4894, ci 0.3441 0.6962, cr 0.1546 1.5490
    res = meta(YI, VI)
    assert r4(math.exp(res.estimate)) == 0.4894
    assert (r4(math.exp(res.ci_low)), r4(math.exp(res.ci_high))) == (0.3441, 0.6962)
    assert (r4(math.exp(res.pi_low or 0)), r4(math.exp(res.pi_high or 0))) == (0.1546, 1.5490)


def test_bcg_dersimonian_laird_matches_metan() -> None:
    # [metan test]: rma(yi, vi, data=dat, method="DL") -> -0.7141 [-1.0644, -0.3638]
    # [confint] test in metafor's suite (test_misc_confint.r): DL tau^2 0.3088, I^2 92.1173,
    # H^2 12.6861
    res = meta(YI, VI, method="DL")
    assert (r4(res.estimate), r4(res.ci_low), r4(res.ci_high)) == (-0.7141, -1.0644, -0.3638)
    assert (r4(res.tau2), r4(res.i2), r4(res.h2)) == (0.3088, 92.1173, 12.6861)


def test_bcg_fixed_effect_matches_rma_uni_page() -> None:
    # [rma.uni]: rma(yi, vi, data=dat, method="FE"); I^2 and H^2 from Q for this model
    res = meta(YI, VI, method="FE")
    assert (r4(res.estimate), r4(res.se), r4(res.stat)) == (-0.4303, 0.0405, -10.6247)
    assert (r4(res.ci_low), r4(res.ci_high)) == (-0.5097, -0.3509)
    assert (round(res.i2 or 0, 2), round(res.h2 or 0, 2)) == (92.12, 12.69)
    assert res.tau2 == 0 and res.tau2_ci_low is None


def test_bcg_knapp_hartung_matches_readme() -> None:
    # [README]: rma(yi, vi, data=dat, test="knha") -> se 0.1808, t -3.9522, df 12, p 0.0019,
    # CI -1.1084 -0.3206; predict(res, transf=exp, digits=2): pi 0.14 1.76 (t on 12 df)
    res = meta(YI, VI, knha=True)
    assert (r4(res.estimate), r4(res.se), r4(res.stat), res.df) == (-0.7145, 0.1808, -3.9522, 12)
    assert r4(res.p) == 0.0019
    assert (r4(res.ci_low), r4(res.ci_high)) == (-1.1084, -0.3206)
    assert (round(math.exp(res.pi_low or 0), 2), round(math.exp(res.pi_high or 0), 2)) == (
        0.14,
        1.76,
    )
    # regtest(res) on the knha model: t = -0.7812, df = 11, p = 0.4512
    assert r4(res.egger_p) == 0.4512
    egger = egger_test(YI, VI, knha=True)
    assert (r4(egger.stat), egger.df, r4(egger.limit_estimate)) == (-0.7812, 11, -0.5104)
    assert (r4(egger.limit_ci_low), r4(egger.limit_ci_high)) == (-1.2123, 0.1915)


def test_bcg_tau2_confidence_interval_q_profile() -> None:
    # [confint]: confint(res) for REML: tau^2 0.3132 [0.1197, 1.1115],
    # I^2 92.2214 [81.9177, 97.6781], H^2 12.8558 [5.5303, 43.0680]
    res = meta(YI, VI)
    assert (r4(res.tau2_ci_low), r4(res.tau2_ci_high)) == (0.1197, 1.1115)
    assert (r4(res.i2), r4(res.h2)) == (92.2214, 12.8558)
    bounds = heterogeneity_confint(YI, VI)
    assert r4(bounds["i2"][1]) == 97.6781
    # the lower I^2 and H^2 bounds differ in the 3rd decimal: R finds the tau^2 bound with
    # uniroot(tol = 1.2e-4), which stops at 0.11968; the exact root is 0.11972 (both print
    # as 0.1197), and I^2 = 100 tau^2 / (vt + tau^2) magnifies the difference.
    assert bounds["i2"][0] == pytest.approx(81.9177, abs=0.01)
    assert bounds["h2"][0] == pytest.approx(5.5303, abs=0.01)
    assert bounds["h2"][1] == pytest.approx(43.0680, abs=0.001)


# --- dat.bcg, meta-regression and subgroups ----------------------------------------------


def test_bcg_meta_regression_on_latitude_and_year() -> None:
    # [rma.uni], [dat.bcg]: rma(yi, vi, mods = ~ ablat + year, data=dat)
    res = meta(YI, VI, moderators={"ablat": ABLAT, "year": YEAR})
    assert r4(res.tau2) == 0.1108
    assert (round(res.i2 or 0, 2), round(res.h2 or 0, 2), round(res.r2 or 0, 2)) == (
        71.98,
        3.57,
        64.63,
    )
    assert (r4(res.q), res.q_df, r4(res.q_p)) == (28.3251, 10, 0.0016)
    assert (r4(res.qm), res.qm_df, r4(res.qm_p)) == (12.2043, 2, 0.0022)
    expected = {
        "intercept": (-3.5455, 29.0959, -0.1219, 0.9030, -60.5724, 53.4814),
        "ablat": (-0.0280, 0.0102, -2.7371, 0.0062, -0.0481, -0.0080),
        "year": (0.0019, 0.0147, 0.1299, 0.8966, -0.0269, 0.0307),
    }
    for c in res.coefficients:
        assert (
            tuple(map(r4, (c.estimate, c.se, c.stat, c.p, c.ci_low, c.ci_high)))
            == (expected[c.name])
        )


def test_bcg_meta_regression_on_latitude_with_knapp_hartung() -> None:
    # [README]: rma(yi, vi, mods = ~ ablat, data=dat, test="knha")
    res = meta(YI, VI, moderators={"ablat": ABLAT}, knha=True)
    assert r4(res.tau2) == 0.0764
    assert (round(res.i2 or 0, 2), round(res.h2 or 0, 2)) == (68.39, 3.16)
    assert (r4(res.q), res.q_df, r4(res.q_p)) == (30.7331, 11, 0.0012)
    assert (r4(res.qm), res.qm_df, res.qm_df2, r4(res.qm_p)) == (12.5905, 1, 11, 0.0046)
    intercept, ablat = res.coefficients
    assert tuple(map(r4, (intercept.estimate, intercept.se, intercept.stat, intercept.p))) == (
        0.2515,
        0.2839,
        0.8857,
        0.3948,
    )
    assert (r4(intercept.ci_low), r4(intercept.ci_high)) == (-0.3735, 0.8764)
    assert tuple(map(r4, (ablat.estimate, ablat.se, ablat.stat, ablat.p))) == (
        -0.0291,
        0.0082,
        -3.5483,
        0.0046,
    )
    assert (r4(ablat.ci_low), r4(ablat.ci_high)) == (-0.0472, -0.0111)
    # [confint]: residual tau^2 0.0764 [0.0167, 0.7849], I^2 68.3931 [32.1080, 95.6976]
    assert r4(res.tau2_ci_low) == 0.0167
    # R's uniroot stops within tol = 1.2e-4 of the root: the exact upper bound is 0.78484
    assert res.tau2_ci_high == pytest.approx(0.7849, abs=1.2e-4)
    assert r4(res.i2) == 68.3931
    assert round(res.r2 or 0, 2) == 75.62
    bounds = heterogeneity_confint(YI, VI, moderators={"ablat": ABLAT})
    assert bounds["i2"][1] == pytest.approx(95.6976, abs=0.001)  # same uniroot tolerance
    assert bounds["i2"][0] == pytest.approx(32.1080, abs=0.02)
    assert bounds["h2"][1] == pytest.approx(23.2428, abs=0.01)


def test_bcg_allocation_factor_as_dummy_moderators() -> None:
    # [rma.uni]: rma(yi, vi, mods = ~ factor(alloc), data=dat) ("alternate" is the reference)
    dummies = {
        level: [1.0 if a == level else 0.0 for a in ALLOC] for level in ("random", "systematic")
    }
    res = meta(YI, VI, moderators=dummies)
    assert (r4(res.tau2), round(res.i2 or 0, 2)) == (0.3615, 88.77)
    assert (r4(res.q), r4(res.qm), r4(res.qm_p)) == (132.3676, 1.7675, 0.4132)
    assert [(c.name, r4(c.estimate), r4(c.se)) for c in res.coefficients] == [
        ("intercept", -0.5180, 0.4412),
        ("random", -0.4478, 0.5158),
        ("systematic", 0.0890, 0.5600),
    ]


def test_bcg_subgroups_by_allocation() -> None:
    # [rma.uni]: rma(yi, vi, data=dat, subset=(alloc=="...")) for each allocation method
    res = subgroups(YI, VI, ALLOC)
    published = {
        "alternate": (2, -0.5408, 0.2816, 0.1326, 82.02, 5.5625),
        "random": (7, -0.9710, 0.2760, 0.3925, 89.93, 110.2133),
        "systematic": (4, -0.4242, 0.3597, 0.4003, 86.42, 16.5919),
    }
    for name, (k, est, se, tau2, i2, q) in published.items():
        group = res.groups[name]
        assert (group.k, r4(group.estimate), r4(group.se), r4(group.tau2)) == (k, est, se, tau2)
        assert (round(group.i2 or 0, 2), r4(group.q)) == (i2, q)
    # test for subgroup differences, by hand from the published estimates and SEs
    est = np.array([v[1] for v in published.values()])
    w = 1 / np.array([v[2] for v in published.values()]) ** 2
    q_between = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    assert res.q_between_df == 2
    assert res.q_between == pytest.approx(q_between, abs=5e-3)


# --- publication bias --------------------------------------------------------------------


def test_rank_correlation_test_on_bcg() -> None:
    # [ranktest]: Kendall's tau = 0.0256, p = 0.9524
    res = rank_test(YI, VI)
    assert (r4(res.tau), r4(res.p)) == (0.0256, 0.9524)


def test_trim_and_fill_random_effects_on_bcg() -> None:
    # [trimfill]: trimfill(rma(yi, vi, data=dat)) -> 1 missing on the right (SE = 2.4528);
    # k = 14, tau^2 0.3313, I^2 92.14%, Q(13) 154.6750, estimate -0.6571 (se 0.1785)
    # [-1.0070, -0.3072]
    filled = trim_and_fill(YI, VI)
    assert (filled.k0, filled.side, r4(filled.k0_se)) == (1, "right", 2.4528)
    res = filled.result
    assert (res.k, r4(res.tau2), round(res.i2 or 0, 2), r4(res.q)) == (14, 0.3313, 92.14, 154.6750)
    assert (r4(res.estimate), r4(res.se), r4(res.ci_low), r4(res.ci_high)) == (
        -0.6571,
        0.1785,
        -1.0070,
        -0.3072,
    )
    summary = meta(YI, VI)
    assert (summary.trimfill_k0, r4(summary.trimfill_estimate)) == (1, -0.6571)


def test_trim_and_fill_fixed_effect_on_bcg() -> None:
    # [trimfill]: trimfill(rma(yi, vi, data=dat, method="EE")) -> 4 missing on the right
    # (SE = 2.3853); estimate -0.2910 (se 0.0383), Q(16) = 262.7316; the filled-in values
    # printed to 8 decimals
    filled = trim_and_fill(YI, VI, method="FE")
    assert (filled.k0, filled.side, r4(filled.k0_se)) == (4, "right", 2.3853)
    assert (r4(filled.result.estimate), r4(filled.result.se)) == (-0.2910, 0.0383)
    assert r4(filled.result.q) == 262.7316
    assert [round(y, 8) for y in filled.filled_yi] == [
        0.78929282,
        0.85949921,
        1.00333667,
        1.03884624,
    ]
    assert [round(v, 8) for v in filled.filled_vi] == [
        0.07302479,
        0.02001003,
        0.19458112,
        0.22301725,
    ]


def test_egger_tests_on_magnesium_trials() -> None:
    # [regtest]: dat.egger2001 without ISIS-4: rma -> -0.8745 (se 0.2080), tau^2 0.1911,
    # I^2 38.19%, Q(14) = 20.9184, p 0.1037
    yi, vi = EGGER_YI[:15], EGGER_VI[:15]
    res = meta(yi, vi)
    assert (r4(res.estimate), r4(res.se), r4(res.tau2)) == (-0.8745, 0.2080, 0.1911)
    assert (round(res.i2 or 0, 2), r4(res.q), r4(res.q_p)) == (38.19, 20.9184, 0.1037)
    # classical Egger test (model="lm"): t = -3.1783, df = 13, p = 0.0073,
    # limit estimate -0.1512 (CI: -0.5130, 0.2106)
    classic = egger_test(yi, vi, model="lm")
    assert (r4(classic.stat), classic.df, r4(classic.p)) == (-3.1783, 13, 0.0073)
    assert tuple(
        map(r4, (classic.limit_estimate, classic.limit_ci_low, classic.limit_ci_high))
    ) == (-0.1512, -0.5130, 0.2106)
    # mixed-effects version (metafor's default): z = -2.8062, p = 0.0050,
    # limit estimate -0.1639 (CI: -0.5681, 0.2402)
    mixed = egger_test(yi, vi)
    assert (r4(mixed.stat), mixed.df, r4(mixed.p)) == (-2.8062, None, 0.0050)
    assert r4(res.egger_p) == 0.0050
    assert tuple(map(r4, (mixed.limit_estimate, mixed.limit_ci_low, mixed.limit_ci_high))) == (
        -0.1639,
        -0.5681,
        0.2402,
    )


def test_publication_bias_tests_on_all_sixteen_magnesium_trials() -> None:
    # [pub_bias test]: regtest(res) zval -4.6686; ranktest(res): tau 0.15, p 0.4503
    assert r4(egger_test(EGGER_YI, EGGER_VI).stat) == -4.6686
    rank = rank_test(EGGER_YI, EGGER_VI)
    assert (r4(rank.tau), r4(rank.p)) == (0.15, 0.4503)


# --- standardised mean differences (dat.normand1999) ---------------------------------------


def test_normand_smd_random_effects_matches_metafor() -> None:
    # [normand]: rma(measure="SMD", m1i, sd1i, n1i, m2i, sd2i, n2i, data=dat)
    effects = [from_means(m1, s1, n1, m2, s2, n2) for n1, m1, s1, n2, m2, s2 in NORMAND]
    res = meta([e.yi for e in effects], [e.vi for e in effects])
    assert (r4(res.tau2), round(res.i2 or 0, 2), round(res.h2 or 0, 2)) == (0.7908, 95.49, 22.20)
    assert r4(res.q) == 123.7293
    assert (r4(res.estimate), r4(res.se), r4(res.stat), r4(res.p)) == (
        -0.5371,
        0.3087,
        -1.7401,
        0.0818,
    )
    assert (r4(res.ci_low), r4(res.ci_high)) == (-1.1421, 0.0679)


def test_normand_mean_difference_random_effects_matches_metafor() -> None:
    # [normand]: rma(yi, vi) on mean differences: tau^2 684.6462, I^2 98.97%, H^2 97.21,
    # Q(8) 238.9158, estimate -15.1060 (se 8.9466), z -1.6885, p 0.0913, [-32.6409, 2.4289]
    effects = [
        from_means(m1, s1, n1, m2, s2, n2, measure="MD") for n1, m1, s1, n2, m2, s2 in NORMAND
    ]
    res = meta([e.yi for e in effects], [e.vi for e in effects])
    assert (r4(res.tau2), round(res.i2 or 0, 2), round(res.h2 or 0, 2)) == (684.6462, 98.97, 97.21)
    assert (r4(res.q), r4(res.estimate), r4(res.se), r4(res.stat)) == (
        238.9158,
        -15.1060,
        8.9466,
        -1.6885,
    )
    assert (r4(res.p), r4(res.ci_low), r4(res.ci_high)) == (0.0913, -32.6409, 2.4289)


# --- hand calculations and edge cases -----------------------------------------------------


def test_fixed_effect_of_two_studies_by_hand() -> None:
    # weights 1/0.04 = 25 and 1/0.01 = 100: (25 x 0.2 + 100 x 0.5) / 125 = 0.44, se 1/sqrt(125)
    res = meta([0.2, 0.5], [0.04, 0.01], method="FE")
    assert res.estimate == pytest.approx(0.44, abs=1e-12)
    assert res.se == pytest.approx(1 / math.sqrt(125), abs=1e-12)
    # Q = 25 (0.2 - 0.44)^2 + 100 (0.5 - 0.44)^2 = 1.44 + 0.36 = 1.8
    assert res.q == pytest.approx(1.8, abs=1e-12)
    assert res.ci_low == pytest.approx(0.44 - 1.959963985 / math.sqrt(125), abs=1e-8)


def test_dersimonian_laird_that_would_be_negative_is_zero() -> None:
    # Q = (0.1-0.2)^2 + 0 + (0.3-0.2)^2 = 0.02 < k - 1 = 2; c = 3 - 3/3 = 2;
    # raw DL = (0.02 - 2) / 2 = -0.99, floored at 0
    yi, vi = [0.1, 0.2, 0.3], [1.0, 1.0, 1.0]
    assert float(combine_effects(np.array(yi), np.array(vi), method_re="dl").tau2) == (
        pytest.approx(-0.99)
    )  # statsmodels leaves it negative
    res = meta(yi, vi, method="DL")
    assert res.tau2 == 0
    assert res.i2 == 0
    assert res.estimate == pytest.approx(0.2)
    assert res.se == pytest.approx(1 / math.sqrt(3))


def test_paule_mandel_solves_its_estimating_equation() -> None:
    # by definition: sum w_i (y_i - mu_w)^2 = k - 1 with w_i = 1 / (v_i + tau2)
    res = meta(YI, VI, method="PM")
    w = 1 / (np.array(VI) + res.tau2)
    mu = float(np.sum(w * YI) / np.sum(w))
    assert float(np.sum(w * (np.array(YI) - mu) ** 2)) == pytest.approx(12, abs=1e-8)
    assert res.estimate == pytest.approx(mu, abs=1e-10)


def test_hedges_estimator_by_hand() -> None:
    # HE: (sum (y - ybar)^2 - (k-1)/k sum v) / (k - 1) for a model without moderators
    y, v = np.array(YI), np.array(VI)
    k = y.size
    expected = (np.sum((y - y.mean()) ** 2) - (k - 1) / k * np.sum(v)) / (k - 1)
    assert meta(YI, VI, method="HE").tau2 == pytest.approx(float(expected), abs=1e-12)


def test_one_study_is_returned_as_it_is() -> None:
    res = meta([0.5], [0.04])
    assert (res.k, res.estimate, res.se, res.tau2) == (1, 0.5, 0.2, 0.0)
    assert res.ci_low == pytest.approx(0.5 - 1.959963985 * 0.2, abs=1e-8)
    assert res.i2 is None and res.h2 is None and res.q is None and res.tau2_ci_low is None
    assert res.pi_low is None and res.egger_p is None and res.trimfill_k0 is None
    assert res.as_dict()["estimate"] == 0.5


@pytest.mark.parametrize("method", ["REML", "DL", "PM", "HE", "FE"])
def test_identical_studies_have_no_heterogeneity(method: str) -> None:
    res = meta([0.3, 0.3, 0.3, 0.3], [0.1, 0.2, 0.05, 0.4], method=method)  # type: ignore[arg-type]
    assert res.tau2 == 0
    assert res.i2 == 0
    assert res.q == pytest.approx(0, abs=1e-12)
    assert res.estimate == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2], [0.1, 0.0], "study 2 is 0.0"),
        ([0.1, 0.2], [0.1, -0.3], "greater than 0"),
        ([0.1, 0.2], [0.1], "2 effect sizes but 1"),
        ([], [], "No studies"),
        ([0.1, float("nan")], [0.1, 0.1], "finite"),
    ],
)
def test_bad_input_is_refused(yi: list[float], vi: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        meta(yi, vi)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="not one of"):
        meta(YI, VI, method="SJ")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="collinear"):
        meta(YI, VI, moderators={"a": ABLAT, "b": [2 * a for a in ABLAT]})
    with pytest.raises(ValueError, match="values for 13 studies"):
        meta(YI, VI, moderators={"ablat": ABLAT[:5]})
    with pytest.raises(ValueError, match="same sampling variance"):
        egger_test([0.1, 0.2, 0.4], [1.0, 1.0, 1.0])
