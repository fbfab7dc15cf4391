"""Staggered difference-in-differences: Callaway & Sant'Anna group-time effects and inference.

Pure numpy, no database: `staggered_did(panel)` returns a frozen `DidResult`. The formulas,
conventions and their sources are in `docs/methods/difference-in-differences.md`; the tests
reproduce the R did package's published examples (mpdta, and the Medicaid ehec data).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from math import comb
from typing import Any, Literal

import numpy as np
from scipy import stats

from whatworks.impact.panel import NEVER, Panel, PanelProblem

Control = Literal["never", "notyet"]
BasePeriod = Literal["varying", "universal"]
Overall = Literal["group", "simple", "dynamic", "calendar"]
Inference = Literal["auto", "bootstrap", "randomisation", "analytic"]

FEW_TREATED = 10  # below this many adopting units, inference is by randomisation
DEFAULT_SEED = 20240601


@dataclass(frozen=True)
class Effect:
    """One estimate: a group-time cell, an event time, a cohort, a period or an overall."""

    att: float
    se: float
    group: float | None = None
    time: float | None = None
    e: int | None = None


@dataclass(frozen=True)
class SensitivityBound:
    """Relative-magnitudes bound: post violations at most m times the largest pre violation."""

    m: float
    lower: float
    upper: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class TwfeComparison:
    """Static two-way fixed effects estimate, shown only for comparison."""

    att: float
    se: float
    agrees: bool


@dataclass(frozen=True)
class DidResult:
    """Everything `staggered_did` estimates; `as_dict()` is the JSON shape."""

    att: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    pretrend_p: float | None
    pretrend_stat: float | None
    pretrend_df: int
    group_time: tuple[Effect, ...]
    event_study: tuple[Effect, ...]
    by_cohort: tuple[Effect, ...]
    by_calendar: tuple[Effect, ...]
    overall: dict[str, Effect]
    sensitivity: tuple[SensitivityBound, ...]
    breakdown_m: float | None
    twfe: TwfeComparison | None
    warnings: tuple[str, ...]
    method: dict[str, Any]
    seed: int
    #: False when randomisation rejects no effect size: the interval has no finite ends.
    ci_bounded: bool = True

    def as_dict(self) -> dict[str, Any]:
        def effect(item: Effect, *keys: str) -> dict[str, Any]:
            row = {k: _period(getattr(item, k)) for k in keys}
            return {**row, "att": item.att, "se": item.se}

        return {
            "att": self.att,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ci_bounded": self.ci_bounded,
            "p": self.p,
            "pretrend_p": self.pretrend_p,
            "pretrend_stat": self.pretrend_stat,
            "pretrend_df": self.pretrend_df,
            "event_study": [effect(x, "e") for x in self.event_study],
            "group_time": [effect(x, "group", "time") for x in self.group_time],
            "by_cohort": [effect(x, "group") for x in self.by_cohort],
            "by_calendar": [effect(x, "time") for x in self.by_calendar],
            "overall": {k: {"att": v.att, "se": v.se} for k, v in self.overall.items()},
            "sensitivity": [asdict(b) for b in self.sensitivity],
            "breakdown_m": self.breakdown_m,
            "twfe": asdict(self.twfe) if self.twfe else None,
            "warnings": list(self.warnings),
            "method": self.method,
            "seed": self.seed,
        }


def _period(value: Any) -> Any:
    """Whole-number periods as int (2004, not 2004.0) for JSON and tables."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class _Cells:
    """Group-time cells of one estimation: indices, estimates and influence functions."""

    group: np.ndarray  # cohort index per cell
    time: np.ndarray  # period index per cell
    base: np.ndarray  # base period index per cell
    att: np.ndarray
    inf: np.ndarray  # units x cells, scaled so that att_hat - att ~ mean(inf)
    n_treated: np.ndarray
    n_comparison: np.ndarray


def _cell_specs(
    panel: Panel, base_period: BasePeriod, anticipation: int
) -> list[tuple[int, int, int]]:
    """(cohort, period, base period) index triples, following did's att_gt conventions."""
    specs = []
    for g in sorted(set(panel.cohort[panel.treated].tolist())):
        start = g - anticipation
        for t in range(len(panel.times)):
            varying = base_period == "varying" and t < start
            base = t - 1 if varying else start - 1
            if base >= 0:
                specs.append((g, t, base))
    return specs


