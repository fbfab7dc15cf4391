"""Answering a survey with a code: every page that carries a code (the typed code sent
back with its error, the questions with the code in a hidden field, the questions shown
again with the answers typed) is kept out of every cache, and a problem with the answers
as a whole links to a field that is on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.voice import surveys
from whatworks.web.app import create_app

BARNET = "E09000003"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def codes(sessions) -> list[str]:
    """Two codes for a Barnet families survey: feeling safe (Yes/No radios), then the
    comment box."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", BARNET)
        member = create_user(
            session, "barnet", "a long test password", "member", organisation=barnet
        )
        chosen = surveys.NewSurvey(
            "Family voice", "families", "Spring 2025", "2025-Q1", ("feel_safe", "anything_else")
        )
        survey = surveys.create_survey(session, member, barnet, chosen)
        return surveys.issue_codes(session, member, survey, "Parents", 2)


def token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/voice/answer").text)
    assert found, "the code page has no CSRF token"
    return found.group(1)


def uncached(response) -> bool:
    return response.headers.get("cache-control") == "no-store"


def test_the_questions_page_with_the_code_is_not_cached(client, codes) -> None:
    shown = client.post("/voice/answer", data={"code": codes[0], "csrf_token": token(client)})
    assert shown.status_code == 200 and "Do you feel safe where you live?" in shown.text
    assert f'name="code" value="{codes[0]}"' in shown.text
    assert uncached(shown)


def test_a_refused_code_sent_back_is_not_cached(client, codes) -> None:
    typed = "ABCD-EFGH-JKLM"  # well formed, never issued
    refused = client.post("/voice/answer", data={"code": typed, "csrf_token": token(client)})
    assert refused.status_code == 400 and "do not recognise that code" in refused.text
    assert f'value="{typed}"' in refused.text
    assert uncached(refused)


def test_answers_shown_again_are_not_cached(client, codes) -> None:
    sent = {
        "code": codes[0],
        "csrf_token": token(client),
        "question-1": "Maybe",  # not one of Yes, Sometimes, No, I don't know
        "question-2": "The new key worker listens.",
    }
    again = client.post("/voice/answer/send", data=sent)
    assert again.status_code == 400
    assert 'href="#question-1-1"' in again.text and 'id="question-1-1"' in again.text
    assert "The new key worker listens." in again.text and f'value="{codes[0]}"' in again.text
    assert uncached(again)


def test_no_answers_links_to_the_first_question(client, codes) -> None:
    empty = client.post(
        "/voice/answer/send",
        data={"code": codes[1], "csrf_token": token(client), "question-1": "", "question-2": ""},
    )
    assert empty.status_code == 400 and "Answer at least one question" in empty.text
    assert 'href="#question-1-1"' in empty.text and 'href="#questions"' not in empty.text
    assert 'id="question-1-1"' in empty.text
    assert uncached(empty)
