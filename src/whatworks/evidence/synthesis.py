"""Meta-analysis of study results: pooled effect, heterogeneity, moderators, publication bias.

Follows R's metafor (`rma.uni`, `confint`, `predict`, `regtest`, `ranktest`, `trimfill`)
so that a whatworks synthesis gives the numbers metafor gives. The formulas, conventions
and references are in `docs/methods/meta-analysis.md`; the tests reproduce values published
in metafor's documentation.

Which library does what: the DerSimonian-Laird and Paule-Mandel estimates of tau^2 for a
model without moderators come from statsmodels (`combine_effects`, with the DL estimate
floored at zero here, which statsmodels does not do); Kendall's tau comes from scipy. The
rest (REML, Hedges, meta-regression, Knapp-Hartung, Q-profile, Egger, trim-and-fill) is
written here because no well-kept Python library provides it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

Method = Literal["FE", "DL", "HE", "PM", "REML"]
METHODS: tuple[str, ...] = ("FE", "DL", "HE", "PM", "REML")

Array = NDArray[np.float64]
#: Study values: a list of numbers or a numpy array, one per study.
Values = Sequence[float] | Array

#: REML's Fisher scoring stops at the first step smaller than this, from the same start
#: (the Hedges estimate), as metafor's default (threshold 1e-5, at most 100 steps), so that
#: results agree with metafor's where its iteration stopped short of the exact maximum.
_REML_THRESHOLD = 1e-5
_REML_MAXITER = 100


@dataclass(frozen=True)
class Coefficient:
    """One meta-regression coefficient with its test and confidence interval."""

    name: str
    estimate: float
    se: float
    stat: float
    p: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class MetaResult:
    """A pooled result, as metafor's `rma` (plus `confint`, `predict`, `regtest`,
    `trimfill`) reports it.

    Without moderators, `estimate` is the pooled effect. With moderators it is the
    intercept (the predicted effect when every moderator is 0), `coefficients` holds every
    coefficient, `qm` tests the moderators, and tau^2, I^2 and H^2 are residual amounts.
    `stat` is a z value, or a t value with `df` degrees of freedom under Knapp-Hartung.
    Heterogeneity fields are None for one study; the tau^2 interval is None for a
    fixed-effect model; Egger and trim-and-fill need 3 studies and no moderators.
    """

    k: int
    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    p: float
    tau2: float
    tau2_ci_low: float | None
    tau2_ci_high: float | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int | None
    q_p: float | None
    pi_low: float | None
    pi_high: float | None
    egger_p: float | None
    trimfill_k0: int | None
    trimfill_estimate: float | None
    knha: bool = False
    df: int | None = None
    level: float = 0.95
    coefficients: tuple[Coefficient, ...] = ()
    qm: float | None = None
    qm_df: int | None = None
    qm_df2: int | None = None
    qm_p: float | None = None
    r2: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (coefficients as a tuple of dicts)."""
        return asdict(self)


@dataclass(frozen=True)
class SubgroupResult:
    """Each subgroup's own meta-analysis and the test for subgroup differences.

    The test is Cochran's Q across the subgroup estimates, each weighted by 1/se^2
    (a fixed-effect meta-analysis of the subgroup results), on (groups - 1) df.
    """

    groups: dict[str, MetaResult]
    q_between: float
    q_between_df: int
    q_between_p: float


@dataclass(frozen=True)
class EggerTest:
    """Regression test for funnel plot asymmetry (metafor `regtest`, predictor: standard
    error). `limit_estimate` is the intercept, the effect as the standard error goes to 0.
    """

    model: str
    stat: float
    df: int | None
    p: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float


@dataclass(frozen=True)
class RankTest:
    """Begg and Mazumdar's rank correlation test (metafor `ranktest`)."""

    tau: float
    p: float


@dataclass(frozen=True)
class TrimAndFill:
    """Duval and Tweedie's trim and fill (metafor `trimfill`, estimator L0): how many
    studies look missing, on which side, and the result with them filled in."""

    k0: int
    k0_se: float
    side: str
    result: MetaResult
    filled_yi: tuple[float, ...] = field(default=())
    filled_vi: tuple[float, ...] = field(default=())


# ---------------------------------------------------------------------------------------
# inputs


