"""Baseline forecasts for Results-Based Accountability: where we are heading if we do nothing more.

A linear trend (ordinary least squares on the period index) with an 80% prediction interval
that includes the uncertainty of the fitted line; a damped trend (Holt's method with a
damped trend, as an ETS(A,Ad,N) model) for series long enough to fit one; user adjustments
to a forecast; and a verdict on actual figures against a frozen forecast. The conventions
are in docs/methods/forecast.md. Pure functions: no database, web or CLI.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

#: Coverage of every prediction interval: 80%, so alpha = 0.2.
INTERVAL = 0.8
#: A line with an interval needs n - 2 >= 1 degrees of freedom.
MIN_POINTS_LINEAR = 3
#: Damped trend: more than (5 parameters + 4) points, the rule of R's forecast::ets.
MIN_POINTS_DAMPED = 10
#: A forecast resting on this many figures or fewer says how little history it has (the
#: children looked after files have 5).
FEW_POINTS = 5
DEFAULT_HORIZON = 3
POLARITIES = ("higher is better", "lower is better", "no polarity")
VERDICTS = ("curve turned", "better than baseline", "on baseline", "worse than baseline")


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast period: the central value and its 80% prediction interval."""

    period: str
    value: float
    lower: float | None
    upper: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
        }


@dataclass(frozen=True)
class Forecast:
    """A baseline forecast; `points` is empty when the series is too short for one."""

    method: str  # "linear", "damped trend", "adjusted from linear", ...
    points: tuple[ForecastPoint, ...]
    based_on: int  # how many published figures the forecast rests on
    history: tuple[str, ...]  # the periods of those figures
    warnings: tuple[str, ...] = ()
    adjusted: tuple[str, ...] = ()  # periods whose value a person set

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "points": [p.as_dict() for p in self.points],
            "based_on": self.based_on,
            "history": list(self.history),
            "interval": INTERVAL,
            "warnings": list(self.warnings),
            "adjusted": list(self.adjusted),
        }


@dataclass(frozen=True)
class Verdict:
    """How the latest actual figure stands against a frozen baseline forecast."""

    code: str  # one of VERDICTS, or "no verdict"
    sentence: str
    period: str | None = None
    actual: float | None = None
    forecast: ForecastPoint | None = None


def next_period(period: str) -> str:
    """The period a year later: 2025 -> 2026; academic year 202425 -> 202526."""
    if period.isdigit() and len(period) == 4:
        return str(int(period) + 1)
    if period.isdigit() and len(period) == 6:
        start = int(period[:4]) + 1
        return f"{start}{(start + 1) % 100:02d}"
    raise ValueError(f"cannot tell the period after {period!r}: expected 2025 or 202425")


def _pairs(points: Iterable[Any]) -> list[tuple[str, float | None]]:
    pairs = []
    for point in points:
        period, value = point if isinstance(point, tuple) else (point.period, point.value)
        pairs.append((str(period), None if value is None else float(value)))
    return pairs


def _future(pairs: list[tuple[str, float | None]], horizon: int) -> list[str]:
    labels, period = [], pairs[-1][0]
    for _ in range(horizon):
        period = next_period(period)
        labels.append(period)
    return labels


def _notes(history: list[str]) -> list[str]:
    if len(history) > FEW_POINTS:
        return []
    return [
        f"This forecast rests on only {len(history)} published figures "
        f"({history[0]} to {history[-1]}): with so little history, read it as a rough "
        "guide, not a prediction."
    ]


