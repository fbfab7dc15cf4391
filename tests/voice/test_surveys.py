"""Surveys on the real store: codes answer once, tampered codes and oversized or unknown
answers are refused with nothing stored, and a response holds nothing about the person."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, inspect, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.voice import surveys
from whatworks.voice.models import AccessCode, SurveyAnswer, SurveyResponse

PASSWORD = "a long test password"


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def survey(sessions) -> tuple[int, list[str]]:
    """A children in care survey of Barnet with three codes; returns its id and the codes."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        user = create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        chosen = surveys.NewSurvey(
            "Your life, your care", "children in care", "Spring 2025", "2025",
            ("trust_social_worker", "feel_safe", "anything_else"),
        )  # fmt: skip
        found = surveys.create_survey(session, user, barnet, chosen)
        return found.id, surveys.issue_codes(session, user, found, "Foster homes", 3)


def answer(sessions, code: str, posted: dict[str, str]) -> None:
    with transaction(sessions) as session:
        surveys.answer(session, code, posted, on=date(2025, 4, 1))


GOOD = {"question-1": "Yes", "question-2": "Sometimes", "question-3": "More visits please."}


def test_a_code_answers_once(sessions, survey) -> None:
    _, codes = survey
    answer(sessions, codes[0], GOOD)
    assert count(sessions, SurveyResponse) == 1 and count(sessions, SurveyAnswer) == 3
    with pytest.raises(surveys.CodeRefused, match="already been used"):
        answer(sessions, codes[0], GOOD)
    # typed in lower case with spaces, it is still the same used code
    with pytest.raises(surveys.CodeRefused, match="already been used"):
        answer(sessions, " " + surveys.shown_code(codes[0]).lower().replace("-", " "), GOOD)
    assert count(sessions, SurveyResponse) == 1 and count(sessions, SurveyAnswer) == 3


@pytest.mark.parametrize(
    "tampered",
    ["", "ABCD", "ABCD-EFGH-JKL0", "' OR 1=1 --", "ABCDEFGHJKLMN"],
)
def test_tampered_or_unknown_codes_are_refused(sessions, survey, tampered: str) -> None:
    with pytest.raises(surveys.CodeRefused):
        answer(sessions, tampered, GOOD)
    assert count(sessions, SurveyResponse) == 0


def test_a_changed_letter_is_an_unknown_code(sessions, survey) -> None:
    code = survey[1][0]
    changed = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(surveys.CodeRefused, match="do not recognise"):
        answer(sessions, changed, GOOD)
    assert count(sessions, SurveyResponse) == 0


@pytest.mark.parametrize(
    ("posted", "problem"),
    [
        ({**GOOD, "question-3": "x" * 1_001}, "1,000 characters or fewer"),
        ({**GOOD, "question-1": "Definitely"}, "Choose one of the answers"),
        ({**GOOD, "question-9": "Yes"}, "does not ask"),
        ({}, "Answer at least one question"),
    ],
)
def test_bad_answers_store_nothing_and_keep_the_code(sessions, survey, posted, problem) -> None:
    code = survey[1][0]
    with pytest.raises(surveys.AnswersRefused, match=problem):
        answer(sessions, code, posted)
    assert count(sessions, SurveyResponse) == 0 and count(sessions, SurveyAnswer) == 0
    with sessions() as session:
        assert not any(session.scalars(select(AccessCode.used)))
    answer(sessions, code, {**GOOD, "question-3": "x" * 1_000})  # the code still works
    assert count(sessions, SurveyResponse) == 1


def test_codes_are_stored_only_as_hashes(sessions, survey) -> None:
    _, codes = survey
    with sessions() as session:
        stored = set(session.scalars(select(AccessCode.code_hash)))
    assert stored == {surveys.hash_code(c) for c in codes}
    assert not set(codes) & stored


def test_a_response_holds_nothing_about_the_person(sessions) -> None:
    columns = {c.key for c in inspect(SurveyResponse).columns}
    assert columns == {"id", "survey_id", "answered_on"}
    assert {c.key for c in inspect(SurveyAnswer).columns} == {
        "id", "response_id", "question_id", "answer",
    }  # fmt: skip
    assert "used_at" not in {c.key for c in inspect(AccessCode).columns}


def test_a_closed_survey_refuses_answers(sessions, survey) -> None:
    survey_id, codes = survey
    with transaction(sessions) as session:
        user = session.scalar(select(User).where(User.username == "barnet"))
        surveys.close(session, user, session.get(surveys.Survey, survey_id))
    with pytest.raises(surveys.CodeRefused, match="closed"):
        answer(sessions, codes[0], GOOD)


def test_only_the_council_issues_codes_and_questions_suit_the_audience(sessions, survey) -> None:
    survey_id, _ = survey
    with transaction(sessions) as session:
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        other = create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        with pytest.raises(PermissionDenied):
            surveys.issue_codes(session, other, session.get(surveys.Survey, survey_id), "x", 2)
        chosen = surveys.NewSurvey("Staff", "staff", "2025", "2025", ("trust_social_worker",))
        with pytest.raises(WhatworksError, match="not for staff"):
            surveys.create_survey(session, other, leeds, chosen)
