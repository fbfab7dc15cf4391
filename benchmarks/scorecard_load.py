"""Benchmark: a bounded loopback load test of the scorecard page, against the simplest page.

Run with `.venv/bin/python benchmarks/scorecard_load.py` (or `make bench`).

Builds a fresh SQLite store in a temporary folder (migrations, the bundled places, and the
published files the indicator catalogue reads), then starts the app from `create_app` with
uvicorn (one worker, in a subprocess of its own so that it does not share the client's
interpreter) on 127.0.0.1 and a free port: loopback only, never any other address. It
waits for the server to answer, warms it with one request to a scorecard (which loads the
cached scorecard Context; its time is printed) and one to `/accessibility`, then sends:

- `/places/{code}/scorecard` for each of the 153 current local authorities' new codes in
  turn, cycling, `--requests` times (default 300);
- `/accessibility` (the baseline: the simplest page of the same app, a template and no
  query, with the same middleware, session cookie and page layout), as many times.

The two run one after the other, in four phases of half the requests each, in the order
baseline, scorecard, scorecard, baseline, so that both see the same drift in machine load.
Each phase uses `--concurrency` threads (default 4), each with its own keep-alive
`http.client` connection; a phase stops early when its share of `--max-seconds` (default
60, so 15 s a phase) runs out. A response counts as an error unless it is a 200 with the
page's own text in it. For each side: requests per second (requests / wall time of its
phases), median (p50), p95 and maximum latency seen by the client, errors (must be 0), and
the server process's CPU time per request (from /proc); then the ratios, and the server's
resident memory when ready, after the warm-up and after the load. The server is
stopped at the end. Figures are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"  # loopback only
BASELINE = "/accessibility"


def build_store(folder: Path) -> tuple[str, float, int]:
    """A migrated SQLite store with the places and every file the catalogue reads."""
    from catalogue_store import build_store as build

    url = f"sqlite:///{folder / 'whatworks.sqlite'}"
    seconds, values = build(url)
    return url, seconds, values


def current_codes(url: str) -> list[str]:
    """New codes of the current local authorities, in the app's order (by name)."""
    from whatworks.core.db import create_db_engine, make_session_factory
    from whatworks.places.places import local_authorities

    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        codes = [la.new_la_code for la in local_authorities(session)]
    engine.dispose()
    return codes


