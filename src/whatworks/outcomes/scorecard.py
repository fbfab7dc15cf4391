"""Scorecards: each indicator's latest and prior value, trend, baseline change, target,
and how the area compares with its statistical neighbours, its region, England and every
other local authority. The arithmetic is in docs/methods/scorecard.md.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from itertools import pairwise
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.outcomes.catalogue import Indicator, catalogue
from whatworks.outcomes.models import PublishedDataset
from whatworks.outcomes.series import (
    ENGLAND,
    LA,
    NATIONAL,
    REGION,
    SeriesPoint,
    fetch_rows,
    pairs_for,
    points_by_area,
)
from whatworks.places.models import LocalAuthority
from whatworks.places.places import (
    DEFAULT_NEIGHBOUR_MODEL,
    Neighbour,
    local_authorities,
    neighbours,
)


@dataclass(frozen=True)
class Comparator:
    """A comparison value for one period: a figure, what it is, and how many areas made it."""

    label: str
    period: str
    value: float | None
    used: int = 1
    of: int = 1


@dataclass(frozen=True)
class Rank:
    """Position among all local authorities with a figure for the period (1 = best)."""

    period: str
    rank: int
    of: int
    quartile: int  # 1 = the best quarter


@dataclass
class ScorecardRow:
    """One indicator on a scorecard."""

    indicator: Indicator
    tier: str  # "headline" or "secondary"
    points: list[SeriesPoint]
    latest: SeriesPoint | None = None
    prior: SeriesPoint | None = None
    change: float | None = None
    direction: str = "no data"  # "up", "down", "flat" or "no data"
    judgement: str = "not enough data"  # "improving", "worsening", "no change", "changing"
    periods_in_trend: int = 0
    baseline: SeriesPoint | None = None
    baseline_change_percent: float | None = None
    target: float | None = None
    variance_from_target: float | None = None
    comparators: list[Comparator] = field(default_factory=list)
    rank: Rank | None = None


def _numbers(points: list[SeriesPoint]) -> list[SeriesPoint]:
    return [p for p in points if p.status == "value" and p.value is not None]


def judge(direction: str, polarity: str) -> str:
    """A direction of change read through the indicator's polarity."""
    if direction == "flat":
        return "no change"
    if direction not in ("up", "down"):
        return "not enough data"
    if polarity == "no polarity":
        return "changing"
    good = "up" if polarity == "higher is better" else "down"
    return "improving" if direction == good else "worsening"


def trend(points: list[SeriesPoint]) -> tuple[str, int]:
    """Direction of the last change between published figures, and for how many
    consecutive changes that direction has lasted (suppressed periods are skipped)."""
    values = [p.value for p in points if p.status == "value" and p.value is not None]
    if len(values) < 2:
        return "no data", 0
    steps = ["up" if b > a else "down" if b < a else "flat" for a, b in pairwise(values)]
    last, run = steps[-1], 0
    for step in reversed(steps):
        if step != last:
            break
        run += 1
    return last, run


def rank_of(values: dict[str, float], key: str, polarity: str) -> tuple[int, int, int] | None:
    """Competition rank (1 = best by polarity; ties share the better rank), the number of
    areas ranked, and the quartile (1 = best quarter); None without polarity or a value."""
    if polarity == "no polarity" or key not in values:
        return None
    mine = values[key]
    better = sum(
        1 for v in values.values() if (v > mine if polarity == "higher is better" else v < mine)
    )
    rank, count = better + 1, len(values)
    quartile = min(4, math.floor((rank - 1) * 4 / count) + 1)
    return rank, count, quartile


@dataclass
class Context:
    """Every catalogue indicator's series for every local authority, region and England,
    read once, so scorecards for many authorities cost no more queries."""

    by_level: dict[str, dict[str, dict[str, list[SeriesPoint]]]]  # level -> id -> area -> pts
    current: dict[str, LocalAuthority]  # old code -> current authority
    _at_period: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)

    def points(self, item: Indicator, level: str, area: str) -> list[SeriesPoint]:
        return self.by_level[level].get(item.id, {}).get(area, [])

    def at_period(self, item: Indicator, period: str) -> dict[str, float]:
        """Published figures of current local authorities for one period, by old code
        (worked out once per indicator and period)."""
        cached = self._at_period.get((item.id, period))
        if cached is not None:
            return cached
        found = {}
        for area, points in self.by_level[LA].get(item.id, {}).items():
            if area not in self.current:
                continue
            for p in points:
                if p.period == period and p.status == "value" and p.value is not None:
                    found[area] = p.value
        self._at_period[(item.id, period)] = found
        return found


_cache: dict[tuple[str, ...], Context] = {}
_lock = Lock()


