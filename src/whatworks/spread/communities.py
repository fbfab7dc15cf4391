"""Communities of practice: people around an intervention or a theme, their events (open
days, action learning sets, site visits) and the questions learners ask the places that do
it, whose answers are kept as searchable knowledge.

Anyone may read. A signed-in person may start a community, join or leave one; only its
members post events, questions and answers. Every change is in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.evidence.access import Author, actor_of
from whatworks.evidence.interventions import get_intervention, slugify
from whatworks.spread.models import (
    Community,
    CommunityAnswer,
    CommunityEvent,
    CommunityMember,
    CommunityQuestion,
)

EVENT_KINDS = ("open day", "action learning set", "site visit", "online session")
PURPOSE = "community of practice"
#: Longest question title, question text and answer accepted.
MAX_TITLE, MAX_TEXT = 300, 5000


def _record(session: Session, actor: audit.Actor, what: str, target: str, **detail: object) -> None:
    audit.record(session, actor, what, target, PURPOSE, **detail)


def _signed_in(author: Author, doing: str) -> audit.Actor:
    if author is None:
        raise PermissionDenied(f"Sign in to {doing}.")
    return actor_of(author)


def _organisation_of(author: Author) -> str:
    if isinstance(author, User) and author.organisation is not None:
        return author.organisation.name
    return ""


def _text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    clean = (value or "").strip()
    if required and not clean:
        raise WhatworksError(f"Enter {what}.")
    if len(clean) > limit:
        raise WhatworksError(f"{what.capitalize()} must be {limit:,} characters or fewer.")
    return clean


# ---------------------------------------------------------------------------------------
# communities and membership


def create_community(
    session: Session,
    author: Author,
    name: str,
    *,
    theme: str = "",
    intervention_id: str | None = None,
    description: str = "",
    slug: str | None = None,
    is_demo: bool = False,
) -> Community:
    """A new community; a signed-in person who starts one is its first member."""
    actor = _signed_in(author, "start a community of practice")
    name = _text(name, "the community's name", 200)
    if intervention_id:
        get_intervention(session, intervention_id)
    slug = slug or slugify(name)
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug or ""):
        raise WhatworksError(f"{slug!r} is not a usable address; use lower-case words and '-'.")
    if session.scalar(select(Community).where(Community.slug == slug)) is not None:
        raise WhatworksError(f"A community with the address {slug!r} exists; choose another.")
    if session.scalar(select(Community).where(Community.name == name)) is not None:
        raise WhatworksError(f"A community called {name!r} exists already.")
    community = Community(
        slug=slug,
        name=name,
        theme=theme.strip(),
        intervention_id=intervention_id or None,
        description=description.strip(),
        is_demo=is_demo,
        created_by=actor.username,
    )
    session.add(community)
    session.flush()
    _record(session, actor, "start community", f"community:{slug}", name=name)
    if isinstance(author, User):
        join(session, author, slug)
    return community


def get_community(session: Session, slug: str) -> Community:
    """One community by its address."""
    found = session.scalar(select(Community).where(Community.slug == slug))
    if found is None:
        raise NotFound(f"No community of practice has the address {slug!r}.")
    return found


def list_communities(session: Session) -> list[Community]:
    """Every community, by name."""
    return list(session.scalars(select(Community).order_by(Community.name)))


def member_counts(session: Session) -> dict[int, int]:
    """How many members each community has, by community id."""
    rows = session.execute(
        select(CommunityMember.community_id, func.count()).group_by(CommunityMember.community_id)
    )
    return {community_id: int(n) for community_id, n in rows}


def is_member(session: Session, community: Community, user: User | None) -> bool:
    """Whether `user` belongs to `community`."""
    if user is None:
        return False
    found = session.scalar(
        select(CommunityMember.id).where(
            CommunityMember.community_id == community.id, CommunityMember.user_id == user.id
        )
    )
    return found is not None


def join(session: Session, user: User | None, slug: str) -> CommunityMember:
    """Make a signed-in person a member (joining twice changes nothing)."""
    actor = _signed_in(user, "join a community of practice")
    assert user is not None
    community = get_community(session, slug)
    found = session.scalar(
        select(CommunityMember).where(
            CommunityMember.community_id == community.id, CommunityMember.user_id == user.id
        )
    )
    if found is not None:
        return found
    member = CommunityMember(community_id=community.id, user_id=user.id)
    session.add(member)
    session.flush()
    _record(session, actor, "join community", f"community:{slug}")
    return member


def leave(session: Session, user: User | None, slug: str) -> bool:
    """End a person's membership; False if they were not a member."""
    actor = _signed_in(user, "leave a community of practice")
    assert user is not None
    community = get_community(session, slug)
    found = session.scalar(
        select(CommunityMember).where(
            CommunityMember.community_id == community.id, CommunityMember.user_id == user.id
        )
    )
    if found is None:
        return False
    session.delete(found)
    session.flush()
    _record(session, actor, "leave community", f"community:{slug}")
    return True


