"""Effect sizes against values published in R metafor's documentation and hand calculations.

Sources (metafor's pkgdown reference pages, https://wviechtb.github.io/metafor/reference/):
- dat.bcg.html (and the README of github.com/wviechtb/metafor): escalc(measure="RR") output.
- regtest.html: `dat$yi` printed to 8 decimals for dat.egger2001 without ISIS-4 (log odds
  ratios; trial 8 has a zero cell and shows the 0.5 continuity correction).
- dat.normand1999.html: escalc(measure="MD") output.
"""

from __future__ import annotations

import math

import pytest

from whatworks.evidence.effects import from_counts, from_estimate, from_means, hedges_j

# dat.bcg: tpos, tneg, cpos, cneg (Colditz et al. 1994), as printed on dat.bcg.html
BCG = [
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]
# escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg), dat.bcg.html
BCG_YI = [
    -0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209,
    0.0120, -0.4694, -1.3713, -0.3394, 0.4459, -0.0173,
]  # fmt: skip
BCG_VI = [
    0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230,
    0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714,
]  # fmt: skip

# dat.egger2001 trials 1-15: ai, n1i, ci, n2i (dat.egger2001.html)
EGGER = [
    (1, 40, 2, 36), (9, 135, 23, 135), (2, 200, 7, 200), (1, 48, 1, 46), (10, 150, 8, 148),
    (1, 59, 9, 56), (1, 25, 3, 23), (0, 22, 1, 21), (6, 76, 11, 75), (1, 27, 7, 27),
    (2, 89, 12, 80), (5, 23, 13, 33), (4, 130, 8, 122), (90, 1159, 118, 1157),
    (4, 107, 17, 108),
]  # fmt: skip
# escalc(measure="OR", ..., subset=-16)$yi as printed on regtest.html
EGGER_YI = [
    -0.83034830, -1.05605267, -1.27833981, -0.04348511, 0.22314355, -2.40751999,
    -1.28093385, -1.19170271, -0.69574796, -2.20827441, -2.03815988, -0.85015093,
    -0.79323064, -0.29933987, -1.57078846,
]  # fmt: skip

# dat.normand1999: n1i, m1i, sd1i, n2i, m2i, sd2i (dat.normand1999.html)
NORMAND = [
    (155, 55, 47, 156, 75, 64), (31, 27, 7, 32, 29, 4), (75, 64, 17, 71, 119, 29),
    (18, 66, 20, 18, 137, 48), (8, 14, 8, 13, 18, 11), (57, 19, 7, 52, 18, 4),
    (34, 52, 45, 33, 41, 34), (110, 21, 16, 183, 31, 27), (60, 30, 27, 52, 23, 20),
]  # fmt: skip
# escalc(measure="MD", ...) on dat.normand1999.html
NORMAND_MD_VI = [40.5080, 2.0806, 15.6984, 150.2222, 17.3077, 1.1673, 94.5891, 6.3109, 19.8423]


def test_log_risk_ratios_of_dat_bcg_match_metafor() -> None:
    for counts, yi, vi in zip(BCG, BCG_YI, BCG_VI, strict=True):
        effect = from_counts("RR", *counts)
        assert effect.measure == "RR"
        assert round(effect.yi, 4) == yi
        assert round(effect.vi, 4) == vi


def test_log_odds_ratios_of_dat_egger2001_match_metafor_including_the_zero_cell() -> None:
    for (ai, n1, ci, n2), yi in zip(EGGER, EGGER_YI, strict=True):
        assert round(from_counts("OR", ai, n1 - ai, ci, n2 - ci).yi, 8) == yi


def test_continuity_correction_goes_only_to_tables_with_a_zero_cell() -> None:
    # Bertschat 1989: 0/22 vs 1/21 -> 0.5 added to every cell: (0.5 x 20.5)/(22.5 x 1.5)
    effect = from_counts("OR", 0, 22, 1, 20)
    assert effect.yi == pytest.approx(math.log(0.5 * 20.5 / (22.5 * 1.5)), abs=1e-12)
    assert effect.vi == pytest.approx(1 / 0.5 + 1 / 22.5 + 1 / 1.5 + 1 / 20.5, abs=1e-12)
    # a table without a zero cell is left alone
    plain = from_counts("OR", 1, 39, 2, 34)
    assert plain.yi == pytest.approx(math.log(1 * 34 / (39 * 2)), abs=1e-12)


