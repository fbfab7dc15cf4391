"""Synthetic control for one adopting council, with placebo-in-space inference.

Abadie, Diamond & Hainmueller (2010); the maths, conventions and limits are in
docs/methods/synthetic-control.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from whatworks.core.errors import WhatworksError

MIN_DONORS = 2
FEW_DONORS = 10
POOR_FIT_R2 = 0.8


class SyntheticControlError(WhatworksError, ValueError):
    """The panel or the options cannot give a synthetic control; the message says why."""


@dataclass(frozen=True)
class Placebo:
    """One donor treated in turn as if it had adopted at the same time."""

    unit: Hashable
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    included: bool
    effects: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "pre_rmspe": self.pre_rmspe,
            "post_rmspe": self.post_rmspe,
            "ratio": self.ratio,
            "included": self.included,
            "effects": [dict(e) for e in self.effects],
        }


@dataclass(frozen=True)
class SyntheticControlResult:
    """Weights, effect path, fit and placebo inference for one treated unit."""

    treated: Hashable
    start: Any
    method: str
    weights: dict[Hashable, float]
    effects: tuple[dict[str, Any], ...]
    post_mean_effect: float
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    placebo_p: float | None
    placebo_rank: int | None
    placebo_count: int
    pre_periods: int
    post_periods: int
    predictor_weights: dict[str, float] | None
    placebos: tuple[Placebo, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "treated": self.treated,
            "start": self.start,
            "method": self.method,
            "weights": dict(self.weights),
            "effects": [dict(e) for e in self.effects],
            "post_mean_effect": self.post_mean_effect,
            "pre_rmspe": self.pre_rmspe,
            "post_rmspe": self.post_rmspe,
            "ratio": self.ratio,
            "placebo_p": self.placebo_p,
            "placebo_rank": self.placebo_rank,
            "placebo_count": self.placebo_count,
            "pre_periods": self.pre_periods,
            "post_periods": self.post_periods,
            "predictor_weights": (
                None if self.predictor_weights is None else dict(self.predictor_weights)
            ),
            "placebos": [p.as_dict() for p in self.placebos],
            "warnings": list(self.warnings),
        }


def simplex_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Weights w >= 0, sum 1, minimising ||target - donors @ w||² (donors: rows x units).

    Exact, via one non-negative least squares: with D = donors - target·1ᵀ, minimising
    ||D u||² + (1ᵀu - 1)² over u >= 0 and setting w = u / 1ᵀu solves the simplex problem
    (docs/methods/synthetic-control.md, "The optimisation").
    """
    gaps = donors - target[:, None]
    scale = float(np.sqrt(np.mean(gaps**2))) or 1.0
    system = np.vstack([gaps / scale, np.ones((1, donors.shape[1]))])
    rhs = np.zeros(system.shape[0])
    rhs[-1] = 1.0
    u, _ = nnls(system, rhs, maxiter=50 * system.shape[1] + 100)
    total = float(u.sum())
    if total <= 0:  # cannot happen in exact arithmetic; guard against round-off
        return np.full(donors.shape[1], 1.0 / donors.shape[1])
    return np.asarray(u / total)