def linear_forecast(points: Iterable[Any], horizon: int = DEFAULT_HORIZON) -> Forecast:
    """A straight-line baseline with an 80% prediction interval, by OLS on the period index.

    `points` are (period, value) pairs or `SeriesPoint`s in time order. A period with no
    number keeps its place in the index (so a suppressed year does not shorten the time
    axis) but is left out of the fit. The interval is statsmodels' `obs_ci` at alpha 0.2:
    t with n - 2 degrees of freedom, including the uncertainty of the fitted line.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    pairs = _pairs(points)
    kept = [(i, p, v) for i, (p, v) in enumerate(pairs) if v is not None]
    history = [p for _, p, _ in kept]
    if len(kept) < MIN_POINTS_LINEAR:
        message = (
            f"A trend forecast needs at least {MIN_POINTS_LINEAR} published figures; "
            f"this series has {len(kept)}."
        )
        return Forecast("linear", (), len(kept), tuple(history), (message,))
    x = np.array([i for i, _, _ in kept], dtype=float)
    y = np.array([v for _, _, v in kept], dtype=float)
    fit = OLS(y, add_constant(x)).fit()
    x_new = np.arange(len(pairs), len(pairs) + horizon, dtype=float)
    frame = fit.get_prediction(add_constant(x_new, has_constant="add")).summary_frame(
        alpha=1 - INTERVAL
    )
    forecast = tuple(
        ForecastPoint(
            period, float(row["mean"]), float(row["obs_ci_lower"]), float(row["obs_ci_upper"])
        )
        for period, (_, row) in zip(_future(pairs, horizon), frame.iterrows(), strict=True)
    )
    return Forecast("linear", forecast, len(kept), tuple(history), tuple(_notes(history)))


def damped_forecast(points: Iterable[Any], horizon: int = DEFAULT_HORIZON) -> Forecast:
    """A damped-trend baseline: Holt's linear method with a damped trend (ETS(A,Ad,N)).

    Fitted by maximum likelihood with statsmodels' `ETSModel`; the 80% interval is its
    exact (analytic) prediction interval, which does not include parameter uncertainty.
    Needs MIN_POINTS_DAMPED figures with no gaps between them; otherwise it returns the
    linear forecast with a sentence saying why.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    pairs = _pairs(points)
    numbered = [i for i, (_, v) in enumerate(pairs) if v is not None]
    history = [pairs[i][0] for i in numbered]
    reason = None
    if len(numbered) < MIN_POINTS_DAMPED:
        reason = (
            f"a damped trend needs at least {MIN_POINTS_DAMPED} published figures "
            f"and this series has {len(numbered)}"
        )
    elif numbered[-1] - numbered[0] + 1 != len(numbered):
        reason = "a damped trend needs figures for consecutive periods and this series has gaps"
    if reason is not None:
        linear = linear_forecast(pairs, horizon)
        return replace(linear, warnings=(f"Showing the linear trend: {reason}.", *linear.warnings))
    y = pd.Series([pairs[i][1] for i in numbered], dtype=float)
    notes = _notes(history)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
    if any("converge" in str(w.message) for w in caught):
        notes.append(
            "The damped trend's fit did not fully converge: compare it with the linear trend."
        )
    ahead = len(pairs) - 1 - numbered[-1]  # periods after the last figure, before the forecast
    start = len(y) + ahead
    frame = fit.get_prediction(start=start, end=start + horizon - 1, method="exact").summary_frame(
        alpha=1 - INTERVAL
    )
    forecast = tuple(
        ForecastPoint(period, float(row["mean"]), float(row["pi_lower"]), float(row["pi_upper"]))
        for period, (_, row) in zip(_future(pairs, horizon), frame.iterrows(), strict=True)
    )
    return Forecast("damped trend", forecast, len(y), tuple(history), tuple(notes))


