"""Pages and JSON for co-production on a project: who was involved, at which stage and how,
the grid of groups by stages, the suggested rating of "sustained engagement with children
and families" with its reasons, a form to record an activity and a button to apply the
suggestion.

Reads are public, as the project's own page is. Recording and applying are for members of
the project's organisation (and administrators): 401 for a visitor, 403 for anyone else.
The JSON POSTs follow the API's convention: a JSON body (FastAPI refuses other content
types, and the same-site session cookie is not sent with another site's request), 201 with
what was made, or 422 with every problem by field and nothing stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from whatworks.core.models import User
from whatworks.core.web import render
from whatworks.evidence import projects
from whatworks.evidence.forms import (
    Db,
    Errors,
    Posted,
    SignedIn,
    date_parts,
    field_errors,
    form_text,
    long_date,
    organisation_name,
    read_date,
    summary,
)
from whatworks.evidence.models import ConditionRating, Project
from whatworks.voice import coproduction
from whatworks.voice.coproduction import NewActivity

router = APIRouter()
TEXT_FIELDS = ("group", "stage", "method", "people", "description")
#: The form's fields in the order the page shows them (and its error summary lists them).
ORDER = ("group", "stage", "method", "held_on-day", "people", "description")


def _page_url(project_id: int) -> str:
    return f"/voice/projects/{project_id}/co-production"


def _rating_json(row: ConditionRating | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "condition": row.condition,
        "rating": row.rating,
        "rated_on": row.rated_on.isoformat(),
        "note": row.note,
        "rated_by": row.rated_by,
    }


def _latest(session: Session, project: Project) -> ConditionRating | None:
    return projects.latest_conditions(session, project.id).get(coproduction.CONDITION)


def _page(
    request: Request,
    session: Session,
    project: Project,
    user: User | None,
    values: Mapping[str, Any] | None = None,
    errors: Errors | None = None,
    status: int = 200,
    applied: bool = False,
) -> HTMLResponse:
    activities = coproduction.list_activities(session, project.id)
    found = errors or []
    return render(
        request,
        "voice/coproduction.html",
        status_code=status,
        project=project,
        organisation=organisation_name(session, project.organisation_id),
        activities=activities,
        found=coproduction.summarise(activities),
        latest=_latest(session, project),
        can_record=coproduction.may_record(user, project),
        values=values or {"held_on": date_parts(None), **dict.fromkeys(TEXT_FIELDS, "")},
        errors=summary(found),
        field_errors=field_errors(found),
        applied=applied,
        groups=coproduction.GROUPS,
        engaged=coproduction.ENGAGED,
        stages=coproduction.STAGES,
        methods=coproduction.METHODS,
        rubric=coproduction.RUBRIC,
        long_date=long_date,
    )


@router.get(
    "/voice/projects/{project_id:int}/co-production",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def coproduction_page(
    request: Request, session: Db, user: SignedIn, project_id: int, applied: int = 0
) -> HTMLResponse:
    """Who was involved in the project, at which stage and how, and the rating it suggests."""
    project = projects.get_project(session, project_id)
    return _page(request, session, project, user, applied=bool(applied))


def _member(user: User | None, project: Project, doing: str) -> User:
    if user is None:
        raise HTTPException(401, f"Sign in to {doing}.")
    if not coproduction.may_record(user, project):
        raise HTTPException(
            403, f"Only members of the organisation that runs this project can {doing}."
        )
    return user


def _people(text: str) -> tuple[int | None, str]:
    """The optional number of people, or the problem with it."""
    if not text:
        return None, ""
    if not text.isdigit():
        return None, "Enter the number of people as a whole number, like 12, or leave it empty"
    return int(text), ""


def _checked(new: NewActivity, errors: Errors) -> Errors:
    """The route's own problems (unreadable date or number) and the domain's, one for each
    field, in the form's order."""
    seen = {f for f, _ in errors}
    merged = errors + [p for p in new.problems(date.today()) if p[0] not in seen]
    return sorted(merged, key=lambda p: ORDER.index(p[0]) if p[0] in ORDER else len(ORDER))


@router.post("/voice/projects/{project_id:int}/co-production", include_in_schema=False)
def record_activity(
    request: Request, session: Db, user: SignedIn, form: Posted, project_id: int
) -> Response:
    """Record an activity, or show the page again with its errors, storing nothing."""
    project = projects.get_project(session, project_id)
    author = _member(user, project, "record its co-production")
    errors: Errors = []
    values: dict[str, Any] = form_text(form, TEXT_FIELDS)
    held_on, values["held_on"] = read_date(form, "held_on", "the date of the activity", errors)
    people, problem = _people(values["people"])
    if problem:
        errors.append(("people", problem))
    new = NewActivity(
        values["group"], values["stage"], values["method"], held_on, people, values["description"]
    )
    errors = _checked(new, errors)
    if not errors:
        try:
            coproduction.record_activity(session, author, project.id, new)
            session.commit()
            return RedirectResponse(f"{_page_url(project.id)}#activities", status_code=303)
        except coproduction.ActivityRefused as refused:
            session.rollback()
            errors = refused.problems
    return _page(request, session, project, author, values, errors, status=400)


