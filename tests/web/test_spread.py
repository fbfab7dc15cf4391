"""Spread's learning pages and their JSON twins on a seeded store: ask a question (with why
each result matched), communities of practice (members post; others get 403; visitors are
sent to sign in) and practice reviews with the themes across them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent
from whatworks.evidence import seed
from whatworks.spread import learning_demo
from whatworks.spread.models import CommunityAnswer, CommunityQuestion

PASSWORD = "a long test password"
COMMUNITY = "/spread/communities/pause-practice-network-demo"
KESTREL = "Leeds uses a booking flag we call the Kestrel protocol."


@pytest.fixture(autouse=True)
def text_search_only(monkeypatch) -> None:
    """These tests rank by full text alone (the model's own tests are in tests/spread)."""
    monkeypatch.setenv("WHATWORKS_SEMANTIC", "off")


@pytest.fixture
def spread_store(sessions) -> None:
    """The bundled evidence, the demo studies, the demo reviews and communities, a member
    of a council and an administrator."""
    with transaction(sessions) as session:
        seed.seed(session)
        seed.seed_demo(session)
        learning_demo.seed_demo(session)
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        create_user(session, "learner", PASSWORD, "member", "Lee Learner", leeds)
        create_user(session, "other", PASSWORD, "member", "Oli Other", leeds)


def test_ask_page_shows_results_and_why_they_matched(client, spread_store) -> None:
    empty = client.get("/spread")
    assert empty.status_code == 200 and "Ask a question" in empty.text
    assert "Why it matched" not in empty.text
    page = client.get("/spread", params={"q": "repeat removals of babies"})
    assert page.status_code == 200
    assert '<a class="govuk-link" href="/evidence/interventions/pause">Pause</a>' in page.text
    assert "Why it matched" in page.text and "<mark>" in page.text
    found = client.get("/api/spread/ask", params={"q": "repeat removals of babies"}).json()
    assert found["terms"] == ["repeat", "removals", "babies"]
    assert "infant" in found["synonyms"]
    assert found["reranked"] is False
    pause = next(r for r in found["results"] if r["kind"] == "intervention")
    assert pause["id"] == "pause" and pause["url"] == "/evidence/interventions/pause"
    assert {"repeat", "removals"} <= set(pause["why"]["matched_terms"])
    assert {f["field"] for f in pause["why"]["fields"]} >= {"description"}


def test_ask_finds_null_results_and_escapes_the_question(client, spread_store) -> None:
    found = client.get(
        "/api/spread/ask", params={"q": "social workers in schools section 47", "limit": 5}
    ).json()
    kinds = [r["kind"] for r in found["results"]]
    assert "result" in kinds and len(kinds) <= 5
    null = next(r for r in found["results"] if r["kind"] == "result")
    assert "section 47" in null["title"].lower() or "s47" in null["title"].lower()
    page = client.get("/spread", params={"q": "<script>alert(1)</script> pause"})
    assert "<script>alert(1)</script>" not in page.text
    assert client.get("/api/spread/ask", params={"q": "pause", "limit": 0}).status_code == 422
    nothing = client.get("/api/spread/ask", params={"q": "the and of"}).json()
    assert nothing["results"] == []


def test_community_pages_are_public(client, spread_store) -> None:
    listing = client.get("/spread/communities")
    assert listing.status_code == 200 and "Pause practice network (demo)" in listing.text
    listed = client.get("/api/spread/communities").json()
    assert {c["slug"] for c in listed} == {
        "pause-practice-network-demo",
        "family-group-conferencing-network-demo",
    }
    page = client.get(COMMUNITY)
    assert page.status_code == 200
    assert "Open day at a Pause practice (demo)" in page.text
    assert "How did you get midwifery" in page.text
    assert "Sign in</a> and join the community" in page.text
    assert 'action="/spread/communities/pause-practice-network-demo/questions"' not in page.text
    found = client.get("/api/spread/communities/pause-practice-network-demo").json()
    assert found["intervention_id"] == "pause" and found["questions"][0]["answers"]
    assert client.get("/spread/communities/nope").status_code == 404
    assert client.get("/api/spread/communities/nope").status_code == 404


def test_visitors_are_sent_to_sign_in_before_posting(client, spread_store, csrf_from) -> None:
    token = csrf_from(client.get("/sign-in").text)  # a visitor's session has a token too
    posted = client.post(
        f"{COMMUNITY}/questions",
        data={"csrf_token": token, "title": "A visitor's question"},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/sign-in?next=")
    joined = client.post(f"{COMMUNITY}/join", data={"csrf_token": token}, follow_redirects=False)
    assert joined.status_code == 303 and joined.headers["location"].startswith("/sign-in")


def test_members_post_and_others_get_403(client, spread_store, sessions, sign_in, csrf_from):
    sign_in(client, "learner")
    page = client.get(COMMUNITY)
    token = csrf_from(page.text)
    assert "Join the community" in page.text
    refused = client.post(
        f"{COMMUNITY}/questions", data={"csrf_token": token, "title": "Not yet a member"}
    )
    assert refused.status_code == 403
    with sessions() as session:
        question_id = session.scalar(select(CommunityQuestion.id))
    refused = client.post(
        f"{COMMUNITY}/questions/{question_id}/answers",
        data={"csrf_token": token, "answer": "Not a member"},
    )
    assert refused.status_code == 403
    client.post(f"{COMMUNITY}/join", data={"csrf_token": token})
    page = client.get(COMMUNITY)
    assert "Leave the community" in page.text and "Lee Learner, Leeds City Council" in page.text
    empty = client.post(f"{COMMUNITY}/questions", data={"csrf_token": token, "title": " "})
    assert empty.status_code == 400 and "Enter your question" in empty.text
    asked = client.post(
        f"{COMMUNITY}/questions",
        data={
            "csrf_token": token,
            "title": "Who leads Pause in your council?",
            "body": "Us: Leeds",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303 and "#question-" in asked.headers["location"]
    answered = client.post(
        f"{COMMUNITY}/questions/{question_id}/answers",
        data={"csrf_token": token, "answer": KESTREL},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    page = client.get(COMMUNITY)
    assert "Who leads Pause in your council?" in page.text
    assert KESTREL in page.text
    with sessions() as session:
        actions = [
            (e.username, e.action)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.username == "learner"))
        ]
        assert session.scalar(
            select(CommunityAnswer).where(CommunityAnswer.answered_by == "learner")
        )
    assert ("learner", "join community") in actions
    assert ("learner", "ask question") in actions and ("learner", "answer question") in actions
    # the answer is now searchable knowledge
    found = client.get("/api/spread/ask", params={"q": "what is the kestrel protocol?"}).json()
    assert found["results"][0]["kind"] == "answer"
    assert found["results"][0]["why"]["matched_terms"] == ["kestrel", "protocol"]
    client.post(f"{COMMUNITY}/leave", data={"csrf_token": token})
    assert (
        client.post(
            f"{COMMUNITY}/questions", data={"csrf_token": token, "title": "After leaving"}
        ).status_code
        == 403
    )


def test_posting_needs_the_csrf_token(client, spread_store, sign_in) -> None:
    sign_in(client, "learner")
    refused = client.post(f"{COMMUNITY}/join", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and "expired" in refused.text


def test_review_pages_and_themes(client, spread_store) -> None:
    listing = client.get("/spread/reviews")
    assert listing.status_code == 200 and "Baby N (demo)" in listing.text
    reviews = client.get("/api/spread/reviews").json()
    assert [r["title"] for r in reviews] == [
        "Young person W (demo)",
        "Family E (demo)",
        "Child S (demo)",
        "Baby N (demo)",
    ]
    baby = next(r for r in reviews if r["title"] == "Baby N (demo)")
    page = client.get(baby["url"])
    assert page.status_code == 200
    assert "No support for mothers after a child is removed (demo)" in page.text
    assert 'href="/evidence/interventions/pause">Pause</a>' in page.text
    assert "Commissioning lead (demo)" in page.text
    found = client.get(f"/api/spread/reviews/{baby['id']}").json()
    assert found["findings"][0]["interventions"] == ["pause"]
    assert [a["status"] for a in found["findings"][0]["actions"]] == ["done", "in progress"]
    assert client.get("/spread/reviews/9999").status_code == 404
    themes = client.get("/api/spread/reviews/themes").json()
    # counted by hand from learning_demo.DEMO_REVIEWS: 7 findings in 4 reviews
    assert (themes["findings"], themes["reviews"], themes["demo_reviews"]) == (7, 4, 4)
    assert themes["years"] == [2021, 2022, 2023, 2024]
    assert themes["regions"] == ["North West", "South East", "West Midlands"]
    assert themes["totals"]["management systems"] == 3
    assert themes["totals"]["family-professional interaction"] == 3
    longer = next(r for r in themes["by_region"] if r["part"].endswith("longer-term work"))
    assert longer["counts"] == {"North West": 2, "South East": 0, "West Midlands": 0}
    page = client.get("/spread/reviews/themes")
    assert page.status_code == 200 and "Management systems" in page.text
