"""Forms to record Learning Together practice reviews: a review, its systemic findings, the
actions on each finding (and their status), and links from a finding to interventions.

A visitor is sent to sign in; a signed-in person who may not change the review gets 403.
Who may write is `reviews.can_record` / `reviews.can_change` (members of the organisation
that owns the review, researchers and administrators); the domain functions check again
and write the audit log. Bad input shows the form again with a GOV.UK error summary and
stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.evidence.forms import (
    Db,
    Errors,
    Posted,
    SignedIn,
    date_parts,
    form_text,
    intervention_names,
    read_date,
    render_form,
)
from whatworks.places.places import local_authorities
from whatworks.spread import reviews
from whatworks.spread.models import FindingAction, PracticeReview, ReviewFinding

router = APIRouter()
REVIEW_TEXT = ("title", "kind", "la_code", "place", "organisation", "summary", "source")
FINDING_TEXT = ("title", "pattern", "evidence", "intervention_id")
ACTION_TEXT = ("description", "owner", "status")


def _found(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None


def _sign_in(back: str) -> Response:
    return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)


def _refuse(error: PermissionDenied) -> HTTPException:
    return HTTPException(403, str(error))


def _changer(user: User | None, review: PracticeReview) -> User:
    """The user, if they may change the review; 403 otherwise (visitors are redirected
    before this is asked)."""
    assert user is not None
    if not reviews.can_change(user, review):
        raise HTTPException(
            403,
            "Only members of the organisation that owns this review (or a researcher) can "
            "change it. Ask them to add it.",
        )
    return user


def _finding_of(session: Session, review: PracticeReview, finding_id: int) -> ReviewFinding:
    finding: ReviewFinding = _found(reviews.get_finding, session, finding_id)
    if finding.review_id != review.id:
        raise HTTPException(404, f"Finding {finding_id} is not part of review {review.id}.")
    return finding


def _back(review: PracticeReview, finding_id: int | None = None) -> RedirectResponse:
    anchor = f"#finding-{finding_id}" if finding_id is not None else ""
    return RedirectResponse(f"/spread/reviews/{review.id}{anchor}", status_code=303)


# ---------------------------------------------------------------------------------------
# a review


def _review_form(
    request: Request, session: Session, values: Mapping[str, Any], errors: Errors, status: int = 200
) -> HTMLResponse:
    return render_form(
        request,
        "spread/review_form.html",
        values,
        errors,
        status,
        kinds=reviews.REVIEW_KINDS,
        places=local_authorities(session),
    )


@router.get("/spread/reviews/new", response_class=HTMLResponse, include_in_schema=False)
def new_review_page(request: Request, user: SignedIn, session: Db) -> Response:
    """The form to record a practice review of the user's organisation."""
    if user is None:
        return _sign_in("/spread/reviews/new")
    if not reviews.can_record(user):
        raise HTTPException(
            403, "Only members of an organisation (or a researcher) can record practice reviews."
        )
    organisation = user.organisation.name if user.organisation else ""
    values = {"reviewed_on": date_parts(None), "organisation": organisation}
    return _review_form(request, session, values, [])


def _read_review(form: Any) -> tuple[dict[str, Any], date | None, Errors]:
    errors: Errors = []
    values: dict[str, Any] = form_text(form, REVIEW_TEXT)
    if not values["title"]:
        errors.append(("title", "Enter the review's title"))
    if values["kind"] not in reviews.REVIEW_KINDS:
        errors.append(("kind", "Choose the kind of review"))
    reviewed_on, values["reviewed_on"] = read_date(
        form, "reviewed_on", "the date the review was published", errors
    )
    if reviewed_on is not None and reviewed_on > date.today():
        errors.append(("reviewed_on-day", "The date the review was published must be in the past"))
        reviewed_on = None
    return values, reviewed_on, errors


@router.post("/spread/reviews/new", include_in_schema=False)
def new_review(request: Request, form: Posted, user: SignedIn, session: Db) -> Response:
    """Record a review; bad input shows the form again with its errors and stores nothing."""
    if user is None:
        return _sign_in("/spread/reviews/new")
    values, reviewed_on, errors = _read_review(form)
    if not errors and reviewed_on is not None:
        try:
            review = reviews.create_review(
                session,
                user,
                values["title"],
                kind=values["kind"],
                reviewed_on=reviewed_on,
                place=values["place"],
                la_code=values["la_code"] or None,
                organisation=values["organisation"],
                summary=values["summary"],
                source=values["source"],
            )
            session.commit()
            return _back(review)
        except PermissionDenied as error:
            raise _refuse(error) from None
        except NotFound as error:
            session.rollback()
            errors.append(("la_code", str(error)))
        except WhatworksError as error:
            session.rollback()
            errors.append(("title", str(error)))
    return _review_form(request, session, values, errors, status=400)


