"""The analytics store of statutory returns: canonical Parquet tables per council and year,
stitched into one history per child across years.

Layout: `<analytics>/returns/<new_la_code>/<year>/<table>.parquet` for every canonical
table (empty when the return did not have it), with `manifest.json` saying which files
each part came from (name, size, SHA-256), when and by whom it was imported. A year is
written into a staging folder and moved into place with one rename, so a reader sees the
old year or the new one, never half of either; a failed import leaves nothing behind.

Beside the years, `<new_la_code>/history/<table>.parquet` holds the council's tables
stitched across all its years (the rule below), rebuilt whenever one of its years is
written, so that measures read one stitched file per council and table instead of
stitching every year again on every request. `history/facts/<name>.parquet` holds what the
measures need of that history that does not depend on the period (`measures.facts`: the
placement each episode begins, each referral's previous one, and so on), worked out in the
same rebuild. `history/manifest.json` names the years' manifests it was built from (their
SHA-256) and the version of the facts: a history that does not match the years on disk (a
write interrupted between the two renames) or built with other facts is rebuilt before it
is read.

Stitching (how returns of several years become one history):
- Each return is authoritative for its own collection year, 1 April to 31 March, and for
  everything open during it. Rows of an older return that began before the next newer
  imported return's year are kept; rows that began on or after its start are dropped.
- A row the newer return repeats (the same child and start, such as an episode open
  across 31 March, repeated with its end filled in) is taken from the newer return.
- A row still open at the start of the newer year that the newer return does not carry
  is kept as ending on that day: the older return's account stands up to the start of
  the newer return's year, and the newer return says what happened from then on.
- Rows without an end (reviews, adoption decisions) are kept from an older return when
  they fall before the start of the next newer return's year.
- Per-child facts (header, UASC, CIN child details, previous permanence) come from the
  newest return that has the child. OC2 and OC3 describe one year each and stay per year.
- Import every year: a missing year leaves a gap the neighbouring returns do not fill.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from whatworks.core.analytics import read_parquet
from whatworks.returns import calendar, canonical, measures

#: Event tables: the columns that identify a row (the child first, the event's start
#: last), and the column of its end, if it has one.
EVENTS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "episodes": (("child", "decom"), "dec"),
    "reviews": (("child", "review"), None),
    "missing": (("child", "missing", "mis_start"), "mis_end"),
    "social_worker": (("child", "sw_decom"), "sw_dec"),
    "placed_adoption": (("child", "date_placed"), "date_placed_ceased"),
    "ad1": (("child", "date_int"), None),
    "cin_referrals": (("child", "referral_date"), "closure_date"),
    "cin_assessments": (("child", "referral_date", "assessment_start"), "assessment_authorised"),
    "cin_cp_plans": (("child", "plan_start"), "plan_end"),
}
PER_CHILD = ("header", "uasc", "cin_children", "prev_perm")
PER_YEAR = ("oc2", "oc3")
FAMILIES = {"ssda903": canonical.SSDA903_TABLES, "cin": canonical.CIN_TABLES}
#: The folder of a council's stitched tables, beside its years, and of their facts in it.
HISTORY = "history"
FACTS = "facts"


def year_start(year: int) -> date:
    """The first day of the collection year ending 31 March `year`."""
    return date(year - 1, 4, 1)


@dataclass(frozen=True)
class Stored:
    """One council's imported year."""

    la: str
    year: int
    manifest: dict[str, Any]


