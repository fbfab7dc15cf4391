"""Benchmark: importing every bundled published (EES) file, against a pandas baseline.

Run with `.venv/bin/python benchmarks/published_import.py` (or `make bench`). The baseline
needs pandas, which whatworks itself does not use: `make bench` installs it through the
`bench` extra, or install it by hand with `.venv/bin/pip install -e '.[bench]'` (or just
`.venv/bin/pip install pandas`).

Two sides, run one after the other in the same command (alternating which goes first when
`--repeat N` is given), each in a fresh Python process of its own so that its wall time and
peak memory are its own; with `--repeat`, the fastest run of each side is shown:

- whatworks: `import_published` of every bundled file into a fresh SQLite store migrated
  with `whatworks.migrations.upgrade`, inside `whatworks.core.db.transaction`; then the
  same import again, which must find every file unchanged.
- pandas (baseline): what a data engineer would write for the same job: `read_csv`, pick
  the measure columns, `melt` to one row per value, turn DfE symbols into a status, and
  `DataFrame.to_sql` into a table of the same shape (the same migrated schema, indexes and
  SQLite settings) in a separate SQLite file. On SQLite it writes through pandas' own
  sqlite3 path (the DB-API connection, committing file by file), which is about twice as
  fast as `to_sql` through a SQLAlchemy connection; on PostgreSQL pandas needs SQLAlchemy,
  so it writes through one, in one transaction. It makes none of the importer's checks (no
  row-by-row problem list, no period or local authority code check, no file hash, so no
  idempotent re-import), but converts the same cells the same way: the stores are
  compared afterwards.

Printed for each side: wall time, values per second, peak resident memory of the process
(ru_maxrss) and how much it grew during the import, and the size of the store; then the
ratio whatworks / pandas. Both stores are counted afterwards, to show they hold the same
values. `--postgres URL` (a server URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres)
also runs both sides on two throwaway databases created on that server and dropped after.
`--tracemalloc` adds the peak of Python allocations (slower: the times are then not the
ones to quote). Figures are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The geographic levels the importer keeps, and the column holding each one's area code.
LEVEL_AREA = {
    "National": "country_code",
    "Regional": "region_code",
    "Local authority": "new_la_code",
}
SIDES = ("whatworks", "pandas")


# --- what each child process does --------------------------------------------------------


def _rss_kib() -> int:
    """Resident memory of this process now, in KiB (Linux)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _store_figures(url: str) -> dict[str, Any]:
    """What the store holds afterwards, counted the same way on both sides."""
    from sqlalchemy import text

    from whatworks.core.db import create_db_engine

    engine = create_db_engine(url)
    with engine.connect() as connection:
        values, numbers, total = connection.execute(
            text("SELECT count(*), count(value), coalesce(sum(value), 0) FROM published_value")
        ).one()
        datasets = connection.execute(text("SELECT count(*) FROM published_dataset")).scalar()
        if url.startswith("sqlite"):
            path = Path(url.removeprefix("sqlite:///"))
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        else:
            size = connection.execute(
                text("SELECT pg_total_relation_size('published_value')")
            ).scalar()
    engine.dispose()
    return {
        "datasets": datasets,
        "stored_values": values,
        "stored_numbers": numbers,
        "sum_of_numbers": round(float(total), 3),
        "store_bytes": size,
    }


def run_whatworks(url: str) -> dict[str, Any]:
    """Import every bundled file with whatworks, then import them all again."""
    from whatworks.core.db import create_db_engine, make_session_factory, transaction
    from whatworks.outcomes.published import bundled_files, import_published

    files = bundled_files()
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    first_write: list[float] = []

    def progress(_count: int) -> None:
        if not first_write:
            first_write.append(time.perf_counter())

    rss_before = _rss_kib()
    cpu = time.process_time()
    start = time.perf_counter()
    with transaction(factory) as session:
        results = import_published(session, files, progress=progress)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = _peak_kib()
    outcomes = {r.outcome for r in results}
    if outcomes != {"added"}:
        raise SystemExit(f"first import: expected every file added, got {outcomes}")

    again = time.perf_counter()
    with transaction(factory) as session:
        repeat = import_published(session, files)
    repeat_seconds = time.perf_counter() - again
    if {r.outcome for r in repeat} != {"unchanged"}:
        raise SystemExit("second import: expected every file unchanged")
    engine.dispose()
    return {
        "files": len(files),
        "values": sum(r.values for r in results),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "checking_seconds": (first_write[0] - start) if first_write else None,
        "repeat_seconds": repeat_seconds,
        "peak_rss_kib": peak,
        "rss_growth_kib": peak - rss_before,
    }


