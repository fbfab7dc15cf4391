"""`whatworks sharing link|import|retention|demo-data`: link two agencies' CSV files of
children's records; import an agency's file into a partnership and print its data-quality
profile; delete identifiers whose retention has passed; write synthetic agency files."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.errors import WhatworksError
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.sharing.linkage import STANDARD_FIELDS, Linkage, evaluate, link
from whatworks.store import settings

console = Console()
sharing_app = typer.Typer(
    help="Information sharing between agencies: record linkage, agency datasets, retention.",
    no_args_is_help=True,
)
FORMATS = ("table", "json")
#: Fields every file must have (after --map).
REQUIRED = ("record_id", "first_name", "surname", "dob")


def parse_map(items: list[str], fields: Sequence[str] = STANDARD_FIELDS) -> dict[str, str]:
    """FIELD=COLUMN items -> {field: column}; fields must be among `fields`."""
    mapping = {}
    for item in items:
        field, sep, column = item.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not column:
            raise WhatworksError(f"--map {item!r} must be FIELD=COLUMN, such as dob=DateOfBirth")
        if field not in fields:
            raise WhatworksError(
                f"--map {item!r}: {field!r} is not a field; use one of {', '.join(fields)}"
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


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def print_profile(profile: dict[str, Any]) -> None:
    """A dataset's data-quality profile as a table, one row per standard field."""
    table = Table(
        "field", "column", "filled", "valid", "distinct", "problems",
        title=f"{profile['file']}: {profile['rows']:,} records",
    )  # fmt: skip
    for field, shown in profile["fields"].items():
        if shown.get("filled") is None:
            table.add_row(field, "not mapped", "", "", "", "")
            continue
        problems = "; ".join(
            f"{p['reason']}: {p['count']:,} (rows {', '.join(map(str, p['rows'][:5]))}"
            f"{', ...' if p['count'] > 5 else ''})"
            for p in shown["problems"]
        )
        table.add_row(
            field, shown["column"], _percent(shown["filled_pct"]), _percent(shown["valid_pct"]),
            f"{shown['distinct']:,}", problems,
        )  # fmt: skip
    console.print(table)
    if profile["unmapped_columns"]:
        console.print("Not imported: " + ", ".join(profile["unmapped_columns"]))


@sharing_app.command("import")
def import_command(
    partnership: int = typer.Option(..., "--partnership", help="The partnership's number."),
    agency: str = typer.Option(..., "--agency", help="council, school, health, police or other."),
    file: Path = typer.Option(..., "--file", help="The agency's CSV file (UTF-8)."),
    maps: list[str] = typer.Option(
        [], "--map", help="FIELD=COLUMN: the column holding a standard field (repeatable)."
    ),
    title: str = typer.Option("", "--title", help="A title for the dataset."),
    organisation: int = typer.Option(
        None, "--organisation", help="The member organisation's number, if several are that agency."
    ),
) -> None:
    """Import an agency's CSV file into a partnership under its agreement in force, and print
    the data-quality profile. Columns not given with --map are guessed from their names. The
    import is audited as the operating-system user running the command."""
    import getpass

    from whatworks.core.audit import Actor
    from whatworks.core.db import transaction
    from whatworks.sharing import access, datasets, partnerships
    from whatworks.store import session_factory, upgrade_store

    mapping = parse_map(maps, partnerships.SHAREABLE_FIELDS)
    chosen = settings()
    upgrade_store(chosen)
    operator = Actor(f"{getpass.getuser()} (command line)")
    with transaction(session_factory(chosen)) as session:
        found = partnerships.get_partnership(session, partnership)
        agreement = access.agreement_for(session, found, date.today(), [agency])
        upload = datasets.read_upload(file)
        guessed = datasets.suggest_mapping(
            [c for c in upload.columns if c not in mapping.values()],
            [f for f in access.fields_of(agreement) if f not in mapping],
        )
        dataset = datasets.import_dataset(
            session, chosen, operator, found, agency, file, {**guessed, **mapping}, title,
            organisation_id=organisation,
        )  # fmt: skip
        console.print(
            f"Imported dataset {dataset.id} ({dataset.title}) into {found.name} under "
            f"'{agreement.title}'; identifiers kept until {dataset.retain_until.isoformat()}."
        )
        print_profile(datasets.profile_of(dataset))


@sharing_app.command("retention")
def retention_command(
    as_at: str = typer.Option(
        None, "--as-at", help="The day to apply retention on, YYYY-MM-DD (default: today)."
    ),
) -> None:
    """Delete the identifiers (matching files) of every dataset whose retention has passed;
    the pseudonymised records stay. Running it again deletes nothing more."""
    from whatworks.core.db import transaction
    from whatworks.sharing.retention import apply_retention
    from whatworks.store import session_factory, upgrade_store

    try:
        on = date.fromisoformat(as_at) if as_at else date.today()
    except ValueError:
        raise WhatworksError(f"--as-at {as_at!r} is not a date written YYYY-MM-DD.") from None
    chosen = settings()
    upgrade_store(chosen)
    with transaction(session_factory(chosen)) as session:
        done = apply_retention(session, chosen.data_dir, on)
    if not done:
        console.print(f"No dataset's retention has passed on {on.isoformat()}.")
    for deletion in done:
        console.print(
            f"Dataset {deletion.dataset_id} ({deletion.title}): identifiers deleted, "
            f"{deletion.reason} on {deletion.due.isoformat()}."
        )


