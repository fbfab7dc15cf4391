"""Benchmark: building every local authority's default scorecard, against reading its rows.

Run with `.venv/bin/python benchmarks/scorecards.py` (or `make bench`); `--postgres URL`
(a server URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres) also runs it on a
throwaway database created on that server and dropped afterwards.

Builds a fresh store (migrations, the bundled places, and the published files the
indicator catalogue reads), then, in this one process and without HTTP:

- whatworks: `local_authority_scorecard(session, la, default_headline(), secondary)`, with
  secondary the catalogue's other indicators, for each of the current local authorities
  (`local_authorities(session)`, 153), each in a fresh session as a web request would have.
  The first call of a round starts with the scorecard cache emptied, so it loads the
  cached `Context` (every indicator's series for every authority, region and England: 3
  queries, JSON-decoded and grouped); the other 152 calls find it cached. Printed: the
  first call, the total for all of them (first included), and the median and 95th
  percentile of the 152 cached ones.
- baseline: the floor of any scorecard build: the same rows read straight from the store
  with one plain SQL query (`SELECT ... FROM published_value WHERE dataset_id IN (...) AND
  measure IN (...) AND geographic_level IN (...)`: the datasets, measures and levels that
  `load_context` asks for) on the DB-API connection beneath the same engine, every row
  fetched into Python tuples and nothing else done with them.

Each of `--rounds N` rounds (default 3) runs the baseline and whatworks one after the
other, alternating which goes first; the median of the rounds is shown beside every
round's figure. The ratios printed are whatworks' first call, its total for every
authority and its cached median, each to the baseline's query. Then the parts of the
first call and of a cached one are timed on their own, and four threads call
`load_context` together on an emptied cache, counting the Contexts they build (by
wrapping the scorecard module's `fetch_rows` for that run only). Figures are recorded in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalogue_store import build_store
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.outcomes import scorecard
from whatworks.outcomes.catalogue import catalogue, default_headline
from whatworks.outcomes.models import PublishedDataset
from whatworks.outcomes.scorecard import load_context, local_authority_scorecard
from whatworks.outcomes.series import LA, NATIONAL, REGION, fetch_rows, pairs_for, points_by_area
from whatworks.places.models import LocalAuthority
from whatworks.places.places import local_authorities

LEVELS = (LA, REGION, NATIONAL)


def baseline_query(engine: Engine) -> tuple[str, list[Any]]:
    """The plain SQL that reads the rows `load_context` reads, and its parameters."""
    pairs = pairs_for(catalogue())
    with engine.connect() as connection:
        ids = sorted(
            connection.execute(
                select(PublishedDataset.id).where(
                    PublishedDataset.name.in_({dataset for dataset, _ in pairs})
                )
            ).scalars()
        )
    measures = sorted({measure for _, measure in pairs})
    mark = "?" if engine.dialect.name == "sqlite" else "%s"

    def marks(n: int) -> str:
        return ", ".join([mark] * n)

    sql = (
        "SELECT dataset_id, measure, geographic_level, area_code, old_la_code, period, value, "
        f"status, filters FROM published_value WHERE dataset_id IN ({marks(len(ids))}) "
        f"AND measure IN ({marks(len(measures))}) AND geographic_level IN ({marks(len(LEVELS))})"
    )
    return sql, [*ids, *measures, *LEVELS]


def run_baseline(engine: Engine, sql: str, params: list[Any]) -> tuple[float, int]:
    """Seconds to run the plain query and fetch every row; the number of rows."""
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        start = time.perf_counter()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        seconds = time.perf_counter() - start
        cursor.close()
    finally:
        raw.close()
    return seconds, len(rows)


def run_whatworks(engine: Engine, authorities: list[LocalAuthority]) -> list[float]:
    """Seconds for each authority's default scorecard, the first with the cache emptied."""
    factory = make_session_factory(engine)
    headline = default_headline()
    secondary = tuple(item for item in catalogue() if not item.headline)
    scorecard._cache.clear()
    times = []
    for la in authorities:
        start = time.perf_counter()
        with factory() as session:
            rows = local_authority_scorecard(session, la, headline, secondary)
        times.append(time.perf_counter() - start)
        if len(rows) != len(catalogue()):
            raise SystemExit(f"{la.name}: {len(rows)} rows, expected {len(catalogue())}")
    return times


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def median_ms(
    function: Callable[[], Any], times: int = 3, before: Callable[[], Any] | None = None
) -> str:
    """Median milliseconds of `times` calls, each after `before()` if given (untimed)."""
    samples = []
    for _ in range(times):
        if before is not None:
            before()
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return f"{statistics.median(samples):.1f} ms"


