"""`whatworks returns validate|import|measures`: statutory returns from the command line."""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.audit import Actor
from whatworks.core.db import transaction
from whatworks.core.errors import WhatworksError
from whatworks.places.models import LocalAuthority
from whatworks.places.places import local_authority
from whatworks.returns import imports, measures, results
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.returns.service import compute_and_save, returns_store
from whatworks.store import session_factory, settings, upgrade_store

console = Console()
returns_app = typer.Typer(
    help="Statutory child-level returns (SSDA903, CIN census): validate, import, measure.",
    no_args_is_help=True,
)
FORMATS = ("table", "json", "csv")


def latest_collection_year(today: date | None = None) -> int:
    """The most recent collection year to have ended (years end on 31 March)."""
    today = today or date.today()
    return today.year if today >= date(today.year, 4, 1) else today.year - 1


def command_line_actor() -> Actor:
    return Actor(f"{getpass.getuser()} (command line)")


def _format(value: str) -> str:
    if value not in FORMATS:
        raise WhatworksError(f"--format must be one of {', '.join(FORMATS)}, not {value!r}.")
    return value


def _council(code: str) -> LocalAuthority:
    factory = session_factory(settings())
    with factory() as session:
        council = local_authority(session, code)
        if not council.current:
            raise WhatworksError(
                f"{council.name} ({council.new_la_code}) no longer exists; "
                "import its returns under the council that replaced it."
            )
        session.expunge(council)
        return council


@returns_app.command("validate")
def validate_command(
    paths: list[Path] = typer.Argument(..., help="CSV tables, CIN XML files or folders."),
    year: int = typer.Option(
        None, "--year", help="Collection year (ending 31 March); default: the latest ended."
    ),
    output: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """Check a return's files against the year's specification and the DfE's rules.

    Exits with status 1 when a problem would stop the import."""
    chosen = settings()
    report = imports.validate(
        paths, year or latest_collection_year(), load_or_create_key(chosen.data_dir)
    )
    fmt = _format(output)
    if fmt == "json":
        typer.echo(json.dumps(report.as_dict(), indent=2, default=str))
    elif fmt == "csv":
        typer.echo(report.csv_text(), nl=False)
    else:
        files = Table(title=f"Return for the year to 31 March {report.year}")
        for column in ("file", "table", "rows"):
            files.add_column(column, justify="right" if column == "rows" else "left")
        for entry in report.files:
            files.add_row(entry.name, entry.table or "(not read)", f"{entry.rows:,}")
        console.print(files)
        if report.problems:
            found = Table(title="Problems")
            for column in imports.COLUMNS:
                found.add_column(column)
            for row in report.rows()[:200]:
                found.add_row(*("" if row[c] is None else str(row[c]) for c in imports.COLUMNS))
            console.print(found)
            if len(report.problems) > 200:
                console.print(f"... and {len(report.problems) - 200:,} more (use --format csv)")
        console.print(
            f"{len(report.blocking):,} problems stop the import; "
            f"{len(report.rule_failures):,} DfE rule failures."
        )
    if report.blocking:
        raise typer.Exit(1)


@returns_app.command("import")
def import_command(
    paths: list[Path] = typer.Argument(..., help="CSV tables, CIN XML files or folders."),
    la: str = typer.Option(..., "--la", help="The council's new LA code, e.g. E09000003."),
    year: int = typer.Option(..., "--year", help="Collection year (ending 31 March)."),
    strict: bool = typer.Option(False, "--strict", help="Refuse the return on any rule failure."),
) -> None:
    """Import a council's return for a year (all or nothing), then compute its measures."""
    chosen = settings()
    upgrade_store(chosen)
    council = _council(la)
    store = returns_store(chosen)
    status = console.status(f"Reading and checking the {year} return of {council.name}")
    with status, transaction(session_factory(chosen)) as session:
        done = imports.import_return(
            session,
            store,
            load_or_create_key(chosen.data_dir),
            council,
            year,
            paths,
            command_line_actor(),
            strict=strict,
        )
    console.print(
        f"Imported {council.name}'s {year} return: "
        + ", ".join(f"{family} {rows:,} rows" for family, rows in done.families.items())
        + f"; {done.children:,} children; {done.rule_failures:,} DfE rule failures."
    )
    with console.status("Computing measures"):
        saved = compute_and_save(chosen, council, measures.Period.year(year), command_line_actor())
    console.print(f"{len(saved)} measures for the year to 31 March {year} saved.")


@returns_app.command("measures")
def measures_command(
    la: str = typer.Option(..., "--la", help="The council's new LA code, e.g. E09000003."),
    year: int = typer.Option(None, "--year", help="Year to 31 March; default: latest imported."),
    as_at: str = typer.Option(None, "--as-at", help="Twelve months to this date (YYYY-MM-DD)."),
    output: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """Compute a council's measures from its imported returns (saved as computed values)."""
    chosen = settings()
    upgrade_store(chosen)
    fmt = _format(output)
    council = _council(la)
    if year and as_at:
        raise WhatworksError("Give --year or --as-at, not both.")
    if as_at:
        try:
            period = measures.Period.as_at(date.fromisoformat(as_at))
        except ValueError:
            raise WhatworksError(f"--as-at {as_at!r} is not a date written YYYY-MM-DD.") from None
    else:
        years = returns_store(chosen).years(council.new_la_code)
        if not years:
            raise WhatworksError(
                f"No returns of {council.name} are imported; use `whatworks returns import`."
            )
        period = measures.Period.year(year or years[-1])
    values = compute_and_save(chosen, council, period, command_line_actor())
    rows = [v.as_dict() for v in values]
    if fmt == "json":
        typer.echo(json.dumps({"la": council.new_la_code, "values": rows}, indent=2))
        return
    if fmt == "csv":
        from whatworks.outcomes.exports import csv_text

        typer.echo(csv_text(rows), nl=False)
        return
    table = Table(title=f"{council.name}: {period.label} (computed from returns)")
    for column in ("measure", "value", "numerator", "denominator"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for value in values:
        table.add_row(
            value.title,
            results.shown(value),
            "" if value.numerator is None else f"{value.numerator:,}",
            "" if value.denominator is None else f"{value.denominator:,}",
        )
    console.print(table)
