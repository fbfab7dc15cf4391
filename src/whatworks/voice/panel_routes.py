"""Pages for panels and "you said, we did": the council's panels, creating a panel, a
panel's points and commitments with their history, forms to add a point and to change a
commitment's status (members of the panel's council only; bad input stores nothing), the
JSON twins, and the public, plain-language "you said, we did" page for the panel's young
people."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from whatworks.core.models import Organisation, User
from whatworks.core.web import render
from whatworks.evidence.forms import (
    Db,
    Errors,
    Posted,
    SignedIn,
    date_parts,
    form_text,
    long_date,
    organisation_name,
    read_date,
    render_form,
    stamp,
)
from whatworks.voice import panels
from whatworks.voice.models import Commitment, Panel

router = APIRouter()
POINT_FIELDS = ("said", "action", "owner")
PANEL_FIELDS = ("name", "audience")
MAX_NAME = 200


def _signed_in(user: User | None, back: str) -> User | RedirectResponse:
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    return user


def _poster(user: User | None) -> User:
    if user is None:
        raise HTTPException(401, "Sign in to change a panel's commitments.")
    return user


def _helpers() -> dict[str, Any]:
    return {
        "long_date": long_date,
        "stamp": stamp,
        "plain": panels.PLAIN,
        "colour": panels.COLOUR,
    }


@router.get("/voice/panels", response_class=HTMLResponse, include_in_schema=False)
def panels_page(request: Request, session: Db, user: SignedIn) -> Response:
    """The panels of the user's council (every council's, for an administrator)."""
    who = _signed_in(user, "/voice/panels")
    if isinstance(who, Response):
        return who
    return render(request, "voice/panels.html", found=panels.list_panels(session, who))


def _organisation(user: User) -> Organisation:
    """The user's own council, which their new panels belong to; 403 without one."""
    found = user.organisation  # loaded now, so the error page can show the user's menu
    if found is None:
        raise HTTPException(
            403,
            "Only members of a council can create its panels, and your account belongs to "
            "no organisation. Ask an administrator to add you to your council.",
        )
    return found


def panel_problems(name: str, audience: str) -> Errors:
    """What is wrong with a new panel, as (form field, message) pairs."""
    errors: Errors = []
    if not name:
        errors.append(("name", "Enter the name of the panel"))
    elif len(name) > MAX_NAME:
        errors.append(("name", f"The name must be {MAX_NAME} characters or fewer"))
    if audience not in panels.AUDIENCES:
        errors.append(("audience", "Choose who the panel is for"))
    return errors


def _create(session: Session, user: User, name: str, audience: str) -> tuple[Panel | None, Errors]:
    """The new panel of the user's council, or the problems that stopped it (nothing stored)."""
    errors = panel_problems(name, audience)
    if errors:
        return None, errors
    panel = panels.create_panel(session, user, _organisation(user), name, audience)
    session.commit()
    return panel, []


def _panel_form(
    request: Request,
    user: User,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "voice/panel_form.html",
        values,
        errors,
        status,
        audiences=panels.AUDIENCES,
        organisation=_organisation(user).name,
    )


@router.get("/voice/panels/new", response_class=HTMLResponse, include_in_schema=False)
def new_panel_page(request: Request, user: SignedIn) -> Response:
    """The form to create a panel of the user's council."""
    who = _signed_in(user, "/voice/panels/new")
    if isinstance(who, Response):
        return who
    return _panel_form(request, who, dict.fromkeys(PANEL_FIELDS, ""), [])


@router.post("/voice/panels/new", include_in_schema=False)
def new_panel(request: Request, session: Db, user: SignedIn, form: Posted) -> Response:
    """Create the panel and show it, or show the form again with what is wrong."""
    who = _poster(user)
    values = form_text(form, PANEL_FIELDS)
    panel, errors = _create(session, who, values["name"], values["audience"])
    if panel is None:
        return _panel_form(request, who, values, errors, status=400)
    return RedirectResponse(f"/voice/panels/{panel.id}", status_code=303)


class PanelIn(BaseModel):
    """A new panel of your council: its name and whom it is for."""

    name: str = Field(examples=["Children in care council"])
    audience: str = Field(examples=["children in care"])


@router.post("/api/voice/panels", status_code=201)
def create_panel_json(session: Db, user: SignedIn, body: PanelIn) -> JSONResponse:
    """Create a panel of your council (for children in care, care leavers or families);
    422 with each field's problem, nothing stored."""
    if user is None:
        raise HTTPException(401, "Sign in to create a panel.")
    panel, errors = _create(session, user, body.name.strip(), body.audience.strip())
    if panel is None:
        return JSONResponse(
            {
                "error": "There is a problem with your request",
                "detail": "; ".join(message for _, message in errors),
                "errors": [{"field": f, "message": m} for f, m in errors],
            },
            status_code=422,
        )
    found = {
        "id": panel.id,
        "url": f"/voice/panels/{panel.id}",
        "api": f"/api/voice/panels/{panel.id}",
        "name": panel.name,
        "audience": panel.audience,
    }
    return JSONResponse(found, status_code=201)


