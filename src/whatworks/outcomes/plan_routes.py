"""Pages where a council chooses its indicators and sets targets."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.errors import WhatworksError
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.outcomes import plans
from whatworks.outcomes.catalogue import catalogue
from whatworks.places.places import local_authority

router = APIRouter()


def _editor(session: Session, code: str, user: User | None) -> str:
    la = local_authority(session, code)
    if user is None:
        raise HTTPException(401, "Sign in to choose this council's indicators.")
    if not plans.may_edit(user, la.new_la_code):
        raise HTTPException(403, f"Only members of {la.name}'s own organisation can do this.")
    if plans.council_of(session, la.new_la_code) is None:
        raise HTTPException(404, f"No council organisation is registered for {la.name}.")
    return la.new_la_code


def _page(
    request: Request, session: Session, code: str, errors: list[str], status: int = 200
) -> HTMLResponse:
    la = local_authority(session, code)
    council = plans.council_of(session, la.new_la_code)
    chosen = plans.ratings(session, council)
    lists = plans.lists(session, council)
    return render(
        request,
        "outcomes/choose.html",
        status_code=status,
        la=la,
        catalogue=catalogue(),
        chosen=chosen,
        default_headline={i.id for i in lists.headline} if not lists.chosen else set(),
        targets=plans.targets(session, council),
        errors=errors,
    )


@router.get("/places/{code}/indicators", response_class=HTMLResponse, include_in_schema=False)
def choose_page(
    request: Request,
    code: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The council's three-part list of indicators, its ratings and its targets."""
    _editor(session, code, user)
    return _page(request, session, code, [])


@router.post("/places/{code}/indicators", include_in_schema=False)
def choose(
    request: Request,
    code: str,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Save the council's choices and targets together."""
    la_code = _editor(session, code, user)
    chosen: dict[str, dict[str, str]] = {}
    targets: dict[str, float | None] = {}
    errors = []
    for item in catalogue():
        tier = str(form.get(f"tier-{item.id}", ""))
        if tier in plans.TIERS:
            chosen[item.id] = {
                "tier": tier,
                **{
                    p: str(form.get(f"{p}-{item.id}", ""))
                    for p in ("communication", "proxy", "data")
                },
            }
        raw = str(form.get(f"target-{item.id}", "")).strip()
        try:
            targets[item.id] = float(raw) if raw else None
        except ValueError:
            errors.append(f"The target for {item.title} must be a number, like 12 or 12.5")
    if not errors:
        try:
            plans.choose(session, user, la_code, chosen)
            for indicator_id, value in targets.items():
                plans.set_target(session, user, la_code, indicator_id, value)
            session.commit()
            return RedirectResponse(f"/places/{la_code}/scorecard", status_code=303)
        except WhatworksError as error:
            session.rollback()
            errors.append(str(error))
    return _page(request, session, code, errors, status=400)
