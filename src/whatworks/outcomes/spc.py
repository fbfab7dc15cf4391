"""Statistical process control for one series: NHS "Making Data Count" XmR charts.

An XmR (individuals and moving range) chart separates the ordinary year-to-year wobble of
an indicator (common cause variation) from changes worth looking into (special cause
variation), so that a council does not react to noise. Limits, rules and icons follow NHS
England's "Making Data Count" (2019) and Wheeler's "Understanding Variation"; the
conventions are in docs/methods/spc.md. Pure functions: no database, web or CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from statistics import fmean
from typing import Protocol

#: Limits are mean ± 3 sigma, with sigma estimated as mean moving range / D2.
D2 = 1.128
#: 3 / 1.128, rounded as Making Data Count and Wheeler use it.
LIMIT_FACTOR = 2.66
#: The fewest numbers for which process limits are calculated (see docs/methods/spc.md).
MIN_POINTS_FOR_LIMITS = 13
#: Run lengths the NHS uses for shifts and trends; Making Data Count's tool uses 7.
RUN_LENGTHS = (6, 7)
DEFAULT_RUN_LENGTH = 7
POLARITIES = ("higher is better", "lower is better", "no polarity")
RULES = ("outside limits", "shift", "trend", "two of three")
VARIATIONS = (
    "special cause improvement",
    "special cause concern",
    "special cause no direction",
    "common cause",
)
ASSURANCES = ("pass", "fail", "hit or miss")


class PeriodValue(Protocol):
    """Anything with a period and a value, such as a `SeriesPoint`."""

    @property
    def period(self) -> str: ...

    @property
    def value(self) -> float | None: ...


Point = tuple[str, float | None] | PeriodValue


@dataclass(frozen=True)
class Signal:
    """One special cause signal: which rule fired, over which periods, up or down."""

    rule: str
    periods: tuple[str, ...]
    direction: str  # "up" (above the mean, or rising) or "down"
    description: str


@dataclass(frozen=True)
class Icon:
    """A Making Data Count icon as a code and a sentence for people and screen readers."""

    code: str
    label: str


@dataclass(frozen=True)
class XmRChart:
    """An XmR chart of one series. Limits and sigma lines are None with too few points."""

    periods: tuple[str, ...]  # every period given, in order
    values: tuple[float | None, ...]
    used: int  # how many numbers the chart rests on
    skipped: tuple[str, ...]  # periods with no number, left out of everything
    run_length: int
    mean: float | None
    mean_moving_range: float | None
    sigma: float | None
    upper_limit: float | None
    lower_limit: float | None
    upper_two_sigma: float | None
    lower_two_sigma: float | None
    upper_one_sigma: float | None
    lower_one_sigma: float | None
    signals: tuple[Signal, ...]
    notes: tuple[str, ...]  # plain-language caveats: skipped periods, too few points

    @property
    def has_limits(self) -> bool:
        return self.upper_limit is not None

    @property
    def last_period(self) -> str | None:
        """The period of the last number: the point the icons describe."""
        numbers = [p for p, v in zip(self.periods, self.values, strict=True) if v is not None]
        return numbers[-1] if numbers else None


def _pairs(points: Iterable[Point]) -> list[tuple[str, float | None]]:
    pairs: list[tuple[str, float | None]] = []
    for point in points:
        period, value = point if isinstance(point, tuple) else (point.period, point.value)
        pairs.append((str(period), None if value is None else float(value)))
    return pairs


def _span(periods: list[str]) -> str:
    return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"


def _runs(keys: list[int]) -> list[tuple[int, int, int]]:
    """Maximal runs of equal non-zero keys as (start, end inclusive, key)."""
    found, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if keys[start] != 0:
                found.append((start, i - 1, keys[start]))
            start = i
    return found


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _shifts(periods: list[str], values: list[float], mean: float, n: int) -> list[Signal]:
    found = []
    for start, end, key in _runs([_sign(v - mean) for v in values]):
        if end - start + 1 >= n:
            run = periods[start : end + 1]
            side = "above" if key > 0 else "below"
            text = f"{len(run)} points in a row {side} the mean ({_span(run)})."
            found.append(Signal("shift", tuple(run), "up" if key > 0 else "down", text))
    return found


def _trends(periods: list[str], values: list[float], n: int) -> list[Signal]:
    steps = [_sign(b - a) for a, b in pairwise(values)]
    found = []
    for start, end, key in _runs(steps):
        run = periods[start : end + 2]  # k rising steps join k + 1 points
        if len(run) >= n:
            way = "higher" if key > 0 else "lower"
            text = f"{len(run)} points in a row, each {way} than the one before ({_span(run)})."
            found.append(Signal("trend", tuple(run), "up" if key > 0 else "down", text))
    return found


def _outside(periods: list[str], values: list[float], upper: float, lower: float) -> list[Signal]:
    found = []
    for period, value in zip(periods, values, strict=True):
        if value > upper or value < lower:
            way, limit = ("up", "above the upper") if value > upper else ("down", "below the lower")
            text = f"{period} is {limit} process limit."
            found.append(Signal("outside limits", (period,), way, text))
    return found


def _two_of_three(
    periods: list[str], values: list[float], mean: float, sigma: float
) -> list[Signal]:
    beyond = [_sign(v - mean) if abs(v - mean) > 2 * sigma else 0 for v in values]
    groups: list[tuple[int, int, set[int]]] = []  # side, last window start, flagged points
    for start in range(len(values) - 2):
        for side in (1, -1):
            flagged = {i for i in range(start, start + 3) if beyond[i] == side}
            if len(flagged) < 2:
                continue
            if groups and groups[-1][0] == side and start <= groups[-1][1] + 2:
                groups[-1] = (side, start, groups[-1][2] | flagged)
            else:
                groups.append((side, start, flagged))
    found = []
    for side, _, flagged in groups:
        run = [periods[i] for i in sorted(flagged)]
        where = "above" if side > 0 else "below"
        text = (
            f"Two of three points in a row more than two sigma {where} the mean ({', '.join(run)})."
        )
        found.append(Signal("two of three", tuple(run), "up" if side > 0 else "down", text))
    return found


def xmr_chart(points: Iterable[Point], run_length: int = DEFAULT_RUN_LENGTH) -> XmRChart:
    """An XmR chart of a series in time order: (period, value) pairs or `SeriesPoint`s.

    Periods whose value is None (suppressed or missing) are left out of the mean, limits and
    rules, and the chart says so; the numbers either side are treated as consecutive.
    """
    if run_length not in RUN_LENGTHS:
        raise ValueError(f"run_length must be one of {RUN_LENGTHS}, not {run_length}")
    pairs = _pairs(points)
    kept = [(p, v) for p, v in pairs if v is not None]
    periods, values = [p for p, _ in kept], [v for _, v in kept]
    skipped = tuple(p for p, v in pairs if v is None)
    notes = []
    if skipped:
        notes.append(
            f"No published figure for {', '.join(skipped)} (suppressed or missing): left out "
            "of the mean, limits and rules, with the figures either side taken as consecutive."
        )
    mean = fmean(values) if values else None
    ranges = [abs(b - a) for a, b in pairwise(values)]
    mr = fmean(ranges) if ranges else None
    signals: list[Signal] = []
    lines: dict[str, float | None] = dict.fromkeys(
        ("sigma", "upper", "lower", "u2", "l2", "u1", "l1")
    )
    if mean is not None and mr is not None and len(values) >= MIN_POINTS_FOR_LIMITS:
        sigma = mr / D2
        lines = {
            "sigma": sigma,
            "upper": mean + LIMIT_FACTOR * mr,
            "lower": mean - LIMIT_FACTOR * mr,
            "u2": mean + 2 * sigma,
            "l2": mean - 2 * sigma,
            "u1": mean + sigma,
            "l1": mean - sigma,
        }
        signals += _outside(periods, values, mean + LIMIT_FACTOR * mr, mean - LIMIT_FACTOR * mr)
        signals += _two_of_three(periods, values, mean, sigma)
    else:
        notes.append(
            f"Only {len(values)} published figures: process limits need at least "
            f"{MIN_POINTS_FOR_LIMITS}, so none are shown and only shifts and trends "
            f"({run_length} points in a row) are looked for."
        )
    if mean is not None:
        signals += _shifts(periods, values, mean, run_length)
        signals += _trends(periods, values, run_length)
    return XmRChart(
        periods=tuple(p for p, _ in pairs),
        values=tuple(v for _, v in pairs),
        used=len(values),
        skipped=skipped,
        run_length=run_length,
        mean=mean,
        mean_moving_range=mr,
        sigma=lines["sigma"],
        upper_limit=lines["upper"],
        lower_limit=lines["lower"],
        upper_two_sigma=lines["u2"],
        lower_two_sigma=lines["l2"],
        upper_one_sigma=lines["u1"],
        lower_one_sigma=lines["l1"],
        signals=tuple(signals),
        notes=tuple(notes),
    )


def _check(polarity: str) -> None:
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, not {polarity!r}")


def variation_icon(chart: XmRChart, polarity: str) -> Icon:
    """The variation icon: what kind of variation the latest figure shows, read through the
    indicator's polarity. Only signals that include the latest figure count."""
    _check(polarity)
    last = chart.last_period
    touching = [s for s in chart.signals if last is not None and last in s.periods]
    if not touching:
        label = "Common cause variation: no unusual pattern includes the latest figure."
        if not chart.has_limits:
            label += (
                f" With fewer than {MIN_POINTS_FOR_LIMITS} figures, only shifts and trends "
                "were looked for."
            )
        return Icon("common cause", label)
    rules = "; ".join(s.description for s in touching)
    directions = {s.direction for s in touching}
    if len(directions) > 1:  # rare: signals disagree, so the side of the mean decides
        value = chart.values[chart.periods.index(last)] if last is not None else None
        side = 0 if value is None or chart.mean is None else _sign(value - chart.mean)
        directions = {"up"} if side > 0 else {"down"} if side < 0 else set()
    if polarity == "no polarity" or not directions:
        return Icon(
            "special cause no direction",
            f"Special cause variation, neither improvement nor concern (this indicator has no "
            f"better direction): {rules}",
        )
    good = "up" if polarity == "higher is better" else "down"
    if directions == {good}:
        return Icon("special cause improvement", f"Special cause variation, improving: {rules}")
    return Icon("special cause concern", f"Special cause variation, of concern: {rules}")


def assurance_icon(chart: XmRChart, polarity: str, target: float | None) -> Icon | None:
    """The assurance icon: whether, if nothing changes, the process will meet the target.

    None when there is no target, no limits (too few points) or no polarity.
    """
    _check(polarity)
    if target is None or polarity == "no polarity" or not chart.has_limits:
        return None
    upper, lower = chart.upper_limit, chart.lower_limit
    assert upper is not None and lower is not None
    if target < lower or target > upper:
        where = "below the lower" if target < lower else "above the upper"
        good = (target < lower) == (polarity == "higher is better")
        code, side, will = ("pass", "better", "met") if good else ("fail", "worse", "missed")
        return Icon(
            code,
            f"The target ({target:g}) is {where} process limit, so every figure the process "
            f"is expected to give is {side} than it: if nothing changes, the target will be "
            f"{will} consistently.",
        )
    return Icon(
        "hit or miss",
        f"The target ({target:g}) is within the process limits: if nothing changes, the "
        "target will sometimes be met and sometimes missed.",
    )
