"""Benchmark: the returns measures on DuckDB, and importing a year's return, each against a
plain pandas baseline, on synthetic national data at several sizes.

Run with `.venv/bin/python benchmarks/returns.py` (or `make bench`; about 15-20 minutes on
2 cores). Options: `--scales 1,2,4` (sizes, in multiples of the national size; default 1,
2 and 4), `--years N` (returns per council in the measures store: the N collection years
up to 2026; default 5), `--grow copy|generate` (how the larger measures stores are made,
below), `--import-councils N` (councils in the import sample, default 8), `--repeat N`
(runs of each side, alternating which goes first; the fastest is shown), `--jobs N`
(processes building a store side by side; default one per core), `--keep DIR` (keep the
generated stores and files in DIR and reuse them next time), `--skip-measures`,
`--skip-import`, `--pandas-stitches` (below), `--second-request` (below).

The data come from `whatworks.returns.synthetic` (`generate(councils, years, seed=2026,
scale)`): every council in England (153) at scale 1 is the national size (about 85,000
children looked after and 400,000 children in need at any one time). Every timed run
(each side of each comparison) is a fresh Python process of its own, so its wall time,
CPU time and peak resident memory (`ru_maxrss` of the process, which counts DuckDB's own
allocations outside Python) are its own. The modules each side needs are imported before
its clock starts.

(a) Measures. The canonical store of every council's N returns is built from the generated
rows directly (`canonical.ssda903_table` and `canonical.cin_tables` on the rows, then
`ReturnsStore.write`), not by writing CSV and XML and importing them, to keep generation
time reasonable; the rows are typed as the SSDA903 reader would type them, but the
identifiers are not pseudonymised. Building is not timed against anything. Sizes: with
`--grow copy` (the default) the 153 councils are generated once at scale 1, and size Nx is
every council's stored returns copied under N-1 more made-up codes (`E06000001x2`, ...),
the `la` column rewritten: N x 153 councils, each of national-average size, N times the
rows. With `--grow generate` each size is generated at its own scale (153 councils, each
N times the children), which is what the generator means by scale but takes about N times
as long to build (~75 s per year of returns per 1x on this machine). Then, for the newest
year, for the councils of that size:

- whatworks: `measures.compute(store, councils, Period.year(Y), "duckdb")`, every measure
  (one query; DuckDB uses every core). It reads the facts the store keeps with each
  council's stitched history (`<la>/history/facts/`, worked out by `ReturnsStore.write`
  on import: docs/returns.md).
- pandas (baseline): `benchmarks/returns_pandas.py` `measures(root, councils, Y, source)`:
  the same sixteen measures in plain pandas (`pd.read_parquet`, groupby, merge, shift; one
  thread apart from pyarrow's reading), shown by tests/test_benchmark_baseline.py to give
  the engine's numbers on the hand-worked council. It reads the stitched histories the
  store keeps (`<la>/history/<table>.parquet`, the canonical tables the facts are worked
  out from; only the columns it needs), or with `--pandas-stitches` stitches the stored
  years itself. The two sides' numerators and denominators are compared on every run here
  too ("same numbers"). The "rows" of the tables are the rows of the stitched tables the
  measures are defined over (what pandas reads), at every size.

With `--second-request` each side makes the same request twice in its process and the second
is timed: what a server that has answered one request for the period already takes
(whatworks keeps the SQL it compiled for a period; the pandas baseline keeps nothing).

Each council's history is brought up to date before anything is timed (`write` does it on
every import; the copies of the larger sizes need it once).

(b) Import. A sample of councils (every k-th of the 153) gets its return for 2026 written as
files by `synthetic.write_returns` (the SSDA903 CSV tables and `cin_census.xml`),
generated at each scale. Then, council by council:

- whatworks: `imports.validate` (read, structure and XSD checks, pseudonymise, the DfE
  rules), then the canonical tables and `ReturnsStore.write` exactly as
  `imports.import_return` makes them (its database record and audit event left out).
- pandas (baseline): `returns_pandas.import_return`: `pd.read_csv` with every cell as text,
  the same structural checks column by column (vectorised), the same pseudonyms, the CIN
  census parsed and XSD-validated with lxml and flattened into frames, one Parquet file per
  table with `to_parquet`. No DfE rules.

The time inside the CSV reader, the census reader, the DfE rules and `ReturnsStore.write`
is shown for each side. For each size the tables show seconds, peak MB and the ratio
whatworks / pandas, and the time per million rows (rows read by the measures; rows stored
by the import), to show whether the cost grows linearly with the data. Figures are
recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

SEED = 2026
LAST_YEAR = 2026
SIDES = ("whatworks", "pandas")
KEY = bytes(range(32))  # a fixed pseudonymisation key: both sides hash the same way
#: Tables the measures read (the others are stored but not read by any measure).
MEASURED_TABLES = (
    "episodes",
    "header",
    "oc2",
    "oc3",
    "missing",
    "social_worker",
    "cin_referrals",
    "cin_assessments",
    "cin_cp_plans",
)


# --- helpers of the child processes -------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


class Clock:
    """Wall and CPU time, resident memory before and peak after, of this process."""

    def __enter__(self) -> Clock:
        self.rss_before = _rss_kib()
        self.cpu = time.process_time()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu
        self.peak = _peak_kib()

    def figures(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu,
            "peak_rss_kib": self.peak,
            "rss_before_kib": self.rss_before,
        }


@lru_cache(maxsize=100_000)
def _date(text: str) -> date:
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day))


def typed(name: str, rows: list[dict[str, str]], year: int) -> list[dict[str, Any]]:
    """Generated text rows typed as `ssda903.read_table` types them (dates, whole numbers,
    blanks as None; codes kept, SEX mapped by `canonical`), identifiers left as they are."""
    from whatworks.returns import specs

    kinds = {c.name: c.kind for c in specs.tables(year)[name]}
    dates = [c for c, kind in kinds.items() if kind == "date"]
    numbers = [c for c, kind in kinds.items() if kind == "number"]
    out = []
    for row in rows:
        record: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
        for column in dates:
            if record.get(column):
                record[column] = _date(record[column])
        for column in numbers:
            if record.get(column):
                record[column] = int(record[column])
        out.append(record)
    return out


def stored_rows(root: Path, folders: str = "[0-9]*", councils: list[str] | None = None) -> dict:
    """Rows per table in a store's Parquet files (from their metadata): the years' files
    (`folders` "[0-9]*") or the stitched histories ("history"), of some councils or all."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for la in councils if councils is not None else ["*"]:
        for path in root.glob(f"{la}/{folders}/*.parquet"):
            rows = pq.ParquetFile(path).metadata.num_rows
            counts[path.stem] = counts.get(path.stem, 0) + rows
    return counts