def _require_member(
    session: Session, author: Author, community: Community, doing: str
) -> audit.Actor:
    """The actor if the author may post in `community`: a member, or a named system
    process (the seed, the demo)."""
    if isinstance(author, audit.Actor):
        return author
    if author is None:
        raise PermissionDenied(f"Sign in to {doing}.")
    if not is_member(session, community, author):
        raise PermissionDenied(
            f"Only members of {community.name} can {doing}. Join the community first."
        )
    return audit.Actor.of(author)


# ---------------------------------------------------------------------------------------
# events, questions and answers


def add_event(
    session: Session,
    author: Author,
    slug: str,
    *,
    kind: str,
    title: str,
    held_on: date,
    place: str = "",
    host: str = "",
    description: str = "",
    is_demo: bool = False,
) -> CommunityEvent:
    """An event of the community, posted by a member."""
    community = get_community(session, slug)
    actor = _require_member(session, author, community, "add events")
    if kind not in EVENT_KINDS:
        raise WhatworksError(
            f"Event kind {kind!r} is not known; use one of {', '.join(EVENT_KINDS)}."
        )
    event = CommunityEvent(
        community_id=community.id,
        kind=kind,
        title=_text(title, "the event's title", MAX_TITLE),
        held_on=held_on,
        place=place.strip(),
        host=host.strip(),
        description=description.strip(),
        is_demo=is_demo,
        created_by=actor.username,
    )
    session.add(event)
    session.flush()
    _record(session, actor, "add event", f"community:{slug}", event=event.id, title=event.title)
    return event


def events(session: Session, community: Community) -> list[CommunityEvent]:
    """The community's events, soonest first."""
    query = select(CommunityEvent).where(CommunityEvent.community_id == community.id)
    return list(session.scalars(query.order_by(CommunityEvent.held_on, CommunityEvent.id)))


def ask(
    session: Session,
    author: Author,
    slug: str,
    title: str,
    body: str = "",
    *,
    addressed_to: str = "",
    is_demo: bool = False,
) -> CommunityQuestion:
    """A member's question to the community (or to one of its source sites)."""
    community = get_community(session, slug)
    actor = _require_member(session, author, community, "ask questions")
    question = CommunityQuestion(
        community_id=community.id,
        title=_text(title, "your question", MAX_TITLE),
        body=_text(body, "more detail", MAX_TEXT, required=False),
        addressed_to=addressed_to.strip(),
        asked_by=actor.username,
        organisation=_organisation_of(author) or (actor.organisation or ""),
        is_demo=is_demo,
    )
    session.add(question)
    session.flush()
    _record(session, actor, "ask question", f"community:{slug}", question=question.id)
    return question


