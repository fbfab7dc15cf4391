"""Validating and importing a council's statutory returns: one collection year at a time,
SSDA903 CSV tables and the CIN census XML told apart by their content.

Validation reads every file, checks its structure against the year's specification (or
XSD) and applies the DfE's rules; the report lists each failure by file, table, row, child
and field. An import stores nothing unless every file is structurally sound: the problems
that block it are structural (columns, dates, codes, duplicates, schema); failures of DfE
rules are reported and stored with the import, as the DfE's own portal does, unless the
import is strict. Identifiers are pseudonymised as the files are read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.places.models import LocalAuthority
from whatworks.returns import canonical, cin, rules, ssda903
from whatworks.returns.models import ReturnImport
from whatworks.returns.ssda903 import Problem, Table
from whatworks.returns.store import ReturnsStore

#: Problems that stop an import: the file's structure, not a DfE rule.
BLOCKING = ("structure", "schema", "file")
COLUMNS = ("file", "table", "row", "child", "field", "code", "message")


@dataclass
class FileRead:
    """One file of a return as read."""

    name: str
    size: int
    sha256: str
    table: str  # an SSDA903 table name, "cin census", or "" when it could not be read
    rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bytes": self.size,
            "sha256": self.sha256,
            "table": self.table,
            "rows": self.rows,
        }


@dataclass
class Report:
    """What validation found in a year's return."""

    year: int
    files: list[FileRead] = field(default_factory=list)
    problems: list[tuple[str, Problem]] = field(default_factory=list)  # (file, problem)
    tables: dict[str, Table] = field(default_factory=dict)
    census: cin.Census | None = None

    @property
    def blocking(self) -> list[tuple[str, Problem]]:
        return [(f, p) for f, p in self.problems if p.code in BLOCKING]

    @property
    def rule_failures(self) -> list[tuple[str, Problem]]:
        return [(f, p) for f, p in self.problems if p.code not in BLOCKING]

    def rows(self) -> list[dict[str, Any]]:
        """Every problem as a flat row: file, table, row, child, field, code, message."""
        return [{"file": name, **problem.as_dict()} for name, problem in self.problems]

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "files": [f.as_dict() for f in self.files],
            "problems": len(self.problems),
            "blocking": len(self.blocking),
            "rule_failures": len(self.rule_failures),
            "importable": not self.blocking,
            "failures": self.rows(),
        }

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({k: "" if row[k] is None else row[k] for k in COLUMNS})
        return out.getvalue()


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the files inside folders named (hidden files left out), in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.parts)
            )
        elif path.exists():
            found.append(path)
        else:
            raise WhatworksError(f"{path} does not exist; name a file or a folder of files.")
    if not found:
        raise WhatworksError("No files to read: name the return's CSV files and CIN XML.")
    return found


def _is_xml(path: Path) -> bool:
    if path.suffix.lower() == ".xml":
        return True
    with path.open("rb") as handle:
        start = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"<")


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_problem(name: str, message: str) -> Problem:
    return Problem("", None, "", "", message, code="file")


def validate(
    paths: Sequence[Path], year: int, key: bytes, la: LocalAuthority | None = None
) -> Report:
    """Read and check a year's return (files or folders); never raises for bad content."""
    report = Report(year)
    for path in expand(paths):
        name = path.name
        size = path.stat().st_size
        entry = FileRead(name, size, _digest(path) if size <= ssda903.MAX_BYTES else "", "")
        report.files.append(entry)
        try:
            if _is_xml(path):
                census = cin.read_census(path, year, key)
            else:
                table = ssda903.read_table(path, year, key)
        except ImportProblem as error:
            for problem in error.problems:
                report.problems.append((name, _file_problem(name, problem)))
            continue
        if _is_xml(path):
            entry.table, entry.rows = "cin census", len(census.children)
            if report.census is not None:
                message = f"two CIN census files for one year ({report.census.source} and {name})"
                report.problems.append((name, _file_problem(name, message)))
                continue
            if la is not None and census.la and census.la != la.old_la_code:
                message = (
                    f"the census is for council {census.la}, not {la.name} "
                    f"({la.old_la_code}); import it for its own council"
                )
                report.problems.append((name, _file_problem(name, message)))
            report.census = census
            report.problems.extend((name, p) for p in census.problems)
            continue
        entry.table, entry.rows = table.name, len(table.rows)
        if table.name in report.tables:
            earlier = report.tables[table.name].source
            message = f"two files are the {table.name} table ({earlier} and {name})"
            report.problems.append((name, _file_problem(name, message)))
            continue
        report.tables[table.name] = table
        report.problems.extend((name, p) for p in table.problems)
    if report.tables and "episodes" in report.tables and "header" not in report.tables:
        report.problems.append(("", _file_problem("", "the header table is missing")))
    if report.tables and not report.blocking:
        sources = {name: table.source for name, table in report.tables.items()}
        for failure in rules.validate(report.tables, year):
            report.problems.append((sources.get(failure.table, ""), failure))
    return report


