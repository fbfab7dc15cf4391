"""The whole-system view: how many children are known to one, two, three or more agencies,
by age, place and need, and how the agencies overlap, from the latest linkage run.

Counted with DuckDB over the pseudonymised records of the analytics store
(`area.records_path`) joined to the run's clusters: each person (cluster) has the agencies
that hold a record of them, an age band at a reference date (from the year and month of
birth, taken as the 1st of the month), a postcode district and the need codes of all their
records. Every count shown goes through `core.disclosure` (1 to 5 suppressed as "c",
others rounded to the nearest 10; percentages from unrounded counts, withheld under a base
of 11, and withheld as "c" when the numerator or the rest of the base is 1 to 5). No exact
count leaves this module: the view, its JSON and the indicators carry only controlled
figures. Three partnership indicators are written to `outcomes` as the council's computed
values with source "linked agency records" (INDICATORS; docs/sharing.md), never for a demo
partnership, and never over another partnership's value.
"""

from __future__ import annotations

import calendar
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.audit import Actor
from whatworks.core.disclosure import (
    SUPPRESS_UP_TO,
    Controlled,
    control_count,
    control_percentage,
)
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.models import User
from whatworks.outcomes.models import ComputedValue
from whatworks.outcomes.published import SYMBOLS
from whatworks.sharing import area, runs
from whatworks.sharing.access import agreement_for, datasets_covered, require_linked_access
from whatworks.sharing.models import AgencyDataset, LinkRun, Partnership

SOURCE = "linked agency records"
AGE_BANDS = ("0-4", "5-9", "10-15", "16-17", "18+")
UNKNOWN = "not known"
NO_NEED = "no need recorded"
KNOWN_TO = ("1", "2", "3", "4 or more")
KNOWN_TO_LABELS = {
    "1": "1 agency",
    "2": "2 agencies",
    "3": "3 agencies",
    "4 or more": "4 or more agencies",
}
COLUMNS = (*(f"Known to {KNOWN_TO_LABELS[c]}" for c in KNOWN_TO), "All children")
#: The order agencies are shown in (others after, alphabetically).
AGENCY_ORDER = ("council", "school", "health", "police", "other")
AGENCY_NAMES = {
    "council": "Council social care",
    "school": "Schools",
    "health": "Health",
    "police": "Police",
    "other": "Other agencies",
}
#: Indicators written to outcomes for the partnership's council, by id.
INDICATORS = {
    "sharing_known_to_3_or_more_agencies": "Children known to 3 or more agencies",
    "sharing_known_to_2_or_more_percent": (
        "% of children known to any agency who are known to 2 or more"
    ),
    "sharing_council_also_police_percent": (
        "% of children known to the council's social care also known to the police"
    ),
}
LEGEND = {symbol: SYMBOLS[symbol] for symbol in ("c", "low", "z", "x", "k")}
RULE = (
    "Counts from 1 to 5 are shown as c (suppressed); other counts are rounded to the "
    "nearest 10, so rows may not add up to their totals. Percentages are worked out from "
    "the unrounded counts and need at least 11 children in the base (low); a percentage is "
    "also withheld (c) when 1 to 5 children of the base are not in it."
)


class IndicatorConflict(WhatworksError):
    """Another partnership already wrote the council's value of an indicator for the period."""


class ReferenceRefused(WhatworksError):
    """The reference date of the view is neither the run's date nor a month's last day."""


@dataclass(frozen=True)
class PersonFacts:
    """What the view counts about one person (a cluster of linked records)."""

    person: str
    agencies: tuple[str, ...]
    age_band: str
    district: str
    needs: tuple[str, ...]


@dataclass
class Tally:
    """The unrounded counts behind the view. Never shown or exported as they are."""

    people: int = 0
    agencies: tuple[str, ...] = ()
    known_to: dict[str, int] = field(default_factory=dict)
    by_agency: dict[str, int] = field(default_factory=dict)
    by_age: dict[str, dict[str, int]] = field(default_factory=dict)
    by_district: dict[str, dict[str, int]] = field(default_factory=dict)
    by_need: dict[str, dict[str, int]] = field(default_factory=dict)
    overlaps: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """A count or percentage after disclosure control: a number, or a symbol in its place."""

    value: float | None
    status: str

    @property
    def text(self) -> str:
        if self.value is None:
            return self.status
        return f"{self.value:,.1f}" if self.value % 1 else f"{self.value:,.0f}"

    @classmethod
    def of(cls, found: Controlled) -> Cell:
        return cls(found.value, found.status)