def _as_studies(yi: Values, vi: Values) -> tuple[Array, Array]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size == 0:
        raise ValueError("No studies given; a meta-analysis needs at least one study.")
    if y.size != v.size:
        raise ValueError(
            f"{y.size} effect sizes but {v.size} sampling variances; give one of each per study."
        )
    for name, values in (("effect size", y), ("sampling variance", v)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(
                f"The {name} of study {bad[0] + 1} is {values[bad[0]]!r}; give finite numbers."
            )
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise ValueError(
            f"The sampling variance of study {bad[0] + 1} is {v[bad[0]]}; every sampling "
            "variance must be greater than 0 (check that variances, not standard errors "
            "or effect sizes, were given)."
        )
    return y, v


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}.")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level = {level}; give a confidence level between 0 and 1 (0.95).")


def _design(k: int, moderators: Mapping[str, Sequence[float]] | None) -> tuple[Array, list[str]]:
    names = ["intercept"]
    columns = [np.ones(k)]
    for name, values in (moderators or {}).items():
        column = np.asarray(values, dtype=float).ravel()
        if column.size != k:
            raise ValueError(f"Moderator {name!r} has {column.size} values for {k} studies.")
        if not np.all(np.isfinite(column)):
            raise ValueError(f"Moderator {name!r} has a missing or infinite value.")
        names.append(name)
        columns.append(column)
    x = np.column_stack(columns)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValueError(
            "The moderators are collinear (one is a combination of the others or constant); "
            "drop one."
        )
    if moderators and k <= x.shape[1]:
        raise ValueError(
            f"{k} studies cannot support {x.shape[1] - 1} moderators and an intercept; "
            "use fewer moderators."
        )
    return x, names


# ---------------------------------------------------------------------------------------
# linear algebra shared by every estimator


def _residual_maker(v: Array, x: Array, tau2: float) -> Array:
    """P = W - W X (X'WX)^-1 X'W with W = diag(1 / (v + tau2))."""
    w = np.diag(1 / (v + tau2))
    xtwx_inv = np.linalg.inv(x.T @ w @ x)
    return w - w @ x @ xtwx_inv @ x.T @ w


def _gls(y: Array, v: Array, x: Array, tau2: float) -> tuple[Array, Array]:
    """Weighted least squares coefficients and their covariance for a given tau^2."""
    w = 1 / (v + tau2)
    xtwx_inv = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = xtwx_inv @ x.T @ (w * y)
    return np.asarray(beta, dtype=float), np.asarray(xtwx_inv, dtype=float)


def _q_generalised(tau2: float, y: Array, v: Array, x: Array) -> float:
    """Generalised Q: y' P(tau2) y (Cochran's Q when tau2 = 0)."""
    return float(y @ _residual_maker(v, x, tau2) @ y)


# ---------------------------------------------------------------------------------------
# tau^2 estimators (metafor rma.uni formulas)


def _tau2(y: Array, v: Array, x: Array, method: str) -> float:
    k, p = x.shape
    if method == "FE" or k <= p:
        return 0.0
    intercept_only = p == 1
    if method == "DL":
        if intercept_only:
            with np.errstate(invalid="ignore"):  # statsmodels takes sqrt of a negative tau2
                tau2 = float(combine_effects(y, v, method_re="dl").tau2)
        else:
            pmat = _residual_maker(v, x, 0.0)
            tau2 = (float(y @ pmat @ y) - (k - p)) / float(np.trace(pmat))
        return max(0.0, tau2)
    if method == "HE":
        return max(0.0, _tau2_hedges(y, v, x))
    if method == "PM":
        if intercept_only:
            fit = combine_effects(y, v, method_re="pm", atol=1e-12, maxiter=1000)
            return max(0.0, float(fit.tau2))
        return _tau2_paule_mandel(y, v, x)
    return _tau2_reml(y, v, x)


def _tau2_hedges(y: Array, v: Array, x: Array) -> float:
    k, p = x.shape
    pmat = np.eye(k) - x @ np.linalg.inv(x.T @ x) @ x.T
    return (float(y @ pmat @ y) - float(np.trace(pmat @ np.diag(v)))) / (k - p)


