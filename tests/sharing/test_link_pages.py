"""The linked-data pages and their JSON twins: 403 for everybody outside the partnership on
every one, 403 with the reason without an agreement in force, sign-in for visitors;
starting a run and deciding a pair from the forms; the purpose form before any record is
shown, and one audit event for every record-level view."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from whatworks.config import Settings
from whatworks.core.audit import Actor
from whatworks.core.models import AuditEvent
from whatworks.sharing import runs
from whatworks.sharing.models import Agreement, LinkRun, Partnership, ReviewDecision
from whatworks.web.app import create_app

PASSWORD = "a long test password"
PURPOSE = "Strategic needs assessment of children known to several agencies"
WHY = "Multi-agency strategy meeting for a child at risk"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def linked(session, settings, builder, people, tiny):
    """The tiny partnership with one finished run: (built, run id, Amelia's pseudonym)."""
    built = builder(session, settings.data_dir, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, settings.data_dir, Actor("cli"), partnership, [], PURPOSE)
    session.commit()
    assert run.status == "done", run.error
    person = {
        (r["dataset_id"], r["record"]): r["person"]
        for r in runs.clusters_of(settings.data_dir, run)
    }
    return built, run.id, person[built.datasets["council"], built.record("council", "C1")]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in; returns a CSRF token of the new session."""
    client.cookies.clear()
    token = csrf(client.get("/sign-in").text)
    signed = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return csrf(client.get("/sign-out").text)


def pages(built, run_id: int, person: str) -> list[str]:
    p = built.partnership_id
    return [
        f"/sharing/partnerships/{p}/runs",
        f"/sharing/runs/{run_id}",
        f"/sharing/runs/{run_id}/review",
        f"/sharing/partnerships/{p}/system",
        f"/sharing/people/{run_id}/{person}",
    ]


def twins(built, run_id: int, person: str) -> list[str]:
    return [f"/api{path}" for path in pages(built, run_id, person)[:4]]


def person_json(client: TestClient, run_id: int, person: str, purpose: str = WHY):
    """The record-level JSON, a POST with the purpose in its body."""
    return client.post(f"/api/sharing/people/{run_id}/{person}", json={"purpose": purpose})


def audit_count(sessions) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_every_page_and_twin_for_a_partnership_member(client, linked, sessions) -> None:
    built, run_id, amelia = linked
    sign_in(client, "linked")
    for path in pages(built, run_id, amelia) + twins(built, run_id, amelia):
        assert client.get(path).status_code == 200, path
    assert person_json(client, run_id, amelia).status_code == 200
    system = client.get(f"/api/sharing/partnerships/{built.partnership_id}/system").json()
    known = {row["label"]: row["cells"][0] for row in system["tables"][0]["rows"]}
    assert known["Known to 2 agencies"] == "c" and known["Known to 3 agencies"] == "0"
    assert system["legend"]["c"].startswith("confidential")
    page = client.get(f"/sharing/partnerships/{built.partnership_id}/system").text
    assert '<abbr title="confidential: suppressed to protect confidentiality">c</abbr>' in page


@pytest.mark.parametrize("who", ["outsider", "plain"])
def test_403_on_every_page_and_twin_outside_the_partnership(client, linked, sessions, who) -> None:
    built, run_id, amelia = linked
    token = sign_in(client, who)
    before = audit_count(sessions)
    for path in pages(built, run_id, amelia) + twins(built, run_id, amelia):
        answer = client.get(path)
        assert answer.status_code == 403, path
    assert person_json(client, run_id, amelia).status_code == 403
    for path, data in (
        (f"/sharing/partnerships/{built.partnership_id}/runs", {"purpose": PURPOSE}),
        (f"/sharing/runs/{run_id}/review", {"left_record": "a", "right_record": "b",
                                             "decision": "match"}),
        (f"/sharing/people/{run_id}/{amelia}", {"purpose": WHY}),
    ):  # fmt: skip
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert audit_count(sessions) == before
    assert "partnership" in client.get(f"/api/sharing/runs/{run_id}").json()["detail"].lower()


def test_visitors_are_sent_to_sign_in(client, linked) -> None:
    built, run_id, amelia = linked
    for path in pages(built, run_id, amelia):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    for path in twins(built, run_id, amelia):
        assert client.get(path).status_code == 401, path
    assert person_json(client, run_id, amelia).status_code == 401


def test_403_with_the_reason_when_the_agreement_has_ended(
    client, linked, session, sessions
) -> None:
    built, run_id, amelia = linked
    session.get(Agreement, built.agreement_id).status = "ended"
    session.commit()
    token = sign_in(client, "linked")
    for path in pages(built, run_id, amelia) + twins(built, run_id, amelia):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "it is ended, not active" in answer.text, path
    refused = person_json(client, run_id, amelia)
    assert refused.status_code == 403 and "it is ended, not active" in refused.text
    runs_before = session.scalar(select(func.count()).select_from(LinkRun))
    answer = client.post(
        f"/sharing/partnerships/{built.partnership_id}/runs",
        data={"datasets": list(map(str, built.datasets.values())), "purpose": PURPOSE,
              "csrf_token": token},
    )  # fmt: skip
    assert answer.status_code == 403
    with sessions() as fresh:
        assert fresh.scalar(select(func.count()).select_from(LinkRun)) == runs_before


def test_start_a_run_from_the_form(client, linked, sessions) -> None:
    built, run_id, _ = linked
    token = sign_in(client, "linked")
    path = f"/sharing/partnerships/{built.partnership_id}/runs"
    form = client.get(path).text
    for dataset_id in built.datasets.values():
        assert f'value="{dataset_id}" aria-describedby' in form and "checked" in form
    refused = client.post(path, data={"datasets": [], "purpose": "short", "csrf_token": token})
    assert refused.status_code == 400
    assert "Choose at least two datasets" in refused.text
    assert "in at least 10 characters" in refused.text
    answer = client.post(
        path,
        data={"datasets": list(map(str, built.datasets.values())), "purpose": PURPOSE,
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    new_id = int(answer.headers["location"].rsplit("/", 1)[1])
    assert new_id == run_id + 1
    shown = client.get(answer.headers["location"]).text
    assert "Done" in shown and "Estimated precision" in shown
    data = client.get(f"/api/sharing/runs/{new_id}").json()
    assert (data["status"], data["records"], data["people"], data["links"]) == ("done", 5, 3, 2)
    assert data["purpose"] == PURPOSE and data["run_by"] == "linked"


def test_decide_a_pair_from_the_review_page(client, linked, sessions) -> None:
    built, run_id, _ = linked
    token = sign_in(client, "linked")
    c2, h2 = built.record("council", "C2"), built.record("health", "H2")
    path = f"/sharing/runs/{run_id}/review"
    missing = client.post(path, data={"left_record": c2, "right_record": h2, "csrf_token": token})
    assert missing.status_code == 400 and "Choose match or not a match" in missing.text
    answer = client.post(
        path,
        data={"left_record": c2, "right_record": h2, "decision": "not a match",
              "note": "Different mothers", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert "Decision saved" in client.get(answer.headers["location"]).text
    with sessions() as session:
        decision = session.scalar(select(ReviewDecision))
        assert decision is not None
        assert (decision.decision, decision.note, decision.decided_by) == (
            "not a match", "Different mothers", "linked",
        )  # fmt: skip
    assert client.get(f"/api/sharing/runs/{run_id}").json()["people"] == 4


def test_the_record_view_needs_a_purpose_and_audits_every_view(client, linked, sessions) -> None:
    _, run_id, amelia = linked
    token = sign_in(client, "linked")
    path = f"/sharing/people/{run_id}/{amelia}"
    before = audit_count(sessions)
    form = client.get(path).text
    assert "Why you need this child" in form and "Amelia" not in form
    refused = client.post(path, data={"purpose": "because", "csrf_token": token})
    assert refused.status_code == 400 and "Amelia" not in refused.text
    assert audit_count(sessions) == before
    for number in (1, 2):
        shown = client.post(path, data={"purpose": WHY, "csrf_token": token})
        assert shown.status_code == 200
        assert "Amelia" in shown.text and "C1" in shown.text and "H1" in shown.text
        assert audit_count(sessions) == before + number
    as_json = person_json(client, run_id, amelia)
    assert [r["fields"]["record_id"] for r in as_json.json()["records"]] == ["C1", "H1"]
    assert person_json(client, run_id, amelia, "").status_code == 400
    # A look writes an audit event, so it is never a GET (not even with the purpose).
    got = client.get(f"/api/sharing/people/{run_id}/{amelia}", params={"purpose": WHY})
    assert got.status_code == 405
    with sessions() as session:
        viewed = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "view linked records")
                .order_by(AuditEvent.id)
            )
        )
    assert [(e.username, e.target, e.purpose) for e in viewed] == [
        ("linked", f"sharing person:{amelia}", WHY)
    ] * 3


def test_the_reference_date_is_the_runs_date_or_a_months_end(client, linked, sessions) -> None:
    built, run_id, _ = linked
    sign_in(client, "linked")
    path = f"/api/sharing/partnerships/{built.partnership_id}/system"
    with sessions() as session:
        run = session.get(LinkRun, run_id)
        assert run is not None
        day = runs.run_date(run).isoformat()
    before = audit_count(sessions)
    for reference in (day, "2025-03-31", "2024-02-29"):
        answer = client.get(path, params={"reference": reference})
        assert answer.status_code == 200, reference
        assert answer.json()["reference"] == reference
    for reference in ("2025-03-15", "2024-02-28", "2025-04-30x"):
        refused = client.get(path, params={"reference": reference})
        assert refused.status_code == 400, reference
        assert "last day of a month" in refused.json()["detail"], reference
    # Only the three views shown were audited.
    assert audit_count(sessions) == before + 3
