"""Gaps: between a local authority and England, between the best and worst quarters of
local authorities, and between groups of children where a published file breaks a figure
down by group. Each gap is shown over time with whether it is narrowing.
See docs/methods/gaps.md.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from whatworks.outcomes.catalogue import Indicator
from whatworks.outcomes.scorecard import Context
from whatworks.outcomes.series import (
    ENGLAND,
    LA,
    NATIONAL,
    SeriesPoint,
    fetch_rows,
    period_label,
)


@dataclass(frozen=True)
class GapPoint:
    """One period of a gap: the two figures and their difference (first minus second)."""

    period: str
    first: float
    second: float

    @property
    def gap(self) -> float:
        return round(self.first - self.second, 4)


@dataclass(frozen=True)
class GroupGap:
    """A published figure compared between two groups of children."""

    id: str
    title: str
    source: str
    measure: str
    column: str
    first_group: str
    second_group: str
    unit: str
    filters: dict[str, str] = field(default_factory=dict)


#: Group gaps in the bundled files: children looked after against children in need.
GROUP_GAPS = (
    GroupGap(
        "ks4_attainment8_cla_cin",
        "Average Attainment 8 score at key stage 4",
        "ks4_la",
        "avg_att8",
        "social_care_group",
        "CLA 12 months at 31 March",
        "CINO at 31 March",
        "score",
    ),
    GroupGap(
        "ks2_rwm_cla_cin",
        "Key stage 2: reading, writing and maths at the expected standard (%)",
        "ks2_la",
        "pt_rwm_met_expected_standard",
        "social_care_group",
        "CLA 12 months at 31 March",
        "CINO at 31 March",
        "%",
    ),
    GroupGap(
        "absence_cla_cin",
        "Overall absence, all schools (%)",
        "absence_la",
        "pt_overall",
        "social_care_group",
        "CLA 12 months at 31 March",
        "CINO at 31 March",
        "%",
        {"phase_type_grouping": "Total"},
    ),
)


@dataclass
class Gap:
    """A gap over time, and whether it is narrowing."""

    title: str
    first_label: str
    second_label: str
    unit: str
    points: list[GapPoint]
    narrowing: bool | None = None  # None with fewer than two periods or no change
    sentence: str = ""


def _numbers(points: list[SeriesPoint]) -> dict[str, float]:
    return {p.period: p.value for p in points if p.status == "value" and p.value is not None}


def gap_between(
    title: str,
    first_label: str,
    second_label: str,
    unit: str,
    first: dict[str, float],
    second: dict[str, float],
) -> Gap:
    """The gap in each period both have a number; narrowing compares the last two gaps'
    sizes (absolute values)."""
    points = [GapPoint(p, first[p], second[p]) for p in sorted(set(first) & set(second))]
    gap = Gap(title, first_label, second_label, unit, points)
    if len(points) < 2:
        gap.sentence = "Too few years with both figures to say whether the gap is narrowing."
        return gap
    before, after = abs(points[-2].gap), abs(points[-1].gap)
    if after == before:
        latest = period_label(points[-1].period)
        gap.sentence = f"The gap was the same size in {latest} as the year before."
        return gap
    gap.narrowing = after < before
    word = "narrowed" if gap.narrowing else "widened"
    gap.sentence = (
        f"The gap {word} from {round(before, 1):g} to {round(after, 1):g} between "
        f"{period_label(points[-2].period)} and {period_label(points[-1].period)}."
    )
    return gap


def to_england(context: Context, item: Indicator, old_la_code: str, name: str) -> Gap:
    """The local authority's figure minus England's, each year."""
    return gap_between(
        item.title,
        name,
        "England",
        item.unit,
        _numbers(context.points(item, LA, old_la_code)),
        _numbers(context.points(item, NATIONAL, ENGLAND)),
    )


def between_quartiles(context: Context, item: Indicator) -> Gap | None:
    """The mean of the best quarter of local authorities minus the mean of the worst
    quarter, each year (None for indicators with no polarity)."""
    if item.polarity == "no polarity":
        return None
    periods = sorted(
        {p.period for pts in context.by_level[LA].get(item.id, {}).values() for p in pts}
    )
    best: dict[str, float] = {}
    worst: dict[str, float] = {}
    for period in periods:
        values = sorted(
            context.at_period(item, period).values(), reverse=item.polarity == "higher is better"
        )
        quarter = len(values) // 4
        if quarter:
            best[period] = round(statistics.fmean(values[:quarter]), 4)
            worst[period] = round(statistics.fmean(values[-quarter:]), 4)
    return gap_between(
        item.title,
        "Best quarter of local authorities",
        "Worst quarter of local authorities",
        item.unit,
        best,
        worst,
    )


def between_groups(session: Session, group: GroupGap, level: str, code: str) -> Gap:
    """A group gap for one area (`code`: old code for a local authority, E92000001 for England)."""
    rows = fetch_rows(session, {(group.source, group.measure)}, level, code).get(
        (group.source, group.measure), []
    )
    first: dict[str, float] = {}
    second: dict[str, float] = {}
    for area, period, value, status, filters in rows:
        if area != code or status != "value" or value is None:
            continue
        if not all(filters.get(k) == v for k, v in group.filters.items()):
            continue
        if filters.get(group.column) == group.first_group:
            first[period] = value
        elif filters.get(group.column) == group.second_group:
            second[period] = value
    return gap_between(
        group.title,
        "Children looked after 12 months",
        "Children in need",
        group.unit,
        first,
        second,
    )
