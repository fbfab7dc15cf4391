"""Pages and JSON for projects, pre-registered evaluations and the learning-from-failure
tracker (issue 5, items 2, 3, 5 and 11).

Reads are public. Writes go through `projects` and `registrations`, which check that the
signed-in user belongs to the organisation that owns the record (or is a researcher or an
administrator) and write the audit log. A registration is never edited in place: the only
writes are register, amend (a new version with its reason) and a checkpoint review.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.auth import has_role
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.evidence import projects, registrations, tracker
from whatworks.evidence.interventions import list_interventions
from whatworks.evidence.models import Project, Registration, RegistrationVersion
from whatworks.evidence.registrations import Checkpoint, EvaluationPlan, OutcomeMeasure
from whatworks.outcomes.catalogue import catalogue, indicator
from whatworks.outcomes.exports import csv_response
from whatworks.places.places import local_authorities

router = APIRouter()
#: The Maryland Scientific Methods Scale, as the form explains each level.
MARYLAND = {
    1: "Correlation at one point in time, with no comparison group",
    2: "Before and after, or a comparison group without controls for differences",
    3: "A justified comparison group with controls (for example difference in differences)",
    4: "Comparison with strong controls or quasi-random variation",
    5: "Random assignment (a randomised controlled trial)",
}
PLAN_LABELS = {
    "title": "Title",
    "questions": "Questions",
    "primary_outcomes": "Primary outcomes",
    "secondary_outcomes": "Secondary outcomes",
    "design": "Design",
    "maryland_level": "Maryland level",
    "planned_sample": "Planned sample",
    "minimum_detectable_effect": "Minimum detectable effect",
    "analysis_plan": "Analysis plan",
    "success_criteria": "Success criteria",
    "checkpoints": "Review checkpoints and stop rules",
    "planned_completion": "Planned completion",
    "planned_report": "Planned report",
}
#: Text fields of the project form, and of the plan form.
PROJECT_TEXT = (
    "title", "intervention_id", "la_code", "funder", "funding_amount", "status", "vision",
    "lessons", "source",
)  # fmt: skip
PLAN_TEXT = (
    "title", "questions", "design", "maryland_level", "planned_sample",
    "minimum_detectable_effect", "analysis_plan", "success_criteria",
)  # fmt: skip
#: Empty rows the plan form offers for outcomes and checkpoints.
MIN_ROWS = 3
Errors = list[tuple[str, str]]  # (field id, message)


# ---------------------------------------------------------------------------------------
# shared


def long_date(value: date | str | None) -> str:
    """A date as GOV.UK writes it: 31 March 2026."""
    if value is None or value == "":
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def stamp(moment: datetime) -> str:
    """A stored time (UTC) as a page shows it: 31 March 2026 at 14:05 UTC."""
    return f"{long_date(moment.date())} at {moment:%H:%M} UTC"


def _may_write(user: User | None, organisation_id: int | None) -> bool:
    if user is None:
        return False
    if has_role(user, "researcher"):
        return True
    return organisation_id is not None and user.organisation_id == organisation_id


def _writer(user: User | None, organisation_id: int | None, doing: str) -> User:
    """The user, if they may write to the organisation's records; 401 or 403 otherwise."""
    if user is None:
        raise HTTPException(401, f"Sign in to {doing}.")
    if not _may_write(user, organisation_id):
        raise HTTPException(
            403, f"Only members of the organisation that owns it (or a researcher) can {doing}."
        )
    return user


def _organisation(session: Session, organisation_id: int | None) -> str:
    found = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return found.name if found else ""


def _as_at(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"as_at {text!r} is not a date written YYYY-MM-DD.") from None


def _summary(errors: Errors) -> list[dict[str, str]]:
    return [{"href": f"#{field}", "text": message} for field, message in errors]


def _field_errors(errors: Errors) -> dict[str, str]:
    found: dict[str, str] = {}
    for field, message in errors:
        found.setdefault(field, message)
    return found


def _date_parts(value: date | None) -> dict[str, str]:
    if value is None:
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def _read_date(
    form: FormData, name: str, label: str, errors: Errors, required: bool = True
) -> tuple[date | None, dict[str, str]]:
    """A GOV.UK date input (name-day, name-month, name-year) as a date, or an error."""
    parts = {p: str(form.get(f"{name}-{p}", "")).strip() for p in ("day", "month", "year")}
    if not any(parts.values()):
        if required:
            errors.append((f"{name}-day", f"Enter {label}"))
        return None, parts
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"])), parts
    except ValueError:
        errors.append((f"{name}-day", f"{label.capitalize()} must be a real date, like 31 3 2026"))
        return None, parts


