"""Performance measures of a council's services (Results-Based Accountability): defined in
the app, with values entered by form or CSV upload, and the same trend, target and SPC
machinery as the published indicators. A council's measures are its own: only members of
its organisation see or change them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.errors import ImportProblem, NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.outcomes.models import MeasureValue, PerformanceMeasure
from whatworks.outcomes.series import SeriesPoint

QUADRANTS = {
    "how much": "How much did we do?",
    "how well": "How well did we do it?",
    "better off": "Is anyone better off?",
}
KINDS = ("number", "percent")
POLARITIES = ("higher is better", "lower is better", "no polarity")
#: A year (2025), a month (2025-03) or a quarter (2025-Q1).
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
CSV_COLUMNS = ("period", "value", "numerator", "denominator")


@dataclass(frozen=True)
class Entry:
    """A value to store, checked: for a percentage, worked out from its parts if given."""

    period: str
    value: float
    numerator: float | None = None
    denominator: float | None = None


def _organisation_id(user: User | None) -> int:
    if user is None or user.organisation_id is None:
        raise PermissionDenied(
            "Performance measures belong to an organisation: sign in as one of its members."
        )
    return user.organisation_id


def create(
    session: Session,
    user: User | None,
    *,
    service: str,
    name: str,
    quadrant: str,
    kind: str,
    polarity: str,
    description: str = "",
    target: float | None = None,
) -> PerformanceMeasure:
    """Define a new measure for the user's organisation."""
    organisation_id = _organisation_id(user)
    problems = []
    if not service.strip():
        problems.append("Enter the service or programme")
    if not name.strip():
        problems.append("Enter the measure's name")
    if quadrant not in QUADRANTS:
        problems.append("Choose a quadrant: how much, how well or better off")
    if kind not in KINDS:
        problems.append("Choose whether the measure is a number or a percentage")
    if polarity not in POLARITIES:
        problems.append("Choose a polarity")
    if problems:
        raise WhatworksError("; ".join(problems) + ".")
    assert user is not None
    measure = PerformanceMeasure(
        organisation_id=organisation_id,
        service=service.strip(),
        name=name.strip(),
        quadrant=quadrant,
        kind=kind,
        polarity=polarity,
        description=description.strip(),
        target=target,
        created_by=user.username,
    )
    session.add(measure)
    session.flush()
    audit.record(
        session,
        audit.Actor.of(user),
        "define measure",
        f"measure:{measure.id}",
        "performance measurement",
        name=measure.name,
    )
    return measure


def set_target(
    session: Session, user: User | None, measure: PerformanceMeasure, text: str
) -> PerformanceMeasure:
    """Set (or, with empty text, remove) the measure's target, in the caller's transaction;
    the change is audited with the old and new targets."""
    if user is None:
        raise PermissionDenied("Sign in to set a target.")
    text = text.strip().replace(",", "")
    target: float | None = None
    if text:
        try:
            target = float(text)
        except ValueError:
            raise WhatworksError(
                f"The target must be a number, like 25 or 12.5; got {text!r}."
            ) from None
        if measure.kind == "percent" and not 0 <= target <= 100:
            raise WhatworksError(f"A percentage target is between 0 and 100; got {text}.")
    before = measure.target
    measure.target = target
    audit.record(
        session,
        audit.Actor.of(user),
        "set measure target",
        f"measure:{measure.id}",
        "performance management",
        before=before,
        after=target,
    )
    return measure


def visible(session: Session, user: User | None) -> list[PerformanceMeasure]:
    """The measures of the user's organisation, by service and quadrant."""
    organisation_id = _organisation_id(user)
    order = {q: n for n, q in enumerate(QUADRANTS)}
    found = session.scalars(
        select(PerformanceMeasure).where(PerformanceMeasure.organisation_id == organisation_id)
    )
    return sorted(found, key=lambda m: (m.service, order[m.quadrant], m.name))


def get(session: Session, user: User | None, measure_id: int) -> PerformanceMeasure:
    """One measure, if it belongs to the user's organisation (administrators see all)."""
    measure = session.get(PerformanceMeasure, measure_id)
    if measure is None:
        raise NotFound(f"No performance measure {measure_id}.")
    if user is None or (user.role != "admin" and user.organisation_id != measure.organisation_id):
        raise PermissionDenied("This measure belongs to another organisation.")
    return measure


