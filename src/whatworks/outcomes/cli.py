"""`whatworks import published`: load published statistics files into the store."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from whatworks.outcomes.published import ImportResult, bundled_files, import_published

console = Console()


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
