"""The forms that record Learning Together practice reviews, through the real app on a
seeded store: a council's member records a review, a finding, an action and a link to an
intervention and moves the action on; bad input shows the GOV.UK error summary and stores
nothing; another organisation's member gets 403 and a visitor is sent to sign in; every
change is in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent
from whatworks.evidence import seed
from whatworks.spread import learning_demo
from whatworks.spread.models import (
    FindingAction,
    FindingIntervention,
    PracticeReview,
    ReviewFinding,
)

PASSWORD = "a long test password"
REVIEW = {
    "title": "Child L: a practice review",
    "kind": "local child safeguarding practice review",
    "la_code": "E08000035",
    "place": "",
    "reviewed_on-day": "14",
    "reviewed_on-month": "3",
    "reviewed_on-year": "2025",
    "organisation": "",
    "summary": "Neglect over years, seen in parts by each agency.",
    "source": "",
}
FINDING = {
    "title": "Each agency held part of the picture",
    "pattern": "Chronologies are kept agency by agency, so no one sees the whole.",
    "system_parts": ["multi-agency working in longer-term work", "tools"],
    "evidence": "Five agencies, five chronologies, no shared one.",
    "intervention_id": "pause",
}


@pytest.fixture
def review_store(sessions) -> None:
    """The bundled evidence and the spread demo; a member of Leeds, a member of Barnet, a
    member of no organisation and a researcher."""
    with transaction(sessions) as session:
        seed.seed(session)
        seed.seed_demo(session)
        learning_demo.seed_demo(session)
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        create_user(session, "leeds", PASSWORD, "member", "Lee Leeds", leeds)
        create_user(session, "barnet", PASSWORD, "member", "Bea Barnet", barnet)
        create_user(session, "loner", PASSWORD, "member", "Lou Loner")
        create_user(session, "researcher", PASSWORD, "researcher", "Rae Researcher")


def _count(sessions, model) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _post(client, csrf_from, path: str, data: dict, **kwargs):
    token = csrf_from(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def _record_review(client, csrf_from) -> int:
    made = _post(client, csrf_from, "/spread/reviews/new", REVIEW, follow_redirects=False)
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/spread/reviews/(\d+)", made.headers["location"])
    assert found
    return int(found.group(1))


def test_a_member_records_a_review_finding_action_and_link(
    client, review_store, sessions, sign_in, csrf_from
) -> None:
    sign_in(client, "leeds")
    listing = client.get("/spread/reviews")
    assert 'href="/spread/reviews/new">Record a practice review</a>' in listing.text
    form = client.get("/spread/reviews/new")
    assert form.status_code == 200 and 'value="Leeds City Council"' in form.text
    review_id = _record_review(client, csrf_from)
    page = client.get(f"/spread/reviews/{review_id}")
    assert "Child L: a practice review" in page.text
    assert f'href="/spread/reviews/{review_id}/findings">Add a finding</a>' in page.text

    made = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/findings",
        FINDING,
        follow_redirects=False,
    )
    assert made.status_code == 303
    finding_id = int(made.headers["location"].rsplit("#finding-", 1)[1])
    actions = f"/spread/reviews/{review_id}/findings/{finding_id}/actions"
    assert actions in client.get(f"/spread/reviews/{review_id}").text
    added = _post(
        client,
        csrf_from,
        actions,
        {
            "description": "Agree one shared chronology for children on a plan.",
            "owner": "Head of safeguarding",
            "due_on-day": "30",
            "due_on-month": "9",
            "due_on-year": "2025",
            "status": "planned",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    linked = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/findings/{finding_id}/interventions",
        {"intervention_id": "family-safeguarding"},
        follow_redirects=False,
    )
    assert linked.status_code == 303, linked.text
    with sessions() as session:
        action_id = session.scalar(
            select(FindingAction.id).where(FindingAction.finding_id == finding_id)
        )
    moved = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/actions/{action_id}/status",
        {"status": "in progress"},
        follow_redirects=False,
    )
    assert moved.status_code == 303

    found = client.get(f"/api/spread/reviews/{review_id}").json()
    # the region is Leeds's, from the bundled places; the organisation the member's own
    assert (found["place"], found["region"]) == ("Leeds", "Yorkshire and The Humber")
    assert found["organisation"] == "Leeds City Council"
    assert found["reviewed_on"] == "2025-03-14"
    [finding] = found["findings"]
    assert finding["system_parts"] == FINDING["system_parts"]
    assert finding["interventions"] == ["family-safeguarding", "pause"]
    assert finding["actions"] == [
        {
            "id": action_id,
            "description": "Agree one shared chronology for children on a plan.",
            "owner": "Head of safeguarding",
            "due_on": "2025-09-30",
            "status": "in progress",
        }
    ]
    with sessions() as session:
        done = [
            e.action
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.username == "leeds")
                .where(AuditEvent.purpose == "practice reviews")
                .order_by(AuditEvent.id)
            )
        ]
    assert done == [
        "record review",
        "add finding",
        "add action",
        "link intervention",
        "action status",
    ]


def test_bad_input_shows_the_errors_and_stores_nothing(
    client, review_store, sessions, sign_in, csrf_from
) -> None:
    sign_in(client, "leeds")
    reviews_before = _count(sessions, PracticeReview)
    empty = _post(client, csrf_from, "/spread/reviews/new", {"title": " "})
    assert empty.status_code == 400
    assert "There is a problem" in empty.text and "<title>Error:" in empty.text
    for message, field in (
        ("Enter the review&#39;s title", "title"),
        ("Choose the kind of review", "kind"),
        ("Enter the date the review was published", "reviewed_on-day"),
    ):
        assert f'<a href="#{field}">{message}</a>' in empty.text
        assert f'id="{field}-error"' in empty.text
    future = _post(client, csrf_from, "/spread/reviews/new", {**REVIEW, "reviewed_on-year": "2999"})
    assert future.status_code == 400 and "must be in the past" in future.text
    assert 'value="Child L: a practice review"' in future.text  # what was typed is kept
    unreal = _post(
        client,
        csrf_from,
        "/spread/reviews/new",
        {**REVIEW, "reviewed_on-day": "31", "reviewed_on-month": "2"},
    )
    assert unreal.status_code == 400 and "must be a real date" in unreal.text
    assert _count(sessions, PracticeReview) == reviews_before

    review_id = _record_review(client, csrf_from)
    no_parts = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/findings",
        {**FINDING, "system_parts": [], "pattern": ""},
    )
    assert no_parts.status_code == 400
    assert '<a href="#system_parts">Choose at least one part of the system</a>' in no_parts.text
    assert '<a href="#pattern">Enter the pattern in the system</a>' in no_parts.text
    unknown = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/findings",
        {**FINDING, "system_parts": ["luck"], "intervention_id": "no-such-thing"},
    )
    assert unknown.status_code == 400
    assert "Choose parts of the system from the list" in unknown.text
    assert "Choose an intervention from the list" in unknown.text
    assert _count(sessions, ReviewFinding) == 7  # the demo's seven only

    made = _post(
        client, csrf_from, f"/spread/reviews/{review_id}/findings", FINDING, follow_redirects=False
    )
    finding_id = int(made.headers["location"].rsplit("#finding-", 1)[1])
    actions_before = _count(sessions, FindingAction)
    bad = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/findings/{finding_id}/actions",
        {"description": "", "owner": "", "due_on-day": "40", "status": "finished"},
    )
    assert bad.status_code == 400
    for message in (
        "Enter what will be done",
        "Enter who owns the action",
        "The due date must be a real date",
        "Choose how the action stands",
    ):
        assert message in bad.text
    assert _count(sessions, FindingAction) == actions_before
    links_before = _count(sessions, FindingIntervention)
    no_choice = _post(
        client,
        csrf_from,
        f"/spread/reviews/{review_id}/findings/{finding_id}/interventions",
        {"intervention_id": ""},
    )
    assert no_choice.status_code == 400 and '<a href="#intervention_id">' in no_choice.text
    assert _count(sessions, FindingIntervention) == links_before


def test_another_organisation_gets_403_and_a_visitor_signs_in(
    client, review_store, sessions, sign_in, csrf_from
) -> None:
    sign_in(client, "leeds")
    review_id = _record_review(client, csrf_from)
    made = _post(
        client, csrf_from, f"/spread/reviews/{review_id}/findings", FINDING, follow_redirects=False
    )
    finding_id = int(made.headers["location"].rsplit("#finding-", 1)[1])
    client.cookies.clear()

    # a visitor
    assert "Record a practice review" not in client.get("/spread/reviews").text
    assert "Add a finding" not in client.get(f"/spread/reviews/{review_id}").text
    for path in (
        "/spread/reviews/new",
        f"/spread/reviews/{review_id}/findings",
        f"/spread/reviews/{review_id}/findings/{finding_id}/actions",
    ):
        sent = client.get(path, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"].startswith("/sign-in?next=")
    token = csrf_from(client.get("/sign-in").text)
    posted = client.post(
        f"/spread/reviews/{review_id}/findings",
        data={"csrf_token": token, **FINDING},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/sign-in")

    # a member of another council
    sign_in(client, "barnet")
    assert "Add a finding" not in client.get(f"/spread/reviews/{review_id}").text
    token = csrf_from(client.get("/spread/reviews/new").text)  # Barnet may record its own
    findings_before = _count(sessions, ReviewFinding)
    actions_before = _count(sessions, FindingAction)
    for path, data in (
        (f"/spread/reviews/{review_id}/findings", FINDING),
        (
            f"/spread/reviews/{review_id}/findings/{finding_id}/actions",
            {"description": "Not ours", "owner": "Barnet", "status": "planned"},
        ),
        (
            f"/spread/reviews/{review_id}/findings/{finding_id}/interventions",
            {"intervention_id": "pause"},
        ),
    ):
        assert client.get(path).status_code == 403
        refused = client.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403 and "Only members" in refused.text
    assert _count(sessions, ReviewFinding) == findings_before
    assert _count(sessions, FindingAction) == actions_before
    with sessions() as session:
        demo_id = session.scalar(
            select(PracticeReview.id).where(PracticeReview.title == "Baby N (demo)")
        )
        action_id = session.scalar(select(FindingAction.id).order_by(FindingAction.id))
    # the demo's reviews belong to no organisation: only researchers change them
    assert client.get(f"/spread/reviews/{demo_id}/findings").status_code == 403
    assert client.get(f"/spread/reviews/{demo_id}/actions/{action_id}/status").status_code == 403

    # a member of no organisation cannot record a review
    client.cookies.clear()
    sign_in(client, "loner")
    assert "Record a practice review" not in client.get("/spread/reviews").text
    assert client.get("/spread/reviews/new").status_code == 403

    # a researcher changes any review
    client.cookies.clear()
    sign_in(client, "researcher")
    page = client.get(f"/spread/reviews/{demo_id}")
    assert "Add a finding" in page.text and "Change status" in page.text
    moved = _post(
        client,
        csrf_from,
        f"/spread/reviews/{demo_id}/actions/{action_id}/status",
        {"status": "dropped"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    with sessions() as session:
        assert session.get(FindingAction, action_id).status == "dropped"
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "action status")
        ).one()
        assert event.username == "researcher" and event.purpose == "practice reviews"


def test_a_finding_of_another_review_is_not_found(client, review_store, sessions, sign_in) -> None:
    sign_in(client, "researcher")
    with sessions() as session:
        review_ids = list(session.scalars(select(PracticeReview.id).order_by(PracticeReview.id)))
        finding = session.scalars(
            select(ReviewFinding).where(ReviewFinding.review_id == review_ids[0])
        ).first()
    assert finding is not None
    wrong = f"/spread/reviews/{review_ids[1]}/findings/{finding.id}/actions"
    assert client.get(wrong).status_code == 404
    assert client.get("/spread/reviews/9999/findings").status_code == 404
    assert client.get(f"/spread/reviews/{review_ids[0]}/actions/9999/status").status_code == 404