class ReturnsStore:
    """Canonical Parquet tables of statutory returns under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _year_dir(self, la: str, year: int) -> Path:
        return self.root / la / str(year)

    def councils(self) -> list[str]:
        """Councils with at least one imported year."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name[0] != ".")

    def years(self, la: str) -> list[int]:
        """The imported years of one council, oldest first."""
        folder = self.root / la
        if not folder.exists():
            return []
        return sorted(
            int(p.name)
            for p in folder.iterdir()
            if p.name.isdigit() and (p / "manifest.json").exists()
        )

    def stored(self, la: str) -> list[Stored]:
        """Each imported year of a council with its manifest."""
        return [
            Stored(la, year, json.loads((self._year_dir(la, year) / "manifest.json").read_text()))
            for year in self.years(la)
        ]

    def write(
        self, la: str, year: int, tables: dict[str, pa.Table], manifests: dict[str, Any]
    ) -> Path:
        """Store one council's year: the families of tables given replace those stored
        (an SSDA903 import keeps the year's CIN census and the other way round);
        `manifests` says, for each family given, where its rows came from."""
        target = self._year_dir(la, year)
        staging = self.root / ".staging" / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            previous: dict[str, Any] = {}
            if (target / "manifest.json").exists():
                previous = json.loads((target / "manifest.json").read_text())
            parts = dict(previous.get("parts", {}))
            for family, names in FAMILIES.items():
                given = any(name in tables for name in names)
                for name in names:
                    path = staging / f"{name}.parquet"
                    if given:
                        table = tables.get(name, canonical.empty(name))
                        pq.write_table(table.cast(canonical.schemas()[name]), path)
                    elif (target / f"{name}.parquet").exists():
                        shutil.copy2(target / f"{name}.parquet", path)
                    else:
                        pq.write_table(canonical.empty(name), path)
                if given:
                    parts[family] = manifests.get(family, {})
            (staging / "manifest.json").write_text(
                json.dumps({"la": la, "year": year, "parts": parts}, indent=2, default=str)
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            retired = self.root / ".staging" / f"old-{uuid.uuid4().hex}"
            if target.exists():
                os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.rebuild_history(la)
        return target

    def _history_dir(self, la: str) -> Path:
        return self.root / la / HISTORY

    def _sources(self, la: str, years: list[int] | None = None) -> dict[str, str]:
        """Each stored year of a council (`years`, when known) and the SHA-256 of its
        manifest."""
        return {
            str(year): hashlib.sha256(
                (self._year_dir(la, year) / "manifest.json").read_bytes()
            ).hexdigest()
            for year in (self.years(la) if years is None else years)
        }

    def history_current(self, la: str, years: list[int] | None = None) -> bool:
        """Whether the council's stitched history was built from the years now stored
        (`years`, when known), with the facts the measures now read."""
        manifest = self._history_dir(la) / "manifest.json"
        if not manifest.exists():
            return False
        built = json.loads(manifest.read_text())
        return bool(
            built.get("facts") == measures.facts_version()
            and built.get("sources") == self._sources(la, years)
        )

    def rebuild_history(self, la: str) -> Path:
        """Stitch one council's stored years into `history/` (the rule in this module's
        docstring) and work out their facts into `history/facts/`, written aside and moved
        into place with one rename. Runs on DuckDB, with SQL compiled once per process
        (`_stitch_sql`, `_facts_sql`)."""
        target = self._history_dir(la)
        sources = self._sources(la)
        staging = self.root / ".staging" / uuid.uuid4().hex
        (staging / FACTS).mkdir(parents=True)
        con = duckdb.connect()
        try:
            con.register("cutoffs", _cutoffs(self.cutoffs([la])))
            con.register("calendar", calendar.table())
            for name in canonical.TABLES:
                schema = canonical.schemas()[name]
                files = self.files(name, [la])
                if files:
                    listed = ", ".join(_quoted(str(path)) for path in files)
                    con.execute(f"CREATE VIEW years_{name} AS FROM read_parquet([{listed}])")
                    rows = con.sql(_stitch_sql(name)).to_arrow_table()
                    rows = rows.select(schema.names).cast(schema)
                else:
                    rows = canonical.empty(name)
                pq.write_table(rows, staging / f"{name}.parquet")
                con.register(f"stitched_{name}", rows)
            for name, sql in _facts_sql().items():
                schema = measures.FACTS[name]
                rows = con.sql(sql).to_arrow_table().select(schema.names).cast(schema)
                pq.write_table(rows, staging / FACTS / f"{name}.parquet")
            (staging / "manifest.json").write_text(
                json.dumps(
                    {"la": la, "sources": sources, "facts": measures.facts_version()}, indent=2
                )
            )
            retired = self.root / ".staging" / f"old-{uuid.uuid4().hex}"
            if target.exists():
                os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        finally:
            con.close()
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def files(self, name: str, councils: list[str] | None = None) -> list[Path]:
        """The Parquet files of one table for some councils (all when None)."""
        return [
            self._year_dir(la, year) / f"{name}.parquet"
            for la in (councils if councils is not None else self.councils())
            for year in self.years(la)
        ]

    def cutoffs(self, councils: list[str]) -> list[dict[str, Any]]:
        """For each stored (council, year), the start of the next newer stored year (None
        for the newest)."""
        rows = []
        for la in councils:
            years = self.years(la)
            for year, newer in zip(years, [*years[1:], None][: len(years)], strict=True):
                cutoff = year_start(newer) if newer else None
                rows.append({"la": la, "return_year": year, "cutoff": cutoff})
        return rows

    def histories(self, councils: list[str] | None = None) -> list[Path]:
        """The history folders of the councils (all when None) that have imported years,
        each rebuilt first where out of date."""
        folders = []
        for la in councils if councils is not None else self.councils():
            years = self.years(la)
            if not years:
                continue
            if not self.history_current(la, years):
                self.rebuild_history(la)
            folders.append(self._history_dir(la))
        return folders

    def stitched(self, backend: Any, councils: list[str] | None = None) -> dict[str, Any]:
        """Every canonical table as one Ibis table per table name, stitched across years,
        and each table of facts as "facts/<name>": the councils' stored histories (rebuilt
        first where out of date)."""
        return _Histories(backend, self.histories(councils))


class _Histories(dict[str, Any]):
    """The stitched tables and their facts by name, each registered with the backend when
    first used (a request for a few measures reads only their tables)."""

    def __init__(self, backend: Any, folders: list[Path]) -> None:
        super().__init__()
        self.backend = backend
        self.folders = folders
        self.tag = uuid.uuid4().hex[:8]

    def __missing__(self, name: str) -> Any:
        if name not in canonical.TABLES and name.removeprefix(f"{FACTS}/") not in measures.FACTS:
            raise KeyError(name)
        if self.folders:
            files = [folder / f"{name}.parquet" for folder in self.folders]
            table = read_parquet(self.backend, files, f"{measures.view_name(name)}_{self.tag}")
        else:
            table = ibis.memtable(measures.table_schema(name).empty_table())
        self[name] = table
        return table


CUTOFFS = pa.schema([("la", pa.string()), ("return_year", pa.int16()), ("cutoff", pa.date32())])


def _cutoffs(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=CUTOFFS)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _named(schema: pa.Schema, name: str) -> Any:
    return ibis.table(ibis.Schema.from_pyarrow(schema), name=name)


@cache
def _stitch_sql(name: str) -> str:
    """The SQL stitching one table's rows of a council's years (the view `years_<name>`)
    with the `cutoffs` of its years, compiled once per process."""
    years = _named(canonical.schemas()[name], f"years_{name}")
    stitched = stitch(name, years, _named(CUTOFFS, "cutoffs")).order_by(_order(name))
    return str(ibis.to_sql(stitched, "duckdb", pretty=False))


@lru_cache(maxsize=1)
def _facts_sql() -> dict[str, str]:
    """The SQL of each fact over a council's stitched tables (`stitched_<name>`) and the
    working days `calendar`, compiled once per process."""
    tables = {
        name: _named(canonical.schemas()[name], f"stitched_{name}") for name in canonical.TABLES
    }
    tables["calendar"] = _named(calendar.table().schema, "calendar")
    return {
        name: str(ibis.to_sql(expression, "duckdb", pretty=False))
        for name, expression in measures.facts(tables).items()
    }


def _order(name: str) -> list[str]:
    """Rows of a stitched table in a stable order: by child, then the event's start."""
    if name in PER_YEAR:
        return ["return_year", "child"]
    if name in PER_CHILD:
        return ["child"]
    return list(EVENTS[name][0])


def stitch(name: str, table: Any, cutoffs: Any) -> Any:
    """One table's rows from all years, stitched by the rule in this module's docstring."""
    if name in PER_YEAR:
        return table
    if name in PER_CHILD:
        newest = ibis.row_number().over(
            group_by=[table.la, table.child], order_by=ibis.desc(table.return_year)
        )
        return table.mutate(_newest=newest).filter(lambda t: t._newest == 0).drop("_newest")
    keys, end = EVENTS[name]
    joined = table.join(cutoffs, ["la", "return_year"])
    kept = joined.filter(joined.cutoff.isnull() | (joined[keys[-1]] < joined.cutoff))
    if end is not None:
        overlaps = kept.cutoff.notnull() & (kept[end].isnull() | (kept[end] >= kept.cutoff))
        kept = kept.mutate(**{end: ibis.ifelse(overlaps, kept.cutoff, kept[end])})
    newest = ibis.row_number().over(
        group_by=[kept.la, *(kept[k] for k in keys)], order_by=ibis.desc(kept.return_year)
    )
    return kept.mutate(_newest=newest).filter(lambda t: t._newest == 0).drop("_newest", "cutoff")