@dataclass(frozen=True)
class Table:
    """One table of the view: rows of a breakdown, columns of how many agencies know them."""

    id: str
    caption: str
    row_header: str
    columns: tuple[str, ...]
    rows: list[tuple[str, list[Cell]]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "caption": self.caption,
            "row_header": self.row_header,
            "columns": list(self.columns),
            "rows": [
                {"label": label, "cells": [c.text for c in cells]} for label, cells in self.rows
            ],
        }


@dataclass(frozen=True)
class Indicator:
    """A partnership indicator after disclosure control: the value or a symbol, never the
    counts it was worked out from."""

    id: str
    title: str
    value: float | None
    status: str

    @property
    def text(self) -> str:
        shown = Cell(self.value, self.status).text
        return f"{shown}%" if self.status == "value" and self.id.endswith("_percent") else shown


@dataclass
class SystemView:
    """The whole-system view of a partnership from one linkage run, controlled for disclosure."""

    partnership_id: int
    partnership: str
    run_id: int
    run_date: str
    reference: str
    people: Cell
    tables: list[Table]
    indicators: list[Indicator]
    rule: str = RULE
    legend: dict[str, str] = field(default_factory=lambda: dict(LEGEND))

    def as_dict(self) -> dict[str, Any]:
        return {
            "partnership_id": self.partnership_id,
            "partnership": self.partnership,
            "run_id": self.run_id,
            "run_date": self.run_date,
            "reference": self.reference,
            "people": self.people.text,
            "tables": [t.as_dict() for t in self.tables],
            "indicators": [
                {**asdict(i), "shown": i.text, "source": SOURCE} for i in self.indicators
            ],
            "rule": self.rule,
            "legend": self.legend,
        }


# --- counting -----------------------------------------------------------------------------


def age_band(birth_month: str | None, reference: date) -> str:
    """The age band at the reference date of a child born in the month (taken as its 1st)."""
    if not birth_month:
        return UNKNOWN
    try:
        year, month = (int(part) for part in birth_month.split("-")[:2])
        born = date(year, month, 1)
    except ValueError:
        return UNKNOWN
    if born > reference:
        return UNKNOWN
    age = reference.year - born.year - ((reference.month, reference.day) < (born.month, born.day))
    if age <= 4:
        return "0-4"
    if age <= 9:
        return "5-9"
    if age <= 15:
        return "10-15"
    if age <= 17:
        return "16-17"
    return "18+"


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


def agency_key(agency: str) -> tuple[int, str]:
    return (AGENCY_ORDER.index(agency) if agency in AGENCY_ORDER else len(AGENCY_ORDER), agency)