def parts(engine: Engine, authorities: list[LocalAuthority]) -> dict[str, str]:
    """The parts of a first scorecard, and of a cached one, called directly."""
    items = catalogue()
    pairs = pairs_for(items)
    factory = make_session_factory(engine)
    headline = default_headline()
    secondary = tuple(item for item in items if not item.headline)
    found: dict[str, str] = {}
    with factory() as session:
        fetched = {level: fetch_rows(session, pairs, level, None) for level in LEVELS}
        for level in LEVELS:
            found[f"fetch_rows, {level} (query, JSON-decode each breakdown)"] = median_ms(
                lambda level=level: fetch_rows(session, pairs, level, None)  # type: ignore[misc]
            )
        found["points_by_area, every indicator at the 3 levels"] = median_ms(
            lambda: [points_by_area(item, fetched[level]) for level in LEVELS for item in items]
        )
        found["load_context, cache emptied (all of the above)"] = median_ms(
            lambda: load_context(session), before=scorecard._cache.clear
        )
        context = load_context(session)
        found["load_context, cached (the fingerprint query)"] = median_ms(
            lambda: load_context(session), times=50
        )
        la = next(a for a in authorities if a.new_la_code == "E09000003")
        found["local_authority_scorecard, cached, E09000003, same session"] = median_ms(
            lambda: local_authority_scorecard(session, la, headline, secondary), times=50
        )
        found["  of which Context.at_period for its 23 rows (for the rank)"] = median_ms(
            lambda: [
                context.at_period(item, points[-1].period)
                for item in items
                if (points := context.points(item, LA, la.old_la_code))
            ],
            times=50,
        )
    # Four requests arriving together on an empty cache (after a restart, or after a
    # published file changes): the lock is held only around the dictionary, so each may
    # load a Context of its own. Counted by wrapping the scorecard module's fetch_rows
    # (three calls per Context).
    threads, calls = 4, [0]
    original = scorecard.fetch_rows

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    def one() -> None:
        with factory() as own:
            load_context(own)

    scorecard._cache.clear()
    scorecard.fetch_rows = counted
    try:
        workers = [threading.Thread(target=one) for _ in range(threads)]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall = (time.perf_counter() - start) * 1000
    finally:
        scorecard.fetch_rows = original
    found[f"load_context, cache emptied, {threads} threads at once (wall, one run)"] = (
        f"{wall:.1f} ms, {calls[0] // len(LEVELS)} Contexts built"
    )
    return found


def compare(label: str, url: str, rounds: int) -> None:
    """Build the store at `url`, then run both sides `rounds` times and print them."""
    build_seconds, values = build_store(url)
    print(f"\n== {label} ==")
    print(f"store built in {build_seconds:.1f} s ({values:,} published values)")
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        authorities = local_authorities(session)
    sql, params = baseline_query(engine)
    load = os.getloadavg()[0]
    base: list[float] = []
    first: list[float] = []
    total: list[float] = []
    middle: list[float] = []
    high: list[float] = []
    rows_read = 0
    for round_ in range(rounds):
        for side in ("baseline", "whatworks") if round_ % 2 == 0 else ("whatworks", "baseline"):
            if side == "baseline":
                seconds, rows_read = run_baseline(engine, sql, params)
                base.append(seconds)
            else:
                times = run_whatworks(engine, authorities)
                first.append(times[0])
                total.append(sum(times))
                middle.append(statistics.median(times[1:]))
                high.append(p95(times[1:]))
    with make_session_factory(engine)() as session:
        pairs = pairs_for(catalogue())
        kept = sum(
            len(found)
            for level in LEVELS
            for found in fetch_rows(session, pairs, level, None).values()
        )
    split = parts(engine, authorities)
    engine.dispose()
    print(f"load average (1 min) before {load:.2f}, after {os.getloadavg()[0]:.2f}")
    print(
        f"{len(authorities)} current local authorities, {len(catalogue())} indicators "
        f"({len(default_headline())} headline); the baseline reads {rows_read:,} rows "
        f"(load_context keeps {kept:,} of them)"
    )

    def ms(samples: list[float]) -> str:
        every = ", ".join(f"{s * 1000:.1f}" for s in samples)
        return f"{statistics.median(samples) * 1000:>9.1f} ms   ({every})"

    print(f"\n{'median of ' + str(rounds) + ' rounds':52} {'':>12}   (every round)")
    print(f"{'baseline: one plain query, rows fetched':52} {ms(base)}")
    print(f"{'whatworks: first scorecard (loads the Context)':52} {ms(first)}")
    every = f"whatworks: all {len(authorities)} scorecards (first included)"
    print(f"{every:52} {ms(total)}")
    print(f"{'whatworks: one cached scorecard, median':52} {ms(middle)}")
    print(f"{'whatworks: one cached scorecard, p95':52} {ms(high)}")
    floor = statistics.median(base)
    print(
        f"ratio to the baseline query: first scorecard "
        f"{statistics.median(first) / floor:.1f}x, all {len(authorities)} scorecards "
        f"{statistics.median(total) / floor:.1f}x, one cached scorecard "
        f"{statistics.median(middle) / floor:.2f}x"
    )
    print("\nparts, called directly (median of 3 calls, 50 for the cached ones):")
    for name, value in split.items():
        print(f"  {name:66} {value:>10}")


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A throwaway database on `server`, dropped afterwards."""
    admin = create_db_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"whatworks_bench_scorecards_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument(
        "--rounds", type=int, default=3, metavar="N", help="rounds of each side (default 3)"
    )
    args = parser.parse_args()
    print(f"scorecards benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="whatworks-bench-") as name:
        compare("SQLite", f"sqlite:///{Path(name) / 'whatworks.sqlite'}", args.rounds)
    if args.postgres:
        with postgres_database(args.postgres) as url:
            compare("PostgreSQL", url, args.rounds)


if __name__ == "__main__":
    main()