def synthetic_control(
    panel: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    treated: Hashable,
    start: Any,
    unit: str = "unit",
    time: str = "time",
    outcome: str = "outcome",
    donors: Sequence[Hashable] | None = None,
    exclude: Sequence[Hashable] = (),
    predictors: Sequence[str] = (),
    outcome_times: Sequence[Any] = (),
    min_pre_periods: int = 5,
    placebo: bool = True,
    placebo_exclude_factor: float | None = None,
) -> SyntheticControlResult:
    """Estimate what happened to ``treated`` from ``start`` against a synthetic control.

    ``panel`` is long: one row per unit and time with the outcome (and any predictors).
    The donor pool is ``donors`` if given, else every other unit, less ``exclude`` (pass
    the other adopters there). Without ``predictors``/``outcome_times`` the weights fit
    every pre-period outcome equally; with them, predictor weights V are chosen as the
    Synth package does. See docs/methods/synthetic-control.md.
    """
    frame = _frame(panel, unit, time, outcome, predictors)
    wide = _wide(frame, unit, time, outcome)
    times = list(wide.columns)
    pre_times, post_times = _split_times(times, start, min_pre_periods, time)
    pool = _donor_pool(wide, treated, donors, exclude, unit)
    _check_complete(wide, [treated, *pool], times, unit, time, outcome)

    y_pre = wide.loc[:, pre_times].to_numpy(float)
    y_post = wide.loc[:, post_times].to_numpy(float)
    rows = {u: i for i, u in enumerate(wide.index)}
    features = _features(frame, wide, unit, time, predictors, outcome_times, pre_times)

    ti = rows[treated]
    pool_idx = [rows[u] for u in pool]
    v = None
    if features is not None:
        v = _predictor_weights(features, y_pre, ti, pool_idx)
    w = _fit(features, v, y_pre, ti, pool_idx)
    synthetic = np.concatenate([w @ y_pre[pool_idx], w @ y_post[pool_idx]])
    observed = np.concatenate([y_pre[ti], y_post[ti]])
    gap = observed - synthetic
    n_pre = len(pre_times)
    pre_rmspe = _rms(gap[:n_pre])
    post_rmspe = _rms(gap[n_pre:])
    ratio = _ratio(post_rmspe, pre_rmspe)

    placebos: list[Placebo] = []
    if placebo:
        for j in pool_idx:
            others = [k for k in pool_idx if k != j]
            wj = _fit(features, v, y_pre, j, others)
            gj = np.concatenate([y_pre[j] - wj @ y_pre[others], y_post[j] - wj @ y_post[others]])
            pre_j, post_j = _rms(gj[:n_pre]), _rms(gj[n_pre:])
            keep = placebo_exclude_factor is None or pre_j <= placebo_exclude_factor * pre_rmspe
            placebos.append(
                Placebo(
                    unit=_plain(wide.index[j]),
                    pre_rmspe=pre_j,
                    post_rmspe=post_j,
                    ratio=_ratio(post_j, pre_j),
                    included=keep,
                    effects=_path(times, gj),
                )
            )
    included = [p for p in placebos if p.included]
    placebo_rank = 1 + sum(1 for p in included if p.ratio >= ratio) if placebo else None
    placebo_p = placebo_rank / (len(included) + 1) if placebo_rank is not None else None

    return SyntheticControlResult(
        treated=_plain(treated),
        start=_plain(start),
        method="outcomes" if features is None else "predictors",
        weights={_plain(u): float(x) for u, x in zip(pool, w, strict=True)},
        effects=_path(times, gap),
        post_mean_effect=float(np.mean(gap[n_pre:])),
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        ratio=ratio,
        placebo_p=placebo_p,
        placebo_rank=placebo_rank,
        placebo_count=len(included),
        pre_periods=n_pre,
        post_periods=len(post_times),
        predictor_weights=None if v is None else _named_v(predictors, outcome_times, v),
        placebos=tuple(placebos),
        warnings=tuple(_warnings(y_pre[ti], y_pre[pool_idx], pre_rmspe, len(pool))),
    )


# ---- input checks -------------------------------------------------------------------


def _frame(
    panel: pd.DataFrame | Iterable[Mapping[str, Any]],
    unit: str,
    time: str,
    outcome: str,
    predictors: Sequence[str],
) -> pd.DataFrame:
    frame = panel.copy() if isinstance(panel, pd.DataFrame) else pd.DataFrame(list(panel))
    missing = [c for c in (unit, time, outcome, *predictors) if c not in frame.columns]
    if missing:
        raise SyntheticControlError(
            f"The panel has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}. Name the unit, time "
            "and outcome columns (and any predictors) as they appear in the panel."
        )
    if frame.empty:
        raise SyntheticControlError("The panel has no rows: give one row per unit and time.")
    dupes = frame[frame.duplicated([unit, time], keep=False)]
    if not dupes.empty:
        pairs = sorted({(str(r[unit]), str(r[time])) for _, r in dupes.iterrows()})
        shown = "; ".join(f"{u} at {t}" for u, t in pairs[:5])
        raise SyntheticControlError(
            f"The panel has more than one row for the same {unit} and {time} "
            f"({len(pairs)} case(s), e.g. {shown}). Keep one row per {unit} and {time}."
        )
    for column in (outcome, *predictors):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[values.isna() & frame[column].notna()]
        if not bad.empty:
            row = bad.iloc[0]
            raise SyntheticControlError(
                f"{column} is not a number for {row[unit]} at {row[time]} "
                f"({row[column]!r}). Correct or remove the value."
            )
        frame[column] = values
    return frame


