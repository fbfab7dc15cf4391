"""`whatworks voice results --survey ID`: a survey's results with disclosure control, as a
table or as the JSON the results page's twin gives."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.errors import NotFound, WhatworksError

console = Console()
voice_app = typer.Typer(help="Surveys of children, families and staff.", no_args_is_help=True)
FORMATS = ("table", "json")


@voice_app.command("results")
def results_command(
    survey: int = typer.Option(..., "--survey", help="The survey's number (from /voice/surveys)."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """A survey's results per question, with small numbers suppressed as on its page."""
    from whatworks.core import audit
    from whatworks.core.db import transaction
    from whatworks.store import session_factory, upgrade_store
    from whatworks.voice import results
    from whatworks.voice.models import Survey

    chosen = output.strip().lower()
    if chosen not in FORMATS:
        raise WhatworksError(f"--format {output!r} is not known; use one of {', '.join(FORMATS)}.")
    upgrade_store()
    with transaction(session_factory()) as session:
        found = session.get(Survey, survey)
        if found is None:
            raise NotFound(
                f"There is no survey {survey}; `whatworks voice results` needs its number."
            )
        audit.record(
            session, audit.Actor("cli"), "view survey results", f"survey:{survey}", "voice"
        )
        shown = results.survey_results(session, found)
    if chosen == "json":
        typer.echo(json.dumps(shown.as_dict(), indent=2, ensure_ascii=False))
        return
    console.print(f"{shown.title}: {shown.round_label} ({shown.audience})")
    console.print(shown.rule)
    table = Table()
    for column in ("question", "answer", "number", "percentage"):
        table.add_column(column)
    for q in shown.questions:
        for c in q.cells:
            number = str(c.count) if c.count is not None else c.count_status
            table.add_row(q.text, c.answer, number, results.shown(c.percent, c.percent_status))
        if q.indicator_title:
            table.add_row(
                q.text, q.indicator_title, "", results.shown(q.positive, q.positive_status)
            )
    console.print(table)
