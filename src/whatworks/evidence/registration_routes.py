"""Pages and JSON for pre-registered evaluations (issue 5, items 3 and 11): each frozen,
time-stamped version with what changed and why, checkpoint reviews, and the forms to
register a plan and to register a changed plan as a new version.

Reads are public. A registration is never edited in place: the only writes are register,
amend (a new version with its reason) and a checkpoint review, through `registrations`,
which checks who may write and writes the audit log. The plan form is read in `plan_form`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from whatworks.core.auth import has_role
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import render
from whatworks.evidence import projects, registrations, tracker
from whatworks.evidence.forms import (
    Db,
    Errors,
    Posted,
    SignedIn,
    date_parts,
    intervention_names,
    long_date,
    may_write,
    organisation_name,
    read_date,
    render_form,
    stamp,
    writer,
)
from whatworks.evidence.models import Registration, RegistrationVersion
from whatworks.evidence.plan_form import MARYLAND, PLAN_LABELS, plan_values, read_plan, shown
from whatworks.evidence.registrations import EvaluationPlan

router = APIRouter()


def registration_summary(session: Session, registration: Registration) -> dict[str, Any]:
    """A registration in a list: its latest version's title and planned completion."""
    latest = registrations.latest_version(session, registration.id)
    return {
        "id": registration.id,
        "url": f"/evidence/registrations/{registration.id}",
        "title": latest.title,
        "version": latest.version,
        "planned_completion": latest.planned_completion.isoformat(),
        "is_demo": registration.is_demo,
    }


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
        "organisation": organisation_name(session, registration.organisation_id),
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
def api_registration(registration_id: int, session: Db) -> dict[str, Any]:
    """A pre-registered evaluation: every frozen version (the plan, when, by whom, the
    reason for the change, what changed and its SHA-256), its checkpoint reviews and where
    it stands in the tracker today."""
    return registration_json(session, registrations.get_registration(session, registration_id))


@router.get("/api/evidence/registrations", tags=["evidence"], summary="Registrations")
def api_registrations(session: Db) -> dict[str, Any]:
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
        "intervention": intervention_names(session).get(registration.intervention_id or "", ""),
        "organisation": organisation_name(session, registration.organisation_id),
        "can_edit": may_write(user, registration.organisation_id),
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
    context = _registration_context(session, registration, user)
    return render_form(request, "evidence/registration.html", values, errors, status, **context)


@router.get(
    "/evidence/registrations/{registration_id:int}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def registration_page(
    request: Request, registration_id: int, user: SignedIn, session: Db
) -> HTMLResponse:
    """The latest version, frozen and time-stamped, with the full version history."""
    registration = registrations.get_registration(session, registration_id)
    values = {"reviewed_on": date_parts(date.today())}
    return _registration_page(request, session, registration, user, [], values)


@router.get(
    "/evidence/registrations/{registration_id:int}/versions/{number:int}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def version_page(request: Request, registration_id: int, number: int, session: Db) -> HTMLResponse:
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
    request: Request, registration_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Record a checkpoint review: continue, adapt or stop, and what was learned."""
    registration = registrations.get_registration(session, registration_id)
    author = writer(user, registration.organisation_id, "review this evaluation")
    errors: Errors = []
    reviewed_on, parts = read_date(form, "reviewed_on", "the date of the review", errors)
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
    choices = []
    if registration is None and user is not None:
        # a researcher may register for any project; a member for their organisation's
        if has_role(user, "researcher"):
            choices = projects.list_projects(session)
        elif user.organisation_id is not None:
            choices = projects.list_projects(session, organisation_id=user.organisation_id)
    return render_form(
        request,
        "evidence/registration_form.html",
        values,
        errors,
        status,
        registration=registration,
        latest=latest,
        project_choices=choices,
        interventions=intervention_names(session),
        maryland=MARYLAND,
        long_date=long_date,
    )


@router.get("/evidence/registrations/new", response_class=HTMLResponse, include_in_schema=False)
def new_registration_page(
    request: Request, user: SignedIn, session: Db, project: int | None = None
) -> HTMLResponse:
    """The form to register an evaluation plan (of a project, or of an intervention)."""
    if user is None:
        raise HTTPException(401, "Sign in to register an evaluation.")
    if project is not None:
        writer(user, projects.get_project(session, project).organisation_id, "register it")
    values = plan_values() | {"project_id": str(project or ""), "intervention_id": ""}
    return _plan_form(request, session, values, [], user=user)


@router.post("/evidence/registrations/new", include_in_schema=False)
def new_registration(request: Request, form: Posted, user: SignedIn, session: Db) -> Response:
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
        writer(user, owner, "register an evaluation of this project")
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
def amend_page(request: Request, registration_id: int, user: SignedIn, session: Db) -> HTMLResponse:
    """The latest plan in the form, to register a changed plan as a new version."""
    registration = registrations.get_registration(session, registration_id)
    writer(user, registration.organisation_id, "change this plan")
    latest = registrations.latest_version(session, registration.id)
    values = plan_values(EvaluationPlan.of(latest).content()) | {"reason": ""}
    return _plan_form(
        request, session, values, [], user=user, registration=registration, latest=latest
    )


@router.post("/evidence/registrations/{registration_id:int}/amend", include_in_schema=False)
def amend(
    request: Request, registration_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Register the changed plan as the next version with its reason; nothing is changed
    in place, and every earlier version stays readable."""
    registration = registrations.get_registration(session, registration_id)
    author = writer(user, registration.organisation_id, "change this plan")
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