def _wide(frame: pd.DataFrame, unit: str, time: str, outcome: str) -> pd.DataFrame:
    wide = frame.pivot(index=unit, columns=time, values=outcome)
    return wide.sort_index(axis=1)


def _split_times(
    times: list[Any], start: Any, min_pre_periods: int, time: str
) -> tuple[list[Any], list[Any]]:
    try:
        pre = [t for t in times if t < start]
        post = [t for t in times if t >= start]
    except TypeError as exc:
        raise SyntheticControlError(
            f"The start {start!r} cannot be compared with the panel's {time} values "
            f"(e.g. {times[0]!r}); give the start in the same form."
        ) from exc
    if not pre or not post:
        raise SyntheticControlError(
            f"The start {start!r} is outside the panel's {time} range ({times[0]} to "
            f"{times[-1]}): there must be periods both before it and from it on."
        )
    if len(pre) < min_pre_periods:
        raise SyntheticControlError(
            f"Only {len(pre)} period(s) before the start {start!r}; at least "
            f"{min_pre_periods} are needed to judge whether the synthetic control tracks "
            "the treated unit. Use a longer series or a later start."
        )
    return pre, post


def _donor_pool(
    wide: pd.DataFrame,
    treated: Hashable,
    donors: Sequence[Hashable] | None,
    exclude: Sequence[Hashable],
    unit: str,
) -> list[Hashable]:
    units = list(wide.index)
    if treated not in wide.index:
        raise SyntheticControlError(
            f"The treated {unit} {treated!r} is not in the panel ({len(units)} units, "
            f"e.g. {', '.join(map(str, units[:5]))}). Check its name or code."
        )
    if donors is not None:
        unknown = [d for d in donors if d not in wide.index]
        if unknown:
            raise SyntheticControlError(
                f"Donor(s) {', '.join(map(str, unknown[:5]))} are not in the panel; "
                "remove them from the donor list."
            )
        if treated in donors:
            raise SyntheticControlError(
                f"The treated {unit} {treated!r} is in its own donor list; remove it."
            )
    candidates = units if donors is None else list(dict.fromkeys(donors))
    skip = {treated, *exclude}
    pool = [u for u in candidates if u not in skip]
    if len(pool) < MIN_DONORS:
        raise SyntheticControlError(
            f"Only {len(pool)} donor(s) left after removing the treated unit and the other "
            f"adopters; at least {MIN_DONORS} non-adopting units are needed."
        )
    return pool


def _check_complete(
    wide: pd.DataFrame, used: list[Hashable], times: list[Any], unit: str, time: str, outcome: str
) -> None:
    block = wide.loc[used, times]
    holes = [(u, t) for u, row in block.iterrows() for t in times if pd.isna(row[t])]
    if holes:
        shown = "; ".join(f"{u} at {t}" for u, t in holes[:5])
        raise SyntheticControlError(
            f"{outcome} is missing for {len(holes)} {unit}-{time} pair(s) (e.g. {shown}). "
            "Synthetic control needs every period for the treated unit and every donor: "
            "fill the gaps, or leave those donors out."
        )


def _features(
    frame: pd.DataFrame,
    wide: pd.DataFrame,
    unit: str,
    time: str,
    predictors: Sequence[str],
    outcome_times: Sequence[Any],
    pre_times: list[Any],
) -> np.ndarray | None:
    """Predictor matrix (units x predictors): pre-period means, then outcomes at given times."""
    if not predictors and not outcome_times:
        return None
    columns = []
    pre = frame[frame[time].isin(pre_times)]
    for name in predictors:
        means = pre.groupby(unit)[name].mean().reindex(wide.index)
        if means.isna().any():
            lacking = ", ".join(map(str, means[means.isna()].index[:5]))
            raise SyntheticControlError(
                f"Predictor {name} has no value before the start for {lacking}."
            )
        columns.append(means.to_numpy(float))
    for t in outcome_times:
        if t not in pre_times:
            raise SyntheticControlError(
                f"Outcome time {t!r} is not a period before the start; choose pre-period times."
            )
        columns.append(wide[t].to_numpy(float))
    return np.column_stack(columns)


