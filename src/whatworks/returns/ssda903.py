"""Reading SSDA903 tables (CSV): structure checked against the year's specification, each
value typed, and identifiers pseudonymised as they are read, so nothing identifying is kept.

Every problem names the table, the row (line of the file), the child and the field. The
child is shown as the council wrote it, in the report only: the report goes back to the
person who uploaded the file, who needs it to find the record; it is not stored.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from whatworks.core.errors import ImportProblem
from whatworks.returns import specs
from whatworks.returns.pseudonymise import pseudonym

#: A file larger than this is refused before it is read.
MAX_BYTES = 200 * 1024 * 1024
#: Which columns hold which kind of identifier.
IDENTIFIERS = {
    "CHILD": "child",
    "UPN": "upn",
    "HOME_POST": "postcode",
    "PL_POST": "postcode",
    "SW_ID": "social worker",
}
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One validation failure."""

    table: str
    row: int | None  # line of the file (the header is line 1); None for the whole file
    child: str
    field: str
    message: str
    code: str = "structure"  # or a DfE rule code

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.row,
            "child": self.child,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class Table:
    """A table as read: its rows (typed, pseudonymised) and the problems found."""

    name: str
    year: int
    source: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Pseudonym -> the council's own child id, for reports only; never stored.
    children: dict[str, str] = field(default_factory=dict)


def _value(column: specs.Column, raw: str) -> Any:
    """The typed value of a cell, or ValueError with what is wrong."""
    if column.kind == "date":
        try:
            return datetime.strptime(raw, "%d/%m/%Y").date()
        except ValueError:
            raise ValueError(f"{raw!r} is not a date written dd/mm/yyyy") from None
    if column.kind == "code":
        mapped = dict(column.aliases).get(raw, raw)
        if mapped not in column.codes:
            raise ValueError(
                f"{raw!r} is not one of the codes for this year ({', '.join(sorted(column.codes))})"
            )
        return mapped
    if column.kind == "number":
        try:
            number = int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number") from None
        if column.minimum is not None and number < column.minimum:
            raise ValueError(f"{number} is below {column.minimum:g}")
        if column.maximum is not None and number > column.maximum:
            raise ValueError(f"{number} is above {column.maximum:g}")
        return number
    if column.kind == "postcode" and not POSTCODE.match(raw):
        raise ValueError(f"{raw!r} is not a postcode")
    return raw


def read_table(path: Path, year: int, key: bytes, max_bytes: int = MAX_BYTES) -> Table:
    """Read one SSDA903 CSV table of the collection year ending 31 March `year`.

    Raises ImportProblem when the file cannot be read as a table at all (too large, not
    text, no header, not an SSDA903 table); otherwise returns the table with every row-level
    problem listed. Identifiers in the returned rows are pseudonyms.
    """
    label = path.name
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportProblem(label, [f"the file is {size:,} bytes; the limit is {max_bytes:,}"])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportProblem(
            label, [f"the file is not UTF-8 text (byte {error.start}); save it as CSV UTF-8"]
        ) from None
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records or not any(c.strip() for c in records[0]):
        raise ImportProblem(label, ["the file is empty: it has no header row"])
    header = [c.strip().upper() for c in records[0]]
    name = specs.identify(year, header)
    if name is None:
        raise ImportProblem(
            label,
            [
                f"row 1 (header): these columns are not an SSDA903 table "
                f"of {year}: {', '.join(header)}"
            ],
        )
    columns = {c.name: c for c in specs.tables(year)[name]}
    table = Table(name, year, label)
    for missing in [c for c in columns if c not in header]:
        table.problems.append(Problem(name, 1, "", missing, f"column {missing} is missing"))
    for extra in [h for h in header if h not in columns]:
        table.problems.append(
            Problem(name, 1, "", extra, f"column {extra} is not in the {year} specification")
        )
    seen_children: set[str] = set()
    for line, record in enumerate(records[1:], start=2):
        if not any(c.strip() for c in record):
            continue
        raw = {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header)}
        child = raw.get("CHILD", "")
        if len(record) != len(header):
            table.problems.append(
                Problem(
                    name,
                    line,
                    child,
                    "",
                    f"the row has {len(record)} values but the header has {len(header)} columns",
                )
            )
            continue
        if name == "header" and child:
            if child in seen_children:
                table.problems.append(
                    Problem(
                        name, line, child, "CHILD", "this child appears twice in the header table"
                    )
                )
            seen_children.add(child)
        row: dict[str, Any] = {"_row": line}
        for column_name, column in columns.items():
            cell = raw.get(column_name, "")
            if not cell:
                if not column.blank_allowed and column_name in raw:
                    table.problems.append(
                        Problem(name, line, child, column_name, f"{column_name} must not be blank")
                    )
                row[column_name] = None
                continue
            try:
                value = _value(column, cell)
            except ValueError as error:
                table.problems.append(
                    Problem(name, line, child, column_name, f"{column_name}: {error}")
                )
                value = None
            kind = IDENTIFIERS.get(column_name)
            row[column_name] = pseudonym(key, kind, str(value)) if kind and value else value
        if child and row.get("CHILD"):
            table.children[row["CHILD"]] = child
        table.rows.append(row)
    return table
