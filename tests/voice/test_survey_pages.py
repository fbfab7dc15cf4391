"""Running surveys and panels from the web: creating a survey (each bad field refused with
nothing stored), issuing codes shown once that then answer once at /voice/answer, closing
a survey to publish its results as indicator values, creating a panel, the JSON twins,
and 403 for members of another council."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent, Organisation
from whatworks.outcomes.models import ComputedValue
from whatworks.outcomes.series import SeriesPoint
from whatworks.voice import results, surveys
from whatworks.voice.models import (
    AccessCode,
    Panel,
    RespondentGroup,
    Survey,
    SurveyQuestion,
    SurveyResponse,
)
from whatworks.web.app import create_app

PASSWORD = "a long test password"
BARNET = "E09000003"
#: A code as printed: three groups of four letters and digits, no 0, O, 1 or I.
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
GOOD = {
    "audience": "families",
    "title": "Family voice",
    "round_label": "Spring 2025",
    "period": "2025-Q1",
    "questions": ["feel_safe", "help_made_difference", "anything_else"],
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def people(sessions) -> None:
    """A member of Barnet, a member of Leeds and an administrator of no council."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", BARNET)
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        create_user(session, "admin", PASSWORD, "admin")


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    token = csrf(client.get("/sign-in").text)
    signed = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audited(sessions, action: str) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def post_survey(client: TestClient, **changes: object):
    page = client.get("/voice/surveys/new", params={"audience": "families"})
    assert page.status_code == 200
    data = {**GOOD, **changes, "csrf_token": csrf(page.text)}
    return client.post("/voice/surveys/new", data=data, follow_redirects=False)


def issue(client: TestClient, survey_id: int, group: str, number: str):
    token = csrf(client.get("/voice/panels/new").text)
    return client.post(
        f"/voice/surveys/{survey_id}/codes",
        data={"group": group, "count": number, "csrf_token": token},
        follow_redirects=False,
    )


def barnet_survey(client: TestClient) -> int:
    sign_in(client, "barnet")
    made = post_survey(client)
    assert made.status_code == 303
    return int(made.headers["location"].rsplit("/", 1)[1])


def test_visitors_are_sent_to_sign_in(client, people) -> None:
    for path in ("/voice/surveys/new", "/voice/panels/new"):
        sent = client.get(path, follow_redirects=False)
        assert sent.status_code == 303
        assert sent.headers["location"].startswith("/sign-in?next=")
    assert client.post("/api/voice/surveys", json=dict(GOOD)).status_code == 401
    assert (
        client.post("/api/voice/panels", json={"name": "x", "audience": "families"}).status_code
        == 401
    )
    assert count(client.app.state.sessions, Survey) == 0