# --- what each child process does ---------------------------------------------------------


def child_build(root: Path, scale: float, years: list[int], part: int, parts: int) -> dict:
    """Generate the returns of every `parts`-th council (from the `part`-th) and store them
    canonically (no CSV or XML): one of `--jobs` builders running side by side."""
    from whatworks.returns import canonical, synthetic
    from whatworks.returns.store import ReturnsStore

    store = ReturnsStore(root)
    councils = synthetic.councils_in_england()[part::parts]
    with Clock() as clock:
        generated = synthetic.generate(councils, years, SEED, scale=scale)
        generating = storing = 0.0
        for la in councils:
            for year in years:
                began = time.perf_counter()
                tables = generated.tables(la, year)
                census = generated.cin_census(la, year)
                middle = time.perf_counter()
                arrow = {
                    name: canonical.ssda903_table(name, typed(name, rows, year), la, year)
                    for name, rows in tables.items()
                }
                arrow.update(canonical.cin_tables(census, la, year))
                store.write(la, year, arrow, {"ssda903": {}, "cin": {}})
                generating += middle - began
                storing += time.perf_counter() - middle
    return {
        **clock.figures(),
        "generating_seconds": generating,
        "storing_seconds": storing,
        "councils": len(councils),
    }


def in_parallel(jobs: int, *arguments: str) -> tuple[float, list[dict[str, Any]]]:
    """`jobs` child processes side by side, the part-th of `jobs` each: wall seconds and
    each one's figures."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", *arguments, str(part), str(jobs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for part in range(jobs)
    ]
    parts = []
    for process in running:
        out, err = process.communicate()
        if process.returncode != 0:
            sys.stderr.write(err)
            raise SystemExit(f"{arguments[0]} failed (exit {process.returncode})")
        parts.append(json.loads(out.strip().splitlines()[-1]))
    return time.perf_counter() - started, parts


def build_store(root: Path, scale: float, years: list[int], jobs: int) -> dict[str, Any]:
    """The canonical store of every council's returns, built by `jobs` processes at once."""
    seconds, parts = in_parallel(jobs, "build", str(root), str(scale), ",".join(map(str, years)))
    return {
        "seconds": seconds,
        "generating_seconds": sum(p["generating_seconds"] for p in parts),
        "storing_seconds": sum(p["storing_seconds"] for p in parts),
        "peak_rss_kib": max(p["peak_rss_kib"] for p in parts),
        "councils": sum(p["councils"] for p in parts),
        "jobs": jobs,
        "rows": stored_rows(root),
        "bytes": sum(p.stat().st_size for p in root.glob("*/[0-9]*/*.parquet")),
    }


