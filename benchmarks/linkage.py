"""Benchmark: record linkage of two agencies' records, whatworks (Splink on DuckDB) against
the Python `recordlinkage` toolkit, on the same synthetic data, side by side.

Run with `.venv/bin/python benchmarks/linkage.py` (needs `recordlinkage`, which `make
bench` installs without its dependencies: it asks for pandas<3 but runs on pandas 3).
Options: `--sizes 10000,100000` (records on each side; default 100,000 and 1,000,000),
`--seed N` (of the synthetic data and of Splink's sampling; default 1), `--keep DIR` (keep
the generated CSV files in DIR and reuse them next time), `--sides whatworks,recordlinkage`
(run only some sides).

The data: `whatworks.sharing.synthetic.generate(people, seed, "standard",
("council", "health"))` with enough children (size / 0.85, plus 1 %) that the council
(coverage 0.85) and health (0.95) each hold at least `size` records; each agency's first
`size` records (the generator shuffles them, so a random sample) are written to
`council.csv` and `health.csv`. The truth is the `person_id` column: every (council,
health) pair of the same child. Neither side reads it until its clock has stopped.

Each side is a fresh Python process of its own, so its wall time, CPU time and peak
resident memory (`ru_maxrss`, which counts DuckDB's and NumPy's own allocations) are its
own. The CSV is read into rows and the modules imported before the clock starts; the clock
covers standardising, blocking, comparing, training and classifying.

- whatworks: `sharing.linkage.link(council, health, key, seed=seed)` exactly as the CLI
  runs it (standardise, Splink training, scoring every blocked pair, the chosen threshold,
  the sibling guard, clusters); the links are `result.links()`.
- recordlinkage (0.16): the records standardised by the same `linkage.standardise` (so both
  sides compare the same cleaned values), then
  * blocking: the union of the same blocks Splink scores (NHS number and UPN where both
    sides hold some, and each key set of `linkage.BLOCKING_KEYS`, on the columns
    `linkage.standardise` derives for them), by `Index.block` on each; so both sides
    compare the same candidate pairs;
  * comparisons, each 0/1 as the ECM classifier needs: first name Jaro-Winkler >= 0.85,
    formal first name exact (the nickname table), surname Jaro-Winkler >= 0.85, date of
    birth exact, postcode exact, sex exact, NHS number and UPN exact (where both sides
    hold some); a missing value counts as disagreeing (the toolkit's default);
  * classification, unsupervised: `ECMClassifier` (expectation-conditional maximisation,
    Fellegi-Sunter with independent binary features); and, from the same features, a fixed
    rule (sum of agreements >= 5 of the 7 or 8) for comparison, its time not counted.

Precision, recall and F1 are pairwise against the truth, with `linkage.evaluate`. The table
shows records per side, true pairs, candidate pairs, links, precision, recall, F1, seconds,
CPU seconds and peak MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SIDES = ("whatworks", "recordlinkage")
AGENCIES = ("council", "health")
KEY = bytes(range(32))
#: recordlinkage: Jaro-Winkler at or above this counts as the names agreeing.
JARO_WINKLER = 0.85
#: recordlinkage: the fixed rule shown beside ECM (agreements out of the features).
SUM_RULE = 5


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


class Clock:
    """Wall and CPU time and peak resident memory of this process."""

    def __enter__(self) -> Clock:
        self.cpu = time.process_time()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu
        self.peak = _peak_kib()

    def figures(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu, "peak_rss_kib": self.peak}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def true_pairs(left: list[dict[str, str]], right: list[dict[str, str]]) -> set[tuple[str, str]]:
    by_person: dict[str, list[str]] = {}
    for row in right:
        by_person.setdefault(row["person_id"], []).append(row["record_id"])
    return {(r["record_id"], o) for r in left for o in by_person.get(r["person_id"], [])}


# --- the data -----------------------------------------------------------------------------


def prepare(folder: Path, size: int, seed: int) -> dict[str, Any]:
    """council.csv and health.csv of `size` records each in `folder` (reused if there)."""
    from whatworks.sharing import synthetic

    done = folder / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    people = int(size / min(synthetic.COVERAGE[a] for a in AGENCIES) * 1.01) + 10
    data = synthetic.generate(people, seed, "standard", AGENCIES)
    for agency in AGENCIES:
        rows = data.rows(agency)
        if len(rows) < size:
            raise SystemExit(f"{agency}: only {len(rows)} records for size {size}")
        with (folder / f"{agency}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=synthetic.FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows[:size])
    info = {"people": people, "seconds": time.perf_counter() - began}
    done.write_text(json.dumps(info))
    return info


# --- each side, in a process of its own ---------------------------------------------------


def side_whatworks(left: list[dict[str, str]], right: list[dict[str, str]], seed: int) -> dict:
    from whatworks.sharing import linkage

    with Clock() as clock:
        result = linkage.link(left, right, KEY, seed=seed, names=AGENCIES)
        links = {(p.left_id, p.right_id) for p in result.links()}
    return {
        **clock.figures(),
        "candidates": len(result.pairs),  # scored pairs kept (probability >= linkage.FLOOR)
        "threshold": result.threshold.probability,
        "predicted": links,
    }


def side_recordlinkage(left: list[dict[str, str]], right: list[dict[str, str]], seed: int) -> dict:
    import numpy as np
    import recordlinkage

    from whatworks.sharing import linkage

    with Clock() as clock:
        a = linkage.standardise(left, AGENCIES[0]).set_index("unique_id")
        b = linkage.standardise(right, AGENCIES[1]).set_index("unique_id")
        identifiers = [n for n in linkage.IDENTIFIERS if a[n].notna().any() and b[n].notna().any()]
        indexer = recordlinkage.Index()
        for keys in [*([n] for n in identifiers), *map(list, linkage.BLOCKING_KEYS)]:
            indexer.block(keys)
        candidates = indexer.index(a, b)
        blocked = time.perf_counter()
        compare = recordlinkage.Compare()
        compare.string("first_name", "first_name", "jarowinkler", JARO_WINKLER, label="first_name")
        compare.exact("first_name_formal", "first_name_formal", label="first_name_formal")
        compare.string("surname", "surname", "jarowinkler", JARO_WINKLER, label="surname")
        for name in ("dob", "postcode", "sex", *identifiers):
            compare.exact(name, name, label=name)
        features = compare.compute(candidates, a, b).astype(np.int8)
        compared = time.perf_counter()
        ecm = recordlinkage.ECMClassifier(binarize=None)
        matches = ecm.fit_predict(features)
        links = {(str(x), str(y)) for x, y in matches}
    rule_links = {(str(x), str(y)) for x, y in features.index[features.sum(axis=1) >= SUM_RULE]}
    return {
        **clock.figures(),
        "blocking_seconds": blocked - clock.start,
        "comparing_seconds": compared - blocked,
        "candidates": len(candidates),
        "features": list(features.columns),
        "predicted": links,
        "rule_predicted": rule_links,
    }


def child(side: str, folder: Path, seed: int) -> None:
    left, right = (read_rows(folder / f"{agency}.csv") for agency in AGENCIES)
    import pandas  # noqa: F401  (each side's libraries are loaded before its clock)

    if side == "whatworks":
        import splink  # noqa: F401

        out = side_whatworks(left, right, seed)
    else:
        import recordlinkage  # noqa: F401

        out = side_recordlinkage(left, right, seed)
    from whatworks.sharing.linkage import evaluate

    truth = true_pairs(left, right)
    for name in ("predicted", "rule_predicted"):
        if name in out:
            scores = evaluate(out.pop(name), truth)
            out["scores" if name == "predicted" else "rule_scores"] = vars(scores)
    out.update(left=len(left), right=len(right), truth=len(truth))
    print(json.dumps(out))


def run_side(side: str, folder: Path, seed: int) -> dict[str, Any]:
    process = subprocess.run(
        [sys.executable, __file__, "--child", side, str(folder), str(seed)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
    if process.returncode != 0:
        sys.stderr.write(process.stderr[-4000:])
        return {"error": f"exit {process.returncode}"}
    return json.loads(process.stdout.strip().splitlines()[-1])


# --- report -------------------------------------------------------------------------------


def row(label: str, size: int, r: dict[str, Any], scores: dict[str, Any] | None = None) -> str:
    if "error" in r:
        return f"| {label} | {size:,} | failed ({r['error']}) |" + " |" * 8
    s = scores or r["scores"]
    return (
        f"| {label} | {r['left']:,} x {r['right']:,} | {r['truth']:,} | {r['candidates']:,} "
        f"| {s['true_positives'] + s['false_positives']:,} | {s['precision']:.4f} "
        f"| {s['recall']:.4f} | {s['f1']:.4f} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} "
        f"| {r['peak_rss_kib'] / 1024:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(s) for s in text.split(",")],
        default=[100_000, 1_000_000],
        help="comma-separated records on each side (default 100000,1000000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="data and sampling seed (1)")
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) generated data in DIR")
    parser.add_argument(
        "--sides",
        type=lambda text: text.split(","),
        default=list(SIDES),
        help="comma-separated sides to run (default whatworks,recordlinkage)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return
    unknown = [s for s in args.sides if s not in SIDES]
    if unknown:
        raise SystemExit(f"unknown sides {unknown}; choose from {', '.join(SIDES)}")
    import recordlinkage
    import splink

    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, splink {splink.__version__}, "
        f"recordlinkage {recordlinkage.__version__}; load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(args.keep) if args.keep else Path(temporary)
        lines = []
        for size in args.sizes:
            folder = base / f"seed{args.seed}-{size}"
            info = prepare(folder, size, args.seed)
            print(f"size {size:,}: data from {info['people']:,} children", flush=True)
            for side in args.sides:
                result = run_side(side, folder, args.seed)
                load = os.getloadavg()[0]
                extra = ""
                if "blocking_seconds" in result:
                    extra = (
                        f", blocking {result['blocking_seconds']:.1f} s, comparing "
                        f"{result['comparing_seconds']:.1f} s"
                    )
                elif "threshold" in result:
                    extra = f", threshold {result['threshold']:.3f}"
                print(f"  {side}: {json.dumps(result)}{extra}; load {load:.2f}", flush=True)
                label = "whatworks (Splink)" if side == "whatworks" else "recordlinkage (ECM)"
                lines.append(row(label, size, result))
                if "rule_scores" in result:
                    lines.append(
                        row(
                            f"recordlinkage (sum >= {SUM_RULE})",
                            size,
                            result,
                            result["rule_scores"],
                        )
                    )
        print()
        print(
            "| side | records | true pairs | pairs | links | precision | recall | F1 "
            "| seconds | CPU s | peak MB |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(lines))
        print(
            "\npairs: recordlinkage's candidate pairs; whatworks' pairs kept by Splink "
            "(probability >= linkage.FLOOR) of the same blocked pairs."
        )


if __name__ == "__main__":
    main()
