"""`whatworks import published`: load published statistics files into the store."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from whatworks.outcomes.catalogue import catalogue, default_headline
from whatworks.outcomes.exports import csv_text, scorecard_rows_as_dicts
from whatworks.outcomes.published import ImportResult, bundled_files, import_published
from whatworks.outcomes.scorecard import local_authority_scorecard
from whatworks.outcomes.series import format_value, period_label
from whatworks.places.places import DEFAULT_NEIGHBOUR_MODEL, local_authority

console = Console()
outcomes_app = typer.Typer(help="Outcome indicators, scorecards and curves.", no_args_is_help=True)
FORMATS = ("table", "json", "csv")


def import_with_progress(factory: sessionmaker[Session], files: list[Path]) -> list[ImportResult]:
    """Import `files` in one transaction, showing a progress bar; nothing is kept on error."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        checking = progress.add_task("Checking files", total=len(files))
        writing = progress.add_task("Writing values", total=None)

        def on_file(path: Path) -> None:
            progress.update(checking, advance=1, description=f"Checking {path.name}")

        with factory() as session, session.begin():
            return import_published(
                session,
                files,
                progress=lambda n: progress.advance(writing, n),
                on_file=on_file,
            )


def show_results(results: list[ImportResult]) -> None:
    """A table of what each file's import did."""
    table = Table(title="Published statistics")
    for column in ("file", "outcome", "rows", "values"):
        table.add_column(column, justify="right" if column in ("rows", "values") else "left")
    for result in results:
        table.add_row(result.name, result.outcome, f"{result.rows:,}", f"{result.values:,}")
    console.print(table)


def published_command(
    files: list[Path] = typer.Argument(
        None,
        exists=True,
        dir_okay=False,
        readable=True,
        help="CSV files in the DfE explore education statistics layout.",
    ),
    bundled: bool = typer.Option(
        False, "--bundled", help="Import every bundled published file (as `whatworks demo` does)."
    ),
) -> None:
    """Import published statistics; a file with any problem is rejected and nothing is stored."""
    from whatworks.store import session_factory

    chosen = list(files or [])
    if bundled:
        chosen += bundled_files()
    if not chosen:
        raise typer.BadParameter("Name at least one FILE, or use --bundled.")
    show_results(import_with_progress(session_factory(), chosen))


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}.")
    return value


@outcomes_app.command("indicators")
def indicators_command(
    format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """The indicator catalogue."""
    _check_format(format, ("table", "json"))
    if format == "json":
        print(json.dumps([item.as_dict() for item in catalogue()], indent=2))
        return
    table = Table(title="Indicator catalogue")
    for column in ("id", "title", "unit", "polarity", "headline"):
        table.add_column(column)
    for item in catalogue():
        table.add_row(item.id, item.title, item.unit, item.polarity, "yes" if item.headline else "")
    console.print(table)


@outcomes_app.command("scorecard")
def scorecard_command(
    la: str = typer.Option(..., "--la", help="New (E09000003) or old (302) local authority code."),
    format: str = typer.Option("table", "--format", help="table, json or csv."),
    model: str = typer.Option(
        DEFAULT_NEIGHBOUR_MODEL, "--model", help="Neighbour model: 2025 or 2021."
    ),
) -> None:
    """A local authority's scorecard on the default headline and secondary indicators."""
    from whatworks.store import session_factory

    _check_format(format, FORMATS)
    _check_format(model, ("2025", "2021"))
    with session_factory()() as session:
        authority = local_authority(session, la)
        secondary = tuple(item for item in catalogue() if not item.headline)
        rows = local_authority_scorecard(
            session, authority, default_headline(), secondary, model=model
        )
    if format == "json":
        print(
            json.dumps(
                {
                    "local_authority": authority.name,
                    "new_la_code": authority.new_la_code,
                    "neighbour_model": model,
                    "rows": scorecard_rows_as_dicts(rows),
                },
                indent=2,
            )
        )
        return
    if format == "csv":
        print(csv_text(scorecard_rows_as_dicts(rows, flat=True)), end="")
        return
    table = Table(title=f"Scorecard: {authority.name} ({authority.new_la_code})")
    for column in ("indicator", "latest", "prior", "trend", "neighbours median", "England", "rank"):
        table.add_column(column)
    for row in rows:
        unit = row.indicator.unit
        comparators = {c.label: c for c in row.comparators}
        median = comparators.get("Statistical neighbours, median")
        england = comparators.get("England")
        table.add_row(
            ("* " if row.tier == "headline" else "") + row.indicator.title,
            f"{format_value(row.latest.value, row.latest.status, unit)} "
            f"({period_label(row.latest.period)})"
            if row.latest
            else "",
            format_value(row.prior.value, row.prior.status, unit) if row.prior else "",
            row.judgement,
            format_value(median.value, "value", unit)
            if median and median.value is not None
            else "",
            format_value(england.value, "value", unit)
            if england and england.value is not None
            else "",
            f"{row.rank.rank} of {row.rank.of}" if row.rank else "",
        )
    console.print(table)
    console.print("* headline indicator")


@outcomes_app.command("curve")
def curve_command(
    la: str = typer.Option(..., "--la", help="New (E09000003) or old (302) local authority code."),
    indicator_id: str = typer.Option(
        ..., "--indicator", help="An indicator id, e.g. rereferral_percent."
    ),
    format: str = typer.Option("table", "--format", help="table or json."),
    method: str = typer.Option("linear", "--method", help="Baseline forecast: linear or damped."),
) -> None:
    """Turn the curve: history, baseline forecast, neighbours, SPC and the verdict."""
    from whatworks.outcomes import curve
    from whatworks.outcomes.catalogue import indicator
    from whatworks.store import session_factory

    _check_format(format, ("table", "json"))
    _check_format(method, curve.METHODS)
    with session_factory()() as session:
        found = curve.build(
            session, local_authority(session, la), indicator(indicator_id), None, method=method
        )
        data = found.as_dict()
    if format == "json":
        print(json.dumps(data, indent=2))
        return
    item = found.indicator
    table = Table(title=f"{item.title}: {found.la.name}")
    for column in ("year", "actual", "forecast (80% range)", "neighbours median"):
        table.add_column(column)
    medians = {m["period"]: m["value"] for m in data["neighbours_median"]}
    for p in found.history:
        table.add_row(
            period_label(p.period),
            format_value(p.value, p.status, item.unit),
            "",
            f"{medians[p.period]:g}" if p.period in medians else "",
        )
    for f in data["forecast"]:
        band = f" ({f['lower']:.1f} to {f['upper']:.1f})" if f["lower"] is not None else ""
        table.add_row(period_label(f["period"]), "", f"{f['value']:.1f}{band}", "")
    console.print(table)
    console.print(f"Verdict: {data['verdict']['sentence']}")
    if data["spc"]["variation"]:
        console.print(f"SPC: {data['spc']['variation']}")
    for note in data["spc"]["notes"]:
        console.print(note)