def answer(
    session: Session,
    author: Author,
    question_id: int,
    body: str,
    *,
    organisation: str = "",
    is_demo: bool = False,
) -> CommunityAnswer:
    """A member's answer to a question of their community."""
    question = get_question(session, question_id)
    community = session.get(Community, question.community_id)
    assert community is not None
    actor = _require_member(session, author, community, "answer questions")
    reply = CommunityAnswer(
        question_id=question.id,
        body=_text(body, "your answer", MAX_TEXT),
        answered_by=actor.username,
        organisation=organisation.strip() or _organisation_of(author) or (actor.organisation or ""),
        is_demo=is_demo,
    )
    session.add(reply)
    session.flush()
    _record(session, actor, "answer question", f"community:{community.slug}", question=question.id)
    return reply


def get_question(session: Session, question_id: int) -> CommunityQuestion:
    """One question by its number."""
    found = session.get(CommunityQuestion, question_id)
    if found is None:
        raise NotFound(f"No community question has the number {question_id}.")
    return found


def questions(session: Session, community: Community) -> list[CommunityQuestion]:
    """The community's questions, newest first, each with its answers."""
    query = select(CommunityQuestion).where(CommunityQuestion.community_id == community.id)
    return list(session.scalars(query.order_by(CommunityQuestion.id.desc())))


@dataclass(frozen=True)
class AnsweredQuestion:
    """A question with an answer, as the search indexes it."""

    community_slug: str
    community: str
    question_id: int
    answer_id: int
    title: str
    question: str
    answer: str
    answered_by: str
    organisation: str
    is_demo: bool


def answered_questions(session: Session) -> list[AnsweredQuestion]:
    """Every answer with its question and community: the community's kept knowledge."""
    query = (
        select(CommunityAnswer, CommunityQuestion, Community)
        .join(CommunityQuestion, CommunityAnswer.question_id == CommunityQuestion.id)
        .join(Community, CommunityQuestion.community_id == Community.id)
        .order_by(CommunityAnswer.id)
    )
    return [
        AnsweredQuestion(
            community_slug=c.slug,
            community=c.name,
            question_id=q.id,
            answer_id=a.id,
            title=q.title,
            question=q.body,
            answer=a.body,
            answered_by=a.answered_by,
            organisation=a.organisation,
            is_demo=a.is_demo,
        )
        for a, q, c in session.execute(query).all()
    ]


def community_json(session: Session, community: Community) -> dict[str, object]:
    """A community with its members, events, questions and answers, for the JSON API."""
    return {
        "slug": community.slug,
        "name": community.name,
        "theme": community.theme,
        "intervention_id": community.intervention_id,
        "description": community.description,
        "is_demo": community.is_demo,
        "url": f"/spread/communities/{community.slug}",
        "members": [
            {
                "name": m.user.full_name,
                "organisation": m.user.organisation.name if m.user.organisation else None,
                "joined_at": m.joined_at.isoformat(timespec="minutes"),
            }
            for m in community.members
        ],
        "events": [
            {
                "kind": e.kind,
                "title": e.title,
                "held_on": e.held_on.isoformat(),
                "place": e.place,
                "host": e.host,
                "description": e.description,
                "is_demo": e.is_demo,
            }
            for e in events(session, community)
        ],
        "questions": [
            {
                "id": q.id,
                "title": q.title,
                "body": q.body,
                "addressed_to": q.addressed_to,
                "asked_by": q.asked_by,
                "organisation": q.organisation,
                "asked_at": q.asked_at.isoformat(timespec="minutes"),
                "is_demo": q.is_demo,
                "answers": [
                    {
                        "id": a.id,
                        "body": a.body,
                        "answered_by": a.answered_by,
                        "organisation": a.organisation,
                        "answered_at": a.answered_at.isoformat(timespec="minutes"),
                        "is_demo": a.is_demo,
                    }
                    for a in q.answers
                ],
            }
            for q in questions(session, community)
        ],
    }