def _tau2_paule_mandel(y: Array, v: Array, x: Array) -> float:
    k, p = x.shape

    def excess(tau2: float) -> float:
        return _q_generalised(tau2, y, v, x) - (k - p)

    if excess(0.0) <= 0:
        return 0.0
    upper = max(100.0, 10 * float(np.var(y)))
    while excess(upper) > 0:
        upper *= 10
    return float(optimize.brentq(excess, 0.0, upper, xtol=1e-14, rtol=1e-14))


def _tau2_reml(y: Array, v: Array, x: Array) -> float:
    """Fisher scoring from the (floored) Hedges estimate, with step halving at zero."""
    tau2 = max(0.0, _tau2_hedges(y, v, x))
    for _ in range(_REML_MAXITER):
        pmat = _residual_maker(v, x, tau2)
        pp = pmat @ pmat
        step = (float(y @ pp @ y) - float(np.trace(pmat))) / float(np.trace(pp))
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) <= _REML_THRESHOLD:
            return max(0.0, tau2)
    raise ArithmeticError(
        "The REML estimate of tau^2 did not converge; try method='PM' or 'DL' instead."
    )


# ---------------------------------------------------------------------------------------
# the model


@dataclass(frozen=True)
class _Fit:
    beta: Array
    vb: Array
    tau2: float
    crit: float
    df: int | None


