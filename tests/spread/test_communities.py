"""Communities of practice on both stores: membership, events, questions and answers; only
members post (others are refused), reads are open, and every change is audited."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from whatworks.core.audit import Actor
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent
from whatworks.evidence import seed
from whatworks.spread import communities

PASSWORD = "a long test password"


@pytest.fixture
def people(session) -> SimpleNamespace:
    """A host who starts a community, a learner from another council, an outsider."""
    northtown = get_or_create_organisation(session, "Hackney Council", "council", "E09000012")
    leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
    seed.seed_interventions(session)
    host = create_user(session, "host", PASSWORD, "member", "Hana Host", northtown)
    learner = create_user(session, "learner", PASSWORD, "member", "Lee Learner", leeds)
    outsider = create_user(session, "outsider", PASSWORD, "member", "Oz Outsider", leeds)
    admin = create_user(session, "admin", PASSWORD, "admin", "Ada Admin")
    community = communities.create_community(
        session, host, "Pause network", theme="Repeat removals", intervention_id="pause"
    )
    session.commit()
    return SimpleNamespace(
        host=host, learner=learner, outsider=outsider, admin=admin, community=community
    )


def _audit(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_starting_a_community_makes_the_founder_a_member(session, people) -> None:
    community = communities.get_community(session, "pause-network")
    assert community.intervention_id == "pause"
    assert [m.user.username for m in community.members] == ["host"]
    assert communities.is_member(session, community, people.host)
    assert not communities.is_member(session, community, people.learner)
    assert not communities.is_member(session, community, None)
    started = _audit(session, "start community")
    assert [(e.username, e.target, e.purpose) for e in started] == [
        ("host", "community:pause-network", "community of practice")
    ]


def test_anonymous_visitors_cannot_start_or_join(session, people) -> None:
    with pytest.raises(PermissionDenied, match="Sign in"):
        communities.create_community(session, None, "Anonymous network")
    with pytest.raises(PermissionDenied, match="Sign in"):
        communities.join(session, None, "pause-network")


def test_join_twice_changes_nothing_and_leave_ends_membership(session, people) -> None:
    first = communities.join(session, people.learner, "pause-network")
    again = communities.join(session, people.learner, "pause-network")
    assert first.id == again.id
    assert len(_audit(session, "join community")) == 2  # the founder and the learner
    assert communities.member_counts(session) == {people.community.id: 2}
    assert communities.leave(session, people.learner, "pause-network") is True
    assert communities.leave(session, people.learner, "pause-network") is False
    assert communities.member_counts(session) == {people.community.id: 1}
    assert [e.username for e in _audit(session, "leave community")] == ["learner"]


def test_only_members_ask_and_answer(session, people) -> None:
    with pytest.raises(PermissionDenied, match="Only members of Pause network"):
        communities.ask(session, people.learner, "pause-network", "How did you recruit?")
    with pytest.raises(PermissionDenied, match="Only members"):
        communities.ask(session, people.admin, "pause-network", "Admins are not members")
    with pytest.raises(PermissionDenied, match="Sign in"):
        communities.ask(session, None, "pause-network", "Who am I?")
    communities.join(session, people.learner, "pause-network")
    question = communities.ask(
        session,
        people.learner,
        "pause-network",
        "How did you recruit the practice lead?",
        "We are about to start.",
        addressed_to="Hackney Council",
    )
    assert (question.asked_by, question.organisation) == ("learner", "Leeds City Council")
    with pytest.raises(PermissionDenied, match="Only members"):
        communities.answer(session, people.outsider, question.id, "Not a member")
    reply = communities.answer(session, people.host, question.id, "From the existing team.")
    assert reply.organisation == "Hackney Council"
    assert [a.body for a in communities.get_question(session, question.id).answers] == [
        "From the existing team."
    ]
    kept = communities.answered_questions(session)
    assert [(k.title, k.answer, k.community_slug) for k in kept] == [
        ("How did you recruit the practice lead?", "From the existing team.", "pause-network")
    ]
    assert [e.username for e in _audit(session, "ask question")] == ["learner"]
    assert [e.username for e in _audit(session, "answer question")] == ["host"]


def test_questions_and_answers_are_checked(session, people) -> None:
    with pytest.raises(WhatworksError, match="Enter your question"):
        communities.ask(session, people.host, "pause-network", "  ")
    with pytest.raises(WhatworksError, match="300 characters or fewer"):
        communities.ask(session, people.host, "pause-network", "x" * 301)
    question = communities.ask(session, people.host, "pause-network", "A question")
    with pytest.raises(WhatworksError, match="Enter your answer"):
        communities.answer(session, people.host, question.id, "")
    with pytest.raises(NotFound):
        communities.answer(session, people.host, 9999, "To nothing")
    with pytest.raises(NotFound):
        communities.get_community(session, "no-such-community")


def test_events_are_posted_by_members_with_a_known_kind(session, people) -> None:
    with pytest.raises(PermissionDenied):
        communities.add_event(
            session,
            people.learner,
            "pause-network",
            kind="open day",
            title="Open day",
            held_on=date(2026, 3, 1),
        )
    with pytest.raises(WhatworksError, match="Event kind 'party'"):
        communities.add_event(
            session, people.host, "pause-network", kind="party", title="x", held_on=date.today()
        )
    communities.add_event(
        session,
        people.host,
        "pause-network",
        kind="site visit",
        title="Visit",
        held_on=date(2026, 5, 1),
        place="Hackney",
    )
    communities.add_event(
        session,
        people.host,
        "pause-network",
        kind="open day",
        title="Open day",
        held_on=date(2026, 3, 1),
    )
    listed = communities.events(session, people.community)
    assert [e.title for e in listed] == ["Open day", "Visit"]  # soonest first
    found = communities.community_json(session, people.community)
    assert [e["held_on"] for e in found["events"]] == ["2026-03-01", "2026-05-01"]
    assert found["members"][0]["organisation"] == "Hackney Council"


def test_a_system_process_posts_as_itself(session, people) -> None:
    demo = Actor("demo")
    question = communities.ask(session, demo, "pause-network", "Seeded question", is_demo=True)
    communities.answer(session, demo, question.id, "Seeded answer", is_demo=True)
    assert question.asked_by == "demo" and question.is_demo
