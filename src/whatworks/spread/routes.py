"""Pages and JSON of spread's learning side: ask a question, communities of practice and
Learning Together practice reviews with the comparison of their themes.

Reads are public. Joining a community needs a signed-in person (a visitor is sent to sign
in); posting questions and answers needs membership of the community (others get 403).
Every change goes through `communities`, which checks again and writes the audit log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.evidence.interventions import list_interventions
from whatworks.spread import communities, reviews, search, semantic

router = APIRouter()
#: Most results a question returns.
MAX_RESULTS = 50


def _found(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None


# ---------------------------------------------------------------------------------------
# ask a question


@router.get("/spread", response_class=HTMLResponse, include_in_schema=False)
def ask_page(request: Request, q: str = "", session: Session = Depends(db_session)) -> HTMLResponse:
    """The search box and, for a question, the results with why each matched."""
    answer = search.ask(session, q[:500]) if q.strip() else None
    return render(
        request,
        "spread/ask.html",
        q=q,
        answer=answer,
        semantic_on=semantic.available(),
        quote=quote,
    )


@router.get("/api/spread/ask", tags=["spread"], summary="Ask a question")
def api_ask(
    q: str = Query(..., max_length=500, description="The question, in your own words."),
    limit: int = Query(10, ge=1, le=MAX_RESULTS, description="How many results."),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Interventions, projects, studies and results (null and negative included),
    recommendations, lessons, practice-review findings and community answers that best
    answer `q`, best first; each says which words matched in which field."""
    return search.ask(session, q, limit=limit).as_dict()


# ---------------------------------------------------------------------------------------
# communities of practice


def _community_list(session: Session) -> list[dict[str, Any]]:
    counts = communities.member_counts(session)
    return [
        {
            "slug": c.slug,
            "name": c.name,
            "theme": c.theme,
            "intervention_id": c.intervention_id,
            "description": c.description,
            "members": counts.get(c.id, 0),
            "is_demo": c.is_demo,
            "url": f"/spread/communities/{c.slug}",
        }
        for c in communities.list_communities(session)
    ]


@router.get("/spread/communities", response_class=HTMLResponse, include_in_schema=False)
def communities_page(request: Request, session: Session = Depends(db_session)) -> HTMLResponse:
    """Every community of practice with its theme and how many members it has."""
    return render(request, "spread/communities.html", communities=_community_list(session))