def pandas_import(connection: Any, paths: list[Path]) -> int:
    """The baseline: read_csv, melt and to_sql, one file at a time. Returns values written."""
    import numpy as np
    import pandas as pd

    from whatworks.outcomes.published import GEOGRAPHY_COLUMNS, SYMBOLS

    written = 0
    for dataset_id, path in enumerate(paths, start=1):  # a fresh store: ids from 1
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame.columns = frame.columns.str.strip()
        frame = frame.apply(lambda column: column.str.strip())
        frame["row_number"] = frame.index + 2

        # A column is a measure when most of its cells that are not symbols are numbers
        # (or years:months durations); the other non-geography columns are breakdowns.
        def numeric(cells: pd.Series) -> pd.Series:
            number = pd.to_numeric(cells, errors="coerce")
            rest = cells[number.isna()]
            parts = rest.str.extract(r"^(\d{1,2}):(\d{2})$").astype(float)
            return number.fillna(parts[0] * 12 + parts[1])

        measures, filters = [], []
        for name in frame.columns.drop("row_number"):
            if name in GEOGRAPHY_COLUMNS:
                continue
            cells = frame[name][~frame[name].isin(list(SYMBOLS))]
            numbers = int(numeric(cells).notna().sum())
            (measures if numbers and numbers * 2 >= len(cells) else filters).append(name)

        frame = frame[frame["geographic_level"].isin(list(LEVEL_AREA))].copy()
        area = pd.Series("", index=frame.index)
        for level, column in LEVEL_AREA.items():
            if column in frame:
                area = area.mask(frame["geographic_level"] == level, frame[column])
        frame["area_code"] = area
        if "old_la_code" in frame:
            frame["old_la_code"] = frame["old_la_code"].mask(frame["old_la_code"] == "")
        else:
            frame["old_la_code"] = None
        frame["filters"] = [
            json.dumps(row, sort_keys=True) for row in frame[filters].to_dict("records")
        ]
        long = frame.melt(
            id_vars=[
                "row_number",
                "time_period",
                "time_identifier",
                "geographic_level",
                "area_code",
                "old_la_code",
                "filters",
            ],
            value_vars=measures,
            var_name="measure",
            value_name="raw",
        ).rename(columns={"time_period": "period"})
        long["value"] = numeric(long["raw"])
        long["status"] = np.where(long["value"].notna(), "value", long["raw"])
        long["raw"] = long["raw"].str.slice(0, 40)

        dataset = {
            "id": dataset_id,
            "name": path.stem,
            "file_name": path.name,
            "sha256": "",
            "measures": json.dumps(measures),
            "filters": json.dumps(filters),
            "row_count": len(frame),
            "value_count": len(long),
            "imported_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        }
        pd.DataFrame([dataset]).to_sql(
            "published_dataset", connection, if_exists="append", index=False
        )
        long.insert(0, "dataset_id", dataset_id)
        long.to_sql(
            "published_value", connection, if_exists="append", index=False, chunksize=20_000
        )
        written += len(long)
    return written


def run_pandas(url: str) -> dict[str, Any]:
    """The pandas baseline on the same files, into a table of the same shape."""
    import pandas  # noqa: F401  (imported before the clock starts, like whatworks' modules)

    from whatworks.core.db import create_db_engine
    from whatworks.outcomes.published import bundled_files

    files = bundled_files()
    engine = create_db_engine(url)
    rss_before = _rss_kib()
    cpu = time.process_time()
    start = time.perf_counter()
    if url.startswith("sqlite"):
        # pandas' own SQLite path, on the sqlite3 connection beneath the same engine (so with
        # the same settings): it commits file by file, and is faster than through SQLAlchemy.
        raw = engine.raw_connection()
        try:
            values = pandas_import(raw.driver_connection, files)
        finally:
            raw.close()
    else:
        with engine.begin() as connection:
            values = pandas_import(connection, files)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = _peak_kib()
    engine.dispose()
    return {
        "files": len(files),
        "values": values,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_kib": peak,
        "rss_growth_kib": peak - rss_before,
    }


def child(side: str, url: str, trace: bool) -> None:
    """One side of the benchmark in this (fresh) process; prints its figures as JSON."""
    from whatworks import migrations

    migrations.upgrade(url)
    if trace:
        import tracemalloc

        tracemalloc.start()
    figures = run_whatworks(url) if side == "whatworks" else run_pandas(url)
    if trace:
        figures["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
    figures.update(_store_figures(url))
    print(json.dumps(figures))


# --- the parent: runs both sides and prints the comparison --------------------------------


def _run_child(side: str, url: str, trace: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", side, url]
    if trace:
        command.append("--tracemalloc")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the {side} side failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def compare(label: str, urls: Callable[[int], dict[str, str]], repeat: int, trace: bool) -> None:
    """Run both sides `repeat` times, alternating which goes first, on fresh stores from
    `urls(round)`; print the fastest run of each side side by side, with the ratio."""
    load = os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for round_ in range(repeat):
        chosen = urls(round_)
        for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            runs[side].append(_run_child(side, chosen[side], trace))
    ww, pd_ = (min(runs[side], key=lambda f: f["seconds"]) for side in SIDES)
    best = f", fastest of {repeat} runs each" if repeat > 1 else ""
    print(f"\n== {label}: {ww['files']} bundled files{best} ==")
    print(f"load average (1 min) before {load:.2f}, after {os.getloadavg()[0]:.2f}")
    if repeat > 1:
        for side in SIDES:
            walls = ", ".join(f"{f['seconds']:.1f}" for f in runs[side])
            print(f"every run of {side}, wall seconds in order: {walls}")
    rows = [
        ("wall time, first import", lambda f: f"{f['seconds']:.2f} s"),
        ("CPU time of the process", lambda f: f"{f['cpu_seconds']:.2f} s"),
        ("values written", lambda f: f"{f['values']:,}"),
        ("values per second", lambda f: f"{f['values'] / f['seconds']:,.0f}"),
        ("peak RSS of the process", lambda f: _mib(f["peak_rss_kib"])),
        ("RSS growth during the import", lambda f: _mib(f["rss_growth_kib"])),
        ("store size afterwards", lambda f: f"{f['store_bytes'] / 2**20:,.0f} MiB"),
        ("numbers stored", lambda f: f"{f['stored_numbers']:,}"),
        ("sum of the numbers", lambda f: f"{f['sum_of_numbers']:,.1f}"),
    ]
    if trace:
        rows.append(("tracemalloc peak", lambda f: _mib(f["tracemalloc_peak_kib"])))
    print(f"{'':32} {'whatworks':>16} {'pandas baseline':>16}")
    for name, show in rows:
        print(f"{name:32} {show(ww):>16} {show(pd_):>16}")
    if ww["checking_seconds"] is not None:
        writing = ww["seconds"] - ww["checking_seconds"]
        print(
            f"whatworks split: checking every file (to the first batch written) "
            f"{ww['checking_seconds']:.2f} s, then writing {writing:.2f} s"
        )
    print(f"second import (unchanged files, whatworks only): {ww['repeat_seconds'] * 1000:.0f} ms")
    same = all(ww[k] == pd_[k] for k in ("stored_values", "stored_numbers", "sum_of_numbers"))
    print(f"both stores hold the same values: {'yes' if same else 'NO'}")
    print(
        f"ratio whatworks / pandas: wall time {ww['seconds'] / pd_['seconds']:.2f}x, "
        f"CPU time {ww['cpu_seconds'] / pd_['cpu_seconds']:.2f}x, "
        f"peak RSS {ww['peak_rss_kib'] / pd_['peak_rss_kib']:.2f}x, "
        f"RSS growth {ww['rss_growth_kib'] / max(pd_['rss_growth_kib'], 1):.2f}x"
    )
    if trace:
        print("(--tracemalloc was on: the times above are slowed by it)")


def _postgres(server: str, repeat: int, trace: bool) -> None:
    from sqlalchemy import text

    from whatworks.core.db import create_db_engine

    admin = create_db_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    base = server.rsplit("/", 1)[0]
    created: list[str] = []

    def fresh(_round: int) -> dict[str, str]:
        urls = {}
        with admin.connect() as connection:
            for side in SIDES:
                name = f"whatworks_bench_{side}_{uuid.uuid4().hex[:8]}"
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
                urls[side] = f"{base}/{name}"
        return urls

    try:
        compare("PostgreSQL", fresh, repeat, trace)
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report the peak of Python allocations"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run each side N times (default 1)"
    )
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.tracemalloc)
        return
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise SystemExit("The baseline needs pandas: .venv/bin/pip install -e '.[bench]'") from None
    print(f"published import benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="whatworks-bench-") as folder:

        def fresh(round_: int) -> dict[str, str]:
            return {side: f"sqlite:///{Path(folder) / side}-{round_}.sqlite" for side in SIDES}

        compare("SQLite", fresh, args.repeat, args.tracemalloc)
    if args.postgres:
        _postgres(args.postgres, args.repeat, args.tracemalloc)


if __name__ == "__main__":
    main()
