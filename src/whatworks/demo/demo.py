"""Build the demo data folder: migrations, places, every bundled published file, demo
organisations and users, and several years of generated returns for one demo council.
Running it again changes nothing and prints no passwords.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.config import Settings
from whatworks.core.audit import Actor
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import User
from whatworks.places.places import local_authority
from whatworks.store import session_factory

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
    # the other members of the demo safeguarding partnership (sharing/demo.py)
    ("sharing-council", "Cal Safeguarding Lead", "partnership_member",
     "Barnet Council (demo)", "council", "E09000003"),
    ("sharing-school", "Jo Designated Safeguarding Lead", "partnership_member",
     "Barnet Schools Safeguarding Network (demo)", "partner", None),
    ("sharing-health", "Sam Named Nurse", "partnership_member",
     "North London Community Health (demo)", "partner", None),
)  # fmt: skip


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


#: The demo council whose generated returns the demo folder holds, and their years.
DEMO_COUNCIL = "E09000003"
DEMO_YEARS = tuple(range(2021, 2026))
DEMO_SEED = 2026


def import_demo_returns(
    chosen: Settings, on_year: Callable[[int], None] | None = None
) -> list[int]:
    """Generate the demo council's returns and import them, year by year, computing each
    year's measures; does nothing when the council already has returns. Returns the
    years imported."""
    from whatworks.returns import imports, measures, synthetic
    from whatworks.returns.pseudonymise import load_or_create_key
    from whatworks.returns.service import compute_and_save, returns_store

    store = returns_store(chosen)
    if store.years(DEMO_COUNCIL):
        return []
    actor = Actor("demo")
    factory = session_factory(chosen)
    key = load_or_create_key(chosen.data_dir)
    with tempfile.TemporaryDirectory(prefix="whatworks-demo-") as folder:
        generated = synthetic.generate([DEMO_COUNCIL], DEMO_YEARS, DEMO_SEED)
        synthetic.write_returns(generated, Path(folder))
        with factory() as session:
            council = local_authority(session, DEMO_COUNCIL)
            session.expunge(council)
        for year in DEMO_YEARS:
            with transaction(factory) as session:
                imports.import_return(
                    session,
                    store,
                    key,
                    council,
                    year,
                    [Path(folder) / DEMO_COUNCIL / str(year)],
                    actor,
                )
            compute_and_save(chosen, council, measures.Period.year(year), actor)
            if on_year:
                on_year(year)
    return list(DEMO_YEARS)


def seed_demo_evidence(session: Session) -> dict[str, int]:
    """Seed the evidence hub: the bundled published evidence and case studies, and the demo
    intervention, studies and registrations (every one labelled as demo data). Adds only
    what is missing, so building the demo again adds nothing. Returns how many of each
    were added."""
    from whatworks.evidence import seed

    published = seed.seed(session)
    demo = seed.seed_demo(session)
    return {key: published.get(key, 0) + demo.get(key, 0) for key in {**published, **demo}}


def seed_demo_learning(session: Session) -> dict[str, int]:
    """Seed the demo practice reviews and communities of practice (labelled as demo data);
    adds only what is missing."""
    from whatworks.spread import learning_demo

    return learning_demo.seed_demo(session)


def seed_demo_voice(session: Session) -> int:
    """Seed the demo council's surveys of children in care and care leavers, answered
    through the real anonymous code path, and its children in care panel with commitments
    in each state of "you said, we did" (labelled as demo data); adds only what is missing.
    Returns how many surveys were added."""
    from whatworks.voice import demo
    from whatworks.voice.models import Survey

    def count() -> int:
        return len(session.scalars(select(Survey.id).where(Survey.is_demo)).all())

    before = count()
    demo.seed_demo(session)
    demo.seed_demo_staff(session)
    demo.seed_demo_panels(session)
    demo.seed_demo_coproduction(session)
    return count() - before


def seed_demo_sharing(session: Session, chosen: Settings) -> int:
    """Seed the demo safeguarding partnership, its signed agreement and four agencies'
    synthetic records (labelled as demo data); adds nothing if it exists. Returns how many
    agency datasets were added."""
    from whatworks.sharing import demo

    return demo.seed_demo_sharing(session, chosen).datasets_added