@router.get("/voice/panels/{panel_id:int}", response_class=HTMLResponse, include_in_schema=False)
def panel_page(request: Request, session: Db, user: SignedIn, panel_id: int) -> Response:
    """A panel's points and commitments, with status tags and each one's history."""
    who = _signed_in(user, f"/voice/panels/{panel_id}")
    if isinstance(who, Response):
        return who
    panel = panels.member_panel(session, who, panel_id)
    return render(
        request,
        "voice/panel.html",
        panel=panel,
        organisation=organisation_name(session, panel.organisation_id),
        commitments=panels.commitments(panel),
        next_of=panels.NEXT,
        **_helpers(),
    )


@router.get("/api/voice/panels/{panel_id:int}")
def panel_json(session: Db, user: SignedIn, panel_id: int) -> JSONResponse:
    """A panel's points, commitments and their history (members of its council)."""
    if user is None:
        raise HTTPException(401, "Sign in to see a panel's commitments.")
    panel = panels.member_panel(session, user, panel_id)
    return JSONResponse(panels.panel_json(panel, organisation_name(session, panel.organisation_id)))


@router.get(
    "/voice/panels/{panel_id:int}/you-said-we-did",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def you_said_we_did(request: Request, session: Db, panel_id: int) -> HTMLResponse:
    """What the panel said and what happened, in plain words, for anyone to read."""
    panel = panels.get_panel(session, panel_id)
    return render(
        request,
        "voice/you_said_we_did.html",
        panel=panel,
        organisation=organisation_name(session, panel.organisation_id),
        commitments=panels.commitments(panel),
        **_helpers(),
    )


def _point_form(
    request: Request, panel: Panel, values: Mapping[str, Any], errors: Errors, status: int = 200
) -> HTMLResponse:
    return render_form(request, "voice/panel_point_form.html", values, errors, status, panel=panel)


@router.get(
    "/voice/panels/{panel_id:int}/points/new",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def new_point_page(request: Request, session: Db, user: SignedIn, panel_id: int) -> Response:
    """The form to record a meeting's point and the commitment it becomes."""
    who = _signed_in(user, f"/voice/panels/{panel_id}/points/new")
    if isinstance(who, Response):
        return who
    panel = panels.member_panel(session, who, panel_id)
    values: dict[str, Any] = {
        "held_on": date_parts(date.today()),
        "due_on": date_parts(None),
        **dict.fromkeys(POINT_FIELDS, ""),
    }
    return _point_form(request, panel, values, [])


@router.post("/voice/panels/{panel_id:int}/points/new", include_in_schema=False)
def new_point(
    request: Request, session: Db, user: SignedIn, form: Posted, panel_id: int
) -> Response:
    """Add the point and its commitment, or show the form again with its errors."""
    panel = panels.member_panel(session, _poster(user), panel_id)
    errors: Errors = []
    values: dict[str, Any] = form_text(form, POINT_FIELDS)
    held_on, values["held_on"] = read_date(form, "held_on", "the date of the meeting", errors)
    due_on, values["due_on"] = read_date(form, "due_on", "the date it is due", errors)
    new = panels.NewPoint(held_on, values["said"], values["action"], values["owner"], due_on)
    if not errors:
        try:
            panels.add_point(session, user, panel, new)
            session.commit()
            return RedirectResponse(f"/voice/panels/{panel.id}", status_code=303)
        except panels.PointRefused as refused:
            session.rollback()
            errors.extend(refused.problems)
    else:
        errors.extend(p for p in new.problems() if not p[0].endswith("-day"))
    return _point_form(request, panel, values, errors, status=400)


def _status_form(
    request: Request,
    commitment: Commitment,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "voice/commitment_status.html",
        values,
        errors,
        status,
        commitment=commitment,
        panel=panels.panel_of(commitment),
        choices=panels.NEXT[commitment.status],
        **_helpers(),
    )


@router.get(
    "/voice/panels/{panel_id:int}/commitments/{commitment_id:int}/status",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def status_page(
    request: Request, session: Db, user: SignedIn, panel_id: int, commitment_id: int
) -> Response:
    """The form to move a commitment on, or to explain why it was not done."""
    who = _signed_in(user, f"/voice/panels/{panel_id}/commitments/{commitment_id}/status")
    if isinstance(who, Response):
        return who
    panel = panels.member_panel(session, who, panel_id)
    commitment = panels.get_commitment(session, panel, commitment_id)
    return _status_form(request, commitment, {"status": "", "note": ""}, [])


@router.post(
    "/voice/panels/{panel_id:int}/commitments/{commitment_id:int}/status",
    include_in_schema=False,
)
def change_status(
    request: Request, session: Db, user: SignedIn, form: Posted, panel_id: int, commitment_id: int
) -> Response:
    """Change the commitment's status (history row and audit entry), or say what is wrong."""
    panel = panels.member_panel(session, _poster(user), panel_id)
    commitment = panels.get_commitment(session, panel, commitment_id)
    values = form_text(form, ("status", "note"))
    errors: Errors = []
    if not values["status"]:
        errors.append(("status", "Choose the commitment's new status"))
    else:
        try:
            panels.change_status(session, user, commitment, values["status"], values["note"])
            session.commit()
            return RedirectResponse(
                f"/voice/panels/{panel.id}#commitment-{commitment.id}", status_code=303
            )
        except panels.TransitionRefused as refused:
            session.rollback()
            field = "note" if values["status"] in panels.NEXT[commitment.status] else "status"
            errors.append((field, str(refused)))
    return _status_form(request, commitment, values, errors, status=400)
