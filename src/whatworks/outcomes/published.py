"""Import of published statistics in the DfE 'explore education statistics' (EES) CSV layout.

Each file has the EES geography columns (`time_period`, `time_identifier`,
`geographic_level`, `country_code`, then region and local authority codes and names),
followed by breakdown ("filter") columns and value ("measure") columns. Every value is
stored as a number or as the DfE symbol that stands in its place, never as zero or blank.
A file is checked whole before anything is written; a file with any problem is rejected
with every problem listed by row and column, and the store is left as it was.
Importing the same file again changes nothing (its SHA-256 is kept).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from whatworks.core.errors import ImportProblem
from whatworks.data import published_dir
from whatworks.outcomes.models import PublishedDataset, PublishedValue

#: Columns every EES file has.
REQUIRED_COLUMNS = ("time_period", "time_identifier", "geographic_level", "country_code")
#: Geography columns: neither filters nor measures.
GEOGRAPHY_COLUMNS = frozenset(
    {
        *REQUIRED_COLUMNS,
        "country_name",
        "region_code",
        "region_name",
        "old_la_code",
        "new_la_code",
        "la_name",
    }
)
#: DfE symbols that stand in place of a value; each is kept as its own state.
SYMBOLS = {
    "c": "confidential: suppressed to protect confidentiality",
    "x": "not available",
    "z": "not applicable",
    "k": "fewer than 0.5 (rounds to zero, but is not zero)",
    "low": "a small number, suppressed",
    "u": "low reliability",
    ":": "not available",
}
GEOGRAPHIC_LEVELS = ("National", "Regional", "Local authority")
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_YEARS_MONTHS = re.compile(r"^(\d{1,2}):(\d{2})$")
_PERIOD = re.compile(r"^\d{4}(\d{2})?$")
#: A local authority code, or several joined by " / " where the DfE publishes authorities
#: that share a service together (e.g. North and West Northamptonshire's workforce).
_LA_CODE = re.compile(r"^E\d{8}( / E\d{8})*$")

Progress = Callable[[int], None]


@dataclass
class ParsedFile:
    """A checked file, ready to store: its name, hash, columns and value rows."""

    path: Path
    name: str
    sha256: str
    measures: list[str]
    filters: list[str]
    row_count: int
    values: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    """What importing one file did."""

    name: str
    outcome: str  # "added", "replaced" or "unchanged"
    rows: int
    values: int


def parse_cell(text: str) -> tuple[float | None, str]:
    """A cell as (value, status): a number with status 'value', or None and its symbol.

    Durations written as years:months ("01:04", used in the adoption timeliness file) are
    read as months. Raises ValueError for anything else.
    """
    cell = text.strip()
    if cell in SYMBOLS:
        return None, cell
    if _NUMBER.match(cell):
        number = float(cell)
        if math.isfinite(number):
            return number, "value"
    duration = _YEARS_MONTHS.match(cell)
    if duration:
        return float(int(duration.group(1)) * 12 + int(duration.group(2))), "value"
    raise ValueError(cell)


def _is_value(cell: str) -> bool:
    try:
        return parse_cell(cell)[1] == "value"
    except ValueError:
        return False


def _classify(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[str]]:
    """Split the non-geography columns into filters (text) and measures (numbers or symbols).

    A column is a measure when most of its cells that are not symbols are numbers; the
    cells that are neither are then reported as broken.
    """
    measures, filters = [], []
    for index, name in enumerate(header):
        if name in GEOGRAPHY_COLUMNS:
            continue
        cells = [row[index].strip() for row in rows if len(row) == len(header)]
        non_symbol = [c for c in cells if c not in SYMBOLS]
        numbers = sum(1 for c in non_symbol if _is_value(c))
        if numbers and numbers * 2 >= len(non_symbol):
            measures.append(name)
        else:
            filters.append(name)
    return measures, filters


def parse_published(path: Path) -> ParsedFile:
    """Read and check one EES file; raises ImportProblem listing every problem found."""
    label = path.name
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ImportProblem(label, [f"the file could not be read: {error.strerror}"]) from None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportProblem(
            label, [f"the file is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV"]
        ) from None
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records or not any(cell.strip() for cell in records[0]):
        raise ImportProblem(label, ["the file is empty: it has no header row"])
    header = [cell.strip() for cell in records[0]]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportProblem(
            label,
            [
                "row 1 (header): this is not an 'explore education statistics' file; "
                f"missing column(s) {', '.join(missing)}"
            ],
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise ImportProblem(label, [f"row 1 (header): column(s) named twice: {duplicated}"])
    rows = records[1:]
    measures, filters = _classify(header, rows)
    if not measures:
        raise ImportProblem(label, ["the file has no column of values (measures)"])
    where = {name: index for index, name in enumerate(header)}
    problems: list[str] = []
    values: list[dict[str, Any]] = []
    for offset, row in enumerate(rows):
        line = offset + 2
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                f"row {line}: has {len(row)} values but the header has {len(header)} columns"
            )
            continue
        cell = {name: row[index].strip() for name, index in where.items()}
        period, level = cell["time_period"], cell["geographic_level"]
        if not _PERIOD.match(period):
            problems.append(
                f"row {line}, column time_period: {period!r} is not a year such as 2025 or 202425"
            )
        if level not in GEOGRAPHIC_LEVELS:
            # Other levels (e.g. local authority district) are valid EES but not used here.
            continue
        area = {
            "National": cell["country_code"],
            "Regional": cell.get("region_code", ""),
            "Local authority": cell.get("new_la_code", ""),
        }[level]
        if level == "Local authority" and not _LA_CODE.match(area):
            problems.append(
                f"row {line}, column new_la_code: {area!r} is not a local authority code "
                "such as E09000003"
            )
        filter_key = json.dumps({name: cell[name] for name in filters}, sort_keys=True)
        for measure in measures:
            raw = cell[measure]
            try:
                value, status = parse_cell(raw)
            except ValueError:
                problems.append(
                    f"row {line}, column {measure}: {raw!r} is neither a number nor a DfE "
                    f"symbol ({', '.join(SYMBOLS)})"
                )
                continue
            values.append(
                {
                    "row_number": line,
                    "period": period,
                    "time_identifier": cell["time_identifier"],
                    "geographic_level": level,
                    "area_code": area,
                    "old_la_code": cell.get("old_la_code") or None,
                    "filters": filter_key,
                    "measure": measure,
                    "value": value,
                    "status": status,
                    "raw": raw[:40],
                }
            )
    if problems:
        raise ImportProblem(label, problems)
    return ParsedFile(
        path=path,
        name=path.stem,
        sha256=hashlib.sha256(content).hexdigest(),
        measures=measures,
        filters=filters,
        row_count=len(rows),
        values=values,
    )


_VALUE_COLUMNS = (
    "dataset_id",
    "row_number",
    "period",
    "time_identifier",
    "geographic_level",
    "area_code",
    "old_la_code",
    "filters",
    "measure",
    "value",
    "status",
    "raw",
)


def _insert_values(
    session: Session, dataset_id: int, values: list[dict[str, Any]], progress: Progress | None
) -> None:
    """Bulk insert through the driver (COPY on PostgreSQL): hundreds of thousands of rows."""
    connection = session.connection()
    batch = 20_000
    chunks = (values[start : start + batch] for start in range(0, len(values), batch))
    columns = ", ".join(_VALUE_COLUMNS)
    table = PublishedValue.__tablename__
    if connection.dialect.name == "postgresql":
        driver = connection.connection.dbapi_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,  # type: ignore[attr-defined]
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for chunk in chunks:
                for v in chunk:
                    copy.write_row((dataset_id, *(v[c] for c in _VALUE_COLUMNS[1:])))
                if progress:
                    progress(len(chunk))
        return
    marks = ", ".join(["?"] * len(_VALUE_COLUMNS))
    statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    for chunk in chunks:
        rows = [(dataset_id, *(v[c] for c in _VALUE_COLUMNS[1:])) for v in chunk]
        connection.exec_driver_sql(statement, rows)
        if progress:
            progress(len(chunk))


def _store(session: Session, parsed: ParsedFile, progress: Progress | None) -> ImportResult:
    existing = session.scalar(select(PublishedDataset).where(PublishedDataset.name == parsed.name))
    if existing is not None and existing.sha256 == parsed.sha256:
        if progress:
            progress(len(parsed.values))
        return ImportResult(parsed.name, "unchanged", parsed.row_count, len(parsed.values))
    outcome = "added" if existing is None else "replaced"
    if existing is None:
        existing = PublishedDataset(name=parsed.name)
        session.add(existing)
    else:
        session.execute(delete(PublishedValue).where(PublishedValue.dataset_id == existing.id))
    existing.file_name = parsed.path.name
    existing.sha256 = parsed.sha256
    existing.measures = json.dumps(parsed.measures)
    existing.filters = json.dumps(parsed.filters)
    existing.row_count = parsed.row_count
    existing.value_count = len(parsed.values)
    session.flush()
    _insert_values(session, existing.id, parsed.values, progress)
    return ImportResult(parsed.name, outcome, parsed.row_count, len(parsed.values))


def _unchanged(session: Session, path: Path) -> ImportResult | None:
    """The result for a file already stored with the same content, without parsing it."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    found = session.scalar(select(PublishedDataset).where(PublishedDataset.name == path.stem))
    if found is None or found.sha256 != digest:
        return None
    return ImportResult(found.name, "unchanged", found.row_count, found.value_count)


