"""Study results on a common scale: an effect size and its sampling variance.

Each function turns what a study reports (a 2x2 table of counts, group means and standard
deviations, or a regression estimate with its standard error) into an `Effect` that the
synthesis engine can pool. The conventions are those of R's metafor `escalc` and are set
out, with references, in `docs/methods/effect-sizes.md`.

The 2x2 measures come from statsmodels (`effectsize_2proportions`); the standardised mean
difference is computed here because statsmodels uses an approximate bias correction and a
different variance from metafor's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import gammaln
from statsmodels.stats.meta_analysis import effectsize_2proportions

CountMeasure = Literal["RR", "OR", "RD"]
MeanMeasure = Literal["SMD", "MD"]

#: What is added to every cell of a 2x2 table that has a zero cell (metafor: add=1/2,
#: to="only0"). Tables without a zero cell are left as they are.
CONTINUITY_CORRECTION = 0.5

_STATSMODELS_STATISTIC = {"RR": "risk-ratio", "OR": "odds-ratio", "RD": "diff"}


@dataclass(frozen=True)
class Effect:
    """One study's effect size `yi` and its sampling variance `vi`, on the scale `measure`.

    Measures: "RR" log risk ratio, "OR" log odds ratio, "RD" risk difference, "SMD"
    standardised mean difference (Hedges' g), "MD" raw mean difference, or whatever the
    caller names a regression estimate ("GEN" by default).
    """

    yi: float
    vi: float
    measure: str

    @property
    def se(self) -> float:
        """Standard error of the effect size."""
        return math.sqrt(self.vi)


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} is {value!r}; give a finite number.")


def from_counts(
    measure: CountMeasure,
    ai: float,
    bi: float,
    ci: float,
    di: float,
    add: float = CONTINUITY_CORRECTION,
) -> Effect:
    """Effect from a 2x2 table: events `ai` and non-events `bi` in the intervention group,
    events `ci` and non-events `di` in the comparison group.

    "RR" and "OR" are on the log scale. If any of the four cells is zero, `add` (0.5 by
    default) is added to all four cells of that table only, as metafor does.
    """
    if measure not in _STATSMODELS_STATISTIC:
        raise ValueError(f"measure {measure!r} is not one of RR, OR, RD for a 2x2 table.")
    _check_finite(ai=ai, bi=bi, ci=ci, di=di, add=add)
    for name, value in (("ai", ai), ("bi", bi), ("ci", ci), ("di", di)):
        if value < 0:
            raise ValueError(f"{name} = {value} is a negative count; counts must be 0 or more.")
    if add < 0:
        raise ValueError(f"add = {add} is negative; the continuity correction must be >= 0.")
    if ai + bi == 0:
        raise ValueError("The intervention group is empty (ai + bi = 0); check the counts.")
    if ci + di == 0:
        raise ValueError("The comparison group is empty (ci + di = 0); check the counts.")
    has_zero = min(ai, bi, ci, di) == 0
    if has_zero and add == 0 and measure != "RD":
        raise ValueError(
            f"A cell is zero and add = 0, so the log {'risk' if measure == 'RR' else 'odds'} "
            "ratio is infinite; use the default continuity correction (add=0.5)."
        )
    yi, vi = effectsize_2proportions(
        np.asarray(ai, dtype=float),
        np.asarray(ai + bi, dtype=float),
        np.asarray(ci, dtype=float),
        np.asarray(ci + di, dtype=float),
        statistic=_STATSMODELS_STATISTIC[measure],
        zero_correction=add if has_zero and add > 0 else None,
    )
    return _checked(float(yi), float(vi), measure)


def hedges_j(df: float, correction: Literal["exact", "approximate"] = "exact") -> float:
    """Small-sample bias correction J for a standardised mean difference with `df` degrees
    of freedom (n1 + n2 - 2).

    "exact": Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)) (Hedges 1981; metafor's default);
    "approximate": 1 - 3 / (4 df - 1).
    """
    if df <= 1:
        raise ValueError(f"df = {df}; the bias correction needs more than 1 degree of freedom.")
    if correction == "exact":
        return math.exp(gammaln(df / 2) - 0.5 * math.log(df / 2) - gammaln((df - 1) / 2))
    if correction == "approximate":
        return 1 - 3 / (4 * df - 1)
    raise ValueError(f"correction {correction!r} is not 'exact' or 'approximate'.")


def from_means(
    m1: float,
    sd1: float,
    n1: float,
    m2: float,
    sd2: float,
    n2: float,
    measure: MeanMeasure = "SMD",
    correction: Literal["exact", "approximate"] = "exact",
) -> Effect:
    """Effect from group means, standard deviations and sizes (group 1 minus group 2).

    "SMD": Hedges' g = J x (m1 - m2) / pooled SD, with metafor's large-sample variance
    1/n1 + 1/n2 + g^2 / (2 (n1 + n2)). "MD": m1 - m2 with variance sd1^2/n1 + sd2^2/n2.
    """
    _check_finite(m1=m1, sd1=sd1, n1=n1, m2=m2, sd2=sd2, n2=n2)
    for name, value in (("n1", n1), ("n2", n2)):
        if value < 2:
            raise ValueError(f"{name} = {value}; each group needs at least 2 people.")
    for name, value in (("sd1", sd1), ("sd2", sd2)):
        if value <= 0:
            raise ValueError(f"{name} = {value}; a standard deviation must be greater than 0.")
    if measure == "MD":
        return _checked(m1 - m2, sd1**2 / n1 + sd2**2 / n2, "MD")
    if measure != "SMD":
        raise ValueError(f"measure {measure!r} is not SMD or MD for group means.")
    df = n1 + n2 - 2
    pooled_sd = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
    g = hedges_j(df, correction) * (m1 - m2) / pooled_sd
    return _checked(g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), "SMD")


def from_estimate(
    estimate: float,
    se: float,
    measure: str = "GEN",
    outcome_sd: float | None = None,
) -> Effect:
    """Effect from a reported estimate (say a regression coefficient) and its standard error,
    taken as given. With `outcome_sd`, both are divided by the outcome's standard deviation
    so the result is on a standardised scale (measure "SMD" unless another is named).
    """
    _check_finite(estimate=estimate, se=se)
    if se <= 0:
        raise ValueError(f"se = {se}; a standard error must be greater than 0.")
    if outcome_sd is None:
        return _checked(estimate, se**2, measure)
    _check_finite(outcome_sd=outcome_sd)
    if outcome_sd <= 0:
        raise ValueError(f"outcome_sd = {outcome_sd}; it must be greater than 0.")
    scaled = "SMD" if measure == "GEN" else measure
    return _checked(estimate / outcome_sd, (se / outcome_sd) ** 2, scaled)


def _checked(yi: float, vi: float, measure: str) -> Effect:
    if not (math.isfinite(yi) and math.isfinite(vi)) or vi <= 0:
        raise ValueError(
            f"The inputs give effect {yi} with variance {vi} ({measure}), which cannot be "
            "pooled; check the counts, means or standard errors."
        )
    return Effect(yi=yi, vi=vi, measure=measure)