def people(
    data_dir: Path,
    run: LinkRun,
    datasets: Sequence[AgencyDataset],
    reference: date,
    clusters: Path | None = None,
) -> list[PersonFacts]:
    """Every person of the run with what the view counts, read with DuckDB from the
    pseudonymised records and the run's clusters (or `clusters`, a re-clustering not yet
    committed)."""
    clusters = clusters or runs.clusters_path(data_dir, run)
    if not clusters.exists():
        raise NotFound(f"Linkage run {run.id} has no clusters ({run.status}).")
    parts: list[str] = []
    parameters: list[Any] = []
    for dataset in datasets:
        path = area.records_path(runs.analytics_dir(data_dir), run.partnership_id, dataset.id)
        if not path.exists():
            raise WhatworksError(
                f"Dataset {dataset.id} ('{dataset.title}') has no pseudonymised records at "
                f"{path}; upload it again."
            )
        parts.append(
            "SELECT CAST(? AS BIGINT) AS dataset_id, CAST(? AS VARCHAR) AS agency, record, "
            "birth_month, district, needs FROM read_parquet(?)"
        )
        parameters += [int(dataset.id), dataset.agency, str(path)]
    parameters.append(str(clusters))
    query = f"""
        WITH records AS ({" UNION ALL ".join(parts)})
        SELECT c.person,
               list(DISTINCT r.agency ORDER BY r.agency) AS agencies,
               list(r.birth_month ORDER BY r.birth_month) AS births,
               list(r.district ORDER BY r.district) AS districts,
               list(r.needs ORDER BY r.needs) AS needs
        FROM read_parquet(?) AS c
        JOIN records AS r ON r.dataset_id = c.dataset_id AND r.record = c.record
        GROUP BY c.person
        ORDER BY c.person
    """
    with duckdb.connect() as connection:
        rows = connection.execute(query, parameters).fetchall()
    found = []
    for person, agencies, births, districts, needs in rows:
        codes = sorted(
            {code.strip() for text in needs if text for code in text.split(";") if code.strip()}
        )
        found.append(
            PersonFacts(
                person,
                tuple(sorted((a for a in agencies if a), key=agency_key)),
                age_band(_most_common(births), reference),
                (_most_common(districts) or "").upper() or UNKNOWN,
                tuple(codes),
            )
        )
    return found


def _known_to(count: int) -> str:
    return KNOWN_TO[min(count, 4) - 1]


def tally(found: Sequence[PersonFacts], agencies: Iterable[str]) -> Tally:
    """The unrounded counts of the view from each person's facts."""
    present = tuple(sorted(set(agencies), key=agency_key))
    result = Tally(people=len(found), agencies=present)
    result.known_to = dict.fromkeys(KNOWN_TO, 0)
    result.by_agency = dict.fromkeys(present, 0)
    result.overlaps = {pair: 0 for pair in combinations(present, 2)}
    empty = dict.fromkeys((*KNOWN_TO, "all"), 0)
    result.by_age = {band: dict(empty) for band in (*AGE_BANDS, UNKNOWN)}
    for facts in found:
        if not facts.agencies:
            continue
        column = _known_to(len(facts.agencies))
        result.known_to[column] += 1
        for agency in facts.agencies:
            result.by_agency[agency] = result.by_agency.get(agency, 0) + 1
        for pair in combinations(facts.agencies, 2):
            result.overlaps[pair] = result.overlaps.get(pair, 0) + 1
        for table, label in (
            (result.by_age, facts.age_band),
            (result.by_district, facts.district),
        ):
            row = table.setdefault(label, dict(empty))
            row[column] += 1
            row["all"] += 1
        for need in facts.needs or (NO_NEED,):
            row = result.by_need.setdefault(need, dict(empty))
            row[column] += 1
            row["all"] += 1
    return result


def compute(
    session: Session,
    data_dir: Path,
    run: LinkRun,
    reference: date | None = None,
    clusters: Path | None = None,
) -> Tally:
    """The unrounded counts of a run (no access check: for the view and the indicators)."""
    datasets = runs.datasets_of(session, run)
    found = people(data_dir, run, datasets, reference or runs.run_date(run), clusters)
    return tally(found, (d.agency for d in datasets))


# --- disclosure control -------------------------------------------------------------------


def _row(counts: Mapping[str, int]) -> list[Cell]:
    return [Cell.of(control_count(counts.get(c, 0))) for c in (*KNOWN_TO, "all")]


def _breakdown(
    ident: str,
    caption: str,
    header: str,
    rows: Mapping[str, Mapping[str, int]],
    order: Sequence[str],
) -> Table:
    labels = [label for label in order if label in rows] + sorted(set(rows) - set(order))
    shown = [
        (label, _row(rows[label]))
        for label in labels
        if rows[label].get("all", 0) or label in order
    ]
    return Table(ident, caption, header, COLUMNS, shown)


def percentage(numerator: int | None, denominator: int | None) -> Controlled:
    """`control_percentage`, and also "c" when the rest of the base (denominator minus
    numerator) is 1 to 5: 20 of 23 beside a suppressed "3 known to one agency" would give
    the 3 away."""
    found = control_percentage(numerator, denominator)
    if (
        found.status == "value"
        and numerator is not None
        and denominator is not None
        and 0 < denominator - numerator <= SUPPRESS_UP_TO
    ):
        return Controlled(None, "c")
    return found


