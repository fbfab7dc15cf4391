"""Build the demo data folder: migrations, places, every bundled published file, and demo
organisations and users. Running it again changes nothing and prints no passwords.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.models import User

#: (username, full name, role, organisation, kind, LA code)
DEMO_USERS = (
    ("admin", "Ada Admin", "admin", None, None, None),
    ("analyst", "Priya Analyst", "analyst", "Barnet Council (demo)", "council", "E09000003"),
    ("manager", "Sam Service Manager", "member", "Barnet Council (demo)", "council", "E09000003"),
    (
        "researcher",
        "Rowan Researcher",
        "researcher",
        "What Works Research Centre (demo)",
        "research centre",
        None,
    ),
    (
        "partner",
        "Pat Partnership Lead",
        "partnership_member",
        "Metropolitan Police (demo)",
        "partner",
        None,
    ),
)


@dataclass(frozen=True)
class NewUser:
    """A demo user created now, with the password shown once."""

    username: str
    role: str
    organisation: str | None
    password: str


def create_demo_users(session: Session) -> list[NewUser]:
    """Create the demo organisations and users that do not exist yet."""
    created = []
    for username, full_name, role, org_name, kind, la_code in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is not None:
            continue
        org = (
            get_or_create_organisation(session, org_name, kind, la_code)
            if org_name and kind
            else None
        )
        password = secrets.token_urlsafe(12)
        create_user(session, username, password, role, full_name, org)
        created.append(NewUser(username, role, org_name, password))
    return created
