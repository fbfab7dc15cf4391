"""Measures computed from returns, written into the outcomes store as indicator values
"computed from returns" with their provenance, and reconciled with published figures.

Rates per 10,000 children use the ONS mid-year estimate of children aged 0 to 17 for the
calendar year before the period ends (as the DfE does: mid-2024 for the year to 31 March
2025), from the published statistics in the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.outcomes.catalogue import POPULATION_MEASURE, POPULATION_SOURCE, indicator
from whatworks.outcomes.models import ComputedValue
from whatworks.outcomes.series import LA, fetch_rows, format_value, series
from whatworks.places.models import LocalAuthority
from whatworks.returns.measures import Period, Result
from whatworks.returns.store import ReturnsStore

SOURCE = "computed from returns"
#: Rates per 10,000 children: (indicator id, title, the count measure it is a rate of).
RATES = (
    ("cla_rate_per_10000", "Children looked after, rate per 10,000 children", "cla_count"),
    (
        "cla_started_rate_per_10000",
        "Children who started to be looked after, rate per 10,000 children",
        "cla_started",
    ),
    ("cin_rate_per_10000", "Children in need, rate per 10,000 children", "cin_at_end"),
    ("cpp_rate_per_10000", "Child protection plans, rate per 10,000 children", "cpp_at_end"),
)


@dataclass(frozen=True)
class Value:
    """One computed value as stored and shown."""

    indicator_id: str
    title: str
    unit: str
    period: str
    period_label: str
    value: float | None
    numerator: int | None
    denominator: int | None
    status: str
    catalogue_id: str | None  # the outcomes indicator it reconciles with

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def population(session: Session, la: LocalAuthority, period: Period) -> float | None:
    """The ONS estimate of children aged 0 to 17 for the year before the period ends."""
    rows = fetch_rows(session, {(POPULATION_SOURCE, POPULATION_MEASURE)}, LA, la.old_la_code)
    by_year = {
        int(p): v
        for _, p, v, status, _ in rows.get((POPULATION_SOURCE, POPULATION_MEASURE), [])
        if status == "value" and v and p.isdigit()
    }
    wanted = period.end.year - 1
    usable = [year for year in by_year if year <= wanted]
    return by_year[max(usable)] if usable else None


def values(session: Session, la: LocalAuthority, results: list[Result]) -> list[Value]:
    """The results, with rates per 10,000 children added where a population is known."""
    out = [
        Value(
            r.measure.id,
            r.measure.title,
            r.measure.unit,
            r.period.period,
            r.period.label,
            r.value,
            r.numerator,
            r.denominator,
            r.status,
            r.measure.indicator,
        )
        for r in results
    ]
    by_id = {r.measure.id: r for r in results}
    for rate_id, title, count_id in RATES:
        count = by_id.get(count_id)
        if count is None:
            continue
        children = population(session, la, count.period)
        value = (
            round(count.numerator / children * 10_000, 1)
            if children and count.numerator is not None and count.status == "value"
            else None
        )
        out.append(
            Value(
                rate_id,
                title,
                "per 10,000",
                count.period.period,
                count.period.label,
                value,
                count.numerator,
                round(children) if children else None,
                "value" if value is not None else "x",
                rate_id,
            )
        )
    return out


def provenance(store: ReturnsStore, la: LocalAuthority, engine: str) -> dict[str, Any]:
    """Where computed values came from: the engine and every stored return with its files."""
    return {
        "source": SOURCE,
        "engine": engine,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "returns": [
            {"year": s.year, "parts": s.manifest.get("parts", {})}
            for s in store.stored(la.new_la_code)
        ],
    }


def save(
    session: Session, la: LocalAuthority, computed: list[Value], origin: dict[str, Any]
) -> int:
    """Write computed values into the outcomes store, replacing earlier ones for the same
    indicator and period."""
    existing = {
        (row.indicator_id, row.period): row
        for row in session.scalars(
            select(ComputedValue).where(ComputedValue.la_code == la.new_la_code)
        )
    }
    text = json.dumps(origin, sort_keys=True, default=str)
    for item in computed:
        row = existing.get((item.indicator_id, item.period))
        if row is None:
            row = ComputedValue(
                la_code=la.new_la_code, indicator_id=item.indicator_id, period=item.period
            )
            session.add(row)
        row.value, row.numerator, row.denominator = item.value, item.numerator, item.denominator
        row.status, row.source, row.provenance = item.status, SOURCE, text
        row.computed_at = datetime.now(UTC).replace(tzinfo=None)
    session.flush()
    return len(computed)


def stored(session: Session, la: LocalAuthority) -> list[ComputedValue]:
    """The council's computed values, by indicator and period."""
    return list(
        session.scalars(
            select(ComputedValue)
            .where(ComputedValue.la_code == la.new_la_code)
            .order_by(ComputedValue.indicator_id, ComputedValue.period)
        )
    )


@dataclass(frozen=True)
class Reconciled:
    """A computed value beside the published one for the same indicator and year."""

    indicator_id: str
    title: str
    unit: str
    period: str
    computed: float | None
    published: float | None
    published_status: str
    difference: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def reconcile(session: Session, la: LocalAuthority, computed: list[Value]) -> list[Reconciled]:
    """Computed values for whole years beside the DfE's published figures, where the
    catalogue has the indicator and the DfE has published that year."""
    wanted = [v for v in computed if len(v.period) == 4 and v.catalogue_id]
    ids = sorted({v.catalogue_id for v in wanted if v.catalogue_id})
    if not ids:
        return []
    published = series(session, [indicator(i) for i in ids], LA, la.old_la_code)
    out = []
    for item in wanted:
        points = published.get(item.catalogue_id or "", [])
        point = next((p for p in points if p.period == item.period), None)
        if point is None:
            continue
        difference = (
            round(item.value - point.value, 1)
            if item.value is not None and point.value is not None
            else None
        )
        out.append(
            Reconciled(
                item.indicator_id,
                item.title,
                item.unit,
                item.period,
                item.value,
                point.value,
                point.status,
                difference,
            )
        )
    return out


def shown(value: Value) -> str:
    """A value as people read it."""
    return format_value(value.value, value.status, value.unit)