class ReturnRejected(WhatworksError):
    """A return was not imported; nothing from it was stored."""

    def __init__(self, report: Report, strict: bool) -> None:
        self.report = report
        shown = report.problems if strict else report.blocking
        lines = [
            f"  - {f or '(return)'}: row {p.row or '-'}, {p.field or '-'}: {p.message}"
            for f, p in shown[:20]
        ]
        more = f"\n  ... and {len(shown) - 20} more" if len(shown) > 20 else ""
        super().__init__(
            f"The {report.year} return was not imported; nothing from it was stored.\n"
            + "\n".join(lines)
            + more
            + "\nCorrect the files and import them again "
            "(`whatworks returns validate` shows every problem)."
        )


@dataclass(frozen=True)
class Imported:
    """What an import stored."""

    la: str
    year: int
    families: dict[str, int]  # family -> rows stored
    children: int
    rule_failures: int


def canonical_tables(
    report: Report, la_code: str
) -> tuple[dict[str, pa.Table], dict[str, int], set[str]]:
    """A validated return as canonical tables, with the rows of each family and the
    children (pseudonyms) it holds."""
    tables: dict[str, pa.Table] = {}
    families: dict[str, int] = {}
    children: set[str] = set()
    if report.tables:
        for name, table in report.tables.items():
            tables[name] = canonical.ssda903_table(name, table.rows, la_code, report.year)
            children.update(row["CHILD"] for row in table.rows if row.get("CHILD"))
        families["ssda903"] = sum(t.num_rows for t in tables.values())
    if report.census is not None:
        cin_tables = canonical.cin_tables(report.census.children, la_code, report.year)
        tables.update(cin_tables)
        families["cin"] = sum(t.num_rows for t in cin_tables.values())
        children.update(c["child"] for c in report.census.children if c.get("child"))
    return tables, families, children


def import_return(
    session: Session,
    store: ReturnsStore,
    key: bytes,
    la: LocalAuthority,
    year: int,
    paths: Sequence[Path],
    actor: audit.Actor,
    strict: bool = False,
) -> Imported:
    """Validate and store one council's return for a year, all or nothing, in the caller's
    transaction (the import's record and audit event) and the analytics store."""
    report = validate(paths, year, key, la)
    if report.blocking or (strict and report.problems):
        raise ReturnRejected(report, strict)
    if not report.tables and report.census is None:
        raise ReturnRejected(report, strict)
    tables, families, children = canonical_tables(report, la.new_la_code)
    files_of: dict[str, list[dict[str, Any]]] = {"ssda903": [], "cin": []}
    for entry in report.files:
        files_of["cin" if entry.table == "cin census" else "ssda903"].append(entry.as_dict())
    failures = len(report.rule_failures)
    for family, rows in families.items():
        session.add(
            ReturnImport(
                la_code=la.new_la_code,
                year=year,
                family=family,
                files=json.dumps(files_of[family]),
                rows=rows,
                children=len(children),
                rule_failures=failures,
                imported_by=actor.username,
            )
        )
    audit.record(
        session,
        actor,
        "returns.import",
        f"{la.new_la_code}/{year}",
        "import of the council's statutory returns",
        families=sorted(families),
        files=[f.name for f in report.files],
    )
    session.flush()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    manifests = {
        family: {
            "imported_at": now,
            "imported_by": actor.username,
            "files": files_of[family],
            "rows": rows,
            "rule_failures": failures,
        }
        for family, rows in families.items()
    }
    store.write(la.new_la_code, year, tables, manifests)
    return Imported(la.new_la_code, year, families, len(children), failures)