def indicators(found: Tally) -> list[Indicator]:
    """The partnership indicators, controlled (no counts behind them)."""
    three = found.known_to.get("3", 0) + found.known_to.get("4 or more", 0)
    two = found.known_to.get("2", 0) + three
    council = found.by_agency.get("council")
    both = found.overlaps.get(("council", "police"))
    has_police = "police" in found.agencies
    values = {
        "sharing_known_to_3_or_more_agencies": control_count(three),
        "sharing_known_to_2_or_more_percent": percentage(two, found.people),
        "sharing_council_also_police_percent": percentage(both if has_police else None, council),
    }
    return [
        Indicator(ident, INDICATORS[ident], controlled.value, controlled.status)
        for ident, controlled in values.items()
    ]


def controlled_view(
    partnership: Partnership, run: LinkRun, found: Tally, reference: date
) -> SystemView:
    """The view as shown: every count and percentage through disclosure control."""
    known = Table(
        "known-to",
        "Children by how many agencies know them",
        "Agencies",
        ("Children",),
        [
            (f"Known to {KNOWN_TO_LABELS[c]}", [Cell.of(control_count(found.known_to.get(c, 0)))])
            for c in KNOWN_TO
        ]
        + [("All children", [Cell.of(control_count(found.people))])],
    )
    agencies = Table(
        "agencies",
        "Children known to each agency",
        "Agency",
        ("Children",),
        [
            (
                AGENCY_NAMES.get(a, a.capitalize()),
                [Cell.of(control_count(found.by_agency.get(a, 0)))],
            )
            for a in found.agencies
        ],
    )
    overlaps = Table(
        "overlaps",
        "Children known to both agencies of each pair",
        "Agencies",
        ("Children known to both",),
        [
            (
                f"{AGENCY_NAMES.get(a, a)} and {AGENCY_NAMES.get(b, b).lower()}",
                [Cell.of(control_count(n))],
            )
            for (a, b), n in found.overlaps.items()
        ],
    )
    tables = [
        known,
        agencies,
        _breakdown("age", "Children by age band and how many agencies know them", "Age band",
                   found.by_age, (*AGE_BANDS, UNKNOWN)),
        _breakdown("district", "Children by postcode district and how many agencies know them",
                   "Postcode district", found.by_district, ()),
        _breakdown("need", "Children by need and how many agencies know them (a child with "
                   "several needs is in each of their rows)", "Need", found.by_need, ()),
        overlaps,
    ]  # fmt: skip
    return SystemView(
        partnership.id,
        partnership.name,
        run.id,
        runs.run_date(run).isoformat(),
        reference.isoformat(),
        Cell.of(control_count(found.people)),
        tables,
        indicators(found),
    )


# --- the view and the indicators ----------------------------------------------------------


def whole_system(
    session: Session,
    data_dir: Path,
    user: User | None,
    partnership: Partnership,
    *,
    on: date | None = None,
    reference: date | None = None,
) -> SystemView:
    """The partnership's whole-system view from its latest run, for users with linked access
    while each of the run's datasets' own agreements is in force; every view is audited.
    The reference date (for ages) is the run's date, or the last day of a month."""
    member = require_linked_access(session, user, partnership)
    run = runs.latest_run(session, partnership)
    if run is None:
        agreement_for(session, partnership, on or date.today())
        raise NotFound(
            f"{partnership.name} has no finished linkage run yet; start one from its runs page."
        )
    datasets_covered(session, partnership, runs.datasets_of(session, run), on or date.today())
    when = check_reference(reference, runs.run_date(run))
    found = compute(session, data_dir, run, when)
    view = controlled_view(partnership, run, found, when)
    audit.record(
        session,
        Actor.of(member),
        "view whole-system view",
        f"sharing partnership:{partnership.id}",
        "whole-system view of children known to several agencies",
        run=run.id,
        reference=when.isoformat(),
    )
    return view


