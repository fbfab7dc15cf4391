"""Benchmark: latency of a local authority's profile, page and JSON, against the simplest page.

Run with `.venv/bin/python benchmarks/place_page.py` (or `make bench`).

Builds a fresh SQLite store (migrations, the bundled places, and the published files the
indicator catalogue reads), then sends requests through `fastapi.testclient.TestClient`
to the app from `create_app`, in this one process:

- `/places/E09000003` (Barnet's page: 12 series, 5 headline charts, neighbours),
- `/api/places/E09000003` (the same data as JSON, no charts),
- `/accessibility` (the baseline: the simplest page of the same app, a template and no
  query), with the same middleware, session cookie and page layout.

The first request to each is reported on its own ("cold": templates are compiled, and the
place page's first chart starts vl-convert's JavaScript engine; rendered SVGs are then kept
in an in-process cache). Then N rounds send one request to each in turn, so all three see
the same machine load, and the median and 95th percentile of each are printed with their
ratio to the baseline. Finally the place page is timed with the chart cache emptied before
each request, which is what the first visitor to each authority's page meets, and the
parts of a warm place page are timed on their own. Figures are recorded in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whatworks.config import Settings
from whatworks.core import charts
from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.outcomes.catalogue import catalogue
from whatworks.outcomes.series import LA, NATIONAL, REGION, period_label, series
from whatworks.places.places import local_authority, neighbours
from whatworks.web.app import create_app

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

CODE = "E09000003"
PAGE = f"/places/{CODE}"
API = f"/api/places/{CODE}"
BASELINE = "/accessibility"
ENGLAND = "E92000001"


def build_store(folder: Path) -> tuple[str, float, int]:
    """A migrated SQLite store with the places and every file the catalogue reads."""
    from catalogue_store import build_store as build

    url = f"sqlite:///{folder / 'whatworks.sqlite'}"
    seconds, values = build(url)
    return url, seconds, values


def timed_get(client: TestClient, path: str, expect: str) -> float:
    """Milliseconds for one GET, after checking it is the real page and not an error."""
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200 or expect not in response.text:
        raise SystemExit(f"{path}: status {response.status_code}, {expect!r} not in the page")
    return elapsed


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def median_ms(function: Callable[[], Any], times: int = 15) -> float:
    """Median milliseconds of `times` calls, after one call to warm up."""
    function()
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def parts(url: str) -> dict[str, float]:
    """Milliseconds of each part of a warm place page, called directly (not via HTTP)."""
    engine = create_db_engine(url)
    found: dict[str, float] = {}
    with make_session_factory(engine)() as session:
        la = local_authority(session, CODE)
        own = series(session, catalogue(), LA, la.old_la_code)
        headline = [item for item in catalogue() if item.headline]
        found["series, this authority (whole catalogue)"] = median_ms(
            lambda: series(session, catalogue(), LA, la.old_la_code)
        )
        found["series, England (whole catalogue)"] = median_ms(
            lambda: series(session, catalogue(), NATIONAL, ENGLAND)
        )
        found["series, its region (whole catalogue)"] = median_ms(
            lambda: series(session, catalogue(), REGION, la.region_code)
        )
        found["neighbours"] = median_ms(lambda: neighbours(session, la.new_la_code))
        found[f"line_spec, {len(headline)} headline charts (Altair to dict)"] = median_ms(
            lambda: [
                charts.line_spec(
                    [(period_label(p.period), p.value) for p in own[item.id]], item.unit
                )
                for item in headline
            ]
        )
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=60, metavar="N", help="rounds of warm requests (60)"
    )
    parser.add_argument(
        "--uncached", type=int, default=5, metavar="N", help="place pages with no chart cache (5)"
    )
    args = parser.parse_args()
    print(f"place page benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="whatworks-bench-") as name:
        folder = Path(name)
        url, build_seconds, values = build_store(folder)
        print(f"store built in {build_seconds:.1f} s ({values:,} published values)")
        settings = Settings(
            data_dir=folder,
            database_url=url,
            secret_key="benchmark-secret-key-not-for-use",
            engine="duckdb",
            secure_cookies=False,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Using `httpx`")  # Starlette's notice
            from fastapi.testclient import TestClient

        routes = {BASELINE: "ccessibility", PAGE: "Barnet", API: "Barnet"}
        with TestClient(create_app(settings)) as client:
            cold = {path: timed_get(client, path, expect) for path, expect in routes.items()}
            warm: dict[str, list[float]] = {path: [] for path in routes}
            for _ in range(args.requests):
                for path, expect in routes.items():
                    warm[path].append(timed_get(client, path, expect))
            uncached = []
            for _ in range(args.uncached):
                charts._render.cache_clear()
                charts.line_svg.cache_clear()
                uncached.append(timed_get(client, PAGE, "Barnet"))
        split = parts(url)
        print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")

    base = statistics.median(warm[BASELINE])
    print(f"\n{'':26} {'cold 1st':>10} {'median':>9} {'p95':>9} {'median / baseline':>18}")
    for path in routes:
        middle = statistics.median(warm[path])
        label = f"{path} (baseline)" if path == BASELINE else path
        print(
            f"{label:26} {cold[path]:>8.1f}ms {middle:>7.1f}ms {p95(warm[path]):>7.1f}ms "
            f"{middle / base:>17.1f}x"
        )
    print(f"({args.requests} warm requests each, interleaved; cold = the first request)")
    middle = statistics.median(uncached)
    print(
        f"{PAGE} with the chart cache emptied: median {middle:.1f} ms over {args.uncached} "
        f"requests ({middle / statistics.median(warm[PAGE]):.1f}x the warm page)"
    )
    print("\nparts of a warm place page, called directly (median of 15 calls):")
    for label, ms in split.items():
        print(f"  {label:58} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
