"""Indicator series from the published values: for one area, or for every area at a level.

A local authority's series is matched on its old three-digit code, which the DfE keeps
when an authority gets a new ONS code (North Yorkshire, Somerset, Buckinghamshire), so a
series runs across the change. Rates that the DfE does not publish (children in need and
child protection plans per 10,000) are computed from the published count and the ONS
estimate of children aged 0 to 17 for the year before the period, as the DfE does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from whatworks.outcomes.catalogue import POPULATION_MEASURE, POPULATION_SOURCE, Indicator
from whatworks.outcomes.models import PublishedDataset, PublishedValue

LA = "Local authority"
REGION = "Regional"
NATIONAL = "National"
ENGLAND = "E92000001"
SYMBOL_MEANINGS = {
    "c": "c (suppressed)",
    "x": "x (not available)",
    "z": "z (not applicable)",
    "k": "k (fewer than 0.5)",
    "low": "low (small number)",
    "u": "u (low reliability)",
    ":": "not available",
}


@dataclass(frozen=True)
class SeriesPoint:
    """One period of a series: a number, or the DfE symbol that stands in its place."""

    period: str
    value: float | None
    status: str

    def as_dict(self) -> dict[str, object]:
        return {"period": self.period, "value": self.value, "status": self.status}


Row = tuple[str, str, float | None, str, dict[str, str]]  # area, period, value, status, filters


def period_label(period: str) -> str:
    """A DfE time period as people read it: 2025 stays 2025; 202425 becomes 2024/25."""
    if len(period) == 6:
        return f"{period[:4]}/{period[4:]}"
    return period


def previous_period(period: str) -> str:
    """The period a year earlier: 2025 -> 2024; 202425 -> 202324."""
    if len(period) == 6:
        start = int(period[:4]) - 1
        return f"{start}{str(start + 1)[2:]}"
    return str(int(period) - 1)


def format_value(value: float | None, status: str, unit: str) -> str:
    """A figure as people read it, or what its DfE symbol means."""
    if status != "value" or value is None:
        return SYMBOL_MEANINGS.get(status, status)
    text = f"{value:,.1f}" if value % 1 else f"{value:,.0f}"
    return f"{text}%" if unit == "%" else text


def fetch_rows(
    session: Session, pairs: set[tuple[str, str]], level: str, code: str | None
) -> dict[tuple[str, str], list[Row]]:
    """Published rows for (dataset, measure) pairs at one level, for one area or all."""
    names = {dataset for dataset, _ in pairs}
    ids = {
        name: dataset_id
        for name, dataset_id in session.execute(
            select(PublishedDataset.name, PublishedDataset.id).where(
                PublishedDataset.name.in_(names)
            )
        )
    }
    if not ids:
        return {}
    by_id = {dataset_id: name for name, dataset_id in ids.items()}
    area = PublishedValue.old_la_code if level == LA else PublishedValue.area_code
    where: list[ColumnElement[bool]] = [
        PublishedValue.dataset_id.in_(ids.values()),
        PublishedValue.measure.in_({measure for _, measure in pairs}),
        PublishedValue.geographic_level == level,
    ]
    if code is not None:
        where.append(area == code)
    rows = session.execute(
        select(
            PublishedValue.dataset_id,
            PublishedValue.measure,
            area,
            PublishedValue.period,
            PublishedValue.value,
            PublishedValue.status,
            PublishedValue.filters,
        )
        .where(and_(*where))
        .order_by(PublishedValue.period)
    )
    found: dict[tuple[str, str], list[Row]] = defaultdict(list)
    decoded: dict[str, dict[str, str]] = {}  # few distinct breakdowns: decode each once
    for dataset_id, measure, area_key, period, value, status, filters in rows:
        key = (by_id[dataset_id], measure)
        if key in pairs and area_key:
            breakdown = decoded.get(filters)
            if breakdown is None:
                breakdown = decoded[filters] = json.loads(filters)
            found[key].append((area_key, period, value, status, breakdown))
    return found


def pairs_for(indicators: Iterable[Indicator]) -> set[tuple[str, str]]:
    pairs = set()
    for item in indicators:
        if item.computed:
            pairs.add((item.rate_of["source"], item.rate_of["measure"]))
            pairs.add((POPULATION_SOURCE, POPULATION_MEASURE))
        else:
            pairs.add((item.source, item.measure))
    return pairs


def rate_per_10000(count: SeriesPoint, population: float | None) -> SeriesPoint:
    """A count as a rate per 10,000 children, to one decimal place; symbols pass through."""
    if count.status != "value" or count.value is None:
        return SeriesPoint(count.period, None, count.status)
    if not population:
        return SeriesPoint(count.period, None, "x")
    return SeriesPoint(count.period, round(count.value / population * 10_000, 1), "value")


def points_by_area(
    item: Indicator, fetched: dict[tuple[str, str], list[Row]]
) -> dict[str, list[SeriesPoint]]:
    by_area: dict[str, list[SeriesPoint]] = defaultdict(list)
    if not item.computed:
        for area, period, value, status, filters in fetched.get((item.source, item.measure), []):
            if all(filters.get(k) == v for k, v in item.filters.items()):
                by_area[area].append(SeriesPoint(period, value, status))
        return dict(by_area)
    population: dict[tuple[str, str], float | None] = {
        (area, period): value
        for area, period, value, _, _ in fetched.get((POPULATION_SOURCE, POPULATION_MEASURE), [])
    }
    counts = fetched.get((item.rate_of["source"], item.rate_of["measure"]), [])
    for area, period, value, status, _ in counts:
        estimate = population.get((area, previous_period(period)))
        by_area[area].append(rate_per_10000(SeriesPoint(period, value, status), estimate))
    return dict(by_area)


def series(
    session: Session, indicators: Iterable[Indicator], level: str, code: str
) -> dict[str, list[SeriesPoint]]:
    """Every published period of each indicator for one area, oldest first.

    `code` is an old three-digit code for a local authority, a region code, or E92000001.
    """
    chosen = list(indicators)
    fetched = fetch_rows(session, pairs_for(chosen), level, code)
    return {item.id: points_by_area(item, fetched).get(code, []) for item in chosen}


def every_area(session: Session, item: Indicator, level: str = LA) -> dict[str, list[SeriesPoint]]:
    """Every published period of one indicator for every area at `level`, keyed by area
    (old three-digit codes for local authorities)."""
    return points_by_area(item, fetch_rows(session, pairs_for([item]), level, None))