# ---- estimation ---------------------------------------------------------------------


def _fit(
    features: np.ndarray | None,
    v: np.ndarray | None,
    y_pre: np.ndarray,
    target: int,
    pool: list[int],
) -> np.ndarray:
    if features is None or v is None:
        return simplex_weights(y_pre[target], y_pre[pool].T)
    scaled = _standardise(features, [target, *pool]) * np.sqrt(v)
    return simplex_weights(scaled[target], scaled[pool].T)


def _standardise(features: np.ndarray, rows: list[int]) -> np.ndarray:
    """Divide each predictor by its standard deviation across the units used (as Synth)."""
    sd = features[rows].std(axis=0, ddof=1)
    return np.asarray(features / np.where(sd > 0, sd, 1.0))


def _predictor_weights(
    features: np.ndarray, y_pre: np.ndarray, target: int, pool: list[int]
) -> np.ndarray:
    """Nested optimisation: diagonal V minimising the pre-period outcome MSPE."""
    scaled = _standardise(features, [target, *pool])
    k = scaled.shape[1]

    def loss(theta: np.ndarray) -> float:
        v = _softmax(theta)
        w = simplex_weights(scaled[target] * np.sqrt(v), (scaled[pool] * np.sqrt(v)).T)
        return float(np.mean((y_pre[target] - w @ y_pre[pool]) ** 2))

    if k == 1:
        return np.ones(1)
    starts = [np.zeros(k)]
    for i in range(k):  # each predictor given most of the weight in turn
        start = np.zeros(k)
        start[i] = math.log(10.0 * (k - 1))
        starts.append(start)
    best = min(
        (
            minimize(loss, s, method="Nelder-Mead", options={"maxiter": 400 * k, "xatol": 1e-6})
            for s in starts
        ),
        key=lambda r: (float(r.fun), tuple(r.x)),
    )
    return _softmax(np.asarray(best.x))


def _softmax(theta: np.ndarray) -> np.ndarray:
    z = np.exp(theta - theta.max())
    return np.asarray(z / z.sum())


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2)))


def _ratio(post: float, pre: float) -> float:
    if pre > 0:
        return post / pre
    return math.inf if post > 0 else math.nan


# ---- output ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, so results print and serialise plainly."""
    return value.item() if isinstance(value, np.generic) else value


def _path(times: list[Any], gap: np.ndarray) -> tuple[dict[str, Any], ...]:
    return tuple({"time": _plain(t), "effect": float(g)} for t, g in zip(times, gap, strict=True))


def _named_v(
    predictors: Sequence[str], outcome_times: Sequence[Any], v: np.ndarray
) -> dict[str, float]:
    names = [*predictors, *(f"outcome at {_plain(t)}" for t in outcome_times)]
    return {n: float(x) for n, x in zip(names, v, strict=True)}


def _warnings(
    treated_pre: np.ndarray,
    donors_pre: np.ndarray,
    pre_rmspe: float,
    n_donors: int,
) -> list[str]:
    notes = []
    variance = float(np.var(treated_pre))
    r2 = 1 - pre_rmspe**2 / variance if variance > 0 else (1.0 if pre_rmspe == 0 else 0.0)
    if r2 < POOR_FIT_R2:
        notes.append(
            f"Poor fit before the start: the synthetic control explains {max(r2, 0):.0%} of "
            f"the treated unit's variation (pre-period RMSPE {pre_rmspe:.3g}). The gap after "
            "the start may reflect this misfit rather than the innovation."
        )
    outside = int(
        np.sum((treated_pre > donors_pre.max(axis=0)) | (treated_pre < donors_pre.min(axis=0)))
    )
    if outside:
        notes.append(
            f"In {outside} of {len(treated_pre)} periods before the start the treated unit "
            "is above every donor or below every donor: it lies outside the donors' convex "
            "hull, so no weighted average of donors can match it there."
        )
    if n_donors < FEW_DONORS:
        notes.append(
            f"Only {n_donors} donors: the smallest possible placebo p-value is "
            f"1/{n_donors + 1} = {1 / (n_donors + 1):.2f}, so the test cannot show a clear "
            "effect."
        )
    return notes