@sharing_app.command("demo-data")
def demo_data_command(
    out: Path = typer.Option(..., "--out", help="Folder to write the agencies' CSV files into."),
    people: int = typer.Option(
        None,
        "--people",
        help="How many children (default 2000; with --from-returns, the area's children at "
        "the council's rate of children in need).",
    ),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same files."),
    difficulty: str = typer.Option("standard", "--difficulty", help="standard or hard."),
    from_returns: Path = typer.Option(
        None,
        "--from-returns",
        help="A folder written by `whatworks demo generate`: the council's records are the "
        "children in need in its returns.",
    ),
    la: str = typer.Option(
        None, "--la", help="With --from-returns: the council (new LA code), if there are several."
    ),
    year: int = typer.Option(
        None, "--year", help="With --from-returns: the collection year (default: the latest)."
    ),
    on: str = typer.Option(
        None,
        "--on",
        help="With --from-returns: the day, YYYY-MM-DD, in the collection year (default: its "
        "31 March).",
    ),
) -> None:
    """Write synthetic council, school, health and police CSV files of the same children,
    with the truth in person_id (docs/sharing.md); with --from-returns, the council's records
    are the children in need in a council's synthetic returns."""
    from whatworks.sharing import synthetic

    if from_returns is None:
        given = [name for name, value in (("--la", la), ("--year", year), ("--on", on)) if value]
        if given:
            raise WhatworksError(f"{', '.join(given)}: only with --from-returns FOLDER.")
        data = synthetic.generate(2000 if people is None else people, seed, difficulty)
    else:
        try:
            day = date.fromisoformat(on) if on else None
        except ValueError:
            raise WhatworksError(f"--on {on!r} is not a date written YYYY-MM-DD.") from None
        returns = synthetic.read_returns(from_returns, la, year, day)
        data = synthetic.from_returns(returns, seed, difficulty, people=people)
        plans = sum(c.protection_plan for c in returns.children)
        cared = sum(c.looked_after for c in returns.children)
        console.print(
            f"{returns.la}, {returns.year} returns: {len(returns.children):,} children in need "
            f"on {returns.on.isoformat()} ({plans:,} on a child protection plan, {cared:,} "
            f"looked after) among {len(data.people):,} children in the area"
        )
    for path in data.write(out):
        console.print(f"{path}: {len(data.rows(path.stem)):,} records")


@sharing_app.command("run")
def run_command(
    partnership: int = typer.Option(..., "--partnership", help="The partnership's number."),
    purpose: str = typer.Option(
        ..., "--purpose", help="Why the records are linked (at least 10 characters; audited)."
    ),
    dataset_ids: str = typer.Option(
        "", "--datasets", help="Dataset numbers to link, such as 1,2,3 (default: every one)."
    ),
    threshold: float = typer.Option(
        None, "--threshold", help="Match probability to link at; default: chosen by the model."
    ),
) -> None:
    """Link a partnership's datasets under its agreement in force: every pair of datasets,
    review decisions applied, children clustered, the whole-system indicators written."""
    import getpass

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from whatworks.core.audit import Actor
    from whatworks.core.db import transaction
    from whatworks.sharing import partnerships, runs
    from whatworks.store import session_factory, upgrade_store

    try:
        ids = [int(part) for part in dataset_ids.split(",") if part.strip()]
    except ValueError:
        raise WhatworksError(
            f"--datasets {dataset_ids!r} must be dataset numbers separated by commas, like 1,2,3."
        ) from None
    chosen = settings()
    upgrade_store(chosen)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        Progress(*columns, console=console, transient=True) as bar,
        transaction(session_factory(chosen)) as session,
    ):
        task = bar.add_task("Starting", total=None)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        run = runs.run_linkage(
            session,
            chosen.data_dir,
            Actor(f"{getpass.getuser()} (command line)"),
            partnerships.get_partnership(session, partnership),
            ids,
            purpose,
            engine=chosen.engine,
            threshold=threshold,
            progress=report,
        )
        summary = (run.id, run.status, run.error, run.record_count, run.cluster_count)
        counts = (run.pair_count, run.link_count, run.review_count, run.threshold, run.seconds)
    run_id, status, error, records, people = summary
    if status != "done":
        raise WhatworksError(f"Linkage run {run_id} failed and linked nothing: {error}")
    pairs, links, review, chosen_threshold, seconds = counts
    console.print(
        f"Linkage run {run_id}: {records:,} records, {people:,} children, {links:,} links "
        f"from {pairs:,} scored pairs at probability {chosen_threshold:.4f}; {review:,} pairs "
        f"wait for review ({seconds:.1f} seconds)."
    )