def _masks(
    cohorts: np.ndarray, g: int, t: int, base: int, control: Control, anticipation: int
) -> tuple[np.ndarray, np.ndarray]:
    """Treated (cohort g) and comparison masks; `cohorts` may carry a leading draws axis."""
    treated = cohorts == g
    comparison = cohorts == NEVER
    if control == "notyet":
        comparison = comparison | ((cohorts > max(t, base) + anticipation) & ~treated)
    return treated, comparison


def _estimate_cells(
    panel: Panel, specs: list[tuple[int, int, int]], control: Control, anticipation: int
) -> _Cells:
    """Each ATT(g,t) as a difference in mean changes, with its influence function."""
    n = panel.n_units
    y, observed = panel.outcome, panel.observed
    att, inf = np.full(len(specs), np.nan), np.zeros((n, len(specs)))
    n_t, n_c = np.zeros(len(specs), dtype=int), np.zeros(len(specs), dtype=int)
    for k, (g, t, base) in enumerate(specs):
        if t == base:  # universal base period: the reference cell, zero by construction
            att[k] = 0.0
            continue
        pair = observed[:, t] & observed[:, base]
        change = np.where(pair, y[:, t] - y[:, base], 0.0)
        treated, comparison = _masks(panel.cohort, g, t, base, control, anticipation)
        treated, comparison = treated & pair, comparison & pair
        n_t[k], n_c[k] = treated.sum(), comparison.sum()
        if n_t[k] == 0 or n_c[k] == 0:
            continue
        mean_t, mean_c = change[treated].mean(), change[comparison].mean()
        att[k] = mean_t - mean_c
        inf[treated, k] = n * (change[treated] - mean_t) / n_t[k]
        inf[comparison, k] = -n * (change[comparison] - mean_c) / n_c[k]
    idx = np.array(specs, dtype=int).reshape(-1, 3)
    return _Cells(idx[:, 0], idx[:, 1], idx[:, 2], att, inf, n_t, n_c)


def _placebo_cells(
    panel: Panel,
    specs: list[tuple[int, int, int]],
    control: Control,
    anticipation: int,
    outcome: np.ndarray,
    cohorts: np.ndarray,
) -> np.ndarray:
    """ATT(g,t) for many reassigned cohorts at once: draws x cells (NaN where empty)."""
    observed = panel.observed
    out = np.full((cohorts.shape[0], len(specs)), np.nan)
    for k, (g, t, base) in enumerate(specs):
        if t == base:
            out[:, k] = 0.0
            continue
        pair = observed[:, t] & observed[:, base]
        change = np.where(pair, outcome[:, t] - outcome[:, base], 0.0)
        treated, comparison = _masks(cohorts, g, t, base, control, anticipation)
        treated, comparison = treated & pair, comparison & pair
        n_t, n_c = treated.sum(axis=1), comparison.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = (treated @ change) / n_t - (comparison @ change) / n_c
    return out