# ---------------------------------------------------------------------------------------
# projects


def _intervention_names(session: Session) -> dict[str, str]:
    return {i.id: i.name for i in list_interventions(session)}


def _outcome(indicator_id: str) -> dict[str, str]:
    try:
        title = indicator(indicator_id).title
    except NotFound:
        title = indicator_id
    return {"id": indicator_id, "title": title, "url": f"/indicators/{indicator_id}"}


def _rating(row: Any) -> dict[str, Any]:
    return {
        "condition": row.condition,
        "rating": row.rating,
        "rated_on": row.rated_on.isoformat(),
        "note": row.note,
        "rated_by": row.rated_by,
    }


def project_json(session: Session, project: Project) -> dict[str, Any]:
    """A project as the JSON twin of its page shows it."""
    names = _intervention_names(session)
    return {
        "id": project.id,
        "url": f"/evidence/projects/{project.id}",
        "title": project.title,
        "intervention_id": project.intervention_id,
        "intervention": names.get(project.intervention_id or "", ""),
        "organisation_id": project.organisation_id,
        "organisation": _organisation(session, project.organisation_id),
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


def registration_summary(session: Session, registration: Registration) -> dict[str, Any]:
    latest = registrations.latest_version(session, registration.id)
    return {
        "id": registration.id,
        "url": f"/evidence/registrations/{registration.id}",
        "title": latest.title,
        "version": latest.version,
        "planned_completion": latest.planned_completion.isoformat(),
        "is_demo": registration.is_demo,
    }


@router.get("/evidence/projects", response_class=HTMLResponse, include_in_schema=False)
def projects_page(
    request: Request,
    intervention: str | None = None,
    la: str | None = None,
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """Projects, optionally of one intervention or place."""
    found = projects.list_projects(
        session, intervention_id=intervention or None, la_code=(la or "").upper() or None
    )
    return render(
        request,
        "evidence/projects.html",
        projects=found,
        interventions=_intervention_names(session),
        places=local_authorities(session),
        intervention=intervention or "",
        la=la or "",
        organisations={p.organisation_id: _organisation(session, p.organisation_id) for p in found},
    )


@router.get("/api/evidence/projects", tags=["evidence"], summary="Projects")
def api_projects(
    intervention: str | None = None,
    la: str | None = None,
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Every project (one organisation's implementation of an intervention or idea),
    optionally of one intervention (its slug) or place (new LA code)."""
    found = projects.list_projects(
        session, intervention_id=intervention or None, la_code=(la or "").upper() or None
    )
    return {"projects": [project_json(session, p) for p in found]}


@router.get("/api/evidence/projects/{project_id:int}", tags=["evidence"], summary="One project")
def api_project(project_id: int, session: Session = Depends(db_session)) -> dict[str, Any]:
    """A project: place, dates, funding, vision, target outcomes, the six conditions for
    success rated over time, lessons, people to talk to and its registered evaluations."""
    return project_json(session, projects.get_project(session, project_id))


def _condition_grid(history: list[Any]) -> tuple[list[date], dict[str, dict[date, int]]]:
    dates = sorted({r.rated_on for r in history})
    grid: dict[str, dict[date, int]] = {c: {} for c in projects.CONDITIONS}
    for row in history:
        grid.setdefault(row.condition, {})[row.rated_on] = row.rating
    return dates, grid


@router.get(
    "/evidence/projects/{project_id:int}", response_class=HTMLResponse, include_in_schema=False
)
def project_page(
    request: Request,
    project_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
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
        can_edit=_may_write(user, project.organisation_id),
        long_date=long_date,
    )


def _project_form(
    request: Request,
    session: Session,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "evidence/project_new.html",
        status_code=status,
        values=values,
        errors=_summary(errors),
        field_errors=_field_errors(errors),
        interventions=_intervention_names(session),
        places=local_authorities(session),
        indicators=catalogue(),
        statuses=projects.STATUSES,
    )


@router.get("/evidence/projects/new", response_class=HTMLResponse, include_in_schema=False)
def new_project_page(
    request: Request,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The form to add a project of the user's organisation."""
    _writer(user, user.organisation_id if user else None, "add a project")
    values = {
        "start_date": _date_parts(None),
        "end_date": _date_parts(None),
        "status": "planned",
        "contacts": [{}] * 2,
        "target_outcomes": [],
    }
    return _project_form(request, session, values, [])


def _read_project(form: FormData) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    errors: Errors = []
    values: dict[str, Any] = {key: str(form.get(key, "")).strip() for key in PROJECT_TEXT}
    values["target_outcomes"] = [str(v) for v in form.getlist("target_outcomes")]
    start, values["start_date"] = _read_date(form, "start_date", "the start date", errors, False)
    end, values["end_date"] = _read_date(form, "end_date", "the end date", errors, False)
    contacts = []
    n = 0
    while f"contact-{n}-name" in form:
        person = {k: str(form.get(f"contact-{n}-{k}", "")).strip() for k in ("name", "role")}
        person["email"] = str(form.get(f"contact-{n}-email", "")).strip()
        contacts.append(person)
        n += 1
    values["contacts"] = contacts
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
def new_project(
    request: Request,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Add a project; bad input shows the form again with its errors and stores nothing."""
    author = _writer(user, user.organisation_id if user else None, "add a project")
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
    request: Request,
    project: Project,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "evidence/project_conditions.html",
        status_code=status,
        project=project,
        conditions=projects.CONDITIONS,
        values=values,
        errors=_summary(errors),
        field_errors=_field_errors(errors),
    )


@router.get(
    "/evidence/projects/{project_id:int}/conditions",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def conditions_page(
    request: Request,
    project_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The form to rate the project's conditions for success on a date."""
    project = projects.get_project(session, project_id)
    _writer(user, project.organisation_id, "rate this project")
    values = {"rated_on": _date_parts(date.today())}
    return _conditions_form(request, project, values, [])


@router.post("/evidence/projects/{project_id:int}/conditions", include_in_schema=False)
def rate_conditions(
    request: Request,
    project_id: int,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Add a rating (1 to 5) for each condition given; the earlier ratings are kept."""
    project = projects.get_project(session, project_id)
    author = _writer(user, project.organisation_id, "rate this project")
    errors: Errors = []
    rated_on, parts = _read_date(form, "rated_on", "the date of the rating", errors)
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


# ---------------------------------------------------------------------------------------
# registrations


def shown(field: str, value: Any) -> list[str]:
    """A plan field's value as lines of text for a page."""
    if field in ("primary_outcomes", "secondary_outcomes"):
        return [f"{o['name']}, measured by {o['measure']}" for o in value] or ["None"]
    if field == "checkpoints":
        return [
            f"{long_date(c['on'])}: {c['question']}. Stop rule: {c['stop_rule']}" for c in value
        ] or ["None"]
    if field == "questions":
        return list(value) or ["None"]
    if field in ("planned_completion", "planned_report"):
        return [long_date(value)]
    if field == "maryland_level":
        return [f"Level {value}: {MARYLAND.get(value, '')}"]
    if value in (None, ""):
        return ["Not given"]
    return [str(value)]


def version_json(
    version: RegistrationVersion, previous: RegistrationVersion | None
) -> dict[str, Any]:
    changed = registrations.changes(previous, version) if previous else {}
    return {
        "version": version.version,
        "url": f"/evidence/registrations/{version.registration_id}/versions/{version.version}",
        "registered_at": version.registered_at.isoformat(),
        "registered_by": version.registered_by,
        "reason": version.reason,
        "sha256": version.content_sha256,
        "plan": EvaluationPlan.of(version).content(),
        "changed": {k: {"from": old, "to": new} for k, (old, new) in changed.items()},
    }


def registration_json(session: Session, registration: Registration) -> dict[str, Any]:
    """A registration with every version, what changed and why, its reviews and status."""
    history = registrations.versions(session, registration.id)
    return {
        "id": registration.id,
        "url": f"/evidence/registrations/{registration.id}",
        "project_id": registration.project_id,
        "intervention_id": registration.intervention_id,
        "organisation": _organisation(session, registration.organisation_id),
        "funder": registration.funder,
        "is_demo": registration.is_demo,
        "hash_problems": registrations.verify(session, registration.id),
        "status": tracker.track(session, registration, date.today()).as_dict(),
        "versions": [version_json(v, history[n - 1] if n else None) for n, v in enumerate(history)],
        "reviews": [
            {
                "reviewed_on": r.reviewed_on.isoformat(),
                "decision": r.decision,
                "learned": r.learned,
                "reviewed_by": r.reviewed_by,
            }
            for r in registrations.reviews(session, registration.id)
        ],
    }


@router.get(
    "/api/evidence/registrations/{registration_id:int}", tags=["evidence"], summary="A registration"
)
def api_registration(
    registration_id: int, session: Session = Depends(db_session)
) -> dict[str, Any]:
    """A pre-registered evaluation: every frozen version (the plan, when, by whom, the
    reason for the change, what changed and its SHA-256), its checkpoint reviews and where
    it stands in the tracker today."""
    return registration_json(session, registrations.get_registration(session, registration_id))


@router.get("/api/evidence/registrations", tags=["evidence"], summary="Registrations")
def api_registrations(session: Session = Depends(db_session)) -> dict[str, Any]:
    """Every pre-registered evaluation, with its latest version's title."""
    return {
        "registrations": [
            registration_summary(session, r) for r in registrations.list_registrations(session)
        ]
    }


def _registration_context(
    session: Session, registration: Registration, user: User | None
) -> dict[str, Any]:
    history = registrations.versions(session, registration.id)
    project = (
        projects.get_project(session, registration.project_id)
        if registration.project_id is not None
        else None
    )
    return {
        "registration": registration,
        "latest": history[-1],
        "history": history,
        "plan": EvaluationPlan.of(history[-1]).content(),
        "changes": {
            v.version: registrations.changes(history[n - 1], v) for n, v in enumerate(history) if n
        },
        "hash_problems": registrations.verify(session, registration.id),
        "reviews": registrations.reviews(session, registration.id),
        "tracked": tracker.track(session, registration, date.today()),
        "project": project,
        "intervention": _intervention_names(session).get(registration.intervention_id or "", ""),
        "organisation": _organisation(session, registration.organisation_id),
        "can_edit": _may_write(user, registration.organisation_id),
        "labels": PLAN_LABELS,
        "shown": shown,
        "long_date": long_date,
        "stamp": stamp,
        "decisions": registrations.DECISIONS,
    }


def _registration_page(
    request: Request,
    session: Session,
    registration: Registration,
    user: User | None,
    errors: Errors,
    values: Mapping[str, Any],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "evidence/registration.html",
        status_code=status,
        errors=_summary(errors),
        field_errors=_field_errors(errors),
        values=values,
        **_registration_context(session, registration, user),
    )


@router.get(
    "/evidence/registrations/{registration_id:int}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def registration_page(
    request: Request,
    registration_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The latest version, frozen and time-stamped, with the full version history."""
    registration = registrations.get_registration(session, registration_id)
    values = {"reviewed_on": _date_parts(date.today())}
    return _registration_page(request, session, registration, user, [], values)


@router.get(
    "/evidence/registrations/{registration_id:int}/versions/{number:int}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def version_page(
    request: Request,
    registration_id: int,
    number: int,
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """One version as registered, what changed from the one before and why."""
    registration = registrations.get_registration(session, registration_id)
    history = registrations.versions(session, registration.id)
    if not 1 <= number <= len(history):
        raise NotFound(f"Registration {registration_id} has no version {number}.")
    version = history[number - 1]
    previous = history[number - 2] if number > 1 else None
    return render(
        request,
        "evidence/registration_version.html",
        registration=registration,
        version=version,
        latest=history[-1],
        plan=EvaluationPlan.of(version).content(),
        changed=registrations.changes(previous, version) if previous else {},
        labels=PLAN_LABELS,
        shown=shown,
        long_date=long_date,
        stamp=stamp,
    )


@router.post("/evidence/registrations/{registration_id:int}/reviews", include_in_schema=False)
def review(
    request: Request,
    registration_id: int,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Record a checkpoint review: continue, adapt or stop, and what was learned."""
    registration = registrations.get_registration(session, registration_id)
    author = _writer(user, registration.organisation_id, "review this evaluation")
    errors: Errors = []
    reviewed_on, parts = _read_date(form, "reviewed_on", "the date of the review", errors)
    decision = str(form.get("decision", ""))
    learned = str(form.get("learned", "")).strip()
    if decision not in registrations.DECISIONS:
        errors.append(("decision", "Choose whether to continue, adapt or stop"))
    if not learned:
        errors.append(("learned", "Say what was learned: a decision to stop is learning too"))
    if not errors and reviewed_on is not None:
        try:
            registrations.review_checkpoint(
                session, author, registration.id, reviewed_on, decision, learned
            )
            session.commit()
            return RedirectResponse(
                f"/evidence/registrations/{registration.id}#reviews", status_code=303
            )
        except WhatworksError as error:
            session.rollback()
            errors.append(("learned", str(error)))
    values = {"reviewed_on": parts, "decision": decision, "learned": learned}
    return _registration_page(request, session, registration, user, errors, values, status=400)


# The plan form: the same fields for registering and amending.


def plan_values(plan: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the plan form shows: empty, or a stored plan's content to amend."""
    plan = plan or {}

    def rows(items: list[dict[str, str]]) -> list[dict[str, str]]:
        return list(items) + [{}] * max(MIN_ROWS - len(items), 1)

    checkpoints = [
        {**c, "on": _date_parts(date.fromisoformat(c["on"]))} for c in plan.get("checkpoints", [])
    ]
    return {
        **{k: plan.get(k, "") for k in PLAN_LABELS if k not in ("questions",)},
        "questions": "\n".join(plan.get("questions", [])),
        "planned_sample": plan.get("planned_sample") or "",
        "primary_outcomes": rows(plan.get("primary_outcomes", [])),
        "secondary_outcomes": rows(plan.get("secondary_outcomes", [])),
        "checkpoints": checkpoints
        + [{"on": _date_parts(None)}] * max(MIN_ROWS - len(checkpoints), 1),
        "planned_completion": _date_parts(
            date.fromisoformat(plan["planned_completion"]) if plan else None
        ),
        "planned_report": _date_parts(date.fromisoformat(plan["planned_report"]) if plan else None),
    }


def _read_outcomes(form: FormData, kind: str) -> list[dict[str, str]]:
    found = []
    n = 0
    while f"{kind}-{n}-name" in form:
        found.append({p: str(form.get(f"{kind}-{n}-{p}", "")).strip() for p in ("name", "measure")})
        n += 1
    return found


def _problem_field(problem: str, checkpoint_rows: list[int]) -> str:
    """The form field a plan problem (EvaluationPlan.problems) is about."""
    text = problem.casefold()
    numbered = re.search(r"checkpoint (\d+)", text)
    if numbered:
        n = int(numbered.group(1)) - 1
        return f"checkpoint-{checkpoint_rows[n] if n < len(checkpoint_rows) else 0}-question"
    for words, field in (
        ("secondary", "secondary_outcomes-0-name"),
        ("primary", "primary_outcomes-0-name"),
        ("question", "questions"),
        ("title", "title"),
        ("design", "design"),
        ("maryland", "maryland_level"),
        ("sample", "planned_sample"),
        ("report date", "planned_report-day"),
    ):
        if words in text:
            return field
    return "title"


#: The plan form's fields, top to bottom: the error summary lists errors in this order.
FORM_ORDER = (
    "project_id", "reason", "title", "questions", "primary_outcomes", "secondary_outcomes",
    "design", "maryland_level", "planned_sample", "checkpoint", "planned_completion",
    "planned_report",
)  # fmt: skip


def _form_order(field: str) -> tuple[int, str]:
    for n, prefix in enumerate(FORM_ORDER):
        if field.startswith(prefix):
            return n, field
    return len(FORM_ORDER), field


def read_plan(form: FormData) -> tuple[dict[str, Any], EvaluationPlan | None, Errors]:
    """The plan a form describes, with what the form showed and every problem found."""
    errors: Errors = []
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in PLAN_TEXT}
    values["primary_outcomes"] = _read_outcomes(form, "primary_outcomes")
    values["secondary_outcomes"] = _read_outcomes(form, "secondary_outcomes")
    level = int(values["maryland_level"]) if values["maryland_level"].isdigit() else None
    if level not in MARYLAND:
        errors.append(("maryland_level", "Choose the design's Maryland level, from 1 to 5"))
    sample: int | None = None
    if values["planned_sample"]:
        if values["planned_sample"].replace(",", "").isdigit():
            sample = int(values["planned_sample"].replace(",", ""))
        else:
            errors.append(("planned_sample", "The planned sample must be a whole number, like 600"))
    checkpoints: list[Checkpoint] = []
    checkpoint_rows: list[int] = []
    values["checkpoints"] = []
    n = 0
    while f"checkpoint-{n}-question" in form:
        row: dict[str, Any] = {
            p: str(form.get(f"checkpoint-{n}-{p}", "")).strip() for p in ("question", "stop_rule")
        }
        blank = not any(row.values()) and not any(
            str(form.get(f"checkpoint-{n}-on-{p}", "")).strip() for p in ("day", "month", "year")
        )
        on, row["on"] = _read_date(
            form, f"checkpoint-{n}-on", f"the date of checkpoint {n + 1}", errors, not blank
        )
        values["checkpoints"].append(row)
        if not blank and on is not None:
            checkpoints.append(Checkpoint(on, row["question"], row["stop_rule"]))
            checkpoint_rows.append(n)
        n += 1
    completion, values["planned_completion"] = _read_date(
        form, "planned_completion", "the planned completion date", errors
    )
    report, values["planned_report"] = _read_date(
        form, "planned_report", "the planned report date", errors
    )
    plan = EvaluationPlan(
        title=values["title"],
        questions=tuple(q.strip() for q in values["questions"].splitlines() if q.strip()),
        primary_outcomes=tuple(
            OutcomeMeasure(o["name"], o["measure"])
            for o in values["primary_outcomes"]
            if o["name"] or o["measure"]
        ),
        secondary_outcomes=tuple(
            OutcomeMeasure(o["name"], o["measure"])
            for o in values["secondary_outcomes"]
            if o["name"] or o["measure"]
        ),
        design=values["design"],
        maryland_level=level or 1,  # placeholders where the form could not be read,
        planned_sample=sample,
        minimum_detectable_effect=values["minimum_detectable_effect"],
        analysis_plan=values["analysis_plan"],
        success_criteria=values["success_criteria"],
        checkpoints=tuple(checkpoints),
        planned_completion=completion or report or date.min,  # so that every other
        planned_report=report or completion or date.min,  # problem is shown at once
    )
    for problem in plan.problems():
        errors.append((_problem_field(problem, checkpoint_rows), problem[0].upper() + problem[1:]))
    errors.sort(key=lambda error: _form_order(error[0]))
    return values, (None if errors else plan), errors


def _plan_form(
    request: Request,
    session: Session,
    values: Mapping[str, Any],
    errors: Errors,
    *,
    user: User | None,
    registration: Registration | None = None,
    latest: RegistrationVersion | None = None,
    status: int = 200,
) -> HTMLResponse:
    if registration is None:
        mine = None if has_role(user, "researcher") else (user.organisation_id if user else None)
        choices = projects.list_projects(session, organisation_id=mine) if user else []
        if mine is None and user is not None and not has_role(user, "researcher"):
            choices = []
    else:
        choices = []
    return render(
        request,
        "evidence/registration_form.html",
        status_code=status,
        values=values,
        errors=_summary(errors),
        field_errors=_field_errors(errors),
        registration=registration,
        latest=latest,
        project_choices=choices,
        interventions=_intervention_names(session),
        maryland=MARYLAND,
        long_date=long_date,
    )


@router.get("/evidence/registrations/new", response_class=HTMLResponse, include_in_schema=False)
def new_registration_page(
    request: Request,
    project: int | None = None,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The form to register an evaluation plan (of a project, or of an intervention)."""
    if user is None:
        raise HTTPException(401, "Sign in to register an evaluation.")
    if project is not None:
        _writer(user, projects.get_project(session, project).organisation_id, "register it")
    values = plan_values() | {"project_id": str(project or ""), "intervention_id": ""}
    return _plan_form(request, session, values, [], user=user)


@router.post("/evidence/registrations/new", include_in_schema=False)
def new_registration(
    request: Request,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Register version 1 of a plan, frozen now; bad input stores nothing."""
    if user is None:
        raise HTTPException(401, "Sign in to register an evaluation.")
    values, plan, errors = read_plan(form)
    values["project_id"] = str(form.get("project_id", "")).strip()
    values["intervention_id"] = str(form.get("intervention_id", "")).strip()
    project_id = int(values["project_id"]) if values["project_id"].isdigit() else None
    if project_id is None and not values["intervention_id"]:
        errors.insert(0, ("project_id", "Choose the project (or intervention) it evaluates"))
    if project_id is not None:
        owner = projects.get_project(session, project_id).organisation_id
        _writer(user, owner, "register an evaluation of this project")
    if plan is not None and not errors:
        try:
            version = registrations.register(
                session,
                user,
                plan,
                project_id=project_id,
                intervention_id=values["intervention_id"] or None,
                organisation_id=None if project_id is not None else user.organisation_id,
            )
            session.commit()
            return RedirectResponse(
                f"/evidence/registrations/{version.registration_id}", status_code=303
            )
        except WhatworksError as error:
            session.rollback()
            errors.append(("project_id", str(error)))
    return _plan_form(request, session, values, errors, user=user, status=400)


@router.get(
    "/evidence/registrations/{registration_id:int}/amend",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def amend_page(
    request: Request,
    registration_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The latest plan in the form, to register a changed plan as a new version."""
    registration = registrations.get_registration(session, registration_id)
    _writer(user, registration.organisation_id, "change this plan")
    latest = registrations.latest_version(session, registration.id)
    values = plan_values(EvaluationPlan.of(latest).content()) | {"reason": ""}
    return _plan_form(
        request, session, values, [], user=user, registration=registration, latest=latest
    )


@router.post("/evidence/registrations/{registration_id:int}/amend", include_in_schema=False)
def amend(
    request: Request,
    registration_id: int,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Register the changed plan as the next version with its reason; nothing is changed
    in place, and every earlier version stays readable."""
    registration = registrations.get_registration(session, registration_id)
    author = _writer(user, registration.organisation_id, "change this plan")
    latest = registrations.latest_version(session, registration.id)
    values, plan, errors = read_plan(form)
    values["reason"] = str(form.get("reason", "")).strip()
    if not values["reason"]:
        errors.insert(
            0, ("reason", "Say why the plan changes: every change is kept with its reason")
        )
    if plan is not None and not errors:
        try:
            version = registrations.amend(session, author, registration.id, plan, values["reason"])
            session.commit()
            return RedirectResponse(
                f"/evidence/registrations/{registration.id}/versions/{version.version}",
                status_code=303,
            )
        except WhatworksError as error:
            session.rollback()
            errors.append(("reason", str(error)))
    return _plan_form(
        request,
        session,
        values,
        errors,
        user=user,
        registration=registration,
        latest=latest,
        status=400,
    )


# ---------------------------------------------------------------------------------------
# tracker


def _status(status: str | None) -> tracker.Status | None:
    if not status:
        return None
    if status not in tracker.STATUSES:
        raise HTTPException(400, f"status {status!r} is not one of {', '.join(tracker.STATUSES)}.")
    return status


@router.get("/evidence/tracker", response_class=HTMLResponse, include_in_schema=False)
def tracker_page(
    request: Request,
    as_at: str | None = None,
    status: str | None = None,
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """Every registration's status as at a date, outcome switching, and reporting rates."""
    day = _as_at(as_at)
    report = tracker.report(session, day, _status(status))
    return render(
        request,
        "evidence/tracker.html",
        report=report,
        as_at=day,
        status=status or "",
        statuses=tracker.STATUSES,
        long_date=long_date,
        query=str(request.url.query),
    )


@router.get("/api/evidence/tracker", tags=["evidence"], summary="The learning-from-failure tracker")
def api_tracker(
    as_at: str | None = None,
    status: str | None = None,
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Each registration as at `as_at` (default today): ongoing, overdue (no results 12
    months after planned completion), reported or reported late; its reported primary
    outcomes against the registered ones (dropped, added, switched); and reporting rates
    by organisation and by funder. `status` keeps one status. The same as
    `whatworks evidence tracker --format json`."""
    return tracker.report(session, _as_at(as_at), _status(status))


@router.get("/evidence/tracker.csv", include_in_schema=False)
def tracker_csv(
    as_at: str | None = None,
    status: str | None = None,
    session: Session = Depends(db_session),
) -> Response:
    """The tracker's registrations as CSV, one row each."""
    day = _as_at(as_at)
    rows = []
    for item in tracker.report(session, day, _status(status))["registrations"]:
        outcomes = item.pop("outcomes") or {}
        item["completion_moved_from"] = " ; ".join(item["completion_moved_from"])
        rows.append(
            item
            | {
                "outcomes_switched": outcomes.get("switched", ""),
                "outcomes_dropped": " ; ".join(outcomes.get("dropped", [])),
                "outcomes_added": " ; ".join(outcomes.get("added", [])),
            }
        )
    return csv_response(rows, f"evidence-tracker-{day.isoformat()}.csv")