# ---------------------------------------------------------------------------------------
# a finding


def _finding_form(
    request: Request,
    session: Session,
    review: PracticeReview,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "spread/finding_form.html",
        values,
        errors,
        status,
        review=review,
        parts=reviews.SYSTEM_PARTS,
        interventions=intervention_names(session),
    )


@router.get(
    "/spread/reviews/{review_id:int}/findings", response_class=HTMLResponse, include_in_schema=False
)
def new_finding_page(request: Request, review_id: int, user: SignedIn, session: Db) -> Response:
    """The form to add a systemic finding to a review."""
    review = _found(reviews.get_review, session, review_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/findings")
    _changer(user, review)
    return _finding_form(request, session, review, {"system_parts": []}, [])


@router.post("/spread/reviews/{review_id:int}/findings", include_in_schema=False)
def new_finding(
    request: Request, review_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Add a finding (and optionally link it to an intervention); bad input stores nothing."""
    review = _found(reviews.get_review, session, review_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/findings")
    author = _changer(user, review)
    values: dict[str, Any] = form_text(form, FINDING_TEXT)
    values["system_parts"] = [str(p) for p in form.getlist("system_parts")]
    errors: Errors = []
    if not values["title"]:
        errors.append(("title", "Enter the finding's title"))
    if not values["pattern"]:
        errors.append(("pattern", "Enter the pattern in the system"))
    if not values["system_parts"]:
        errors.append(("system_parts", "Choose at least one part of the system"))
    elif any(p not in reviews.SYSTEM_PARTS for p in values["system_parts"]):
        errors.append(("system_parts", "Choose parts of the system from the list"))
    names = intervention_names(session)
    if values["intervention_id"] and values["intervention_id"] not in names:
        errors.append(("intervention_id", "Choose an intervention from the list"))
    if not errors:
        try:
            finding = reviews.add_finding(
                session,
                author,
                review.id,
                title=values["title"],
                pattern=values["pattern"],
                system_parts=values["system_parts"],
                evidence=values["evidence"],
                intervention_ids=(values["intervention_id"],) if values["intervention_id"] else (),
            )
            session.commit()
            return _back(review, finding.id)
        except PermissionDenied as error:
            raise _refuse(error) from None
        except WhatworksError as error:
            session.rollback()
            errors.append(("title", str(error)))
    return _finding_form(request, session, review, values, errors, status=400)


# ---------------------------------------------------------------------------------------
# linking a finding to an intervention


def _link_form(
    request: Request,
    session: Session,
    review: PracticeReview,
    finding: ReviewFinding,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    linked = set(reviews.linked_interventions(session, finding.id))
    return render_form(
        request,
        "spread/link_form.html",
        values,
        errors,
        status,
        review=review,
        finding=finding,
        interventions={k: v for k, v in intervention_names(session).items() if k not in linked},
    )


@router.get(
    "/spread/reviews/{review_id:int}/findings/{finding_id:int}/interventions",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def link_page(
    request: Request, review_id: int, finding_id: int, user: SignedIn, session: Db
) -> Response:
    """The form to link a finding to an intervention of the evidence hub."""
    review = _found(reviews.get_review, session, review_id)
    finding = _finding_of(session, review, finding_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/findings/{finding_id}/interventions")
    _changer(user, review)
    return _link_form(request, session, review, finding, {}, [])


@router.post(
    "/spread/reviews/{review_id:int}/findings/{finding_id:int}/interventions",
    include_in_schema=False,
)
def link(
    request: Request, review_id: int, finding_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Link the finding to the intervention chosen."""
    review = _found(reviews.get_review, session, review_id)
    finding = _finding_of(session, review, finding_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/findings/{finding_id}/interventions")
    author = _changer(user, review)
    values = form_text(form, ("intervention_id",))
    errors: Errors = []
    if values["intervention_id"] not in intervention_names(session):
        errors.append(("intervention_id", "Choose an intervention"))
    else:
        try:
            reviews.link_intervention(session, author, finding.id, values["intervention_id"])
            session.commit()
            return _back(review, finding.id)
        except PermissionDenied as error:
            raise _refuse(error) from None
        except WhatworksError as error:
            session.rollback()
            errors.append(("intervention_id", str(error)))
    return _link_form(request, session, review, finding, values, errors, status=400)


# ---------------------------------------------------------------------------------------
# actions on a finding


def _action_form(
    request: Request,
    review: PracticeReview,
    finding: ReviewFinding,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "spread/action_form.html",
        values,
        errors,
        status,
        review=review,
        finding=finding,
        statuses=reviews.ACTION_STATUSES,
    )


@router.get(
    "/spread/reviews/{review_id:int}/findings/{finding_id:int}/actions",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def new_action_page(
    request: Request, review_id: int, finding_id: int, user: SignedIn, session: Db
) -> Response:
    """The form to add an action on a finding: what, who owns it, by when, how it stands."""
    review = _found(reviews.get_review, session, review_id)
    finding = _finding_of(session, review, finding_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/findings/{finding_id}/actions")
    _changer(user, review)
    values = {"due_on": date_parts(None), "status": "planned"}
    return _action_form(request, review, finding, values, [])


@router.post(
    "/spread/reviews/{review_id:int}/findings/{finding_id:int}/actions", include_in_schema=False
)
def new_action(
    request: Request, review_id: int, finding_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Add an action; bad input shows the form again with its errors and stores nothing."""
    review = _found(reviews.get_review, session, review_id)
    finding = _finding_of(session, review, finding_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/findings/{finding_id}/actions")
    author = _changer(user, review)
    values: dict[str, Any] = form_text(form, ACTION_TEXT)
    errors: Errors = []
    if not values["description"]:
        errors.append(("description", "Enter what will be done"))
    if not values["owner"]:
        errors.append(("owner", "Enter who owns the action"))
    due_on, values["due_on"] = read_date(form, "due_on", "the due date", errors, required=False)
    if values["status"] not in reviews.ACTION_STATUSES:
        errors.append(("status", "Choose how the action stands"))
    if not errors:
        try:
            reviews.add_action(
                session,
                author,
                finding.id,
                description=values["description"],
                owner=values["owner"],
                due_on=due_on,
                status=values["status"],
            )
            session.commit()
            return _back(review, finding.id)
        except PermissionDenied as error:
            raise _refuse(error) from None
        except WhatworksError as error:
            session.rollback()
            errors.append(("description", str(error)))
    return _action_form(request, review, finding, values, errors, status=400)


def _status_form(
    request: Request,
    review: PracticeReview,
    action: FindingAction,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "spread/action_status_form.html",
        values,
        errors,
        status,
        review=review,
        action=action,
        statuses=reviews.ACTION_STATUSES,
    )


def _action_of(session: Session, review: PracticeReview, action_id: int) -> FindingAction:
    action: FindingAction = _found(reviews.get_action, session, action_id)
    _finding_of(session, review, action.finding_id)
    return action


@router.get(
    "/spread/reviews/{review_id:int}/actions/{action_id:int}/status",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def action_status_page(
    request: Request, review_id: int, action_id: int, user: SignedIn, session: Db
) -> Response:
    """The form to move an action on: planned, in progress, done or dropped."""
    review = _found(reviews.get_review, session, review_id)
    action = _action_of(session, review, action_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/actions/{action_id}/status")
    _changer(user, review)
    return _status_form(request, review, action, {"status": action.status}, [])


@router.post(
    "/spread/reviews/{review_id:int}/actions/{action_id:int}/status", include_in_schema=False
)
def action_status(
    request: Request, review_id: int, action_id: int, form: Posted, user: SignedIn, session: Db
) -> Response:
    """Change the action's status; audited."""
    review = _found(reviews.get_review, session, review_id)
    action = _action_of(session, review, action_id)
    if user is None:
        return _sign_in(f"/spread/reviews/{review_id}/actions/{action_id}/status")
    author = _changer(user, review)
    values = form_text(form, ("status",))
    errors: Errors = []
    if values["status"] not in reviews.ACTION_STATUSES:
        errors.append(("status", "Choose how the action stands"))
    else:
        try:
            reviews.set_action_status(session, author, action.id, values["status"])
            session.commit()
            return _back(review, action.finding_id)
        except PermissionDenied as error:
            raise _refuse(error) from None
        except WhatworksError as error:
            session.rollback()
            errors.append(("status", str(error)))
    return _status_form(request, review, action, values, errors, status=400)