class _Aggregator:
    """did's aggte: weighted averages of ATT(g,t) with cohort-share weights and their IFs."""

    def __init__(
        self, panel: Panel, cells: _Cells, anticipation: int, balance_e: int | None = None
    ) -> None:
        self.cells = cells
        self.unit_cohort = panel.cohort
        self.share = {
            g: float(np.mean(panel.cohort == g)) for g in set(panel.cohort[panel.treated].tolist())
        }
        self.pg = np.array([self.share[int(g)] for g in cells.group])
        self.e = cells.time - cells.group
        valid = ~np.isnan(cells.att)
        self.post = valid & (cells.time >= cells.group)
        self.valid = valid & ((cells.time < cells.group - anticipation) | self.post)
        self.dynamic = self.valid.copy()
        if balance_e is not None:  # did's balance_e: cohorts seen at least balance_e after
            last = len(panel.times) - 1
            self.dynamic &= (last - cells.group >= balance_e) & (self.e <= balance_e)
            self.dynamic &= self.e >= balance_e - last

    def _wif(self, groups: np.ndarray, pg: np.ndarray) -> np.ndarray:
        """Influence of estimating the cohort-share weights (did's `wif`)."""
        indicator = (self.unit_cohort[:, None] == groups[None, :]).astype(float)
        total = pg.sum()
        if1 = (indicator - pg) / total
        if2 = (indicator - pg).sum(axis=1, keepdims=True) * (pg / total**2)[None, :]
        return if1 - if2

    def weighted(self, keep: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Cohort-share weighted mean of the kept cells: estimate, IF, weights over cells."""
        pg = self.pg[keep]
        weights = np.zeros(len(self.pg))
        weights[keep] = pg / pg.sum()
        att = self.cells.att[keep]
        inf = self.cells.inf[:, keep] @ (pg / pg.sum())
        inf = inf + self._wif(self.cells.group[keep], pg) @ att
        return float(weights[keep] @ att), inf, weights

    def levels(self, kind: str) -> list[tuple[int, float, np.ndarray, np.ndarray]]:
        """(level, estimate, IF, cell weights) by cohort, event time or calendar period."""
        c = self.cells
        out = []
        if kind == "group":
            for g in sorted(set(c.group[self.post].tolist())):
                keep = self.post & (c.group == g)
                w = keep / keep.sum()
                out.append((g, float(w @ np.nan_to_num(c.att)), c.inf @ w, w))
        elif kind == "dynamic":
            for e in sorted(set(self.e[self.dynamic].tolist())):
                out.append((e, *self.weighted(self.dynamic & (self.e == e))))
        else:
            for t in sorted(set(c.time[self.post].tolist())):
                out.append((t, *self.weighted(self.post & (c.time == t))))
        return out

    def overall(self, kind: Overall) -> tuple[float, np.ndarray, np.ndarray]:
        """did's overall summaries; 'group' is the one its authors recommend."""
        if kind == "simple":
            return self.weighted(self.post)
        levels = self.levels(kind)
        if kind == "dynamic":
            levels = [lv for lv in levels if lv[0] >= 0]
        if kind == "group":
            groups = np.array([lv[0] for lv in levels])
            pg = np.array([self.share[g] for g in groups])
            att = np.array([lv[1] for lv in levels])
            inf = np.column_stack([lv[2] for lv in levels]) @ (pg / pg.sum())
            inf = inf + self._wif(groups, pg) @ att
            weights = np.column_stack([lv[3] for lv in levels]) @ (pg / pg.sum())
            return float(att @ (pg / pg.sum())), inf, weights
        mean = float(np.mean([lv[1] for lv in levels]))
        inf = np.mean([lv[2] for lv in levels], axis=0)
        weights = np.mean([lv[3] for lv in levels], axis=0)
        return mean, inf, weights


class _StandardErrors:
    """Clustered-by-unit standard errors from influence functions (did's mboot or analytic)."""

    def __init__(self, n: int, draws: np.ndarray | None) -> None:
        self.n, self.draws = n, draws

    def __call__(self, inf: np.ndarray) -> float:
        if self.draws is None:
            return float(np.sqrt(np.sum(inf**2)) / self.n)
        replicates = self.draws @ inf / np.sqrt(self.n)
        q75, q25 = np.quantile(replicates, [0.75, 0.25], method="inverted_cdf")
        return float((q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25)) / np.sqrt(self.n))


def _mammen(rng: np.random.Generator, draws: int, n: int) -> np.ndarray:
    """Mammen (1993) two-point multipliers: mean 0, variance 1."""
    root5 = np.sqrt(5.0)
    low, high = (1 - root5) / 2, (1 + root5) / 2
    p_low = (root5 + 1) / (2 * root5)
    return np.where(rng.random((draws, n)) < p_low, low, high)