def values(session: Session, measure: PerformanceMeasure) -> list[MeasureValue]:
    """The measure's stored values in period order."""
    query = (
        select(MeasureValue)
        .where(MeasureValue.measure_id == measure.id)
        .order_by(MeasureValue.period)
    )
    return list(session.scalars(query))


def series(session: Session, measure: PerformanceMeasure) -> list[SeriesPoint]:
    """The measure's values in period order, as a series like the published ones."""
    return [SeriesPoint(v.period, v.value, "value") for v in values(session, measure)]


def check(
    measure: PerformanceMeasure, period: str, value: str, numerator: str = "", denominator: str = ""
) -> Entry:
    """One value, checked; raises ValueError with a sentence saying what is wrong."""
    period = period.strip()
    if not PERIOD.match(period):
        raise ValueError(
            f"period {period!r} is not a year (2025), month (2025-03) or quarter (2025-Q1)"
        )
    parts = []
    for label, raw in (("numerator", numerator), ("denominator", denominator)):
        raw = raw.strip()
        try:
            parts.append(float(raw) if raw else None)
        except ValueError:
            raise ValueError(f"{label} {raw!r} is not a number") from None
    top, bottom = parts
    raw_value = value.strip()
    if measure.kind == "percent" and top is not None and bottom is not None:
        if bottom <= 0 or top < 0 or top > bottom:
            raise ValueError(
                "the numerator must be between 0 and the denominator, which must be above 0"
            )
        worked = round(top / bottom * 100, 1)
        if raw_value and abs(float(raw_value) - worked) > 0.05:
            raise ValueError(f"value {raw_value} does not match {top:g} / {bottom:g} = {worked}%")
        return Entry(period, worked, top, bottom)
    try:
        number = float(raw_value)
    except ValueError:
        raise ValueError(f"value {raw_value!r} is not a number") from None
    if measure.kind == "percent" and not 0 <= number <= 100:
        raise ValueError(f"value {number:g} is not a percentage between 0 and 100")
    return Entry(period, number, top, bottom)


def store(
    session: Session, user: User | None, measure: PerformanceMeasure, entries: list[Entry]
) -> int:
    """Add or replace values by period, in the caller's transaction; returns how many."""
    editor = user
    if editor is None:
        raise PermissionDenied("Sign in to enter values.")
    existing = {
        v.period: v
        for v in session.scalars(select(MeasureValue).where(MeasureValue.measure_id == measure.id))
    }
    for entry in entries:
        row = existing.get(entry.period)
        if row is None:
            session.add(
                MeasureValue(
                    measure_id=measure.id,
                    period=entry.period,
                    value=entry.value,
                    numerator=entry.numerator,
                    denominator=entry.denominator,
                    entered_by=editor.username,
                )
            )
        else:
            row.value, row.numerator, row.denominator = (
                entry.value,
                entry.numerator,
                entry.denominator,
            )
            row.entered_by = editor.username
    session.flush()
    audit.record(
        session,
        audit.Actor.of(editor),
        "enter measure values",
        f"measure:{measure.id}",
        "performance measurement",
        periods=[e.period for e in entries],
    )
    return len(entries)


def read_csv(measure: PerformanceMeasure, name: str, content: bytes) -> list[Entry]:
    """Check a whole CSV of values (period, value[, numerator, denominator]); every problem
    is reported by row and column, and nothing is kept unless all rows are right."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem(name, ["the file is not UTF-8 text; save it as CSV UTF-8"]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("period", "value") if c not in header]
    if missing and not (
        measure.kind == "percent"
        and "period" in header
        and {"numerator", "denominator"} <= set(header)
    ):
        raise ImportProblem(
            name,
            [
                f"row 1 (header): missing column(s) {', '.join(missing)}; "
                f"the columns are {', '.join(CSV_COLUMNS)}"
            ],
        )
    entries: list[Entry] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        cells = {k.strip().lower(): (v or "") for k, v in row.items() if k is not None}
        try:
            entry = check(
                measure,
                cells.get("period", ""),
                cells.get("value", ""),
                cells.get("numerator", ""),
                cells.get("denominator", ""),
            )
        except ValueError as error:
            problems.append(f"row {line}: {error}")
            continue
        if entry.period in seen:
            problems.append(f"row {line}, column period: {entry.period} appears twice")
        seen.add(entry.period)
        entries.append(entry)
    if problems:
        raise ImportProblem(name, problems)
    if not entries:
        raise ImportProblem(name, ["the file has no rows of values"])
    return entries