def _fit(y: Array, v: Array, x: Array, method: str, knha: bool, level: float) -> _Fit:
    k, p = x.shape
    tau2 = _tau2(y, v, x, method)
    beta, vb = _gls(y, v, x, tau2)
    alpha = 1 - level
    if knha and k > p:
        w = 1 / (v + tau2)
        rss = float(np.sum(w * (y - x @ beta) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        return _Fit(beta, s2w * vb, tau2, float(stats.t.isf(alpha / 2, k - p)), k - p)
    return _Fit(beta, vb, tau2, float(stats.norm.isf(alpha / 2)), None)


def _test(estimate: float, se: float, df: int | None) -> tuple[float, float]:
    if se == 0:
        return math.nan, math.nan
    stat = estimate / se
    if df is None:
        return stat, float(2 * stats.norm.sf(abs(stat)))
    return stat, float(2 * stats.t.sf(abs(stat), df))


def meta(
    yi: Values,
    vi: Values,
    method: Method = "REML",
    knha: bool = False,
    moderators: Mapping[str, Sequence[float]] | None = None,
    level: float = 0.95,
) -> MetaResult:
    """Pool study effects `yi` with sampling variances `vi` (metafor `rma`).

    `method`: "FE" fixed (equal) effect; random effects with tau^2 by "DL"
    (DerSimonian-Laird), "HE" (Hedges), "PM" (Paule-Mandel) or "REML". `knha` applies the
    Knapp-Hartung adjustment (t tests on k - p df). `moderators` (name -> one value per
    study) fits a mixed-effects meta-regression.
    """
    return _meta(yi, vi, method, knha, moderators, level, bias_checks=True)


def _meta(
    yi: Values,
    vi: Values,
    method: Method,
    knha: bool,
    moderators: Mapping[str, Sequence[float]] | None,
    level: float,
    bias_checks: bool,
) -> MetaResult:
    _check_method(method)
    _check_level(level)
    y, v = _as_studies(yi, vi)
    k = y.size
    x, names = _design(k, moderators)
    p = x.shape[1]
    if k == 1:
        return _single_study(y, v, method, level)

    fit = _fit(y, v, x, method, knha, level)
    se = np.sqrt(np.diag(fit.vb))
    coefficients = []
    for j, name in enumerate(names):
        stat, pval = _test(float(fit.beta[j]), float(se[j]), fit.df)
        coefficients.append(
            Coefficient(
                name=name,
                estimate=float(fit.beta[j]),
                se=float(se[j]),
                stat=stat,
                p=pval,
                ci_low=float(fit.beta[j] - fit.crit * se[j]),
                ci_high=float(fit.beta[j] + fit.crit * se[j]),
            )
        )
    first = coefficients[0]

    # heterogeneity: Q(E) from fixed-effect weights; I^2 and H^2 as metafor defines them
    pmat_fe = _residual_maker(v, x, 0.0)
    q = max(0.0, float(y @ pmat_fe @ y))
    q_df = k - p
    q_p = float(stats.chi2.sf(q, q_df))
    typical_vi = q_df / float(np.trace(pmat_fe))
    if method == "FE":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
        tau2_ci: tuple[float | None, float | None] = (None, None)
    else:
        i2 = 100 * fit.tau2 / (typical_vi + fit.tau2)
        h2 = fit.tau2 / typical_vi + 1
        tau2_ci = tau2_confint(y, v, x, level)

    # prediction interval for a new study (moderators at 0): same critical value as the CI
    pi_half = fit.crit * math.sqrt(first.se**2 + fit.tau2)

    qm = qm_df = qm_df2 = qm_p = r2 = None
    egger_p = trimfill_k0 = trimfill_estimate = None
    if p > 1:
        qm, qm_df, qm_df2, qm_p = _moderator_test(fit, p)
        if method != "FE":
            tau2_total = _tau2(y, v, np.ones((k, 1)), method)
            r2 = max(0.0, 100 * (tau2_total - fit.tau2) / tau2_total) if tau2_total > 0 else 0.0
    elif k >= 3 and bias_checks and np.ptp(v) > 0:
        egger_p = egger_test(y, v, method=method, knha=knha).p
        filled = trim_and_fill(y, v, method=method, knha=knha, level=level)
        trimfill_k0 = filled.k0
        trimfill_estimate = filled.result.estimate

    return MetaResult(
        k=k,
        method=method,
        estimate=first.estimate,
        se=first.se,
        ci_low=first.ci_low,
        ci_high=first.ci_high,
        stat=first.stat,
        p=first.p,
        tau2=fit.tau2,
        tau2_ci_low=tau2_ci[0],
        tau2_ci_high=tau2_ci[1],
        i2=i2,
        h2=h2,
        q=q,
        q_df=q_df,
        q_p=q_p,
        pi_low=first.estimate - pi_half,
        pi_high=first.estimate + pi_half,
        egger_p=egger_p,
        trimfill_k0=trimfill_k0,
        trimfill_estimate=trimfill_estimate,
        knha=knha,
        df=fit.df,
        level=level,
        coefficients=tuple(coefficients) if p > 1 else (),
        qm=qm,
        qm_df=qm_df,
        qm_df2=qm_df2,
        qm_p=qm_p,
        r2=r2,
    )


def _single_study(y: Array, v: Array, method: str, level: float) -> MetaResult:
    estimate, se = float(y[0]), math.sqrt(float(v[0]))
    crit = float(stats.norm.isf((1 - level) / 2))
    stat, pval = _test(estimate, se, None)
    return MetaResult(
        k=1,
        method=method,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        stat=stat,
        p=pval,
        tau2=0.0,
        tau2_ci_low=None,
        tau2_ci_high=None,
        i2=None,
        h2=None,
        q=None,
        q_df=None,
        q_p=None,
        pi_low=None,
        pi_high=None,
        egger_p=None,
        trimfill_k0=None,
        trimfill_estimate=None,
        level=level,
    )


def _moderator_test(fit: _Fit, p: int) -> tuple[float, int, int | None, float]:
    """Wald test that every coefficient but the intercept is 0 (QM; an F test under
    Knapp-Hartung)."""
    b = fit.beta[1:]
    qm = float(b @ np.linalg.inv(fit.vb[1:, 1:]) @ b)
    m = p - 1
    if fit.df is None:
        return qm, m, None, float(stats.chi2.sf(qm, m))
    f = qm / m
    return f, m, fit.df, float(stats.f.sf(f, m, fit.df))


# ---------------------------------------------------------------------------------------
# tau^2 confidence interval (Q-profile)


def tau2_confint(y: Array, v: Array, x: Array, level: float = 0.95) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007; metafor `confint`).

    The bounds solve Q(tau2) = the upper and lower chi-square(k - p) quantiles. A bound
    that would be negative is 0; if even the upper bound would be negative the interval is
    [0, 0] (metafor calls it the null set).
    """
    k, p = x.shape
    df = k - p
    alpha = 1 - level
    crit_upper = float(stats.chi2.isf(alpha / 2, df))
    crit_lower = float(stats.chi2.ppf(alpha / 2, df))
    q0 = _q_generalised(0.0, y, v, x)
    if q0 < crit_lower:
        return 0.0, 0.0
    upper_end = max(100.0, 10 * float(np.var(y)))
    while _q_generalised(upper_end, y, v, x) > crit_lower:
        upper_end *= 10

    def root(target: float) -> float:
        return float(
            optimize.brentq(
                lambda t: _q_generalised(t, y, v, x) - target,
                0.0,
                upper_end,
                xtol=1e-14,
                rtol=1e-14,
            )
        )

    high = root(crit_lower)
    low = 0.0 if q0 < crit_upper else root(crit_upper)
    return low, high


def heterogeneity_confint(
    yi: Values,
    vi: Values,
    moderators: Mapping[str, Sequence[float]] | None = None,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Q-profile intervals for (residual) tau^2 and, through the typical within-study
    variance, for I^2 (%) and H^2 (metafor `confint`)."""
    _check_level(level)
    y, v = _as_studies(yi, vi)
    x, _ = _design(y.size, moderators)
    if y.size <= x.shape[1]:
        raise ValueError("A confidence interval for tau^2 needs more studies than coefficients.")
    low, high = tau2_confint(y, v, x, level)
    typical_vi = (y.size - x.shape[1]) / float(np.trace(_residual_maker(v, x, 0.0)))
    return {
        "tau2": (low, high),
        "i2": (100 * low / (typical_vi + low), 100 * high / (typical_vi + high)),
        "h2": (low / typical_vi + 1, high / typical_vi + 1),
    }


# ---------------------------------------------------------------------------------------
# subgroups


def subgroups(
    yi: Values,
    vi: Values,
    groups: Sequence[str],
    method: Method = "REML",
    knha: bool = False,
    level: float = 0.95,
) -> SubgroupResult:
    """A separate meta-analysis in each subgroup (each with its own tau^2) and the test for
    subgroup differences. For one tau^2 shared by all subgroups, fit `meta` with the
    subgroups as dummy moderators instead and read `qm`."""
    y, v = _as_studies(yi, vi)
    labels = [str(g) for g in groups]
    if len(labels) != y.size:
        raise ValueError(f"{len(labels)} subgroup labels for {y.size} studies; give one each.")
    names = sorted(set(labels))
    if len(names) < 2:
        raise ValueError("All studies are in one subgroup; there is nothing to compare.")
    results = {}
    for name in names:
        chosen = np.array([label == name for label in labels])
        results[name] = meta(
            list(y[chosen]), list(v[chosen]), method=method, knha=knha, level=level
        )
    estimates = np.array([r.estimate for r in results.values()])
    weights = 1 / np.array([r.se for r in results.values()]) ** 2
    pooled = float(np.sum(weights * estimates) / np.sum(weights))
    q_between = float(np.sum(weights * (estimates - pooled) ** 2))
    df = len(names) - 1
    return SubgroupResult(results, q_between, df, float(stats.chi2.sf(q_between, df)))


# ---------------------------------------------------------------------------------------
# publication bias


def _check_precision_varies(v: Array) -> None:
    if np.ptp(v) == 0:
        raise ValueError(
            "Every study has the same sampling variance, so effect cannot be regressed on "
            "precision; the funnel plot has no asymmetry to test."
        )


def egger_test(
    yi: Values,
    vi: Values,
    method: Method = "REML",
    knha: bool = False,
    model: Literal["rma", "lm"] = "rma",
    level: float = 0.95,
) -> EggerTest:
    """Egger's regression test (metafor `regtest`, predictor: standard error).

    "rma" (metafor's default): a meta-regression of the effects on their standard errors,
    with the same tau^2 method and test as the main model. "lm": the classical Egger
    test, weighted least squares with a multiplicative dispersion term, t on k - 2 df.
    """
    y, v = _as_studies(yi, vi)
    if y.size < 3:
        raise ValueError("Egger's test needs at least 3 studies.")
    _check_precision_varies(v)
    x = np.column_stack([np.ones(y.size), np.sqrt(v)])
    if model == "lm":
        # fixed-effect weights with the residual variance estimated: Knapp-Hartung at tau2=0
        fit = _fit(y, v, x, "FE", True, level)
    elif model == "rma":
        fit = _fit(y, v, x, method, knha, level)
    else:
        raise ValueError(f"model {model!r} is not 'rma' or 'lm'.")
    se = np.sqrt(np.diag(fit.vb))
    stat, pval = _test(float(fit.beta[1]), float(se[1]), fit.df)
    return EggerTest(
        model=model,
        stat=stat,
        df=fit.df,
        p=pval,
        limit_estimate=float(fit.beta[0]),
        limit_ci_low=float(fit.beta[0] - fit.crit * se[0]),
        limit_ci_high=float(fit.beta[0] + fit.crit * se[0]),
    )


def rank_test(yi: Values, vi: Values) -> RankTest:
    """Begg and Mazumdar's rank correlation test (metafor `ranktest`): Kendall's tau between
    the standardised deviations from the fixed-effect estimate and the sampling variances;
    exact p-value when there are fewer than 50 studies and no ties, as R's `cor.test`."""
    y, v = _as_studies(yi, vi)
    if y.size < 3:
        raise ValueError("The rank correlation test needs at least 3 studies.")
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    standardised = (y - theta) / np.sqrt(v - 1 / np.sum(w))
    ties = len(set(standardised)) < y.size or len(set(v)) < y.size
    exact = y.size < 50 and not ties
    result = stats.kendalltau(standardised, v, method="exact" if exact else "asymptotic")
    return RankTest(tau=float(result.statistic), p=float(result.pvalue))


def trim_and_fill(
    yi: Values,
    vi: Values,
    method: Method = "REML",
    knha: bool = False,
    side: Literal["left", "right"] | None = None,
    level: float = 0.95,
    maxiter: int = 100,
) -> TrimAndFill:
    """Trim and fill with the L0 estimator (Duval and Tweedie 2000; metafor `trimfill`).

    Without `side`, missing studies are imputed on the right if the slope of a
    meta-regression of the effects on their standard errors (same method) is negative, and
    on the left otherwise, as metafor chooses. The same model is used to trim and to
    re-fit with the filled-in studies.
    """
    y, v = _as_studies(yi, vi)
    k = y.size
    if k < 3:
        raise ValueError("Trim and fill needs at least 3 studies.")
    if side is None:
        _check_precision_varies(v)
        slope = _fit(y, v, np.column_stack([np.ones(k), np.sqrt(v)]), method, False, level).beta
        side = "right" if slope[1] < 0 else "left"
    elif side not in ("left", "right"):
        raise ValueError(f"side {side!r} is not 'left' or 'right'.")
    flipped = -y if side == "right" else y
    order = np.argsort(flipped, kind="stable")
    ys, vs = flipped[order], v[order]
    ones = np.ones((k, 1))

    k0, k0_previous, iterations = 0, -1, 0
    centre, k0_se = 0.0, 0.0
    while k0 != k0_previous:
        k0_previous = k0
        iterations += 1
        if iterations > maxiter:
            raise ArithmeticError("Trim and fill did not converge; report without it.")
        kept = k - k0
        centre = float(_fit(ys[:kept], vs[:kept], ones[:kept], method, False, level).beta[0])
        deviations = ys - centre
        ranks = stats.rankdata(np.abs(deviations), method="ordinal")
        rank_sum = float(np.sum(ranks[deviations > 0]))
        estimate = (4 * rank_sum - k * (k + 1)) / (2 * k - 1)
        variance = (
            k * (k + 1) * (2 * k + 1)
            + 10 * estimate**3
            + 27 * estimate**2
            + 17 * estimate
            - 18 * k * estimate**2
            - 18 * k * estimate
            + 6 * k**2 * estimate
        ) / 24
        k0_se = max(0.0, 4 * math.sqrt(max(variance, 0.0)) / (2 * k - 1))
        k0 = max(0, round(estimate))

    if k0 == 0:
        result = _meta(y, v, method, knha, None, level, bias_checks=False)
        return TrimAndFill(k0=0, k0_se=k0_se, side=side, result=result)
    imputed = 2 * centre - ys[k - k0 :]
    if side == "right":
        imputed = -imputed
    filled_yi = np.concatenate([y, imputed])
    filled_vi = np.concatenate([v, vs[k - k0 :]])
    result = _meta(filled_yi, filled_vi, method, knha, None, level, bias_checks=False)
    return TrimAndFill(
        k0=k0,
        k0_se=k0_se,
        side=side,
        result=result,
        filled_yi=tuple(float(a) for a in imputed),
        filled_vi=tuple(float(a) for a in vs[k - k0 :]),
    )
