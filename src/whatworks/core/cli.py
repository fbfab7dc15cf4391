"""`whatworks users create` and `whatworks db upgrade`."""

from __future__ import annotations

import typer
from rich.console import Console

from whatworks.core.auth import ORGANISATION_KINDS, ROLES, create_user, get_or_create_organisation
from whatworks.core.db import transaction

console = Console()
users_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
db_app = typer.Typer(help="The relational store.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    username: str = typer.Argument(..., help="The name the user signs in with."),
    role: str = typer.Option("member", help=f"One of: {', '.join(ROLES)}."),
    organisation: str = typer.Option(None, help="Name of the user's organisation."),
    kind: str = typer.Option(
        "council", help=f"Kind of a new organisation: {', '.join(ORGANISATION_KINDS)}."
    ),
    full_name: str = typer.Option("", help="The user's full name."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 12 characters; asked for if not given.",
    ),
) -> None:
    """Create a user; their password is stored only as an argon2 hash."""
    from whatworks.store import session_factory

    with transaction(session_factory()) as session:
        org = get_or_create_organisation(session, organisation, kind) if organisation else None
        user = create_user(session, username, password, role, full_name, org)
        console.print(f"Created [bold]{user.username}[/bold] ({user.role}).")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the store does not have yet."""
    from whatworks.store import upgrade_store

    url = upgrade_store()
    console.print(f"The store is up to date: {url.split('@')[-1]}")