def test_the_form_offers_the_audience_its_questions_by_theme(client, people) -> None:
    sign_in(client, "barnet")
    listed = client.get("/voice/surveys")
    assert 'href="/voice/surveys/new"' in listed.text and "Create a survey" in listed.text
    first = client.get("/voice/surveys/new")
    assert first.status_code == 200
    assert all(
        f'value="{a}"' in first.text
        for a in ("children in care", "care leavers", "families", "staff")
    )
    unchosen = client.get("/voice/surveys/new", params={"step": "audience"})
    assert unchosen.status_code == 400 and 'href="#audience"' in unchosen.text
    staff = client.get("/voice/surveys/new", params={"audience": "staff"}).text
    # The bank's staff questions are about morale and workload, and the comment box.
    assert "I am happy at work." in staff and "My workload is manageable." in staff
    assert "Do you trust your social worker?" not in staff
    # One fieldset, legend "Questions", with the themes as sub-headings inside it.
    assert staff.count("<fieldset") == 1
    legend = re.search(r"<legend[^>]*>(.*?)</legend>", staff, re.S)
    assert legend and re.sub(r"<[^>]+>|\s", "", legend.group(1)) == "Questions"
    themes = re.findall(r'<h3 class="govuk-heading-s[^"]*">\s*([^<]+?)\s*<', staff)
    assert themes == ["Staff morale", "Workload", "Anything else"]
    fieldset = staff.split("<fieldset", 1)[1].split("</fieldset>", 1)[0]
    assert fieldset.count("<h3") == 3 and all(t in fieldset for t in themes)
    # The first question's box has the id the error summary links to.
    first = re.search(r'<input class="govuk-checkboxes__input" id="questions" [^>]*>', staff)
    assert first and 'value="happy_at_work"' in first.group(0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Enter a title for the survey"),
        ({"title": "x" * 201}, "title", "200 characters or fewer"),
        ({"round_label": ""}, "round_label", "Enter the round"),
        ({"period": "2025-13"}, "period", "Enter the period as a year (2025)"),
        ({"period": "2025-Q5"}, "period", "Enter the period as a year (2025)"),
        ({"period": "Spring"}, "period", "Enter the period as a year (2025)"),
        ({"questions": []}, "questions", "Choose at least one question"),
        ({"questions": ["feel_safe", "happy_at_work"]}, "questions", "happy_at_work is not"),
    ],
)
def test_a_bad_survey_stores_nothing(client, people, sessions, changes, field, message) -> None:
    sign_in(client, "barnet")
    refused = post_survey(client, **changes)
    assert refused.status_code == 400
    assert "There is a problem" in refused.text and f'href="#{field}"' in refused.text
    assert f'id="{field}-error"' in refused.text and message in refused.text
    assert f'id="{field}"' in refused.text  # the link goes somewhere
    if field == "questions":
        # The form group round the questions' fieldset shows the error.
        assert re.search(r'govuk-form-group--error">\s*<fieldset', refused.text)
        assert 'aria-describedby="questions-hint questions-error"' in refused.text
    kept = {k: v for k, v in GOOD.items() if k in ("title", "round_label", "period")}
    for name, value in kept.items():
        if name not in changes:
            assert f'value="{value}"' in refused.text  # what was typed is kept
    if "questions" not in changes:
        assert (
            len(re.findall(r'name="questions" type="checkbox" value="[^"]+" checked', refused.text))
            == 3
        )
    assert count(sessions, Survey) == 0 and count(sessions, SurveyQuestion) == 0
    assert audited(sessions, "create survey") == []


