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
import stat
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


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of an uploaded file, or ImportProblem when it cannot be read, is not a
    regular file or is larger than `max_bytes`. A file over the limit is refused by its size,
    without reading it; no more than its size and one byte are ever read."""
    label = path.name
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ImportProblem(label, ["this is not a file (a folder or a device); upload a file"])
        if info.st_size > max_bytes:
            raise ImportProblem(
                label, [f"the file is {info.st_size:,} bytes; the limit is {max_bytes:,}"]
            )
        with path.open("rb") as handle:
            content = handle.read(info.st_size + 1)
    except OSError as error:
        raise ImportProblem(
            label, [f"the file could not be read ({error.strerror or error}); upload it again"]
        ) from None
    if len(content) != info.st_size:
        raise ImportProblem(label, ["the file changed while it was being read; upload it again"])
    return content


def _csv_problem(error: csv.Error) -> str:
    """What a CSV parse error means for the person who uploaded the file."""
    text = str(error)
    if "field larger than field limit" in text:
        return (
            f"a value is longer than {csv.field_size_limit():,} characters, which no SSDA903 "
            "field is: a quote is probably not closed; save the file as CSV UTF-8"
        )
    if "unexpected end of data" in text:
        return (
            "the file ends inside a quoted value: it is cut short or a quote is not closed; "
            "export the table again"
        )
    if "expected after" in text:
        return (
            "a quoted value is followed by other characters before the next comma; "
            "save the file as CSV UTF-8"
        )
    return f"the file is not valid CSV ({text}); save it as CSV UTF-8"


def _cut(text: str, limit: int = 40) -> str:
    """A name or value for a report, cut short if it is long."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _shown(raw: str, limit: int = 40) -> str:
    """A value as quoted in a report, cut short if it is long."""
    return repr(raw) if len(raw) <= limit else f"{raw[:limit]!r}... ({len(raw):,} characters)"


def _value(column: specs.Column, raw: str) -> Any:
    """The typed value of a cell, or ValueError with what is wrong."""
    if column.kind == "date":
        try:
            return datetime.strptime(raw, "%d/%m/%Y").date()
        except ValueError:
            raise ValueError(f"{_shown(raw)} is not a date written dd/mm/yyyy") from None
    if column.kind == "code":
        mapped = dict(column.aliases).get(raw, raw)
        if mapped not in column.codes:
            codes = ", ".join(sorted(column.codes))
            raise ValueError(f"{_shown(raw)} is not one of the codes for this year ({codes})")
        return mapped
    if column.kind == "number":
        try:
            number = int(raw)
        except ValueError:
            raise ValueError(f"{_shown(raw)} is not a whole number") from None
        if column.minimum is not None and number < column.minimum:
            raise ValueError(f"{number} is below {column.minimum:g}")
        if column.maximum is not None and number > column.maximum:
            raise ValueError(f"{number} is above {column.maximum:g}")
        return number
    if column.kind == "postcode" and not POSTCODE.match(raw):
        raise ValueError(f"{_shown(raw)} is not a postcode")
    return raw


def _typed(column: specs.Column, cell: str, key: bytes) -> tuple[Any, str]:
    """A cell's stored value (typed, and pseudonymised if it identifies), or None and what
    is wrong with it."""
    try:
        value = _value(column, cell)
    except ValueError as error:
        return None, str(error)
    kind = IDENTIFIERS.get(column.name)
    return (pseudonym(key, kind, str(value)) if kind and value else value), ""


def read_table(path: Path, year: int, key: bytes, max_bytes: int = MAX_BYTES) -> Table:
    """Read one SSDA903 CSV table of the collection year ending 31 March `year`.

    Raises ImportProblem when the file cannot be read as a table at all (too large, not
    text, no header, not an SSDA903 table); otherwise returns the table with every row-level
    problem listed. Identifiers in the returned rows are pseudonyms.
    """
    label = path.name
    content = read_limited(path, max_bytes)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportProblem(
            label, [f"the file is not UTF-8 text (byte {error.start}); save it as CSV UTF-8"]
        ) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise ImportProblem(
            label,
            [f"line {line} has a NUL byte, so the file is not CSV text; save it as CSV UTF-8"],
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as error:
        raise ImportProblem(label, [f"line {reader.line_num}: {_csv_problem(error)}"]) from None
    if not records or not any(c.strip() for c in records[0]):
        raise ImportProblem(label, ["the file is empty: it has no header row"])
    header = [c.strip().upper() for c in records[0]]
    name = specs.identify(year, header)
    if name is None:
        shown = ", ".join(_cut(h) for h in header[:20])
        more = f" and {len(header) - 20:,} more" if len(header) > 20 else ""
        raise ImportProblem(
            label,
            [f"row 1 (header): these columns are not an SSDA903 table of {year}: {shown}{more}"],
        )
    columns = {c.name: c for c in specs.tables(year)[name]}
    table = Table(name, year, label)
    for missing in [c for c in columns if c not in header]:
        table.problems.append(Problem(name, 1, "", missing, f"column {missing} is missing"))
    for extra in [h for h in header if h not in columns]:
        table.problems.append(
            Problem(
                name, 1, "", _cut(extra), f"column {_cut(extra)} is not in the {year} specification"
            )
        )
    seen_children: set[str] = set()
    # Values repeat (dates, codes, postcodes): each distinct one is typed and pseudonymised once.
    seen: dict[str, dict[str, tuple[Any, str]]] = {column: {} for column in columns}
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
            known = seen[column_name].get(cell)
            if known is None:
                known = seen[column_name][cell] = _typed(column, cell, key)
            value, wrong = known
            if wrong:
                table.problems.append(
                    Problem(name, line, child, column_name, f"{column_name}: {wrong}")
                )
            row[column_name] = value
        if child and row.get("CHILD"):
            table.children[row["CHILD"]] = child
        table.rows.append(row)
    return table
