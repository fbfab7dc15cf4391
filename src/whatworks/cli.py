"""The command line: `whatworks serve`, `demo`, `import published`, `users create`, `db upgrade`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.cli import db_app, users_app
from whatworks.core.db import transaction
from whatworks.core.errors import WhatworksError
from whatworks.evidence.cli import evidence_app
from whatworks.impact.cli import impact_app
from whatworks.outcomes.cli import (
    import_with_progress,
    outcomes_app,
    published_command,
    show_results,
)
from whatworks.returns.cli import returns_app
from whatworks.sharing.cli import sharing_app
from whatworks.spread.cli import spread_app
from whatworks.store import session_factory, settings, upgrade_store
from whatworks.voice.cli import voice_app

app = typer.Typer(
    name="whatworks",
    help="whatworks: an open learning system for children's services in England.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import data into the store.", no_args_is_help=True)
import_app.command("published")(published_command)
app.add_typer(import_app, name="import")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(outcomes_app, name="outcomes")
app.add_typer(returns_app, name="returns")
app.add_typer(evidence_app, name="evidence")
app.add_typer(impact_app, name="impact")
app.add_typer(spread_app, name="spread")
app.add_typer(sharing_app, name="sharing")
app.add_typer(voice_app, name="voice")
console = Console()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Apply migrations, then serve the web app."""
    import uvicorn

    from whatworks.web.app import create_app

    upgrade_store()
    console.print(f"whatworks is at [bold]http://{host}:{port}[/bold] (Ctrl+C stops it)")
    uvicorn.run(create_app(settings()), host=host, port=port, log_level="info")


demo_app = typer.Typer(
    help="Build the demo data folder, or generate synthetic returns.",
    invoke_without_command=True,
)
app.add_typer(demo_app, name="demo")


@demo_app.callback()
def demo(context: typer.Context) -> None:
    """Build the demo data folder: store, places, bundled published data, demo users, a
    demo council's generated returns and the evidence hub (published evidence and labelled
    demo studies)."""
    if context.invoked_subcommand is not None:
        return
    from whatworks.demo.demo import (
        DEMO_COUNCIL,
        create_demo_users,
        import_demo_returns,
        seed_demo_evidence,
        seed_demo_learning,
        seed_demo_sharing,
        seed_demo_voice,
    )
    from whatworks.outcomes.published import bundled_files
    from whatworks.places.places import load_bundled

    chosen = settings()
    console.print(f"Demo data folder: {chosen.data_dir}")
    upgrade_store(chosen)
    factory = session_factory(chosen)
    with transaction(factory) as session:
        added = load_bundled(session)
    console.print("Places: " + ", ".join(f"{n:,} {what} added" for what, n in added.items()))
    results = import_with_progress(factory, bundled_files())
    if any(r.outcome != "unchanged" for r in results):
        show_results(results)
    else:
        console.print(f"Published statistics: all {len(results)} bundled files already stored.")
    with transaction(factory) as session:
        created = create_demo_users(session)
    if created:
        table = Table(title="Demo users (passwords are shown once: note them now)")
        for column in ("username", "role", "organisation", "password"):
            table.add_column(column)
        for user in created:
            table.add_row(user.username, user.role, user.organisation or "", user.password)
        console.print(table)
    else:
        console.print("Demo users already exist (their passwords were shown when created).")
    with console.status("Generating and importing the demo council's returns") as status:
        years = import_demo_returns(
            chosen, on_year=lambda year: status.update(f"Imported the {year} return")
        )
    if years:
        console.print(
            f"Returns: {DEMO_COUNCIL} (Barnet, demo data) {years[0]} to {years[-1]} "
            "generated, imported and measured."
        )
    else:
        console.print(f"Returns: {DEMO_COUNCIL} already has returns.")
    with transaction(factory) as session:
        evidence = seed_demo_evidence(session)
    if any(evidence.values()):
        console.print(
            "Evidence hub: " + ", ".join(f"{n:,} {what} added" for what, n in evidence.items())
        )
    else:
        console.print("Evidence hub: the published evidence and demo studies are already stored.")
    with transaction(factory) as session:
        learning = seed_demo_learning(session)
    if any(learning.values()):
        console.print(
            "Spread: " + ", ".join(f"{n:,} demo {what} added" for what, n in learning.items())
        )
    else:
        console.print("Spread: the demo practice reviews and communities are already stored.")
    with transaction(factory) as session:
        surveys = seed_demo_voice(session)
    if surveys:
        console.print(f"Voice: {surveys} demo surveys of {DEMO_COUNCIL} answered and added.")
    else:
        console.print("Voice: the demo surveys are already stored.")
    with transaction(factory) as session:
        shared = seed_demo_sharing(session, chosen)
    if shared:
        console.print(f"Sharing: the demo safeguarding partnership and {shared} agency datasets.")
    else:
        console.print("Sharing: the demo safeguarding partnership is already stored.")


@demo_app.command("generate")
def demo_generate(
    las: int = typer.Option(3, "--las", help="How many councils."),
    years: int = typer.Option(3, "--years", help="How many collection years."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same files."),
    out: Path = typer.Option(..., "--out", help="Folder to write the returns into."),
    last_year: int = typer.Option(2025, "--last-year", help="The last collection year."),
    scale: float = typer.Option(1.0, "--scale", help="Multiply every council's children."),
) -> None:
    """Write synthetic SSDA903 and CIN census returns (see docs/returns.md)."""
    import random

    from whatworks.returns import synthetic

    every = synthetic.councils_in_england()
    if not 1 <= las <= len(every):
        raise WhatworksError(f"--las must be between 1 and {len(every)}.")
    first = last_year - years + 1
    if years < 1 or first < 2017 or last_year > 2026:
        raise WhatworksError("The years must lie between 2017 and 2026.")
    chosen = sorted(random.Random(seed).sample(every, las))
    with console.status(f"Generating {las} councils x {years} years"):
        generated = synthetic.generate(chosen, range(first, last_year + 1), seed, scale=scale)
        written = synthetic.write_returns(generated, out)
    console.print(
        f"Wrote {len(written):,} files for {', '.join(chosen)}, {first} to {last_year}, to {out}"
    )


def main() -> None:
    """Run the CLI, turning whatworks errors into a clear message and exit status 1."""
    try:
        app()
    except WhatworksError as error:
        Console(stderr=True).print(f"[red]Error:[/red] {error}")
        raise SystemExit(1) from None