def serve(port: int, folder: str, url: str) -> None:
    """The server side (run in its own process): uvicorn on loopback with the app."""
    import uvicorn

    from whatworks.config import Settings
    from whatworks.web.app import create_app

    settings = Settings(
        data_dir=Path(folder),
        database_url=url,
        secret_key="bench",
        engine="duckdb",
        secure_cookies=False,
    )
    uvicorn.run(create_app(settings), host=HOST, port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident memory of a process now, in MiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def get(connection: http.client.HTTPConnection, path: str, expect: str) -> tuple[float, bool]:
    """Seconds for one GET on a keep-alive connection, and whether it was the real page."""
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    return elapsed, response.status == 200 and expect.encode() in body


@dataclass
class Side:
    """What one side's phases measured."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    cut_short: int = 0


def phase(
    port: int,
    jobs: list[tuple[str, str]],
    concurrency: int,
    seconds: float,
    side: Side,
    server_pid: int,
) -> None:
    """Send `jobs` (path, expected text) with `concurrency` threads, for at most `seconds`."""
    lock = threading.Lock()
    queue = iter(jobs)
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    job = next(queue, None)
                if job is None:
                    return
                try:
                    elapsed, ok = get(connection, *job)
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, port, timeout=30)
                    with lock:
                        side.errors += 1
                    continue
                with lock:
                    side.latencies.append(elapsed)
                    side.errors += 0 if ok else 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu = cpu_seconds(server_pid)
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    side.wall += time.perf_counter() - start
    side.cpu += cpu_seconds(server_pid) - cpu
    side.cut_short += sum(1 for _ in queue)


def wait_ready(port: int, server: subprocess.Popen[bytes], log: Path) -> float:
    """Seconds until the server answers the baseline page."""
    start = time.perf_counter()
    while time.perf_counter() - start < 60:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode}):\n{log.read_text()}")
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            connection.request("GET", BASELINE)
            if connection.getresponse().status == 200:
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise SystemExit(f"the server did not answer within 60 s:\n{log.read_text()}")


def report(name: str, side: Side) -> str:
    done = len(side.latencies)
    ms = sorted(x * 1000 for x in side.latencies)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
    return (
        f"{name:32} {done:>5} {done / side.wall:>8.1f} {statistics.median(ms):>8.1f} "
        f"{p95:>8.1f} {ms[-1]:>8.1f} {side.errors:>6} {side.cpu / done * 1000:>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=300, metavar="N", help="requests to each page (300)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="client threads (4)"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60, metavar="S", help="cap on all the load (60)"
    )
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "FOLDER", "URL"), help="(internal)")
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.serve[2])
        return
    if not 1 <= args.requests <= 5000 or not 1 <= args.concurrency <= 16:
        raise SystemExit("--requests must be 1-5000 and --concurrency 1-16")
    print(f"scorecard load benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="whatworks-bench-") as name:
        folder = Path(name)
        url, build_seconds, values = build_store(folder)
        codes = current_codes(url)
        print(f"store built in {build_seconds:.1f} s ({values:,} published values)")
        port = free_port()
        log = folder / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, __file__, "--serve", str(port), name, url],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            ready = wait_ready(port, server, log)
            print(f"uvicorn on {HOST}:{port} (pid {server.pid}) answered after {ready:.1f} s")
            rss = [rss_mib(server.pid)]
            connection = http.client.HTTPConnection(HOST, port, timeout=60)
            first_page = f"/places/{codes[0]}/scorecard"
            first, ok = get(connection, first_page, f"/places/{codes[0]}/scorecard.csv")
            warm_base, ok_base = get(connection, BASELINE, "ccessibility")
            connection.close()
            rss.append(rss_mib(server.pid))
            if not (ok and ok_base):
                raise SystemExit(f"warm-up failed:\n{log.read_text()}")
            print(
                f"warm-up: first scorecard request {first * 1000:.0f} ms (loads the Context), "
                f"{BASELINE} {warm_base * 1000:.1f} ms"
            )

            half = args.requests // 2
            pages = [
                (f"/places/{code}/scorecard", f"/places/{code}/scorecard.csv") for code in codes
            ]
            cards = [pages[(1 + n) % len(pages)] for n in range(args.requests)]
            bases = [(BASELINE, "ccessibility")] * args.requests
            sides = {"baseline": Side(), "scorecard": Side()}
            share = args.max_seconds / 4
            plan = [
                ("baseline", bases[:half]),
                ("scorecard", cards[:half]),
                ("scorecard", cards[half:]),
                ("baseline", bases[half:]),
            ]
            load_start = os.getloadavg()[0]
            for side, jobs in plan:
                phase(port, jobs, args.concurrency, share, sides[side], server.pid)
            load_end = os.getloadavg()[0]
            rss.append(rss_mib(server.pid))
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        how = "SIGTERM" if server.returncode == -15 else f"exit {server.returncode}"
        print(f"server stopped ({how})")

    base, card = sides["baseline"], sides["scorecard"]
    print(f"load average (1 min) before the load {load_start:.2f}, after {load_end:.2f}")
    print(
        f"server RSS: {rss[0]:.0f} MiB when ready, {rss[1]:.0f} MiB after the warm-up "
        f"(the Context loaded), {rss[2]:.0f} MiB after the load"
    )
    print(
        f"\n{args.concurrency} client threads, phases in the order baseline, scorecard, "
        f"scorecard, baseline; scorecards cycle through all {len(codes)} authorities"
    )
    print(
        f"{'':32} {'reqs':>5} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'errors':>6} {'server CPU ms/req':>9}"
    )
    print(report(f"{BASELINE} (baseline)", base))
    print(report("/places/{code}/scorecard", card))
    for side_name, measured in sides.items():
        if measured.cut_short:
            print(f"{side_name}: {measured.cut_short} requests not sent (time cap reached)")
    rate = (len(base.latencies) / base.wall) / (len(card.latencies) / card.wall)
    p50 = statistics.median(card.latencies) / statistics.median(base.latencies)
    cpu = (card.cpu / len(card.latencies)) / (base.cpu / len(base.latencies))
    print(
        f"ratio scorecard / baseline: p50 latency {p50:.1f}x, requests per second "
        f"1/{rate:.1f}, server CPU per request {cpu:.1f}x"
    )
    errors = base.errors + card.errors
    if errors:
        raise SystemExit(f"{errors} errors: every response must be a 200 with its page")


if __name__ == "__main__":
    main()
