"""Surveys through the real app: answering without an account, a reused or tampered code
and an oversized answer refused with nothing stored, results only for the council, with
the same suppression on the page, its JSON twin, the CSV and the CLI."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from whatworks import store
from whatworks.cli import app
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.voice import demo, surveys
from whatworks.voice.models import Survey, SurveyResponse

PASSWORD = "a long test password"


@pytest.fixture
def seeded(sessions) -> dict[str, object]:
    """The voice demo, a member of Barnet (demo), one of Leeds, and two fresh codes for
    the demo's 2025 children in care survey (reopened)."""
    with transaction(sessions) as session:
        made = demo.seed_demo(session)
        barnet = get_or_create_organisation(session, demo.DEMO_ORGANISATION, "council")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        member = create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        made[1].status = "open"
        codes = surveys.issue_codes(session, member, made[1], "Web test", 2)
        return {"children": made[1].id, "leavers": made[2].id, "codes": codes}


def responses(sessions) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


def test_answer_without_an_account(client, seeded, sessions, csrf_from) -> None:
    before = responses(sessions)
    code = str(seeded["codes"][0])  # type: ignore[index]
    start = client.get("/voice/answer")
    assert start.status_code == 200 and "Enter your survey code" in start.text
    questions = client.post(
        "/voice/answer", data={"code": code, "csrf_token": csrf_from(start.text)}
    )
    assert questions.status_code == 200 and "Do you trust your social worker?" in questions.text
    token = csrf_from(questions.text)
    sent = client.post(
        "/voice/answer/send",
        data={"code": code, "csrf_token": token, "question-1": "Yes", "question-6": "x" * 1_001},
        follow_redirects=False,
    )
    assert sent.status_code == 400 and "1,000 characters or fewer" in sent.text
    assert 'href="#question-6"' in sent.text and responses(sessions) == before
    sent = client.post(
        "/voice/answer/send",
        data={"code": code, "csrf_token": token, "question-1": "Yes", "question-6": "Thanks"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/voice/answer/thanks"
    assert responses(sessions) == before + 1
    again = client.post(
        "/voice/answer/send",
        data={"code": code, "csrf_token": token, "question-1": "No"},
    )
    assert again.status_code == 400 and "already been used" in again.text
    tampered = client.post("/voice/answer", data={"code": code[:-1] + "Z", "csrf_token": token})
    assert tampered.status_code == 400 and "There is a problem" in tampered.text
    assert responses(sessions) == before + 1
    forged = client.post(
        "/voice/answer/send", data={"code": str(seeded["codes"][1]), "question-1": "No"}
    )  # type: ignore[index]
    assert forged.status_code == 403 and responses(sessions) == before + 1


def test_results_for_the_council_only(client, seeded, sign_in, sessions) -> None:
    children, leavers = seeded["children"], seeded["leavers"]
    assert client.get(f"/voice/surveys/{children}", follow_redirects=False).status_code == 303
    assert client.get(f"/api/voice/surveys/{children}/results").status_code == 401
    sign_in(client, "leeds")
    assert client.get(f"/voice/surveys/{children}").status_code == 403
    assert client.get(f"/voice/surveys/{children}/results.csv").status_code == 403
    client.cookies.clear()
    sign_in(client, "barnet")
    listed = client.get("/voice/surveys")
    assert "Your life, your care (demo)" in listed.text
    # Reopened by the fixture: while open, nothing is shown.
    still_open = client.get(f"/api/voice/surveys/{children}/results").json()
    assert still_open["respondents"] is None and still_open["respondents_status"] == "x"
    assert "Shown when the survey closes" in client.get(f"/voice/surveys/{children}").text
    with transaction(sessions) as session:
        session.get(Survey, children).status = "closed"
    page = client.get(f"/voice/surveys/{children}")
    assert page.status_code == 200 and "% of children in care who say they trust" in page.text
    assert "Spring 2024 (demo)" in page.text and "at least 10" in page.text
    found = client.get(f"/api/voice/surveys/{children}/results").json()
    assert found["respondents"] == 41 and found["previous_round"] == "Spring 2024 (demo)"
    small = client.get(f"/api/voice/surveys/{leavers}/results").json()
    assert small["respondents"] is None and small["respondents_status"] == "low"
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/voice/surveys/{leavers}/results.csv").text))
    )
    assert rows and all(r["count"] == "low" and r["percent"] == "low" for r in rows)
    assert "demo" not in {r["answer"] for r in rows}
    page = client.get(f"/voice/surveys/{leavers}")
    assert "Fewer than 10" in page.text and "(demo)." not in page.text  # no comments shown


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, database_url: str):
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    store.settings.cache_clear()
    yield tmp_path
    store.settings.cache_clear()


def test_cli_results_match_the_json(client, seeded, sign_in, cli_env) -> None:
    children = seeded["children"]
    result = CliRunner().invoke(
        app, ["voice", "results", "--survey", str(children), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    sign_in(client, "barnet")
    assert json.loads(result.output) == client.get(f"/api/voice/surveys/{children}/results").json()
    table = CliRunner().invoke(app, ["voice", "results", "--survey", str(children)])
    assert table.exit_code == 0 and "trust" in table.output