def test_risk_difference_by_hand() -> None:
    plain = from_counts("RD", 10, 40, 20, 30)
    assert plain.yi == pytest.approx(0.2 - 0.4, abs=1e-12)
    assert plain.vi == pytest.approx(0.2 * 0.8 / 50 + 0.4 * 0.6 / 50, abs=1e-12)
    # zero cell: 0.5 added to each cell, so 0.5/11 versus 5.5/11
    corrected = from_counts("RD", 0, 10, 5, 5)
    p1, p2 = 0.5 / 11, 5.5 / 11
    assert corrected.yi == pytest.approx(p1 - p2, abs=1e-12)
    assert corrected.vi == pytest.approx(p1 * (1 - p1) / 11 + p2 * (1 - p2) / 11, abs=1e-12)


def test_mean_differences_of_dat_normand1999_match_metafor() -> None:
    for (n1, m1, sd1, n2, m2, sd2), vi in zip(NORMAND, NORMAND_MD_VI, strict=True):
        effect = from_means(m1, sd1, n1, m2, sd2, n2, measure="MD")
        assert effect.yi == m1 - m2
        assert round(effect.vi, 4) == vi


def test_hedges_j_exact_and_approximate_by_hand() -> None:
    # df = 2: Gamma(1) / (sqrt(1) Gamma(1/2)) = 1 / sqrt(pi)
    assert hedges_j(2) == pytest.approx(1 / math.sqrt(math.pi), abs=1e-12)
    assert hedges_j(10, "approximate") == pytest.approx(1 - 3 / 39, abs=1e-12)
    # the two agree closely in large samples
    assert hedges_j(200) == pytest.approx(hedges_j(200, "approximate"), abs=1e-6)


def test_hedges_g_and_its_variance_by_hand() -> None:
    # means 1 and 0, both SDs 1, two people a group: d = 1, df = 2, g = 1/sqrt(pi)
    effect = from_means(1, 1, 2, 0, 1, 2)
    g = 1 / math.sqrt(math.pi)
    assert effect.measure == "SMD"
    assert effect.yi == pytest.approx(g, abs=1e-12)
    assert effect.vi == pytest.approx(1 / 2 + 1 / 2 + g**2 / (2 * 4), abs=1e-12)


def test_estimate_as_given_and_standardised() -> None:
    given = from_estimate(0.3, 0.1)
    assert (given.yi, given.measure) == (0.3, "GEN")
    assert given.vi == pytest.approx(0.01, abs=1e-15)
    scaled = from_estimate(3.0, 1.0, outcome_sd=10.0)
    assert scaled.measure == "SMD"
    assert scaled.yi == pytest.approx(0.3)
    assert scaled.vi == pytest.approx(0.01)
    assert scaled.se == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: from_counts("RR", -1, 10, 2, 10), "negative count"),
        (lambda: from_counts("RR", 0, 0, 2, 10), "intervention group is empty"),
        (lambda: from_counts("HR", 1, 10, 2, 10), "not one of RR, OR, RD"),  # type: ignore[arg-type]
        (lambda: from_counts("OR", 0, 10, 2, 10, add=0), "infinite"),
        (lambda: from_means(1, 1, 1, 0, 1, 10), "at least 2 people"),
        (lambda: from_means(1, 0, 10, 0, 1, 10), "greater than 0"),
        (lambda: from_means(1, -2, 10, 0, 1, 10), "greater than 0"),
        (lambda: from_means(float("nan"), 1, 10, 0, 1, 10), "finite"),
        (lambda: from_estimate(0.2, 0), "standard error must be greater than 0"),
        (lambda: from_estimate(0.2, 0.1, outcome_sd=-1), "greater than 0"),
    ],
)
def test_impossible_inputs_are_refused_with_a_clear_message(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
