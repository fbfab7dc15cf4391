"""`whatworks sharing link`: link two agencies' CSV files of children's records."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.errors import WhatworksError
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.sharing.linkage import STANDARD_FIELDS, Linkage, evaluate, link
from whatworks.store import settings

console = Console()
sharing_app = typer.Typer(
    help="Information sharing between agencies: record linkage.", no_args_is_help=True
)
FORMATS = ("table", "json")
#: Fields every file must have (after --map).
REQUIRED = ("record_id", "first_name", "surname", "dob")


def parse_map(items: list[str]) -> dict[str, str]:
    """FIELD=COLUMN items -> {field: column}; fields must be standard fields."""
    mapping = {}
    for item in items:
        field, sep, column = item.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not column:
            raise WhatworksError(f"--map {item!r} must be FIELD=COLUMN, such as dob=DateOfBirth")
        if field not in STANDARD_FIELDS:
            raise WhatworksError(
                f"--map {item!r}: {field!r} is not a field; use one of {', '.join(STANDARD_FIELDS)}"
            )
        mapping[field] = column
    return mapping


def read_records(
    path: Path, mapping: dict[str, str], truth: str | None = None
) -> tuple[list[dict[str, str]], list[str]]:
    """A CSV file's rows as standard fields (and each row's truth value, if asked for)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            rows = list(reader)
    except OSError as error:
        raise WhatworksError(f"{path} could not be read: {error.strerror}") from None
    if not columns or not rows:
        raise WhatworksError(f"{path} is empty: it needs a header row and at least one record")
    wanted = {field: mapping.get(field, field) for field in STANDARD_FIELDS}
    for field in REQUIRED:
        if wanted[field] not in columns:
            raise WhatworksError(
                f"{path} has no column {wanted[field]!r} for {field}; its columns are "
                f"{', '.join(columns)}. Map one with --map {field}=COLUMN"
            )
    for field, column in mapping.items():
        if column not in columns:
            raise WhatworksError(f"{path} has no column {column!r} (--map {field}={column})")
    if truth is not None and truth not in columns:
        raise WhatworksError(f"{path} has no truth column {truth!r}")
    records = [
        {field: row.get(column) or "" for field, column in wanted.items() if column in columns}
        for row in rows
    ]
    return records, [row[truth] or "" for row in rows] if truth else []


def _write_pairs(result: Linkage, out: Path) -> None:
    links = {(p.left_id, p.right_id) for p in result.links()}
    review = {(p.left_id, p.right_id) for p in result.review_queue()}
    names = [c.comparison for c in result.pairs[0].explanation] if result.pairs else []
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["left_id", "right_id", "probability", "match_weight", "linked", "review", "guard"]
            + ["left_person", "right_person"]
            + [f"weight_{name}" for name in names]
        )
        for p in result.pairs:
            pair = (p.left_id, p.right_id)
            writer.writerow(
                [p.left_id, p.right_id, f"{p.probability:.6f}", f"{p.match_weight:.3f}"]
                + [int(pair in links), int(pair in review), p.guard or ""]
                + [
                    result.clusters[(result.left_name, p.left_id)],
                    result.clusters[(result.right_name, p.right_id)],
                ]
                + [f"{c.weight:.3f}" for c in p.explanation]
            )


@sharing_app.command("link")
def link_command(
    left: Path = typer.Argument(..., help="The first agency's CSV file."),
    right: Path = typer.Argument(..., help="The second agency's CSV file."),
    maps: list[str] = typer.Option(
        [], "--map", help="FIELD=COLUMN: the CSV column holding a standard field (repeatable)."
    ),
    threshold: float = typer.Option(
        None, "--threshold", help="Match probability to link at; default: chosen by the model."
    ),
    truth_left: str = typer.Option(None, "--truth-left", help="LEFT's column of true ids."),
    truth_right: str = typer.Option(None, "--truth-right", help="RIGHT's column of true ids."),
    out: Path = typer.Option(None, "--out", help="Write every scored pair to this CSV file."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Link two agencies' records of children with Splink; with truth columns, measure
    precision, recall and F1."""
    if output not in FORMATS:
        raise WhatworksError(f"--format must be one of {', '.join(FORMATS)}, not {output!r}.")
    if (truth_left is None) != (truth_right is None):
        raise WhatworksError("Give both --truth-left and --truth-right, or neither.")
    mapping = parse_map(maps)
    left_rows, left_truth = read_records(left, mapping, truth_left)
    right_rows, right_truth = read_records(right, mapping, truth_right)
    started = time.perf_counter()
    result = link(
        left_rows,
        right_rows,
        load_or_create_key(settings().data_dir),
        threshold=threshold,
        engine=settings().engine,
        names=(left.stem, right.stem) if left.stem != right.stem else ("left", "right"),
    )
    seconds = time.perf_counter() - started
    report: dict[str, object] = {
        "left": str(left),
        "right": str(right),
        "left_records": len(left_rows),
        "right_records": len(right_rows),
        "pairs_scored": len(result.pairs),
        "pairs_linked": len(result.links()),
        "pairs_for_review": len(result.review_queue()),
        "clusters": result.cluster_count(),
        "threshold": vars(result.threshold),
        "seconds": round(seconds, 2),
    }
    if truth_left is not None:
        by_truth: dict[str, list[str]] = {}
        for row, value in zip(right_rows, right_truth, strict=True):
            if value:
                by_truth.setdefault(value, []).append(row["record_id"])
        truth = {
            (row["record_id"], other)
            for row, value in zip(left_rows, left_truth, strict=True)
            for other in by_truth.get(value, [])
        }
        scores = evaluate({(p.left_id, p.right_id) for p in result.links()}, truth)
        report["evaluation"] = vars(scores)
    if out is not None:
        _write_pairs(result, out)
        report["out"] = str(out)
    if output == "json":
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table("measure", "value", title=f"{left.name} x {right.name}")
    for measure, shown in report.items():
        if isinstance(shown, dict):
            for inner, figure in shown.items():
                table.add_row(
                    f"{measure} {inner}",
                    f"{figure:.4f}" if isinstance(figure, float) else str(figure),
                )
        else:
            table.add_row(measure, str(shown))
    console.print(table)