@router.get("/api/spread/communities", tags=["spread"], summary="Communities of practice")
def api_communities(session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    """Every community of practice with its theme, intervention and number of members."""
    return _community_list(session)


def _community_page(
    request: Request,
    session: Session,
    slug: str,
    user: User | None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    community = _found(communities.get_community, session, slug)
    found = communities.community_json(session, community)
    names = {i.id: i.name for i in list_interventions(session, "")}
    return render(
        request,
        "spread/community.html",
        status_code=status_code,
        community=found,
        intervention=names.get(community.intervention_id or ""),
        is_member=communities.is_member(session, community, user),
        signed_in=user is not None,
        errors=errors or {},
        values=values or {},
    )


@router.get("/spread/communities/{slug}", response_class=HTMLResponse, include_in_schema=False)
def community_page(
    request: Request,
    slug: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """One community: members, events, questions with their answers, and the forms to
    join, ask and answer."""
    return _community_page(request, session, slug, user)


@router.get("/api/spread/communities/{slug}", tags=["spread"], summary="One community")
def api_community(slug: str, session: Session = Depends(db_session)) -> dict[str, Any]:
    """A community with its members, events, questions and answers."""
    return communities.community_json(session, _found(communities.get_community, session, slug))


def _signed_in(user: User | None, back: str) -> User | Response:
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    return user


@router.post("/spread/communities/{slug}/join", include_in_schema=False)
async def join_community(
    request: Request,
    slug: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Join the community (a visitor is asked to sign in first)."""
    await verified_form(request)
    back = f"/spread/communities/{slug}"
    who = _signed_in(user, back)
    if isinstance(who, Response):
        return who
    _found(communities.join, session, who, slug)
    session.commit()
    return RedirectResponse(back, status_code=303)


@router.post("/spread/communities/{slug}/leave", include_in_schema=False)
async def leave_community(
    request: Request,
    slug: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Leave the community."""
    await verified_form(request)
    back = f"/spread/communities/{slug}"
    who = _signed_in(user, back)
    if isinstance(who, Response):
        return who
    _found(communities.leave, session, who, slug)
    session.commit()
    return RedirectResponse(back, status_code=303)


def _member_or_403(session: Session, user: User, slug: str) -> None:
    community = _found(communities.get_community, session, slug)
    if not communities.is_member(session, community, user):
        raise HTTPException(
            403, f"Only members of {community.name} can post here. Join the community first."
        )


@router.post("/spread/communities/{slug}/questions", include_in_schema=False)
async def post_question(
    request: Request,
    slug: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """A member's question; a visitor is sent to sign in, a non-member gets 403."""
    form = await verified_form(request)
    back = f"/spread/communities/{slug}"
    who = _signed_in(user, back + "#ask")
    if isinstance(who, Response):
        return who
    _member_or_403(session, who, slug)
    values = {k: str(form.get(k, "")) for k in ("title", "body", "addressed_to")}
    try:
        question = communities.ask(
            session,
            who,
            slug,
            values["title"],
            values["body"],
            addressed_to=values["addressed_to"],
        )
    except PermissionDenied as error:
        raise HTTPException(403, str(error)) from None
    except WhatworksError as error:
        session.rollback()
        return _community_page(
            request, session, slug, who, {"title": str(error)}, values, status_code=400
        )
    session.commit()
    return RedirectResponse(f"{back}#question-{question.id}", status_code=303)


@router.post(
    "/spread/communities/{slug}/questions/{question_id:int}/answers", include_in_schema=False
)
async def post_answer(
    request: Request,
    slug: str,
    question_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """A member's answer to a question of the community."""
    form = await verified_form(request)
    back = f"/spread/communities/{slug}"
    who = _signed_in(user, f"{back}#question-{question_id}")
    if isinstance(who, Response):
        return who
    _member_or_403(session, who, slug)
    question = _found(communities.get_question, session, question_id)
    community = _found(communities.get_community, session, slug)
    if question.community_id != community.id:
        raise HTTPException(404, f"Question {question_id} is not in {community.name}.")
    body = str(form.get("answer", ""))
    try:
        communities.answer(session, who, question_id, body)
    except PermissionDenied as error:
        raise HTTPException(403, str(error)) from None
    except WhatworksError as error:
        session.rollback()
        field = f"answer-{question_id}"
        return _community_page(
            request, session, slug, who, {field: str(error)}, {field: body}, status_code=400
        )
    session.commit()
    return RedirectResponse(f"{back}#question-{question_id}", status_code=303)


# ---------------------------------------------------------------------------------------
# practice reviews


def _review_list(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "title": r.title,
            "kind": r.kind,
            "place": r.place,
            "region": r.region,
            "reviewed_on": r.reviewed_on.isoformat(),
            "organisation": r.organisation,
            "findings": len(r.findings),
            "is_demo": r.is_demo,
            "url": f"/spread/reviews/{r.id}",
        }
        for r in reviews.list_reviews(session)
    ]


@router.get("/spread/reviews", response_class=HTMLResponse, include_in_schema=False)
def reviews_page(
    request: Request,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """Every practice review, newest first, with how many systemic findings it has."""
    return render(
        request,
        "spread/reviews.html",
        reviews=_review_list(session),
        can_record=reviews.can_record(user),
    )


@router.get("/api/spread/reviews", tags=["spread"], summary="Practice reviews")
def api_reviews(session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    """Every practice review, newest first."""
    return _review_list(session)


@router.get("/spread/reviews/themes", response_class=HTMLResponse, include_in_schema=False)
def themes_page(request: Request, session: Session = Depends(db_session)) -> HTMLResponse:
    """Findings across reviews counted by the part of the system, by year and by region."""
    return render(request, "spread/themes.html", themes=reviews.themes(session))


@router.get("/api/spread/reviews/themes", tags=["spread"], summary="Themes across reviews")
def api_themes(session: Session = Depends(db_session)) -> dict[str, Any]:
    """Findings counted by the part of the system they name, by year and by region."""
    return reviews.themes(session).as_dict()


@router.get("/spread/reviews/{review_id:int}", response_class=HTMLResponse, include_in_schema=False)
def review_page(
    request: Request,
    review_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """One review: its summary, systemic findings, their actions and interventions, with
    the links to add to it for those who may."""
    review = _found(reviews.get_review, session, review_id)
    names = {i.id: i.name for i in list_interventions(session, "")}
    return render(
        request,
        "spread/review.html",
        review=reviews.review_json(session, review),
        names=names,
        can_change=reviews.can_change(user, review),
    )


@router.get("/api/spread/reviews/{review_id:int}", tags=["spread"], summary="One review")
def api_review(review_id: int, session: Session = Depends(db_session)) -> dict[str, Any]:
    """A review with its findings, their actions and the interventions they link to."""
    return reviews.review_json(session, _found(reviews.get_review, session, review_id))