def load_context(session: Session) -> Context:
    """The series of every indicator at every level, cached until a published file changes."""
    items = catalogue()
    fingerprint = (
        str(session.get_bind().engine.url),
        *session.scalars(select(PublishedDataset.sha256).order_by(PublishedDataset.name)),
    )
    with _lock:  # held while building, so concurrent first requests build it once
        if fingerprint in _cache:
            return _cache[fingerprint]
        context = _build(session, items)
        _cache.clear()
        _cache[fingerprint] = context
        return context


def _build(session: Session, items: tuple[Indicator, ...]) -> Context:
    pairs = pairs_for(items)
    by_level: dict[str, dict[str, dict[str, list[SeriesPoint]]]] = {}
    for level in (LA, REGION, NATIONAL):
        fetched = fetch_rows(session, pairs, level, None)
        by_level[level] = {item.id: points_by_area(item, fetched) for item in items}
    current = {la.old_la_code: la for la in local_authorities(session)}
    return Context(by_level, current)


def _comparators(
    context: Context,
    item: Indicator,
    group: list[Neighbour],
    region_code: str,
    period: str,
) -> list[Comparator]:
    values = []
    for n in group:
        for p in context.points(item, LA, n.la.old_la_code):
            if p.period == period and p.status == "value" and p.value is not None:
                values.append(p.value)
    found = []
    count = len(group)
    for label, fn in (
        ("Statistical neighbours, mean", statistics.fmean),
        ("Statistical neighbours, median", statistics.median),
    ):
        found.append(
            Comparator(label, period, round(fn(values), 2) if values else None, len(values), count)
        )
    for label, level, code in (("Region", REGION, region_code), ("England", NATIONAL, ENGLAND)):
        match = [p for p in context.points(item, level, code) if p.period == period]
        value = match[0].value if match and match[0].status == "value" else None
        found.append(Comparator(label, period, value))
    return found


def row_for(
    item: Indicator,
    points: list[SeriesPoint],
    tier: str,
    target: float | None = None,
) -> ScorecardRow:
    """The parts of a scorecard row that depend only on the area's own series."""
    row = ScorecardRow(indicator=item, tier=tier, points=points, target=target)
    numbers = _numbers(points)
    row.latest = points[-1] if points else None
    row.prior = points[-2] if len(points) > 1 else None
    if row.latest and row.prior and row.latest.value is not None and row.prior.value is not None:
        row.change = round(row.latest.value - row.prior.value, 4)
    row.direction, row.periods_in_trend = trend(points)
    row.judgement = judge(row.direction, item.polarity)
    if numbers:
        row.baseline = numbers[0]
        last = numbers[-1]
        if row.baseline.value and len(numbers) > 1 and last.value is not None:
            row.baseline_change_percent = round(
                (last.value - row.baseline.value) / abs(row.baseline.value) * 100, 1
            )
    if target is not None and row.latest and row.latest.value is not None:
        row.variance_from_target = round(row.latest.value - target, 4)
    return row


def local_authority_scorecard(
    session: Session,
    la: LocalAuthority,
    headline: tuple[Indicator, ...],
    secondary: tuple[Indicator, ...],
    targets: dict[str, float] | None = None,
    model: str = DEFAULT_NEIGHBOUR_MODEL,
) -> list[ScorecardRow]:
    """A local authority's scorecard: headline indicators first, then secondary ones."""
    context = load_context(session)
    targets = targets or {}
    group = neighbours(session, la.new_la_code, model)
    rows = []
    for tier, chosen in (("headline", headline), ("secondary", secondary)):
        for item in chosen:
            row = row_for(
                item, context.points(item, LA, la.old_la_code), tier, targets.get(item.id)
            )
            if row.latest is not None:
                period = row.latest.period
                row.comparators = _comparators(context, item, group, la.region_code, period)
                ranked = rank_of(context.at_period(item, period), la.old_la_code, item.polarity)
                if ranked and row.latest.status == "value":
                    row.rank = Rank(period, *ranked)
            rows.append(row)
    return rows


def area_scorecard(
    session: Session,
    level: str,
    code: str,
    headline: tuple[Indicator, ...],
    secondary: tuple[Indicator, ...],
) -> list[ScorecardRow]:
    """A scorecard for a region or England: no neighbours or ranks, England beside a region."""
    context = load_context(session)
    rows = []
    for tier, chosen in (("headline", headline), ("secondary", secondary)):
        for item in chosen:
            row = row_for(item, context.points(item, level, code), tier)
            if row.latest is not None and level == REGION:
                match = [
                    p
                    for p in context.points(item, NATIONAL, ENGLAND)
                    if p.period == row.latest.period
                ]
                value = match[0].value if match and match[0].status == "value" else None
                row.comparators = [Comparator("England", row.latest.period, value)]
            rows.append(row)
    return rows