def test_codes_from_the_page_answer_once(client, people, sessions) -> None:
    survey_id = barnet_survey(client)
    with sessions() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None and survey.status == "open"
        assert [q.question_id for q in survey.questions] == GOOD["questions"]
        owner = session.get(Organisation, survey.organisation_id)
        assert owner is not None and owner.la_code == BARNET
    assert [e.target for e in audited(sessions, "create survey")] == [f"survey:{survey_id}"]
    page = client.get(f"/voice/surveys/{survey_id}")
    assert page.status_code == 200 and f'action="/voice/surveys/{survey_id}/codes"' in page.text
    assert f'href="/voice/surveys/{survey_id}/close"' in page.text

    for group, number, field in [
        ("Parents", "0", "count"),
        ("Parents", "501", "count"),
        ("Parents", "three", "count"),
        ("Parents", "", "count"),
        ("", "3", "group"),
    ]:
        refused = issue(client, survey_id, group, number)
        assert refused.status_code == 400 and f'href="#{field}"' in refused.text
        assert count(sessions, RespondentGroup) == 0 and count(sessions, AccessCode) == 0
    assert "between 1 and 500" in issue(client, survey_id, "Parents", "501").text

    shown = issue(client, survey_id, "Parents' group", "3")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert "will not be shown again" in shown.text
    listed = shown.text.split('id="codes"', 1)[1].split("</ol>", 1)[0]
    codes = CODE.findall(listed)
    assert len(codes) == 3 and len(set(codes)) == 3
    # Stored only as SHA-256 of the letters without dashes, worked out here by hand.
    with sessions() as session:
        stored = set(session.scalars(select(AccessCode.code_hash)))
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    events = audited(sessions, "issue survey codes")
    assert len(events) == 1 and json.loads(events[0].detail) == {
        "count": 3,
        "group": "Parents' group",
    }
    # Never shown again: not on the survey's page, not on the codes form.
    for later in (f"/voice/surveys/{survey_id}", f"/voice/surveys/{survey_id}/codes"):
        again = client.get(later)
        assert again.status_code == 200 and not set(CODE.findall(again.text)) & set(codes)

    start = client.get("/voice/answer")
    token = csrf(start.text)
    questions = client.post("/voice/answer", data={"code": codes[1], "csrf_token": token})
    assert questions.status_code == 200 and "Do you feel safe where you live?" in questions.text
    sent = client.post(
        "/voice/answer/send",
        data={"code": codes[1], "csrf_token": token, "question-1": "Yes"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and count(sessions, SurveyResponse) == 1
    again = client.post(
        "/voice/answer/send", data={"code": codes[1], "csrf_token": token, "question-1": "No"}
    )
    assert again.status_code == 400 and "already been used" in again.text
    assert count(sessions, SurveyResponse) == 1


def test_only_the_council_and_administrators_run_its_survey(client, people, sessions) -> None:
    survey_id = barnet_survey(client)
    sign_in(client, "leeds")
    token = csrf(client.get("/voice/surveys/new?audience=staff").text)
    assert client.get(f"/voice/surveys/{survey_id}").status_code == 403
    assert client.get(f"/voice/surveys/{survey_id}/codes").status_code == 403
    assert client.get(f"/voice/surveys/{survey_id}/close").status_code == 403
    posted = {"group": "Leeds", "count": "2", "csrf_token": token}
    assert client.post(f"/voice/surveys/{survey_id}/codes", data=posted).status_code == 403
    closing = client.post(f"/voice/surveys/{survey_id}/close", data={"csrf_token": token})
    assert closing.status_code == 403
    body = {"group": "Leeds", "count": 2}
    assert client.post(f"/api/voice/surveys/{survey_id}/codes", json=body).status_code == 403
    assert client.post(f"/api/voice/surveys/{survey_id}/close").status_code == 403
    assert count(sessions, AccessCode) == 0
    with sessions() as session:
        assert session.get(Survey, survey_id).status == "open"  # type: ignore[union-attr]
    assert audited(sessions, "close survey") == []

    sign_in(client, "admin")  # an administrator of no council
    assert client.get("/voice/surveys/new").status_code == 403
    made = client.post(f"/api/voice/surveys/{survey_id}/codes", json={"group": "Admin", "count": 2})
    assert made.status_code == 201 and len(made.json()["codes"]) == 2
    assert count(sessions, AccessCode) == 2
    closed = client.post(f"/api/voice/surveys/{survey_id}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    # Closing it again changes nothing: the survey as it is, published once.
    again = client.post(f"/api/voice/surveys/{survey_id}/close")
    assert again.status_code == 200
    assert again.json()["id"] == survey_id and again.json()["status"] == "closed"
    assert len(audited(sessions, "close survey")) == 1


def test_closing_publishes_the_results(client, people, sessions) -> None:
    sign_in(client, "barnet")
    bad = client.post("/api/voice/surveys", json={**GOOD, "period": "2025-Q5"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["period"]
    assert client.post("/api/voice/surveys", json={"title": "No audience"}).status_code == 422
    assert count(sessions, Survey) == 0
    made = client.post("/api/voice/surveys", json=GOOD)
    assert made.status_code == 201
    survey_id = made.json()["id"]
    assert made.json()["url"] == f"/voice/surveys/{survey_id}"
    issued = client.post(
        f"/api/voice/surveys/{survey_id}/codes", json={"group": "All", "count": 14}
    )
    assert issued.status_code == 201
    codes = issued.json()["codes"]
    assert len(codes) == 14
    # 8 families say Yes to feeling safe, 6 say No: 8 / 14 = 57.14...%, 57.1 to one place.
    for code, choice in zip(codes, ["Yes"] * 8 + ["No"] * 6, strict=True):
        with transaction(sessions) as session:
            surveys.answer(session, code, {"question-1": choice}, on=date(2025, 3, 20))

    confirm = client.get(f"/voice/surveys/{survey_id}/close")
    assert confirm.status_code == 200 and "Close this survey?" in confirm.text
    closed = client.post(
        f"/voice/surveys/{survey_id}/close",
        data={"csrf_token": csrf(confirm.text)},
        follow_redirects=False,
    )
    assert closed.status_code == 303 and closed.headers["location"] == f"/voice/surveys/{survey_id}"
    with sessions() as session:
        series = results.indicator_series(session, BARNET, "voice_families_feel_safe")
        value = session.scalar(
            select(ComputedValue).where(ComputedValue.indicator_id == "voice_families_feel_safe")
        )
        assert session.get(Survey, survey_id).status == "closed"  # type: ignore[union-attr]
    assert series == [SeriesPoint("2025-Q1", 57.1, "value")]
    assert value is not None and (value.numerator, value.denominator) == (8, 14)
    # Two questions have good answers to publish; the comment box has none.
    events = audited(sessions, "close survey")
    assert len(events) == 1 and json.loads(events[0].detail) == {"indicator_values": 2}

    page = client.get(f"/voice/surveys/{survey_id}")
    assert "This survey is closed" in page.text and 'name="count"' not in page.text
    late = issue(client, survey_id, "Late", "2")
    assert late.status_code == 409 and "has closed" in late.text
    late_json = client.post(
        f"/api/voice/surveys/{survey_id}/codes", json={"group": "x", "count": 1}
    )
    assert late_json.status_code == 409
    assert count(sessions, AccessCode) == 14
    token = csrf(client.get("/voice/panels/new").text)
    # The close form sent again (a second click, the back button) goes to the survey page.
    again = client.post(
        f"/voice/surveys/{survey_id}/close", data={"csrf_token": token}, follow_redirects=False
    )
    assert again.status_code == 303 and again.headers["location"] == f"/voice/surveys/{survey_id}"
    assert client.get(again.headers["location"]).status_code == 200
    assert len(audited(sessions, "close survey")) == 1
    with sessions() as session:
        published = session.scalar(
            select(func.count())
            .select_from(ComputedValue)
            .where(ComputedValue.indicator_id == "voice_families_feel_safe")
        )
    assert published == 1


def test_create_a_panel(client, people, sessions) -> None:
    sign_in(client, "barnet")
    listed = client.get("/voice/panels")
    assert 'href="/voice/panels/new"' in listed.text and "Create a panel" in listed.text
    form = client.get("/voice/panels/new")
    assert form.status_code == 200 and "Barnet Council" in form.text
    token = csrf(form.text)
    for data, field in [
        ({"name": "", "audience": "families"}, "name"),
        ({"name": "x" * 201, "audience": "families"}, "name"),
        ({"name": "Staff forum", "audience": "staff"}, "audience"),
        ({"name": "Staff forum"}, "audience"),
    ]:
        refused = client.post("/voice/panels/new", data={**data, "csrf_token": token})
        assert refused.status_code == 400 and f'href="#{field}"' in refused.text
        assert count(sessions, Panel) == 0
    assert 'value="Staff forum"' in refused.text
    made = client.post(
        "/voice/panels/new",
        data={"name": "Care leavers' forum", "audience": "care leavers", "csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code == 303
    panel_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert client.get(made.headers["location"]).status_code == 200
    bad = client.post("/api/voice/panels", json={"name": "", "audience": "staff"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["name", "audience"]
    twin = client.post("/api/voice/panels", json={"name": "Parents' panel", "audience": "families"})
    assert twin.status_code == 201 and twin.json()["url"] == f"/voice/panels/{twin.json()['id']}"
    with sessions() as session:
        found = {
            p.id: (p.name, p.audience, p.organisation_id) for p in session.scalars(select(Panel))
        }
        barnet = session.scalar(select(Organisation).where(Organisation.la_code == BARNET))
    assert barnet is not None
    assert found == {
        panel_id: ("Care leavers' forum", "care leavers", barnet.id),
        twin.json()["id"]: ("Parents' panel", "families", barnet.id),
    }
    assert len(audited(sessions, "create panel")) == 2
    sign_in(client, "leeds")
    assert client.get(f"/voice/panels/{panel_id}").status_code == 403
