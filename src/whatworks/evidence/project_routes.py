"""Pages and JSON for projects: one organisation's implementation of an intervention or a
new idea, its six conditions for success rated over time (issue 5, items 2 and 11).

Reads are public. Writes go through `projects`, which checks that the signed-in user
belongs to the organisation that owns the project (or is a researcher or an
administrator) and writes the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.web import render
from whatworks.evidence import projects, registrations
from whatworks.evidence.forms import (
    Db,
    Errors,
    Posted,
    SignedIn,
    date_parts,
    form_text,
    intervention_names,
    long_date,
    may_write,
    organisation_name,
    read_date,
    render_form,
    writer,
)
from whatworks.evidence.models import ConditionRating, Project
from whatworks.evidence.registration_routes import registration_summary
from whatworks.outcomes.catalogue import catalogue, indicator
from whatworks.places.places import local_authorities

router = APIRouter()
#: Text fields of the project form.
PROJECT_TEXT = (
    "title", "intervention_id", "la_code", "funder", "funding_amount", "status", "vision",
    "lessons", "source",
)  # fmt: skip


def _outcome(indicator_id: str) -> dict[str, str]:
    try:
        title = indicator(indicator_id).title
    except NotFound:
        title = indicator_id
    return {"id": indicator_id, "title": title, "url": f"/indicators/{indicator_id}"}


def _rating(row: ConditionRating) -> dict[str, Any]:
    return {
        "condition": row.condition,
        "rating": row.rating,
        "rated_on": row.rated_on.isoformat(),
        "note": row.note,
        "rated_by": row.rated_by,
    }


def project_json(session: Session, project: Project) -> dict[str, Any]:
    """A project as the JSON twin of its page shows it."""
    names = intervention_names(session)
    return {
        "id": project.id,
        "url": f"/evidence/projects/{project.id}",
        "title": project.title,
        "intervention_id": project.intervention_id,
        "intervention": names.get(project.intervention_id or "", ""),
        "organisation_id": project.organisation_id,
        "organisation": organisation_name(session, project.organisation_id),
        "la_code": project.la_code,
        "place": project.place,
        "start_date": project.start_date.isoformat() if project.start_date else None,
        "end_date": project.end_date.isoformat() if project.end_date else None,
        "funder": project.funder,
        "funding_amount": (
            float(project.funding_amount) if project.funding_amount is not None else None
        ),
        "status": project.status,
        "vision": project.vision,
        "target_outcomes": [_outcome(i) for i in project.target_outcomes],
        "lessons": project.lessons,
        "contacts": project.contacts,
        "source": project.source,
        "is_demo": project.is_demo,
        "conditions": {
            "latest": {
                c: _rating(r) for c, r in projects.latest_conditions(session, project.id).items()
            },
            "history": [_rating(r) for r in projects.condition_history(session, project.id)],
        },
        "registrations": [
            registration_summary(session, r)
            for r in registrations.list_registrations(session, project_id=project.id)
        ],
    }


def _listed(session: Session, intervention: str | None, la: str | None) -> list[Project]:
    return projects.list_projects(
        session, intervention_id=intervention or None, la_code=(la or "").upper() or None
    )


@router.get("/evidence/projects", response_class=HTMLResponse, include_in_schema=False)
def projects_page(
    request: Request, session: Db, intervention: str | None = None, la: str | None = None
) -> HTMLResponse:
    """Projects, optionally of one intervention or place."""
    found = _listed(session, intervention, la)
    return render(
        request,
        "evidence/projects.html",
        projects=found,
        interventions=intervention_names(session),
        places=local_authorities(session),
        intervention=intervention or "",
        la=la or "",
        organisations={
            p.organisation_id: organisation_name(session, p.organisation_id) for p in found
        },
    )


@router.get("/api/evidence/projects", tags=["evidence"], summary="Projects")
def api_projects(
    session: Db, intervention: str | None = None, la: str | None = None
) -> dict[str, Any]:
    """Every project (one organisation's implementation of an intervention or idea),
    optionally of one intervention (its slug) or place (new LA code)."""
    return {"projects": [project_json(session, p) for p in _listed(session, intervention, la)]}


@router.get("/api/evidence/projects/{project_id:int}", tags=["evidence"], summary="One project")
def api_project(project_id: int, session: Db) -> dict[str, Any]:
    """A project: place, dates, funding, vision, target outcomes, the six conditions for
    success rated over time, lessons, people to talk to and its registered evaluations."""
    return project_json(session, projects.get_project(session, project_id))


def _condition_grid(
    history: list[ConditionRating],
) -> tuple[list[date], dict[str, dict[date, int]]]:
    dates = sorted({r.rated_on for r in history})
    grid: dict[str, dict[date, int]] = {c: {} for c in projects.CONDITIONS}
    for row in history:
        grid.setdefault(row.condition, {})[row.rated_on] = row.rating
    return dates, grid


@router.get(
    "/evidence/projects/{project_id:int}", response_class=HTMLResponse, include_in_schema=False
)
def project_page(request: Request, project_id: int, user: SignedIn, session: Db) -> HTMLResponse:
    """One project, its conditions for success over time and its registrations."""
    project = projects.get_project(session, project_id)
    found = project_json(session, project)
    dates, grid = _condition_grid(projects.condition_history(session, project.id))
    return render(
        request,
        "evidence/project.html",
        project=project,
        found=found,
        dates=dates,
        grid=grid,
        conditions=projects.CONDITIONS,
        can_edit=may_write(user, project.organisation_id),
        long_date=long_date,
    )


def _project_form(
    request: Request, session: Session, values: Mapping[str, Any], errors: Errors, status: int = 200
) -> HTMLResponse:
    return render_form(
        request,
        "evidence/project_new.html",
        values,
        errors,
        status,
        interventions=intervention_names(session),
        places=local_authorities(session),
        indicators=catalogue(),
        statuses=projects.STATUSES,
    )


@router.get("/evidence/projects/new", response_class=HTMLResponse, include_in_schema=False)
def new_project_page(request: Request, user: SignedIn, session: Db) -> HTMLResponse:
    """The form to add a project of the user's organisation."""
    writer(user, user.organisation_id if user else None, "add a project")
    values = {
        "start_date": date_parts(None),
        "end_date": date_parts(None),
        "status": "planned",
        "contacts": [{}] * 2,
        "target_outcomes": [],
    }
    return _project_form(request, session, values, [])


def _read_contacts(form: FormData) -> list[dict[str, str]]:
    contacts = []
    n = 0
    while f"contact-{n}-name" in form:
        contacts.append(form_text(form, [f"contact-{n}-{k}" for k in ("name", "role", "email")]))
        n += 1
    return [{k.rsplit("-", 1)[1]: v for k, v in c.items()} for c in contacts]


def _read_project(form: FormData) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    errors: Errors = []
    values: dict[str, Any] = form_text(form, PROJECT_TEXT)
    values["target_outcomes"] = [str(v) for v in form.getlist("target_outcomes")]
    start, values["start_date"] = read_date(form, "start_date", "the start date", errors, False)
    end, values["end_date"] = read_date(form, "end_date", "the end date", errors, False)
    contacts = values["contacts"] = _read_contacts(form)
    if not values["title"]:
        errors.insert(0, ("title", "Enter the project's title"))
    fields: dict[str, Any] = {
        "intervention_id": values["intervention_id"] or None,
        "la_code": values["la_code"] or None,
        "start_date": start,
        "end_date": end,
        "funder": values["funder"],
        "funding_amount": values["funding_amount"],
        "vision": values["vision"],
        "target_outcomes": values["target_outcomes"],
        "lessons": values["lessons"],
        "contacts": [{k: v for k, v in c.items() if v} for c in contacts if any(c.values())],
        "source": values["source"],
    }
    for n, person in enumerate(contacts):
        if any(person.values()) and not person["name"]:
            errors.append((f"contact-{n}-name", f"Enter the name of person {n + 1} to talk to"))
    return values, fields, errors


@router.post("/evidence/projects/new", include_in_schema=False)
def new_project(request: Request, form: Posted, user: SignedIn, session: Db) -> Response:
    """Add a project; bad input shows the form again with its errors and stores nothing."""
    author = writer(user, user.organisation_id if user else None, "add a project")
    values, fields, errors = _read_project(form)
    if not errors:
        try:
            project = projects.create_project(
                session,
                author,
                values["title"],
                organisation_id=author.organisation_id,
                status=values["status"] or "planned",
                **fields,
            )
            session.commit()
            return RedirectResponse(f"/evidence/projects/{project.id}", status_code=303)
        except WhatworksError as error:
            session.rollback()
            errors.append(("title", str(error)))
    return _project_form(request, session, values, errors, status=400)


def _conditions_form(
    request: Request, project: Project, values: Mapping[str, Any], errors: Errors, status: int = 200
) -> HTMLResponse:
    template = "evidence/project_conditions.html"
    return render_form(
        request, template, values, errors, status, project=project, conditions=projects.CONDITIONS
    )


@router.get(
    "/evidence/projects/{project_id:int}/conditions",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def conditions_page(request: Request, project_id: int, user: SignedIn, session: Db) -> HTMLResponse:
    """The form to rate the project's conditions for success on a date."""
    project = projects.get_project(session, project_id)
    writer(user, project.organisation_id, "rate this project")
    return _conditions_form(request, project, {"rated_on": date_parts(date.today())}, [])


@router.post("/evidence/projects/{project_id:int}/conditions", include_in_schema=False)
def rate_conditions(
    request: Request, project_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Add a rating (1 to 5) for each condition given; the earlier ratings are kept."""
    project = projects.get_project(session, project_id)
    author = writer(user, project.organisation_id, "rate this project")
    errors: Errors = []
    rated_on, parts = read_date(form, "rated_on", "the date of the rating", errors)
    values: dict[str, Any] = {"rated_on": parts}
    chosen = []
    for n, condition in enumerate(projects.CONDITIONS):
        raw = str(form.get(f"condition-{n}", "")).strip()
        note = str(form.get(f"note-{n}", "")).strip()
        values[f"condition-{n}"], values[f"note-{n}"] = raw, note
        if raw:
            chosen.append((condition, int(raw) if raw.isdigit() else 0, note))
    if not chosen:
        errors.append(("condition-0-1", "Rate at least one condition, from 1 (weak) to 5 (strong)"))
    if not errors and rated_on is not None:
        try:
            for condition, rating, note in chosen:
                projects.rate_condition(
                    session, author, project.id, condition, rating, rated_on, note
                )
            session.commit()
            return RedirectResponse(f"/evidence/projects/{project.id}#conditions", status_code=303)
        except WhatworksError as error:
            session.rollback()
            errors.append(("condition-0-1", str(error)))
    return _conditions_form(request, project, values, errors, status=400)
