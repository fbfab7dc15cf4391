"""Surveys: create one from the question bank, issue one-time codes to respondent groups,
and take answers anonymously, all or nothing.

A code is kept only as its SHA-256 hash and answers once: the same transaction that stores
the answers marks it used, and a second use is refused. Nothing about the person is kept:
no user, no address, no time finer than the date, no link from the answers to the code.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.auth import has_role
from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.voice import bank
from whatworks.voice.models import (
    AccessCode,
    RespondentGroup,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)

#: Code letters: no 0/O or 1/I, so a code read aloud or copied by hand stays right.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
MAX_CODES = 500
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")


class CodeRefused(WhatworksError):
    """A survey code that is not one we issued, has been used, or whose survey has closed."""


class AnswersRefused(WhatworksError):
    """Answers that could not be stored; nothing was. Carries (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


def field(question: SurveyQuestion) -> str:
    """The form field of a survey's question."""
    return f"question-{question.position}"


def answers_of(question: SurveyQuestion) -> list[str]:
    """The answers a scale question allows, in order."""
    found: list[str] = json.loads(question.answers)
    return found


def positive_of(question: SurveyQuestion) -> list[str]:
    """The answers that count as good for the question's indicator."""
    found: list[str] = json.loads(question.positive)
    return found


def hash_code(code: str) -> str:
    """The stored form of a code: SHA-256 of its normalised letters."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def normalise_code(text: str) -> str | None:
    """A typed code in upper case without spaces or dashes, or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", text or "").upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def shown_code(code: str) -> str:
    """A code as it is printed for people: ABCD-EFGH-JKLM."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def may_see(user: User | None, survey: Survey) -> bool:
    """Members of the survey's organisation, and administrators, see its results."""
    if user is None:
        return False
    return has_role(user, "admin") or user.organisation_id == survey.organisation_id


def viewable(session: Session, user: User | None, survey_id: int) -> Survey:
    """The survey, if the user may see it."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"There is no survey {survey_id}. Check the address.")
    if not may_see(user, survey):
        raise PermissionDenied(
            "Only members of the council that runs this survey can see its results."
        )
    return survey


def list_surveys(session: Session, user: User | None) -> list[Survey]:
    """The surveys the user may see, newest period first."""
    if user is None:
        return []
    query = select(Survey).order_by(Survey.period.desc(), Survey.id.desc())
    if not has_role(user, "admin"):
        query = query.where(Survey.organisation_id == user.organisation_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class NewSurvey:
    """What a council chooses for a survey."""

    title: str
    audience: str
    round_label: str
    period: str
    question_ids: tuple[str, ...]

    def problems(self) -> list[str]:
        found = []
        if not self.title.strip() or len(self.title) > 200:
            found.append("Give the survey a title of up to 200 characters.")
        if self.audience not in bank.AUDIENCES:
            found.append(f"Choose the audience: one of {', '.join(bank.AUDIENCES)}.")
        if not self.round_label.strip() or len(self.round_label) > 80:
            found.append("Name the round (for example, Spring 2025) in up to 80 characters.")
        if not PERIOD.match(self.period):
            found.append(
                "Give the period as a year (2025), a month (2025-03) or a quarter (2025-Q1)."
            )
        if not self.question_ids:
            found.append("Choose at least one question from the bank.")
        if len(set(self.question_ids)) != len(self.question_ids):
            found.append("Choose each question once.")
        for question_id in self.question_ids:
            try:
                item = bank.question(question_id)
            except NotFound as error:
                found.append(str(error))
                continue
            if self.audience in bank.AUDIENCES and self.audience not in item.audiences:
                found.append(f"The question {question_id!r} is not for {self.audience}.")
        return found


def create_survey(
    session: Session,
    user: User,
    organisation: Organisation,
    chosen: NewSurvey,
    is_demo: bool = False,
) -> Survey:
    """A new open survey of the organisation with the chosen questions from the bank."""
    if not (has_role(user, "admin") or user.organisation_id == organisation.id):
        raise PermissionDenied("Only members of a council can create its surveys.")
    problems = chosen.problems()
    if problems:
        raise WhatworksError("The survey was not created: " + " ".join(problems))
    survey = Survey(
        organisation_id=organisation.id,
        title=chosen.title.strip(),
        audience=chosen.audience,
        round_label=chosen.round_label.strip(),
        period=chosen.period,
        status="open",
        is_demo=is_demo,
        created_by=user.username,
    )
    session.add(survey)
    session.flush()
    for position, question_id in enumerate(chosen.question_ids, 1):
        item = bank.question(question_id)
        session.add(
            SurveyQuestion(
                survey_id=survey.id,
                position=position,
                question_id=item.id,
                theme=item.theme,
                text=item.text,
                kind=item.kind,
                answers=json.dumps(list(item.answers)),
                positive=json.dumps(list(item.positive)),
            )
        )
    session.flush()
    session.refresh(survey)
    audit.record(
        session, audit.Actor.of(user), "create survey", f"survey:{survey.id}", "voice",
        audience=survey.audience, round=survey.round_label,
    )  # fmt: skip
    return survey


def issue_codes(
    session: Session, user: User, survey: Survey, group_name: str, count: int
) -> list[str]:
    """`count` new one-time codes for a respondent group. They are returned once, to be
    printed or sent; only their hashes are kept."""
    if not may_see(user, survey):
        raise PermissionDenied("Only members of the council that runs this survey can issue codes.")
    if survey.status != "open":
        raise WhatworksError("This survey has closed; codes cannot be issued for it.")
    name = group_name.strip()
    if not name or len(name) > 200:
        raise WhatworksError("Name the respondent group in up to 200 characters.")
    if not 1 <= count <= MAX_CODES:
        raise WhatworksError(f"Issue between 1 and {MAX_CODES} codes at a time.")
    group = RespondentGroup(survey_id=survey.id, name=name, created_by=user.username)
    session.add(group)
    session.flush()
    codes = [
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(count)
    ]
    session.add_all(AccessCode(group_id=group.id, code_hash=hash_code(c)) for c in codes)
    session.flush()
    audit.record(
        session, audit.Actor.of(user), "issue survey codes", f"survey:{survey.id}", "voice",
        group=name, count=count,
    )  # fmt: skip
    return codes


def _code_and_survey(session: Session, text: str) -> tuple[AccessCode, Survey]:
    code = normalise_code(text)
    if code is None:
        raise CodeRefused(
            f"Enter your survey code: {CODE_LENGTH} letters and numbers, like ABCD-EFGH-JKLM."
        )
    found = session.execute(
        select(AccessCode, Survey)
        .join(RespondentGroup, RespondentGroup.id == AccessCode.group_id)
        .join(Survey, Survey.id == RespondentGroup.survey_id)
        .where(AccessCode.code_hash == hash_code(code))
    ).first()
    if found is None:
        raise CodeRefused(
            "We do not recognise that code. Check it against the one you were given and "
            "try again, or ask the person who gave it to you for a new one."
        )
    access, survey = found[0], found[1]
    if access.used:
        raise CodeRefused(
            "That code has already been used to answer the survey. Each code can be used "
            "once. Ask the person who gave it to you if you need a new one."
        )
    if survey.status != "open":
        raise CodeRefused("This survey has closed, so it cannot be answered any more. Thank you.")
    return access, survey


def survey_for_code(session: Session, text: str) -> Survey:
    """The open survey an unused code answers; CodeRefused otherwise."""
    return _code_and_survey(session, text)[1]


def check_answers(survey: Survey, posted: Mapping[str, str]) -> dict[int, str]:
    """The answers by question id, if every one is for a question of the survey and
    allowed; AnswersRefused (naming each problem) otherwise."""
    by_field = {field(q): q for q in survey.questions}
    problems: list[tuple[str, str]] = []
    found: dict[int, str] = {}
    for name, value in posted.items():
        question = by_field.get(name)
        if question is None:
            problems.append(
                ("questions", "The answers were for questions this survey does not ask.")
            )
            continue
        text = (value or "").strip()
        if not text:
            continue
        if question.kind == "text":
            if len(text) > bank.MAX_TEXT:
                problems.append(
                    (
                        name,
                        f"Your answer must be {bank.MAX_TEXT:,} characters or fewer; "
                        f"it has {len(text):,}.",
                    )
                )
                continue
        elif text not in answers_of(question):
            problems.append((f"{name}-1", f"Choose one of the answers to: {question.text}"))
            continue
        found[question.id] = text
    if not problems and not found:
        problems.append(("questions", "Answer at least one question, then send your answers."))
    if problems:
        raise AnswersRefused(problems)
    return found


def answer(
    session: Session, code_text: str, posted: Mapping[str, str], on: date | None = None
) -> Survey:
    """Store one person's answers and use up their code, together or not at all."""
    access, survey = _code_and_survey(session, code_text)
    found = check_answers(survey, posted)
    used = session.execute(
        update(AccessCode)
        .where(AccessCode.id == access.id, AccessCode.used.is_(False))
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise CodeRefused("That code has already been used to answer the survey.")
    # Take the survey's row for this transaction, so an answer and the closing that publishes
    # the results happen one after the other: an answer never lands after the publication.
    still_open = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.status == "open")
        .values(status="open")
        .execution_options(synchronize_session=False)
    )
    if still_open.rowcount != 1:  # type: ignore[attr-defined]
        raise CodeRefused("This survey has closed, so it cannot be answered any more. Thank you.")
    response = SurveyResponse(survey_id=survey.id, answered_on=on or date.today())
    session.add(response)
    session.flush()
    session.add_all(
        SurveyAnswer(response_id=response.id, question_id=q, answer=a) for q, a in found.items()
    )
    session.flush()
    return survey


def close(session: Session, user: User, survey: Survey) -> Survey:
    """Close the survey to answers; its results then become indicator values."""
    from whatworks.voice import results

    if not may_see(user, survey):
        raise PermissionDenied("Only members of the council that runs this survey can close it.")
    survey.status = "closed"
    session.flush()
    written = results.publish(session, survey)
    audit.record(
        session, audit.Actor.of(user), "close survey", f"survey:{survey.id}", "voice",
        indicator_values=written,
    )  # fmt: skip
    return survey
