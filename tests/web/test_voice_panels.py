"""Panels through the real app: the council's pages and JSON twin, the forms to add a point
and change a commitment's status (errors in a GOV.UK summary, nothing stored on bad input,
403 for another council) and the public "you said, we did" page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.voice import demo, panels
from whatworks.voice.models import Commitment, CommitmentChange, PanelPoint

PASSWORD = "a long test password"
POINT = {
    "held_on-day": "3", "held_on-month": "2", "held_on-year": "2026",
    "said": "We want more say in our reviews.", "action": "We will ask you before each review.",
    "owner": "Reviewing service manager", "due_on-day": "30", "due_on-month": "6",
    "due_on-year": "2026",
}  # fmt: skip


@pytest.fixture
def seeded(sessions) -> dict[str, int]:
    """The demo panel, a member of Barnet (demo), one of Leeds; the demo's proposed and
    agreed commitments."""
    with transaction(sessions) as session:
        panel = demo.seed_demo_panels(session)
        barnet = get_or_create_organisation(session, demo.DEMO_ORGANISATION, "council")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        by_status = {c.status: c.id for c in panels.commitments(panel)}
        return {"panel": panel.id, "proposed": by_status["proposed"], "agreed": by_status["agreed"]}


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def status_of(sessions, commitment_id: int) -> str:
    with sessions() as session:
        found = session.get(Commitment, commitment_id)
        assert found is not None
        return found.status


def test_pages_for_the_council_and_the_panel(client, seeded, sign_in) -> None:
    panel = seeded["panel"]
    assert client.get(f"/voice/panels/{panel}", follow_redirects=False).status_code == 303
    assert client.get(f"/api/voice/panels/{panel}").status_code == 401
    public = client.get(f"/voice/panels/{panel}/you-said-we-did")
    assert public.status_code == 200 and "You said, we did" in public.text
    assert "free bus passes" in public.text and "We could not do this" in public.text
    assert "We did this" in public.text and "Head of children in care" not in public.text
    sign_in(client, "leeds")
    assert client.get(f"/voice/panels/{panel}").status_code == 403
    assert client.get(f"/api/voice/panels/{panel}").status_code == 403
    assert "Children in care council (demo)" not in client.get("/voice/panels").text
    client.cookies.clear()
    sign_in(client, "barnet")
    assert "Children in care council (demo)" in client.get("/voice/panels").text
    page = client.get(f"/voice/panels/{panel}")
    assert page.status_code == 200 and "govuk-tag--orange" in page.text
    assert "Raised by the panel" in page.text and "In progress" in page.text
    found = client.get(f"/api/voice/panels/{panel}").json()
    assert found["is_demo"] and len(found["points"]) == len(demo.POINTS)
    assert {p["commitment"]["status"] for p in found["points"]} == set(panels.STATUSES)
    assert client.get("/voice/panels/9999").status_code == 404


def test_add_a_point(client, seeded, sign_in, sessions, csrf_from) -> None:
    panel = seeded["panel"]
    points, changes = count(sessions, PanelPoint), count(sessions, CommitmentChange)
    sign_in(client, "leeds")
    assert client.get(f"/voice/panels/{panel}/points/new").status_code == 403
    token = csrf_from(client.get("/voice/answer").text)
    refused = client.post(f"/voice/panels/{panel}/points/new", data={**POINT, "csrf_token": token})
    assert refused.status_code == 403 and count(sessions, PanelPoint) == points
    client.cookies.clear()
    sign_in(client, "barnet")
    form = client.get(f"/voice/panels/{panel}/points/new")
    assert form.status_code == 200 and "Do not write any child" in form.text
    token = csrf_from(form.text)
    bad = {**POINT, "said": "x" * 1_001, "owner": "", "due_on-month": "13", "csrf_token": token}
    sent = client.post(f"/voice/panels/{panel}/points/new", data=bad)
    assert sent.status_code == 400 and "There is a problem" in sent.text
    for field in ("#said", "#owner", "#due_on-day"):
        assert f'href="{field}"' in sent.text
    assert count(sessions, PanelPoint) == points and count(sessions, CommitmentChange) == changes
    early = {**POINT, "due_on-year": "2025", "csrf_token": token}
    sent = client.post(f"/voice/panels/{panel}/points/new", data=early)
    assert sent.status_code == 400 and "on or after the meeting" in sent.text
    assert count(sessions, PanelPoint) == points
    sent = client.post(
        f"/voice/panels/{panel}/points/new",
        data={**POINT, "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/voice/panels/{panel}"
    assert count(sessions, PanelPoint) == points + 1
    assert count(sessions, CommitmentChange) == changes + 1
    assert "We want more say in our reviews." in client.get(f"/voice/panels/{panel}").text
    forged = client.post(f"/voice/panels/{panel}/points/new", data=POINT)
    assert forged.status_code == 403 and count(sessions, PanelPoint) == points + 1


def test_change_a_status(client, seeded, sign_in, sessions, csrf_from) -> None:
    panel, proposed, agreed = seeded["panel"], seeded["proposed"], seeded["agreed"]
    path = f"/voice/panels/{panel}/commitments/{proposed}/status"
    changes = count(sessions, CommitmentChange)
    sign_in(client, "leeds")
    assert client.get(path).status_code == 403
    token = csrf_from(client.get("/voice/answer").text)
    assert client.post(path, data={"status": "agreed", "csrf_token": token}).status_code == 403
    client.cookies.clear()
    sign_in(client, "barnet")
    form = client.get(path)
    assert form.status_code == 200 and "The panel will read" in form.text
    token = csrf_from(form.text)
    for data, message in (
        ({}, "Choose the commitment"),
        ({"status": "done"}, "can only move to"),
        ({"status": "explained", "note": " "}, "plain words"),
        ({"status": "agreed", "note": "x" * 1_001}, "1,000 characters"),
    ):
        sent = client.post(path, data={**data, "csrf_token": token})
        assert sent.status_code == 400 and "There is a problem" in sent.text
        assert message in sent.text
    assert status_of(sessions, proposed) == "proposed"
    assert count(sessions, CommitmentChange) == changes
    sent = client.post(
        path, data={"status": "agreed", "note": "Agreed at the meeting", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303 and status_of(sessions, proposed) == "agreed"
    assert count(sessions, CommitmentChange) == changes + 1
    other = f"/voice/panels/{panel}/commitments/{agreed}/status"
    explained = client.post(
        other, data={"status": "explained", "note": "No money this year.", "csrf_token": token}
    )
    assert explained.status_code == 200 and status_of(sessions, agreed) == "explained"
    public = client.get(f"/voice/panels/{panel}/you-said-we-did")
    assert "No money this year." in public.text
    assert client.get(f"/voice/panels/{panel}/commitments/9999/status").status_code == 404