def check_reference(reference: date | None, run_day: date) -> date:
    """The reference date asked for, if it is the run's date or the last day of a month;
    the run's date when none is asked for. ReferenceRefused (400) otherwise."""
    if reference is None or reference == run_day:
        return run_day
    if reference.day == calendar.monthrange(reference.year, reference.month)[1]:
        return reference
    last = calendar.monthrange(reference.year, reference.month)[1]
    raise ReferenceRefused(
        f"reference {reference.isoformat()} is neither the run's date ({run_day.isoformat()}) "
        f"nor the last day of a month; use the run's date or a month's end, for example "
        f"{reference.replace(day=last).isoformat()}."
    )


def publish(session: Session, data_dir: Path, run: LinkRun, clusters: Path | None = None) -> int:
    """Write the partnership indicators of a finished run to `outcomes` as the council's
    computed values for the run's date (ISO), source "linked agency records" (from
    `clusters` when given, a re-clustering not yet committed). Returns how many were
    written: 0 without an LA code or for a demo partnership. IndicatorConflict if another
    partnership already wrote a value for the council, indicator and period."""
    partnership = runs.partnership_of(session, run)
    if not partnership.la_code or partnership.is_demo or run.status != "done":
        return 0
    found = compute(session, data_dir, run, clusters=clusters)
    return store_indicators(session, partnership, run, found)


def _writer(row: ComputedValue) -> int | None:
    """The partnership that wrote a stored value, from its provenance (None if not said)."""
    try:
        origin = json.loads(row.provenance or "{}")
    except ValueError:
        return None
    found = origin.get("partnership_id") if isinstance(origin, dict) else None
    return found if isinstance(found, int) else None


def store_indicators(session: Session, partnership: Partnership, run: LinkRun, found: Tally) -> int:
    """Store the controlled indicators of the counts as the council's computed values for
    the run's date: the value or its symbol only (numerator and denominator left empty, so
    no exact count is kept). Refuses (IndicatorConflict, nothing written) if a value for the
    same council, indicator and period came from another partnership or another source."""
    if not partnership.la_code or partnership.is_demo:
        return 0
    period = runs.run_date(run).isoformat()
    shown = indicators(found)
    existing = {
        row.indicator_id: row
        for row in session.scalars(
            select(ComputedValue).where(
                ComputedValue.la_code == partnership.la_code,
                ComputedValue.indicator_id.in_([item.id for item in shown]),
                ComputedValue.period == period,
            )
        )
    }
    for ident, row in existing.items():
        writer = _writer(row)
        if row.source != SOURCE or writer != partnership.id:
            by = (
                f"partnership {writer}"
                if writer is not None and row.source == SOURCE
                else f"source {row.source!r}"
            )
            raise IndicatorConflict(
                f"{partnership.la_code} already has {ident} for {period} from {by}; "
                f"{partnership.name} (partnership {partnership.id}) does not overwrite it. "
                "Only one partnership may write a council's linked indicators: remove the "
                "other value or the council code of one partnership."
            )
    origin = json.dumps(
        {
            "source": SOURCE,
            "partnership_id": partnership.id,
            "partnership": partnership.name,
            "run_id": run.id,
            "datasets": runs.dataset_ids_of(run),
            "rule": RULE,
            "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        sort_keys=True,
    )
    written = 0
    for item in shown:
        row = existing.get(item.id) or ComputedValue(
            la_code=partnership.la_code, indicator_id=item.id, period=period
        )
        session.add(row)
        row.value, row.status = item.value, item.status
        row.numerator, row.denominator = None, None
        row.source = SOURCE
        row.provenance = origin
        row.computed_at = datetime.now(UTC).replace(tzinfo=None)
        written += 1
    session.flush()
    return written


__all__ = [
    "AGE_BANDS",
    "INDICATORS",
    "SOURCE",
    "IndicatorConflict",
    "ReferenceRefused",
    "SystemView",
    "Tally",
    "age_band",
    "check_reference",
    "compute",
    "percentage",
    "publish",
    "store_indicators",
    "tally",
    "whole_system",
]