def _wald(att: np.ndarray, inf: np.ndarray, n: int) -> tuple[float | None, float | None, int]:
    """Wald test that `att` are jointly zero, covariance from influence functions.

    Like did, no statistic when the covariance is singular (R's rcond <= machine epsilon).
    """
    keep = ~np.isnan(att) & np.any(inf != 0, axis=0)
    if not keep.any():
        return None, None, 0
    att, inf = att[keep], inf[:, keep]
    covariance = inf.T @ inf / n
    if np.linalg.cond(covariance, 1) >= 1 / np.finfo(float).eps:
        return None, None, int(keep.sum())
    wald = float(n * att @ np.linalg.solve(covariance, att))
    return wald, float(stats.chi2.sf(wald, keep.sum())), int(keep.sum())


def _assignments(cohort: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Reassignments of adoption dates across units: every distinct one other than the
    observed assignment when there are no more than `draws` of them (one adopter among 150
    councils has 149 others), so that the randomisation p-value is exact; otherwise `draws`
    random permutations."""
    values, counts = np.unique(cohort[cohort != NEVER], return_counts=True)
    total, free = 1, len(cohort)
    for count in counts:
        total *= comb(free, int(count))
        free -= int(count)
        if total > draws:
            break
    if total > draws:
        return np.array([rng.permutation(cohort) for _ in range(draws)])
    out: list[np.ndarray] = []

    def place(i: int, left: list[int], current: np.ndarray) -> None:
        if i == len(values):
            out.append(current.copy())
            return
        for chosen in itertools.combinations(left, int(counts[i])):
            current[list(chosen)] = values[i]
            place(i + 1, [u for u in left if u not in chosen], current)
            current[list(chosen)] = NEVER

    place(0, list(range(len(cohort))), np.full(len(cohort), NEVER, dtype=cohort.dtype))
    others = [row for row in out if not np.array_equal(row, cohort)]
    return np.array(others).reshape(-1, len(cohort))


def _permutation_p(at_least: np.ndarray, size: int) -> np.ndarray:
    """The randomisation p-value from how many of the other assignments were at least as
    extreme: (1 + count) / (others + 1), the observed assignment counted once as itself.
    For the exact set this is the share of every assignment; for random draws it is the
    usual conservative estimate."""
    return (1 + at_least) / (size + 1)


def _randomisation(
    panel: Panel,
    specs: list[tuple[int, int, int]],
    control: Control,
    anticipation: int,
    weights: np.ndarray,
    att: float,
    rng: np.random.Generator,
    draws: int,
    alpha: float,
) -> tuple[float, float, float, float, bool]:
    """Permutation inference for the headline effect: se, p, the test-inverted interval, and
    whether that interval has finite ends (with few units, chance alone can give any gap,
    and no effect size is rejected: then the ends returned are only where the search
    stopped).

    Adoption dates are reassigned across all units `draws` times. For a constant effect
    tau0, adjusted outcomes Y - tau0*D give placebo estimates a - tau0*b (linear in tau0).
    """
    cohorts = _assignments(panel.cohort, draws, rng)
    a = _weighted(
        _placebo_cells(panel, specs, control, anticipation, panel.outcome, cohorts), weights
    )
    b = _weighted(
        _placebo_cells(panel, specs, control, anticipation, panel.treatment(), cohorts), weights
    )
    b_obs = float(
        _weighted(
            _placebo_cells(
                panel, specs, control, anticipation, panel.treatment(), panel.cohort[None]
            ),
            weights,
        )[0]
    )
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]

    def p_value(tau: np.ndarray) -> np.ndarray:
        observed = np.abs(att - tau * b_obs)[:, None]
        placebo = np.abs(a[None, :] - tau[:, None] * b[None, :])
        tolerance = 1e-9 * np.maximum(1.0, observed)
        return _permutation_p(np.sum(placebo >= observed - tolerance, axis=1), len(a))

    spread = float(np.std(a - att * b, ddof=1))
    p = float(p_value(np.array([0.0]))[0])
    width = 8 * spread + abs(att) + 1e-9
    for _ in range(6):
        grid = np.linspace(att - width, att + width, 2001)
        accepted = grid[p_value(grid) > alpha]
        if len(accepted) and accepted[0] > grid[0] and accepted[-1] < grid[-1]:
            break
        width *= 4
    if not len(accepted):
        return spread, p, att, att, True
    bounded = bool(accepted[0] > grid[0] and accepted[-1] < grid[-1])
    step = grid[1] - grid[0]
    low = _edge(p_value, accepted[0] - step, accepted[0], alpha)
    high = _edge(p_value, accepted[-1] + step, accepted[-1], alpha)
    return spread, p, low, high, bounded


def _randomisation_pretrend(
    panel: Panel,
    specs: list[tuple[int, int, int]],
    control: Control,
    anticipation: int,
    observed_att: np.ndarray,
    rng: np.random.Generator,
    draws: int,
) -> tuple[float | None, float | None]:
    """Permutation pre-test: the mean square of the pre-adoption ATT(g,t) against its
    distribution when adoption dates are reassigned across units. With a few adopters the
    Wald test's chi-squared reference does not hold (one unit's own wobble drives the
    covariance), so the reference distribution is made by permutation instead."""
    keep = ~np.isnan(observed_att)
    if not keep.any():
        return None, None
    statistic = float(np.mean(observed_att[keep] ** 2))
    cohorts = _assignments(panel.cohort, draws, rng)
    placebo = _placebo_cells(panel, specs, control, anticipation, panel.outcome, cohorts)
    with np.errstate(invalid="ignore"):
        placebo_stats = np.nanmean(placebo**2, axis=1)
    placebo_stats = placebo_stats[~np.isnan(placebo_stats)]
    at_least = np.sum(placebo_stats >= statistic * (1 - 1e-9))
    return statistic, float(_permutation_p(np.array(at_least), len(placebo_stats)))


def _weighted(cells: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's weighted sum of its cells, as the headline aggregation weights them:
    cells with no weight are left out (even when they could not be estimated), and a cell
    that could not be estimated under a reassignment (no unit observed in both of its
    periods) gives its weight to the others in proportion; NaN when none is left."""
    used = weights != 0
    values, w = cells[:, used], weights[used]
    known = ~np.isnan(values)
    total = known @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.where(known, values, 0.0) @ w) * (w.sum() / total)
    return np.where(total == 0, np.nan, out)