@router.post("/voice/projects/{project_id:int}/co-production/rating", include_in_schema=False)
def apply_rating(session: Db, user: SignedIn, form: Posted, project_id: int) -> Response:
    """Add the suggested rating to the project's conditions for success."""
    project = projects.get_project(session, project_id)
    author = _member(user, project, "rate its conditions for success")
    coproduction.apply_suggestion(session, author, project.id)
    session.commit()
    return RedirectResponse(f"{_page_url(project.id)}?applied=1#suggested", status_code=303)


def coproduction_json(
    request: Request, session: Session, project: Project, user: User | None
) -> dict[str, Any]:
    """The project's co-production as the JSON twin shows it."""
    activities = coproduction.list_activities(session, project.id)
    may = coproduction.may_record(user, project)
    found: dict[str, Any] = {
        "project": {
            "id": project.id,
            "title": project.title,
            "url": f"/evidence/projects/{project.id}",
            "organisation": organisation_name(session, project.organisation_id),
            "is_demo": project.is_demo,
        },
        "url": _page_url(project.id),
        "summary": coproduction.summary_json(coproduction.summarise(activities)),
        "latest_rating": _rating_json(_latest(session, project)),
        "activities": [coproduction.activity_json(a) for a in activities],
        "may_record": may,
        "choices": {
            "group": list(coproduction.GROUPS),
            "stage": list(coproduction.STAGES),
            "method": list(coproduction.METHODS),
        },
    }
    return found


@router.get(
    "/api/voice/projects/{project_id:int}/co-production",
    tags=["voice"],
    summary="Co-production on a project",
)
def api_coproduction(
    request: Request, session: Db, user: SignedIn, project_id: int
) -> dict[str, Any]:
    """Who was involved in a project (children, young people, families, staff, partners,
    communities), at which stage (design, delivery, evaluation) and how; the grid of
    groups by stages, the span in months, and the suggested 1 to 5 rating of "sustained
    engagement with children and families" with its reasons. Public, as the project's own
    page is, and no sign-in is needed; `may_record` says whether the signed-in user (a
    member of the project's organisation or an administrator) may record activities and
    apply the rating."""
    project = projects.get_project(session, project_id)
    return coproduction_json(request, session, project, user)


class ActivityIn(BaseModel):
    """A co-production activity sent to the API."""

    group: str = Field(
        description="children, young people, families, staff, partners or communities"
    )
    stage: str = Field(description="design, delivery or evaluation")
    method: str = Field(description="one of the methods listed under choices.method")
    held_on: str = Field(description="the date it took place, YYYY-MM-DD, not in the future")
    people: int | None = Field(None, description="how many took part, if known")
    description: str = Field("", description="what happened, at most 2,000 characters")


def _refused(problems: Errors) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": f.removesuffix("-day"), "message": m} for f, m in problems]},
        422,
    )


@router.post(
    "/api/voice/projects/{project_id:int}/co-production",
    tags=["voice"],
    summary="Record a co-production activity",
    status_code=201,
)
def api_record_activity(
    request: Request, session: Db, user: SignedIn, project_id: int, sent: ActivityIn
) -> JSONResponse:
    """Record one activity of the project (members of its organisation). Bad input answers
    422 with every problem by field, and nothing is stored."""
    project = projects.get_project(session, project_id)
    author = _member(user, project, "record its co-production")
    errors: Errors = []
    try:
        held_on: date | None = date.fromisoformat(sent.held_on)
    except ValueError:
        held_on = None
        errors.append(("held_on-day", f"held_on {sent.held_on!r} is not a date written YYYY-MM-DD"))
    new = NewActivity(sent.group, sent.stage, sent.method, held_on, sent.people, sent.description)
    errors = _checked(new, errors)
    if errors:
        return _refused(errors)
    try:
        activity = coproduction.record_activity(session, author, project.id, new)
    except coproduction.ActivityRefused as refused:
        session.rollback()
        return _refused(refused.problems)
    session.commit()
    return JSONResponse(coproduction.activity_json(activity), 201)


@router.post(
    "/api/voice/projects/{project_id:int}/co-production/rating",
    tags=["voice"],
    summary="Apply the suggested rating of sustained engagement",
    status_code=201,
)
def api_apply_rating(
    request: Request, session: Db, user: SignedIn, project_id: int
) -> JSONResponse:
    """Add the suggested rating of "sustained engagement with children and families" to the
    project's conditions for success, dated today, with a note of how many co-production
    records it comes from (members of the project's organisation). Sent again the same
    day with the same suggestion, it answers with the rating already added."""
    project = projects.get_project(session, project_id)
    author = _member(user, project, "rate its conditions for success")
    row = coproduction.apply_suggestion(session, author, project.id)
    session.commit()
    return JSONResponse(_rating_json(row), 201)