def child_measures(
    side: str,
    root: Path,
    year: int,
    councils: list[str],
    source: str = "history",
    second: bool = False,
) -> dict[str, Any]:
    """All measures for these councils, for the year to 31 March `year`; the pandas side
    reads the stored histories (`source` "history") or stitches the years itself. With
    `second`, the same request is made twice and the second is timed (a process that has
    served one request already: whatworks' compiled SQL is kept per process)."""
    if side == "whatworks":
        import pandas  # noqa: F401  (loaded before the clock, as on the pandas side)
        import pyarrow  # noqa: F401

        from whatworks.returns import measures
        from whatworks.returns.store import ReturnsStore

        store = ReturnsStore(root)
        period = measures.Period.year(year)
        if second:
            measures.compute(store, councils, period, "duckdb")
        with Clock() as clock:
            results = measures.compute(store, councils, period, "duckdb")
        found = [[r.la, r.measure.id, r.numerator, r.denominator] for r in results]
    else:
        import returns_pandas

        if second:
            returns_pandas.measures(root, councils, year, source)
        with Clock() as clock:
            computed = returns_pandas.measures(root, councils, year, source)
        found = [[la, m, n, d] for (la, m), (n, d) in computed.items()]
    return {**clock.figures(), "results": sorted(found, key=lambda r: (r[0], r[1]))}


def copy_code(la: str, copy: int) -> str:
    """The made-up code of the `copy`-th copy (2, 3, ...) of a council."""
    return f"{la}x{copy}"


def child_copy(root: Path, copies: list[int], part: int, parts: int) -> dict[str, Any]:
    """Copy every `parts`-th council's stored years (from the `part`-th) under the codes of
    `copies`, its `la` column rewritten: more councils of the same size and history."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from whatworks.returns import synthetic

    with Clock() as clock:
        for la in synthetic.councils_in_england()[part::parts]:
            for copy in copies:
                code = copy_code(la, copy)
                for year_dir in sorted((root / la).glob("[0-9]*")):
                    target = root / code / year_dir.name
                    target.mkdir(parents=True, exist_ok=True)
                    for path in year_dir.glob("*.parquet"):
                        table = pq.read_table(path)
                        la_column = pa.array([code] * table.num_rows, pa.string())
                        table = table.set_column(0, table.schema.field(0), la_column)
                        pq.write_table(table, target / path.name)
                    manifest = json.loads((year_dir / "manifest.json").read_text())
                    (target / "manifest.json").write_text(json.dumps({**manifest, "la": code}))
    return clock.figures()


def child_history(root: Path, councils: list[str], part: int, parts: int) -> dict[str, Any]:
    """Bring every `parts`-th council's stitched history up to date (ReturnsStore.write does
    it on every import; copies and stores built before it need it once, untimed)."""
    from whatworks.returns.store import ReturnsStore

    store = ReturnsStore(root)
    rebuilt = 0
    with Clock() as clock:
        for la in councils[part::parts]:
            if not store.history_current(la):
                store.rebuild_history(la)
                rebuilt += 1
    return {**clock.figures(), "rebuilt": rebuilt}


def timed(owner: Any, name: str, split: dict[str, float], label: str) -> None:
    """Wrap `owner.name` so the time spent in it adds up in `split[label]` (this process)."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            split[label] += time.perf_counter() - began

    setattr(owner, name, wrapper)


