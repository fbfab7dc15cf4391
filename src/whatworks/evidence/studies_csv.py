"""Studies in and out as CSV: one row per study and outcome, in the columns of `COLUMNS`.

Import is all-or-nothing: every row is checked first, and if anything is wrong nothing is
stored and `ImportProblem` lists every problem with the file, row (the header is row 1),
column and what to do. Rows with the same `study_ref` (or, without one, the same title and
year) are one study. An effect is given as `yi`/`vi`, or by one set of raw inputs (see
`evidence.studies.INPUT_SETS`) with its `metric`. Export writes the same columns, so an
exported file imports again.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.evidence import access, studies
from whatworks.evidence.models import Intervention, Registration, Study, StudyResult

STUDY_COLUMNS = (
    "study_ref",
    "intervention",
    "registration_id",
    "title",
    "publisher",
    "year",
    "reported_on",
    "design",
    "maryland_level",
    "risk_of_bias",
    "independent",
    "sample_size",
    "follow_up_months",
    "source",
    "confidence",
    "caveats",
)
EFFECT_INPUTS = tuple(dict.fromkeys(k for keys in studies.INPUT_SETS.values() for k in keys))
RESULT_COLUMNS = (
    "outcome",
    "outcome_domain",
    "measure",
    "direction",
    "significant",
    "is_primary",
    "metric",
    *EFFECT_INPUTS,
    "reported",
    "effect_reported",
)
COLUMNS = STUDY_COLUMNS + RESULT_COLUMNS
REQUIRED = ("title", "design", "maryland_level", "outcome")
#: Study fields named differently in the file.
_STUDY_FIELD = {"intervention": "intervention_id"}
_TRUE, _FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


@dataclass(frozen=True)
class ImportSummary:
    """What an import stored."""

    studies: int
    results: int
    study_ids: tuple[int, ...]


@dataclass
class StudyRow:
    """One checked row: the study's fields, the result's, and the key of its study."""

    number: int
    study: dict[str, Any]
    result: dict[str, Any]
    key: str


def _text(value: str) -> str:
    return value.strip()


def _integer(value: str) -> int:
    number = float(value.replace(",", ""))
    if not number.is_integer():
        raise ValueError
    return int(number)


def _number(value: str) -> float:
    number = float(value.replace(",", ""))
    if not math.isfinite(number):
        raise ValueError
    return number


def _flag(value: str) -> bool:
    if value.casefold() in _TRUE:
        return True
    if value.casefold() in _FALSE:
        return False
    raise ValueError


PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "registration_id": (_integer, "give the registration's number"),
    "year": (_integer, "give a year such as 2023"),
    "reported_on": (date.fromisoformat, "give a date like 2024-06-30"),
    "maryland_level": (_integer, "give a whole number from 1 to 5"),
    "independent": (_flag, "write yes or no (or leave it blank if not known)"),
    "sample_size": (_integer, "give a whole number of participants"),
    "follow_up_months": (_number, "give a number of months"),
    "significant": (_flag, "write yes or no (or leave it blank if not reported)"),
    "is_primary": (_flag, "write yes or no"),
    **{name: (_number, "give a number") for name in EFFECT_INPUTS},
}


def _read(source: Path | TextIO) -> tuple[str, list[str], list[dict[str, str]]]:
    if isinstance(source, Path):
        name = source.name
        try:
            text = source.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ImportProblem(
                name, ["the file is not UTF-8 text; save it as CSV UTF-8"]
            ) from None
    else:
        name, text = getattr(source, "name", "studies.csv"), source.read()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    rows = [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
    return name, header, rows


def check_studies(session: Session, source: Path | TextIO) -> tuple[str, list[StudyRow], list[str]]:
    """Read and check a studies file; returns its name, the parsed rows and every problem."""
    name, header, raw_rows = _read(source)
    problems = [
        f"{name}, row 1: column {c!r} is missing; add it" for c in REQUIRED if c not in header
    ]
    problems += [
        f"{name}, row 1: column {c!r} is not known; use the columns of a whatworks studies "
        f"export ({', '.join(COLUMNS)})"
        for c in header
        if c not in COLUMNS
    ]
    if problems:
        return name, [], problems
    if not raw_rows:
        return name, [], [f"{name}: the file has no rows; add one row per study and outcome"]
    slugs = set(session.scalars(select(Intervention.id)))
    registrations = set(session.scalars(select(Registration.id)))
    rows: list[StudyRow] = []
    for number, raw in enumerate(raw_rows, start=2):
        where = f"{name}, row {number}"
        values: dict[str, Any] = {}
        for column in COLUMNS:
            cell = _text(raw.get(column, ""))
            if not cell:
                values[column] = None
                continue
            parser, advice = PARSERS.get(column, (_text, ""))
            try:
                values[column] = parser(cell)
            except ValueError:
                problems.append(f"{where}, column {column!r}: {cell!r} cannot be read; {advice}")
                values[column] = None
        for column in REQUIRED:
            if not _text(raw.get(column, "")):
                problems.append(f"{where}, column {column!r}: this is empty; fill it in")
        if values["intervention"] and values["intervention"] not in slugs:
            problems.append(
                f"{where}, column 'intervention': {values['intervention']!r} is not an "
                "intervention's address here; add the intervention first or correct the address"
            )
        if values["registration_id"] is not None and values["registration_id"] not in registrations:
            problems.append(
                f"{where}, column 'registration_id': no registration {values['registration_id']}"
            )
        if values["direction"] and values["direction"] not in studies.DIRECTIONS:
            problems.append(
                f"{where}, column 'direction': {values['direction']!r} is not one of "
                f"{', '.join(studies.DIRECTIONS)}; leave it blank only if the source does not say"
            )
        study = {_STUDY_FIELD.get(c, c): values[c] for c in STUDY_COLUMNS if c != "study_ref"}
        study["confidence"] = study["confidence"] or "high"
        for field, text in studies.study_problems(study).items():
            column = next((c for c, f in _STUDY_FIELD.items() if f == field), field)
            if values.get(column) is not None:
                problems.append(f"{where}, column {column!r}: {text}")
        inputs = {k: values[k] for k in EFFECT_INPUTS if values[k] is not None}
        if inputs:
            if not values["metric"]:
                problems.append(
                    f"{where}, column 'metric': say which metric the effect is on "
                    f"({', '.join(studies.METRICS)})"
                )
            else:
                try:
                    studies.effect_from_inputs(values["metric"], inputs)
                except WhatworksError as problem:
                    problems.append(f"{where}, columns {', '.join(sorted(inputs))}: {problem}")
        elif values["metric"] and values["metric"] not in studies.METRICS:
            problems.append(f"{where}, column 'metric': use one of {', '.join(studies.METRICS)}")
        result = {
            "outcome": values["outcome"] or "",
            "outcome_domain": values["outcome_domain"] or "",
            "measure_text": values["measure"] or "",
            "direction": values["direction"],
            "significant": values["significant"],
            "is_primary": bool(values["is_primary"]),
            "metric": values["metric"],
            "inputs": inputs or None,
            "reported": values["reported"] or "",
            "effect_reported": values["effect_reported"] or "",
        }
        key = values["study_ref"] or f"{values['title']}|{values['year']}"
        rows.append(StudyRow(number, study, result, key))
    first: dict[str, StudyRow] = {}
    for row in rows:
        held = first.setdefault(row.key, row)
        for field, value in row.study.items():
            if value != held.study[field]:
                column = next((c for c, f in _STUDY_FIELD.items() if f == field), field)
                problems.append(
                    f"{name}, row {row.number}, column {column!r}: differs from row "
                    f"{held.number} of the same study; give one value per study"
                )
    return name, rows, problems


def import_studies(session: Session, author: access.Author, source: Path | TextIO) -> ImportSummary:
    """Store every study in the file, or nothing (raises ImportProblem listing every
    problem). Researchers only."""
    access.require_researcher(author, "import studies")
    name, rows, problems = check_studies(session, source)
    if problems:
        raise ImportProblem(name, problems)
    ids: list[int] = []
    results = 0
    with session.begin_nested():
        made: dict[str, Study] = {}
        for row in rows:
            study = made.get(row.key)
            if study is None:
                values = {k: v for k, v in row.study.items() if v is not None}
                study = studies.add_study(session, author, **values)
                made[row.key] = study
                ids.append(study.id)
            studies.add_result(session, author, study.id, **row.result)
            results += 1
    return ImportSummary(len(ids), results, tuple(ids))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_rows(
    session: Session, *, intervention_id: str | None = None, include_demo: bool = True
) -> list[dict[str, str]]:
    """Every stored result as a row of `COLUMNS`."""
    query = select(Study, StudyResult).join(StudyResult).order_by(Study.id, StudyResult.id)
    if intervention_id is not None:
        query = query.where(Study.intervention_id == intervention_id)
    if not include_demo:
        query = query.where(Study.is_demo.is_(False))
    found = []
    for study, result in session.execute(query).all():
        row = {c: "" for c in COLUMNS}
        row.update(
            study_ref=f"S{study.id}",
            intervention=study.intervention_id or "",
            measure=result.measure_text,
            outcome_domain=result.outcome_domain,
        )
        for column in STUDY_COLUMNS[2:]:
            row[column] = _cell(getattr(study, column))
        for column in (
            "outcome",
            "direction",
            "significant",
            "is_primary",
            "metric",
            "reported",
            "effect_reported",
        ):
            row[column] = _cell(getattr(result, column))
        if result.raw_inputs:
            row.update({k: _cell(v) for k, v in result.raw_inputs.items()})
        elif result.yi is not None:
            row.update(yi=_cell(result.yi), vi=_cell(result.vi))
        found.append(row)
    return found


def export_studies(
    session: Session,
    out: TextIO,
    *,
    intervention_id: str | None = None,
    include_demo: bool = True,
) -> int:
    """Write the stored studies as CSV to `out`; returns how many rows were written."""
    rows = export_rows(session, intervention_id=intervention_id, include_demo=include_demo)
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)