def adjust_forecast(forecast: Forecast, adjustments: Mapping[str, float]) -> Forecast:
    """A forecast with some values set by people (period -> value), as RBA asks partners to.

    Each adjusted point keeps its interval's width around the new value; the method becomes
    "adjusted from <method>" and the adjusted periods are recorded.
    """
    known = {p.period for p in forecast.points}
    unknown = sorted(set(adjustments) - known)
    if unknown:
        raise ValueError(f"no forecast for {', '.join(unknown)}")
    points = []
    for point in forecast.points:
        if point.period not in adjustments:
            points.append(point)
            continue
        value = float(adjustments[point.period])
        shift = value - point.value
        lower = None if point.lower is None else point.lower + shift
        upper = None if point.upper is None else point.upper + shift
        points.append(ForecastPoint(point.period, value, lower, upper))
    base = forecast.method.removeprefix("adjusted from ")
    adjusted = tuple(p for p in known if p in adjustments or p in forecast.adjusted)
    return replace(
        forecast,
        method=f"adjusted from {base}",
        points=tuple(points),
        adjusted=tuple(sorted(adjusted)),
    )


def points_from_dicts(rows: Iterable[Mapping[str, Any]]) -> tuple[ForecastPoint, ...]:
    """Forecast points from stored `{period, value, lower, upper}` dicts (a frozen baseline)."""
    return tuple(
        ForecastPoint(
            str(r["period"]),
            float(r["value"]),
            None if r.get("lower") is None else float(r["lower"]),
            None if r.get("upper") is None else float(r["upper"]),
        )
        for r in rows
    )


def _fmt(x: float) -> str:
    return f"{x:,.1f}" if x % 1 else f"{x:,.0f}"


def verdict(
    frozen: Forecast | Sequence[ForecastPoint], polarity: str, actuals: Iterable[Any]
) -> Verdict:
    """The latest actual figure judged against a frozen baseline forecast.

    `actuals` are (period, value) pairs or `SeriesPoint`s from the last period before the
    freeze onwards; the latest number in a forecast period is judged, in this order:
    "curve turned" (the baseline was heading the worse way, and the latest figure is better
    than the one before it and better than the forecast), "better than baseline" (beyond the
    interval on the better side), "worse than baseline" (beyond it on the worse side), else
    "on baseline". See docs/methods/forecast.md.
    """
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, not {polarity!r}")
    points = frozen.points if isinstance(frozen, Forecast) else tuple(frozen)
    by_period = {p.period: p for p in points}
    numbers = [(p, v) for p, v in _pairs(actuals) if v is not None]
    judged = [i for i, (p, _) in enumerate(numbers) if p in by_period]
    if polarity == "no polarity":
        return Verdict(
            "no verdict", "This indicator has no better direction, so there is no verdict."
        )
    if not judged:
        return Verdict("no verdict", "No figure has been published yet for a forecast period.")
    period, actual = numbers[judged[-1]]
    point = by_period[period]
    sign = 1 if polarity == "higher is better" else -1  # better = sign * (a - b) > 0
    lower = point.value if point.lower is None else point.lower
    upper = point.value if point.upper is None else point.upper
    heading = points[-1].value - points[0].value if len(points) > 1 else 0.0
    previous = numbers[judged[-1] - 1][1] if judged[-1] > 0 else None
    start = (
        f"In {period} the figure was {_fmt(actual)}, against a baseline forecast of "
        f"{_fmt(point.value)} (80% range {_fmt(lower)} to {_fmt(upper)})"
    )
    if (
        sign * heading < 0
        and previous is not None
        and sign * (actual - previous) > 0
        and sign * (actual - point.value) > 0
    ):
        code = "curve turned"
        sentence = (
            f"{start}. The baseline was heading the worse way, but the figure improved on "
            f"the one before ({_fmt(previous)}) and beat the forecast: the curve has turned."
        )
    elif sign * (actual - (upper if sign > 0 else lower)) > 0:
        code, sentence = "better than baseline", f"{start}: better than the baseline."
    elif sign * (actual - (lower if sign > 0 else upper)) < 0:
        code, sentence = "worse than baseline", f"{start}: worse than the baseline."
    else:
        code = "on baseline"
        sentence = f"{start}: within the range, so on the baseline we expected."
    return Verdict(code, sentence, period, actual, point)