def child_import(side: str, files: Path, year: int, out: Path) -> dict[str, Any]:
    """Import every council's return under `files/<la>/<year>/` into a store at `out`."""
    councils = sorted(p.name for p in files.iterdir() if (p / str(year)).is_dir())
    split = {"csv": 0.0, "xml": 0.0, "rules": 0.0, "write": 0.0}
    if side == "whatworks":
        from whatworks.returns import canonical, imports
        from whatworks.returns.store import ReturnsStore

        timed(imports.ssda903, "read_table", split, "csv")
        timed(imports.cin, "read_census", split, "xml")
        timed(imports.rules, "validate", split, "rules")
        timed(ReturnsStore, "write", split, "write")
        store = ReturnsStore(out)
        rows = problems = rule_failures = 0
        with Clock() as clock:
            for la in councils:
                report = imports.validate([files / la / str(year)], year, KEY)
                problems += len(report.blocking)
                rule_failures += len(report.rule_failures)
                if report.blocking:
                    continue
                # as imports.import_return builds them, without the database record
                tables = {
                    name: canonical.ssda903_table(name, table.rows, la, year)
                    for name, table in report.tables.items()
                }
                if report.census is not None:
                    tables.update(canonical.cin_tables(report.census.children, la, year))
                families = {"ssda903": {"files": []}, "cin": {"files": []}}
                store.write(la, year, tables, families)
                rows += sum(t.num_rows for t in tables.values())
        figures = {"rows": rows, "problems": problems, "rule_failures": rule_failures}
    else:
        import returns_pandas

        timed(returns_pandas, "read_csv_table", split, "csv")
        timed(returns_pandas, "read_cin_census", split, "xml")
        rows = problems = 0
        with Clock() as clock:
            for la in councils:
                done = returns_pandas.import_return(files / la / str(year), year, KEY, la, out)
                rows += done["rows"]
                problems += done["problems"]
        figures = {"rows": rows, "problems": problems, "rule_failures": 0}
    return {
        **clock.figures(),
        **figures,
        "split": split,
        "councils": len(councils),
        "bytes": sum(p.stat().st_size for p in out.rglob("*.parquet")),
    }


def child_write_files(files: Path, councils: list[str], scale: float, year: int) -> dict:
    """The sample's return files for one year, as councils would send them."""
    from whatworks.returns import synthetic

    with Clock() as clock:
        written = synthetic.write_returns(
            synthetic.generate(councils, [year], SEED, scale=scale), files
        )
    return {
        **clock.figures(),
        "files": len(written),
        "bytes": sum(p.stat().st_size for p in written),
    }


# --- the parent ---------------------------------------------------------------------------


