"""`whatworks spread ...`: ask a question of the evidence; places like mine; centres of
excellence. Every command prints a table by default and JSON with `--format json`.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.errors import WhatworksError

console = Console()
spread_app = typer.Typer(
    help="Spreading innovation: ask a question, places like mine, centres of excellence.",
    no_args_is_help=True,
)
FORMATS = ("table", "json")


def _check_format(output: str) -> str:
    chosen = output.strip().lower()
    if chosen not in FORMATS:
        raise WhatworksError(f"--format {output!r} is not known; use one of {', '.join(FORMATS)}.")
    return chosen


@spread_app.command("ask")
def ask_command(
    question: str = typer.Argument(..., help="The question, in your own words."),
    output: str = typer.Option("table", "--format", help="table or json."),
    limit: int = typer.Option(10, "--limit", help="How many results to show (1 to 50)."),
) -> None:
    """Search interventions, projects, studies and results, recommendations, practice-review
    findings and community answers; each result says why it matched."""
    from whatworks.core.db import transaction
    from whatworks.spread import search
    from whatworks.store import session_factory, upgrade_store

    chosen = _check_format(output)
    if not 1 <= limit <= 50:
        raise WhatworksError("--limit must be between 1 and 50.")
    upgrade_store()
    with transaction(session_factory()) as session:
        found = search.ask(session, question, limit=limit)
    if chosen == "json":
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
        return
    if not found.hits:
        console.print("Nothing matched. Try other words, or fewer of them.")
        return
    table = Table(title=f"Results for: {question}")
    for column in ("#", "kind", "title", "why it matched", "address"):
        table.add_column(column)
    for n, hit in enumerate(found.hits, 1):
        table.add_row(str(n), hit.kind_label, hit.title, hit.why_text, hit.url)
    console.print(table)


# ---------------------------------------------------------------------------------------
# Places like mine (`similar`) and centres of excellence (`centres`) go below this line
# (owned by the places/adoption/centres work: similar.py, centres.py).


@spread_app.command("similar")
def similar_command(
    la: str = typer.Option(..., "--la", help="The council's new code (E09000003) or old code."),
    intervention: str | None = typer.Option(
        None, "--intervention", help="Only places like it that adopted this intervention (slug)."
    ),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Places like a council: its DfE statistical neighbours and the councils most like it
    (size, region, Ofsted judgement, outcome profile), why, and what each tried."""
    from whatworks.core.db import transaction
    from whatworks.spread.similar import places_like_mine
    from whatworks.store import session_factory, upgrade_store

    chosen = _check_format(output)
    upgrade_store()
    with transaction(session_factory()) as session:
        found = places_like_mine(session, la, intervention=intervention)
        data = found.as_dict()
        groups = (
            [("Places like it that adopted " + found.intervention[1], found.adopters)]
            if found.intervention
            else [
                ("Statistical neighbours", found.neighbours),
                ("Also similar", found.also_similar),
            ]
        )
        rows = [
            (
                title,
                [
                    (
                        str(m.neighbour_rank or ""),
                        m.la.name,
                        f"{m.distance:.2f}",
                        m.explanation,
                        "; ".join(
                            f"{a.intervention_name} ({a.outcome}"
                            + (f", from {a.start_date:%Y}" if a.start_date else "")
                            + ")"
                            for a in m.adoptions
                        ),
                    )
                    for m in matches
                ],
            )
            for title, matches in groups
        ]
    if chosen == "json":
        typer.echo(json.dumps(data, indent=2))
        return
    for title, found_rows in rows:
        table = Table(title=f"{title}: places like {data['name']}")
        for column in ("DfE rank", "place", "distance", "why", "tried"):
            table.add_column(column)
        for row in found_rows:
            table.add_row(*row)
        console.print(table)
        if not found_rows:
            console.print("None recorded.")


@spread_app.command("centres")
def centres_command(
    indicator: str | None = typer.Option(
        None, "--indicator", help="Only centres of excellence on this indicator (its id)."
    ),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Centres of excellence: councils better than their context predicts on an indicator
    in each of three or more consecutive years up to the latest
    (docs/methods/centres-of-excellence.md)."""
    from whatworks.core.db import transaction
    from whatworks.spread.centres import centres
    from whatworks.store import session_factory, upgrade_store

    chosen = _check_format(output)
    upgrade_store()
    with transaction(session_factory()) as session:
        found = centres(session, indicator)
        data = [c.as_dict() for c in found]
    if chosen == "json":
        typer.echo(json.dumps(data, indent=2))
        return
    if not data:
        console.print("No council meets the rule (is the published data imported?).")
        return
    table = Table(title="Centres of excellence")
    for column in ("council", "region", "excels at (years, mean standardised residual)", "runs"):
        table.add_column(column)
    for centre in data:
        topics = "; ".join(
            f"{t['indicator']['title']} ({t['years'][0]['period']}-{t['years'][-1]['period']}, "
            f"{t['mean_standardised_residual']:+.2f})"
            for t in centre["topics"]
        )
        runs = "; ".join(
            a["intervention"]["name"] for a in centre["interventions"] if a["intervention"]
        )
        table.add_row(centre["name"], centre["region"], topics, runs)
    console.print(table)
