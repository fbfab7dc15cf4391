"""The form for an intervention's economic case and its savings claims (issue 5, item 8).

Only researchers (and administrators) may see and send it; a visitor is sent to sign in
first. Bad input shows the form again with a GOV.UK error summary and stores nothing.
Every write goes through `economic_case`, which checks the role again and writes the
audit log. The page that shows the result is the intervention's own (`routes`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from whatworks.core.errors import WhatworksError
from whatworks.core.web import render, verified_form
from whatworks.evidence import economic_case, hub
from whatworks.evidence.forms import Db, SignedIn, form_text, researcher
from whatworks.evidence.interventions import get_intervention

router = APIRouter()
CLAIM_FIELDS = ("amount", "basis", "source", "year")


def _page(
    request: Request,
    session: Session,
    slug: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    claim: dict[str, str] | None = None,
    claim_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    intervention = get_intervention(session, slug)
    outcomes = [o.outcome for o in hub.assess(session, slug).outcomes]
    values = (
        values
        if values is not None
        else economic_case.case_values(economic_case.get_case(session, slug))
    )
    if values.get("outcome") and values["outcome"] not in outcomes:
        outcomes.append(values["outcome"])
    return render(
        request,
        "evidence/economics_form.html",
        status_code=status,
        intervention=intervention,
        outcomes=outcomes,
        directions=economic_case.DIRECTIONS,
        values=values,
        errors=errors or {},
        claim=claim or {},
        claim_errors=claim_errors or {},
        claims=economic_case.savings_claims(session, slug),
        action=f"/evidence/interventions/{slug}/economics",
    )


@router.get(
    "/evidence/interventions/{slug}/economics", response_class=HTMLResponse, include_in_schema=False
)
def economics_form(request: Request, slug: str, user: SignedIn, session: Db) -> Response:
    """The form to record or correct the economic case, and to add savings claims."""
    allowed = researcher(user, request.url.path)
    if isinstance(allowed, Response):
        return allowed
    return _page(request, session, slug)


@router.post("/evidence/interventions/{slug}/economics", include_in_schema=False)
async def save_economics(request: Request, slug: str, user: SignedIn, session: Db) -> Response:
    """Store the economic case; on any problem, the form again and nothing stored."""
    allowed = researcher(user, request.url.path)
    if isinstance(allowed, Response):
        return allowed
    values = form_text(await verified_form(request), economic_case.CASE_FIELDS)
    _, errors = economic_case.check_case(values)
    if not errors:
        try:
            economic_case.save_case(session, allowed, slug, values)
            session.commit()
        except WhatworksError as error:
            session.rollback()
            errors["outcome"] = str(error)
        else:
            return RedirectResponse(f"/evidence/interventions/{slug}#economics", 303)
    return _page(request, session, slug, values=values, errors=errors, status=400)


@router.post("/evidence/interventions/{slug}/savings", include_in_schema=False)
async def add_claim(request: Request, slug: str, user: SignedIn, session: Db) -> Response:
    """Record a savings claim with its basis, source and year."""
    allowed = researcher(user, f"/evidence/interventions/{slug}/economics")
    if isinstance(allowed, Response):
        return allowed
    values = form_text(await verified_form(request), CLAIM_FIELDS)
    claim, errors = economic_case.claim_of(values)
    if claim is not None:
        try:
            economic_case.add_savings_claim(session, allowed, slug, claim)
            session.commit()
        except WhatworksError as error:
            session.rollback()
            errors["amount"] = str(error)
        else:
            return RedirectResponse(f"/evidence/interventions/{slug}#savings", 303)
    return _page(request, session, slug, claim=values, claim_errors=errors, status=400)


@router.post(
    "/evidence/interventions/{slug}/savings/{claim_id:int}/remove", include_in_schema=False
)
async def remove_claim(
    request: Request, slug: str, claim_id: int, user: SignedIn, session: Db
) -> Response:
    """Remove a savings claim entered in error; the audit log keeps what it said."""
    allowed = researcher(user, f"/evidence/interventions/{slug}/economics")
    if isinstance(allowed, Response):
        return allowed
    await verified_form(request)
    economic_case.remove_savings_claim(session, allowed, slug, claim_id)
    session.commit()
    return RedirectResponse(f"/evidence/interventions/{slug}/economics#claims", 303)