def run_child(*arguments: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", *arguments]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{' '.join(arguments[:2])} failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def mib(kib: float) -> str:
    return f"{kib / 1024:,.0f}"


def scale_label(scale: float) -> str:
    return f"{scale:g}x"


def both_sides(repeat: int, *arguments: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Each side `repeat` times, alternating which goes first; the fastest of each, and
    every run's wall seconds in order."""
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for round_ in range(repeat):
        for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            runs[side].append(run_child(arguments[0], side, *arguments[1:]))
    best = [min(runs[side], key=lambda f: f["seconds"]) for side in SIDES]
    every = "; ".join(
        f"{side} " + ", ".join(f"{f['seconds']:.2f}" for f in runs[side]) for side in SIDES
    )
    return best[0], best[1], every


def print_table(title: str, rows: list[dict[str, Any]], unit: str) -> None:
    print(f"\n{title}")
    head = (
        f"{'size':>5} {unit:>12} {'ww s':>8} {'pandas s':>9} {'ratio':>6} "
        f"{'ww CPU s':>9} {'pd CPU s':>9} {'ww peak MB':>11} {'pd peak MB':>11} {'ratio':>6} "
        f"{'ww s/M rows':>12} {'pd s/M rows':>12}"
    )
    print(head)
    for row in rows:
        ww, pd_, count = row["whatworks"], row["pandas"], row["rows"] / 1e6
        print(
            f"{row['size']:>5} {row['rows']:>12,} {ww['seconds']:>8.2f} {pd_['seconds']:>9.2f} "
            f"{ww['seconds'] / pd_['seconds']:>5.2f}x {ww['cpu_seconds']:>9.2f} "
            f"{pd_['cpu_seconds']:>9.2f} {mib(ww['peak_rss_kib']):>11} "
            f"{mib(pd_['peak_rss_kib']):>11} "
            f"{ww['peak_rss_kib'] / pd_['peak_rss_kib']:>5.2f}x "
            f"{ww['seconds'] / count:>12.2f} {pd_['seconds'] / count:>12.2f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        for side in SIDES:
            per = [r[side]["seconds"] / r["rows"] for r in (first, last)]
            mem = [r[side]["peak_rss_kib"] - r[side]["rss_before_kib"] for r in (first, last)]
            grew = last["rows"] / first["rows"]
            print(
                f"{side}: {grew:.1f}x the rows from {first['size']} to {last['size']} took "
                f"{last[side]['seconds'] / first[side]['seconds']:.1f}x the time "
                f"(time per row x{per[1] / per[0]:.2f}: 1.00 is linear) and "
                f"{mem[1] / max(mem[0], 1):.1f}x the memory growth "
                f"({mib(mem[0])} -> {mib(mem[1])} MB above the process at rest)"
            )


def describe(built: dict[str, Any], label: str) -> None:
    rows = built["rows"]
    measured = sum(rows.get(t, 0) for t in MEASURED_TABLES)
    print(
        f"{label}: store of {sum(rows.values()):,} rows ({measured:,} in the tables the "
        f"measures read: episodes {rows.get('episodes', 0):,}, cin_referrals "
        f"{rows.get('cin_referrals', 0):,}, cin_assessments {rows.get('cin_assessments', 0):,}"
        f"), {built['bytes'] / 2**20:,.0f} MiB of Parquet; built in {built['seconds']:.0f} s "
        f"by {built['jobs']} processes side by side (generating "
        f"{built['generating_seconds']:.0f} s, typing and storing {built['storing_seconds']:.0f}"
        f" s, summed over them; peak {mib(built['peak_rss_kib'])} MB)"
    )


def stored(work: Path, scale: float, years: list[int], jobs: int) -> tuple[Path, dict[str, Any]]:
    """A store of every council at `scale`, built once (reused from `--keep`)."""
    root = work / f"store-{scale:g}x-{len(years)}y-seed{SEED}"
    done = root / ".built.json"
    if done.exists():
        built: dict[str, Any] = json.loads(done.read_text())
        describe(built, f"{scale:g}x (reused from {root})")
        return root, built
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    built = build_store(root, scale, years, jobs)
    done.write_text(json.dumps(built))
    describe(built, f"{scale:g}x")
    return root, built


def histories(root: Path, councils: list[str], jobs: int, work: Path) -> None:
    """Every council's stitched history up to date before anything is timed."""
    listed = work / "history-councils.txt"
    listed.write_text(",".join(councils))
    seconds, parts = in_parallel(jobs, "history", str(root), str(listed))
    rebuilt = sum(p["rebuilt"] for p in parts)
    if rebuilt:
        print(f"stitched the histories of {rebuilt} councils in {seconds:.0f} s (not timed)")


def copied(root: Path, copies: int, jobs: int) -> None:
    """Make sure the store holds `copies` copies of every council (the original is 1)."""
    missing = [c for c in range(2, copies + 1) if not (root / f".copy-{c}").exists()]
    if not missing:
        return
    seconds, _parts = in_parallel(jobs, "copy", str(root), ",".join(map(str, missing)))
    for copy in missing:
        (root / f".copy-{copy}").touch()
    print(f"copied every council {len(missing)} more time(s) in {seconds:.0f} s")


def measures_benchmark(args: argparse.Namespace, work: Path) -> None:
    from whatworks.returns import synthetic

    years = list(range(LAST_YEAR - args.years + 1, LAST_YEAR + 1))
    originals = synthetic.councils_in_england()
    source = "years" if args.pandas_stitches else "history"
    print(
        f"\n== (a) measures: every council, {len(years)} returns each "
        f"({years[0]}-{years[-1]}), year to 31 March {years[-1]} =="
    )
    print(
        "stores built from the generated rows directly (canonical tables + "
        "ReturnsStore.write), not\nthrough CSV/XML files and imports; identifiers not "
        "pseudonymised"
    )
    if args.grow == "copy":
        print(
            f"sizes: the {len(originals)} councils generated at scale 1; Nx = every council's "
            "stored returns\ncopied under N-1 more codes (N x 153 councils of national size "
            "each; --grow generate\ngenerates each size at its own scale instead)"
        )
        if any(scale != int(scale) or scale < 1 for scale in args.scales):
            raise SystemExit("--grow copy needs whole-number scales; use --grow generate")
        base, base_built = stored(work, 1.0, years, args.jobs)
        copied(base, int(max(args.scales)), args.jobs)
        every_council = [
            la if copy == 1 else copy_code(la, copy)
            for copy in range(1, int(max(args.scales)) + 1)
            for la in originals
        ]
        histories(base, every_council, args.jobs, work)
        base_built["rows"] = stored_rows(base, "history", originals)
    table = []
    for scale in args.scales:
        if args.grow == "copy":
            root = base
            councils = [
                la if copy == 1 else copy_code(la, copy)
                for copy in range(1, int(scale) + 1)
                for la in originals
            ]
            built = {
                **base_built,
                "rows": {k: v * int(scale) for k, v in base_built["rows"].items()},
            }
        else:
            root, built = stored(work, scale, years, args.jobs)
            councils = originals
            histories(root, councils, args.jobs, work)
            built["rows"] = stored_rows(root, "history", councils)
        rows = sum(built["rows"].get(t, 0) for t in MEASURED_TABLES)
        listed = work / f"councils-{scale:g}.txt"
        listed.write_text(",".join(councils))
        load = os.getloadavg()[0]
        request = "second" if args.second_request else "first"
        ww, pd_, every = both_sides(
            args.repeat, "measures", str(root), str(years[-1]), str(listed), source, request
        )
        same = ww["results"] == pd_["results"]
        differing = sum(a != b for a, b in zip(ww["results"], pd_["results"], strict=False))
        print(
            f"{scale_label(scale)}: {len(councils)} councils, {rows:,} rows in the tables read; "
            f"runs (wall s): {every}; load average {load:.2f} -> {os.getloadavg()[0]:.2f}; "
            f"same numbers: {'yes' if same else f'NO ({differing} differ)'} "
            f"({len(ww['results']):,} council-measures)"
        )
        if not same:
            shown = [(a, b) for a, b in zip(ww["results"], pd_["results"], strict=False) if a != b]
            for a, b in shown[:10]:
                print(f"     whatworks {a}  pandas {b}")
        table.append({"size": scale_label(scale), "rows": rows, "whatworks": ww, "pandas": pd_})
        if args.grow == "generate" and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print_table(
        "measures: whatworks (DuckDB) against pandas "
        + ("stitching the years itself" if args.pandas_stitches else "reading the same histories")
        + "; rows = rows in the stitched tables"
        + ("; the second request of each process" if args.second_request else ""),
        table,
        "rows",
    )


def import_sample(count: int) -> list[str]:
    from whatworks.returns import synthetic

    councils = synthetic.councils_in_england()
    step = max(len(councils) // count, 1)
    return councils[::step][:count]


def import_benchmark(args: argparse.Namespace, work: Path) -> None:
    year = LAST_YEAR
    sample = import_sample(args.import_councils)
    print(
        f"\n== (b) import: the {year} return (SSDA903 CSV + CIN census XML) of "
        f"{len(sample)} councils ({', '.join(sample)}) =="
    )
    table = []
    for scale in args.scales:
        files = work / f"files-{scale:g}x-{len(sample)}-seed{SEED}"
        done = files / ".written.json"
        if done.exists():
            written = json.loads(done.read_text())
        else:
            shutil.rmtree(files, ignore_errors=True)
            files.mkdir(parents=True)
            written = run_child("files", str(files), str(scale), str(year), ",".join(sample))
            done.write_text(json.dumps(written))
        print(
            f"{scale_label(scale)}: {written['files']} files, {written['bytes'] / 2**20:,.1f} MiB "
            f"(generated and written in {written['seconds']:.0f} s)"
        )
        outs = []

        def fresh(side: str, outs: list[Path] = outs) -> str:
            out = Path(tempfile.mkdtemp(prefix=f"import-{side}-", dir=work))
            outs.append(out)
            return str(out)

        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
        load = os.getloadavg()[0]
        for round_ in range(args.repeat):
            for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
                runs[side].append(run_child("import", side, str(files), str(year), fresh(side)))
        ww, pd_ = (min(runs[side], key=lambda f: f["seconds"]) for side in SIDES)
        every = "; ".join(
            f"{side} " + ", ".join(f"{f['seconds']:.1f}" for f in runs[side]) for side in SIDES
        )
        print(
            f"   runs (wall s): {every}; load average {load:.2f} -> {os.getloadavg()[0]:.2f}\n"
            f"   rows stored: whatworks {ww['rows']:,}, pandas {pd_['rows']:,}; structural "
            f"problems: whatworks {ww['problems']}, pandas {pd_['problems']}; DfE rule "
            f"failures (whatworks only) {ww['rule_failures']:,}\n"
            f"   Parquet written: whatworks {ww['bytes'] / 2**20:.1f} MiB, pandas "
            f"{pd_['bytes'] / 2**20:.1f} MiB"
        )
        for side, figures in zip(SIDES, (ww, pd_), strict=True):
            split = figures["split"]
            rest = figures["seconds"] - sum(split.values())
            print(
                f"   {side} split: SSDA903 CSV tables {split['csv']:.2f} s, CIN census XML "
                f"{split['xml']:.2f} s, DfE rules {split['rules']:.2f} s, ReturnsStore.write "
                f"{split['write']:.2f} s, the rest (canonical tables, Parquet) {rest:.2f} s"
            )
        table.append(
            {"size": scale_label(scale), "rows": ww["rows"], "whatworks": ww, "pandas": pd_}
        )
        for out in outs:
            shutil.rmtree(out, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(files, ignore_errors=True)
    print_table("import: whatworks against pandas; rows = rows stored", table, "rows")


def child(arguments: list[str]) -> None:
    kind, rest = arguments[0], arguments[1:]
    if kind == "build":
        years = [int(y) for y in rest[2].split(",")]
        figures = child_build(Path(rest[0]), float(rest[1]), years, int(rest[3]), int(rest[4]))
    elif kind == "measures":
        councils = Path(rest[3]).read_text().split(",")
        second = rest[5] == "second"
        figures = child_measures(rest[0], Path(rest[1]), int(rest[2]), councils, rest[4], second)
    elif kind == "history":
        councils = Path(rest[1]).read_text().split(",")
        figures = child_history(Path(rest[0]), councils, int(rest[2]), int(rest[3]))
    elif kind == "copy":
        copies = [int(c) for c in rest[1].split(",")]
        figures = child_copy(Path(rest[0]), copies, int(rest[2]), int(rest[3]))
    elif kind == "files":
        figures = child_write_files(Path(rest[0]), rest[3].split(","), float(rest[1]), int(rest[2]))
    elif kind == "import":
        figures = child_import(rest[0], Path(rest[1]), int(rest[2]), Path(rest[3]))
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(figures, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scales",
        type=lambda text: [float(s) for s in text.split(",")],
        default=[1.0, 2.0, 4.0],
        help="comma-separated multiples of the national size (default 1,2,4)",
    )
    parser.add_argument(
        "--years", type=int, default=5, help="returns per council for the measures (default 5)"
    )
    parser.add_argument(
        "--import-councils", type=int, default=8, help="councils in the import sample (8)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side (default 1)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes building each store side by side (default: one per core)",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) generated data in DIR")
    parser.add_argument(
        "--grow",
        choices=("copy", "generate"),
        default="copy",
        help="make the larger measures stores by copying every council (default: fast) "
        "or by generating at each scale (slow: about 4 minutes per scale per 3 years)",
    )
    parser.add_argument(
        "--pandas-stitches",
        action="store_true",
        help="the pandas baseline stitches the stored years itself instead of reading the "
        "stitched histories whatworks keeps (the comparison before histories were stored)",
    )
    parser.add_argument(
        "--second-request",
        action="store_true",
        help="time the second of two identical measures requests in each process (whatworks "
        "keeps compiled SQL per process; the pandas baseline has nothing to keep)",
    )
    parser.add_argument("--skip-measures", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not 1 <= args.years <= LAST_YEAR - 2017 + 1:
        raise SystemExit("--years must be 1 to 10 (collection years 2017 to 2026)")
    started = time.perf_counter()
    import duckdb
    import pandas

    print(
        f"returns benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} cores, DuckDB {duckdb.__version__}, "
        f"pandas {pandas.__version__}; scales {', '.join(map(scale_label, args.scales))}"
    )
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
        if not args.skip_measures:
            measures_benchmark(args, work)
        if not args.skip_import:
            import_benchmark(args, work)
    else:
        with tempfile.TemporaryDirectory(prefix="whatworks-returns-bench-") as folder:
            if not args.skip_measures:
                measures_benchmark(args, Path(folder))
            if not args.skip_import:
                import_benchmark(args, Path(folder))
    print(f"\nwhole benchmark: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