def import_published(
    session: Session,
    paths: Iterable[Path],
    progress: Progress | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[ImportResult]:
    """Check and store each file in turn, all in the caller's transaction.

    If any file has a problem, ImportProblem names the file, row and column, and the
    caller's rollback leaves the store as it was (the CLI and demo import in one
    transaction). Files are stored one at a time so that memory holds one file, not all.
    A file whose content is already stored is skipped unread. `on_file` is called as each
    file is checked; `progress` with the number of values written.
    """
    results: list[ImportResult] = []
    for path in map(Path, paths):
        if on_file:
            on_file(path)
        unchanged = _unchanged(session, path)
        if unchanged is not None:
            results.append(unchanged)
            continue
        parsed = parse_published(path)
        results.append(_store(session, parsed, progress))
        del parsed
    return results


def is_published_layout(path: Path) -> bool:
    """Whether the file's header has the explore education statistics columns."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    return all(column in header for column in REQUIRED_COLUMNS)


def bundled_files() -> list[Path]:
    """Every bundled file in the explore education statistics layout."""
    return sorted(p for p in published_dir().glob("*.csv") if is_published_layout(p))


def datasets(session: Session) -> list[PublishedDataset]:
    """Imported published files by name."""
    return list(session.scalars(select(PublishedDataset).order_by(PublishedDataset.name)))
