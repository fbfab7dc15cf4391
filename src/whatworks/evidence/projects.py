"""Projects: one organisation's implementation of an intervention (or a new idea), with the
outcomes it aims to move, what it has learned, whom to talk to, and the six conditions for
success rated over time.

The six conditions come from SCIE and Innovation Unit's "Future of care" briefing (2017):
a clear vision, evidence of impact, in it for the long haul, visible leaders, sustained
engagement with children and families, and a willingness to learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.db import utcnow
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access
from whatworks.evidence.interventions import check_contacts, get_intervention, pounds
from whatworks.evidence.models import ConditionRating, Project
from whatworks.outcomes.catalogue import indicator
from whatworks.places.places import local_authority

STATUSES = ("planned", "running", "ended", "stopped")
CONDITIONS = (
    "clear vision",
    "evidence of impact",
    "in it for the long haul",
    "visible leaders",
    "sustained engagement with children and families",
    "willingness to learn",
)
#: Fields `update_project` may change.
EDITABLE = (
    "title",
    "intervention_id",
    "la_code",
    "place",
    "start_date",
    "end_date",
    "funder",
    "funding_amount",
    "status",
    "vision",
    "target_outcomes",
    "lessons",
    "contacts",
    "source",
)


def _clean(session: Session, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise WhatworksError(f"{', '.join(unknown)} cannot be set on a project.")
    clean = dict(fields)
    if "title" in clean:
        clean["title"] = str(clean["title"]).strip()
        if not clean["title"]:
            raise WhatworksError("A project needs a title.")
    if clean.get("intervention_id"):
        get_intervention(session, clean["intervention_id"])
    if clean.get("la_code"):
        authority = local_authority(session, clean["la_code"])
        clean["la_code"] = authority.new_la_code
        if not clean.get("place"):
            clean["place"] = authority.name
    if clean.get("status") is not None and clean["status"] not in STATUSES:
        raise WhatworksError(
            f"Project status {clean['status']!r} is not one of {', '.join(STATUSES)}."
        )
    for key in ("start_date", "end_date"):
        if clean.get(key) is not None and not isinstance(clean[key], date):
            raise WhatworksError(f"{key.replace('_', ' ')} must be a date.")
    start, end = clean.get("start_date"), clean.get("end_date")
    if start and end and end < start:
        raise WhatworksError(f"The project ends ({end}) before it starts ({start}); check both.")
    if "funding_amount" in clean:
        clean["funding_amount"] = pounds(clean["funding_amount"], "Funding amount")
    if "target_outcomes" in clean:
        ids = clean["target_outcomes"]
        if isinstance(ids, str) or not isinstance(ids, Sequence):
            raise WhatworksError("Target outcomes must be a list of indicator ids.")
        for indicator_id in ids:
            indicator(indicator_id)  # NotFound names the unknown id
        clean["target_outcomes"] = list(dict.fromkeys(ids))
    if "contacts" in clean:
        clean["contacts"] = check_contacts(clean["contacts"], "Project")
    return clean


def create_project(
    session: Session,
    author: access.Author,
    title: str,
    *,
    organisation_id: int | None = None,
    status: str | None = "planned",
    is_demo: bool = False,
    seed_key: str | None = None,
    **fields: Any,
) -> Project:
    """A new project of `organisation_id` (members of it, or researchers, may add one)."""
    actor = access.require_member(author, organisation_id, "add a project")
    clean = _clean(session, {"title": title, "status": status, **fields})
    project = Project(
        organisation_id=organisation_id,
        is_demo=is_demo,
        seed_key=seed_key,
        created_by=actor.username,
        **clean,
    )
    session.add(project)
    session.flush()
    access.record(session, actor, "add project", f"project:{project.id}", title=project.title)
    return project


def update_project(
    session: Session, author: access.Author, project_id: int, **fields: Any
) -> Project:
    """Change a project's details (status, end date, lessons...); changes are audited."""
    project = get_project(session, project_id)
    actor = access.require_member(author, project.organisation_id, "change this project")
    clean = _clean(session, fields)
    changed = {}
    for key, value in clean.items():
        if getattr(project, key) != value:
            changed[key] = {"from": getattr(project, key), "to": value}
            setattr(project, key, value)
    if changed:
        project.updated_at = utcnow()
        session.flush()
        access.record(session, actor, "change project", f"project:{project.id}", **changed)
    return project


def get_project(session: Session, project_id: int) -> Project:
    """The project with `project_id`, or NotFound."""
    found = session.get(Project, project_id)
    if found is None:
        raise NotFound(f"No project has the number {project_id}.")
    return found


def list_projects(
    session: Session,
    *,
    intervention_id: str | None = None,
    organisation_id: int | None = None,
    la_code: str | None = None,
) -> list[Project]:
    """Projects, newest start first, optionally of one intervention, organisation or place."""
    query = select(Project).order_by(Project.start_date.desc().nulls_last(), Project.id)
    if intervention_id is not None:
        query = query.where(Project.intervention_id == intervention_id)
    if organisation_id is not None:
        query = query.where(Project.organisation_id == organisation_id)
    if la_code is not None:
        query = query.where(Project.la_code == la_code)
    return list(session.scalars(query))


def rate_condition(
    session: Session,
    author: access.Author,
    project_id: int,
    condition: str,
    rating: int,
    rated_on: date,
    note: str = "",
) -> ConditionRating:
    """Add a rating (1 weak to 5 strong) of one condition for success on a date."""
    project = get_project(session, project_id)
    actor = access.require_member(author, project.organisation_id, "rate this project")
    if condition not in CONDITIONS:
        raise WhatworksError(
            f"{condition!r} is not one of the six conditions for success: {', '.join(CONDITIONS)}."
        )
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise WhatworksError(f"Rate {condition!r} with a whole number from 1 to 5, not {rating!r}.")
    if not isinstance(rated_on, date):
        raise WhatworksError("The rating needs the date it was made.")
    row = ConditionRating(
        project_id=project.id,
        condition=condition,
        rating=rating,
        rated_on=rated_on,
        note=note.strip(),
        rated_by=actor.username,
    )
    session.add(row)
    session.flush()
    access.record(
        session,
        actor,
        "rate condition for success",
        f"project:{project.id}",
        condition=condition,
        rating=rating,
        rated_on=rated_on,
    )
    return row


def condition_history(session: Session, project_id: int) -> list[ConditionRating]:
    """Every rating of the project's conditions, oldest first."""
    return list(
        session.scalars(
            select(ConditionRating)
            .where(ConditionRating.project_id == project_id)
            .order_by(ConditionRating.rated_on, ConditionRating.id)
        )
    )


def latest_conditions(session: Session, project_id: int) -> dict[str, ConditionRating]:
    """The most recent rating of each condition that has one, in the conditions' order."""
    latest: dict[str, ConditionRating] = {}
    for row in condition_history(session, project_id):
        latest[row.condition] = row
    return {c: latest[c] for c in CONDITIONS if c in latest}