def _edge(p_value: Any, rejected: float, accepted: float, alpha: float) -> float:
    """Bisect between a rejected and an accepted value to the interval's end."""
    for _ in range(40):
        middle = (rejected + accepted) / 2
        if p_value(np.array([middle]))[0] > alpha:
            accepted = middle
        else:
            rejected = middle
    return accepted


def _two_way_demean(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Remove unit and period means (alternating projections; exact for balanced panels)."""
    x = np.where(observed, values, 0.0)
    for _ in range(10_000):
        units = x.sum(1, keepdims=True) / observed.sum(1, keepdims=True)
        x = np.where(observed, x - units, 0.0)
        periods = x.sum(0, keepdims=True) / np.maximum(observed.sum(0, keepdims=True), 1)
        x = np.where(observed, x - periods, 0.0)
        if np.abs(units).max() < 1e-13 and np.abs(periods).max() < 1e-13:
            break
    return x


def _twfe(panel: Panel, att: float) -> TwfeComparison:
    """Y ~ D + unit + period fixed effects, standard error clustered by unit (as fixest)."""
    observed = panel.observed
    d = _two_way_demean(panel.treatment(), observed)
    y = _two_way_demean(np.nan_to_num(panel.outcome), observed)
    beta = float(np.sum(d * y) / np.sum(d * d))
    residual = np.where(observed, y - beta * d, 0.0)
    scores = np.sum(d * residual, axis=1)
    clusters, n_obs = panel.n_units, int(observed.sum())
    params = len(panel.times) + 1  # slope + period effects; unit effects nest in clusters
    adjust = clusters / (clusters - 1) * (n_obs - 1) / (n_obs - params)
    se = float(np.sqrt(adjust * np.sum(scores**2)) / np.sum(d * d))
    agrees = bool(np.sign(beta) == np.sign(att) and abs(beta - att) <= se)
    return TwfeComparison(att=beta, se=se, agrees=agrees)


def _sensitivity(
    event_study: Sequence[Effect],
    base_period: BasePeriod,
    anticipation: int,
    cell_weights: np.ndarray,
    cells: _Cells,
    att: float,
    ci: tuple[float, float],
    z: float,
    se: float,
    ms: Sequence[float],
) -> tuple[tuple[SensitivityBound, ...], float | None]:
    """Relative-magnitudes bounds (Rambachan & Roth) on the headline effect; see the docs."""
    pre = [x for x in event_study if x.e is not None and x.e < -anticipation]
    if base_period == "varying":
        steps = [abs(x.att) for x in pre]
    else:
        path = [x.att for x in sorted(pre, key=lambda x: x.e or 0)]
        steps = [abs(b - a) for a, b in itertools.pairwise(path)]
    if not steps:
        return (), None
    largest = max(steps)
    exposure = cells.time - cells.group + anticipation + 1
    reach = float(np.sum(np.where(exposure > 0, cell_weights * exposure, 0.0)))
    bounds = tuple(
        SensitivityBound(
            m=float(m),
            lower=att - m * largest * reach,
            upper=att + m * largest * reach,
            ci_low=ci[0] - m * largest * reach,
            ci_high=ci[1] + m * largest * reach,
        )
        for m in ms
    )
    margin = abs(att) - z * se
    breakdown = margin / (largest * reach) if largest * reach > 0 and margin > 0 else None
    return bounds, breakdown


def _effects(
    levels: list[tuple[int, float, np.ndarray, np.ndarray]], key: str, panel: Panel, se: Any
) -> tuple[Effect, ...]:
    out = []
    for level, att, inf, _ in levels:
        where: dict[str, Any] = {key: int(level) if key == "e" else panel.times[int(level)]}
        out.append(Effect(att=att, se=se(inf), **where))
    return tuple(out)


def staggered_did(
    panel: Panel,
    *,
    control: Control = "never",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    overall: Overall = "group",
    inference: Inference = "auto",
    n_boot: int = 999,
    n_perm: int = 999,
    alpha: float = 0.05,
    seed: int = DEFAULT_SEED,
    sensitivity_m: Sequence[float] = (0.0, 0.5, 1.0, 2.0),
    balance_e: int | None = None,
    twfe: bool = True,
) -> DidResult:
    """Callaway & Sant'Anna group-time effects, aggregated, with honest inference.

    The headline `att` is the `overall` summary ('group': cohort effects averaged by cohort
    size, did's recommendation). With fewer than 10 adopting units, `inference='auto'` gives
    its p-value and interval by randomisation inference; otherwise by the multiplier
    bootstrap clustered by unit. Same seed, same panel: the same numbers to the digit.
    """
    if control == "never" and not (~panel.treated).any():
        raise PanelProblem(
            ["no unit is never treated: compare with not-yet-treated units (control='notyet')"]
        )
    rng = np.random.default_rng(seed)
    n, n_treated = panel.n_units, int(panel.treated.sum())
    method = "randomisation" if inference == "auto" and n_treated < FEW_TREATED else inference
    if method == "auto":
        method = "bootstrap"
    specs = _cell_specs(panel, base_period, anticipation)
    cells = _estimate_cells(panel, specs, control, anticipation)
    draws = _mammen(rng, n_boot, n) if method in ("bootstrap", "randomisation") else None
    se = _StandardErrors(n, draws)
    agg = _Aggregator(panel, cells, anticipation, balance_e)
    z = float(stats.norm.ppf(1 - alpha / 2))

    overall_effects: dict[str, Effect] = {}
    kinds: tuple[Overall, ...] = ("group", "simple", "dynamic", "calendar")
    for kind in kinds:
        value, inf, _ = agg.overall(kind)
        overall_effects[kind] = Effect(att=value, se=se(inf))
    att, inf, weights = agg.overall(overall)
    headline_se = se(inf)
    bounded = True
    if method == "randomisation":
        headline_se, p, low, high, bounded = _randomisation(
            panel, specs, control, anticipation, weights, att, rng, n_perm, alpha
        )
    else:
        p = float(2 * stats.norm.sf(abs(att) / headline_se))
        low, high = att - z * headline_se, att + z * headline_se

    valid = ~np.isnan(cells.att)
    group_time = tuple(
        Effect(
            att=float(cells.att[k]),
            se=se(cells.inf[:, k]),
            group=panel.times[int(cells.group[k])],
            time=panel.times[int(cells.time[k])],
        )
        for k in np.flatnonzero(valid)
    )
    event_study = _effects(agg.levels("dynamic"), "e", panel, se)
    pre_cells = cells.time < cells.group - anticipation
    wald, pretrend_p, pretrend_df = _wald(cells.att[pre_cells], cells.inf[:, pre_cells], n)
    pretrend_test = "did's Wald pre-test that every pre-adoption ATT(g,t) is zero"
    if method == "randomisation" and pre_cells.any():
        pre_specs = [specs[k] for k in np.flatnonzero(pre_cells)]
        wald, pretrend_p = _randomisation_pretrend(
            panel, pre_specs, control, anticipation, cells.att[pre_cells], rng, n_perm
        )
        pretrend_df = int((~np.isnan(cells.att[pre_cells])).sum())
        pretrend_test = (
            "randomisation pre-test: the mean square of the pre-adoption ATT(g,t) against "
            f"{n_perm} reassignments of adoption dates"
        )
    bounds, breakdown = _sensitivity(
        event_study,
        base_period,
        anticipation,
        weights,
        cells,
        att,
        (low, high),
        z,
        headline_se,
        sensitivity_m,
    )
    comparison = _twfe(panel, att) if twfe else None
    warnings = _guard_rails(
        panel, cells, control, method, n_perm, pretrend_p, pretrend_df, comparison, att
    )
    if not bounded:
        warnings.append(
            f"With {n_treated} adopting unit(s) among {n}, reassigning adoption dates gives "
            "gaps as large as this one for any effect size: the 95% interval has no finite "
            "ends (the figures shown are only where the search stopped)."
        )
    details = {
        "estimator": "Callaway & Sant'Anna (2021) group-time ATT, unconditional (no covariates)",
        "overall": overall,
        "control": "never treated" if control == "never" else "not yet treated",
        "base_period": base_period,
        "anticipation": anticipation,
        "balance_e": balance_e,
        "inference": {
            "randomisation": "randomisation inference: adoption dates reassigned across "
            f"units {n_perm} times, interval by test inversion; other effects: multiplier "
            f"bootstrap ({n_boot} draws, Mammen weights, clustered by unit)",
            "bootstrap": f"multiplier bootstrap ({n_boot} draws, Mammen weights), "
            "clustered by unit",
            "analytic": "analytic influence-function standard errors, clustered by unit",
        }[method],
        "inference_kind": method,
        "pretrend_test": pretrend_test
        if pretrend_p is not None
        else "not computable (no pre-adoption cells, or a singular covariance as in did)",
        "alpha": alpha,
        "n_units": n,
        "n_treated_units": n_treated,
        "cohorts": {_period(k): v for k, v in panel.cohort_sizes().items()},
        "balanced": panel.is_balanced,
        "notes": list(panel.notes),
        "methods_page": "docs/methods/difference-in-differences.md",
    }
    return DidResult(
        att=att,
        se=headline_se,
        ci_low=low,
        ci_high=high,
        ci_bounded=bounded,
        p=p,
        pretrend_p=pretrend_p,
        pretrend_stat=wald,
        pretrend_df=pretrend_df,
        group_time=group_time,
        event_study=event_study,
        by_cohort=_effects(agg.levels("group"), "group", panel, se),
        by_calendar=_effects(agg.levels("calendar"), "time", panel, se),
        overall=overall_effects,
        sensitivity=bounds,
        breakdown_m=breakdown,
        twfe=comparison,
        warnings=tuple(warnings),
        method=details,
        seed=seed,
    )


def _guard_rails(
    panel: Panel,
    cells: _Cells,
    control: Control,
    method: str,
    n_perm: int,
    pretrend_p: float | None,
    pretrend_df: int,
    twfe: TwfeComparison | None,
    att: float,
) -> list[str]:
    """Plain-language warnings a reader needs before trusting the estimate."""
    out: list[str] = []
    n_treated = int(panel.treated.sum())
    if n_treated < FEW_TREATED:
        out.append(
            f"Only {n_treated} {'council' if n_treated == 1 else 'councils'} adopted: the "
            "estimate is imprecise. Its p-value and interval come from randomisation inference "
            f"(the adoption years reassigned to other councils {n_perm} times), not from "
            "large-sample formulas; the standard errors by year and cohort are rough."
            if method == "randomisation"
            else f"Only {n_treated} councils adopted: the estimate is imprecise, and "
            f"{method} standard errors are too small with so few adopters."
        )
    for period, size in panel.cohort_sizes().items():
        before = panel.times.index(period)
        if size == 1:
            out.append(
                f"Only one council adopted in {_period(period)}: the effects for that cohort "
                "rest on a single council."
            )
        if before < 2:
            out.append(
                f"Councils adopting in {_period(period)} have only {before} period before "
                "adoption: whether they were on the same path as the comparison councils "
                "cannot be checked."
            )
    comparison_units = int((~panel.treated).sum())
    if control == "never" and comparison_units < FEW_TREATED:
        out.append(
            f"Only {comparison_units} councils never adopted: the comparison group is small."
        )
    missing = np.isnan(cells.att)
    if missing.any():
        shown = ", ".join(
            f"{_period(panel.times[int(g)])} in {_period(panel.times[int(t)])}"
            for g, t in zip(cells.group[missing], cells.time[missing], strict=True)
        )
        out.append(
            f"Some effects could not be estimated because no comparison councils were "
            f"observed (cohort in period: {shown})."
        )
    if not panel.is_balanced:
        incomplete = int((~panel.observed.all(axis=1)).sum())
        out.append(
            f"The panel is unbalanced ({incomplete} councils miss some periods): each "
            "comparison uses the councils observed in both of its periods."
        )
    if pretrend_p is not None and pretrend_p < 0.05:
        out.append(
            f"The pre-adoption test rejects parallel trends (p = {pretrend_p:.3f}): adopters "
            "were already moving differently before they adopted. Read the estimate with the "
            "sensitivity bounds, not on its own."
        )
    elif pretrend_p is None:
        out.append(
            "Parallel trends before adoption could not be tested (too few pre-adoption periods "
            "or adopters): rely on the event study and the sensitivity bounds."
        )
    out += _balance_warnings(panel)
    if twfe is not None and not twfe.agrees:
        how = (
            "has the opposite sign"
            if np.sign(twfe.att) != np.sign(att)
            else "differs by more than its standard error"
        )
        out.append(
            f"The two-way fixed effects estimate ({twfe.att:.4g}) {how} from the staggered "
            f"estimate ({att:.4g}). With staggered adoption and effects that change over time, "
            "two-way fixed effects compares later adopters with earlier ones and can be badly "
            "biased (Goodman-Bacon 2021): use the staggered estimate."
        )
    return out


def _balance_warnings(panel: Panel) -> list[str]:
    """Baseline equivalence of covariates: adopters against never-adopters (WWC thresholds)."""
    out = []
    for name, values in panel.covariates.items():
        baseline = np.nanmean(values[:, :1], axis=1)
        treated, other = baseline[panel.treated], baseline[~panel.treated]
        if len(other) < 2 or len(treated) < 1:
            continue
        pooled = np.sqrt((np.nanvar(treated, ddof=0) + np.nanvar(other, ddof=1)) / 2)
        if not pooled > 0:
            continue
        smd = abs(np.nanmean(treated) - np.nanmean(other)) / pooled
        outside = (np.nanmin(treated) < np.nanmin(other)) or (np.nanmax(treated) > np.nanmax(other))
        if smd > 0.25:
            out.append(
                f"Adopters and never-adopters differ on {name} in the first period by {smd:.2f} "
                "standard deviations (over 0.25): the comparison is not like-for-like, and "
                "these unconditional estimates assume it does not matter for trends."
            )
        elif smd > 0.05:
            out.append(
                f"Adopters and never-adopters differ on {name} in the first period by {smd:.2f} "
                "standard deviations (0.05 to 0.25): comparable only with adjustment."
            )
        if outside:
            out.append(
                f"Some adopters' {name} lies outside the range of the never-adopters' "
                "(weak overlap): no comparison council is like them."
            )
    return out
