"""A survey's results, with disclosure control, and their place among the indicators.

The rule (docs/voice.md): a survey of children in care or care leavers shows nothing until
at least 10 have answered (5 for families and staff), and a question nothing until that
many answered it. Then the DfE's rules of `core.disclosure` apply: counts from 1 to 5 are
suppressed ("c"), and so is the next smallest count of the same question when only one
would be, so it cannot be worked out by subtraction; percentages need at least 11 answers
("low"). Free-text answers are never shown in results or exports. Each question's share of
good answers ("% of children in care who say they trust their social worker") is written
to `outcomes` as an indicator value with source "survey".
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whatworks.core.disclosure import SUPPRESS_UP_TO, Controlled, control_percentage
from whatworks.core.models import Organisation
from whatworks.outcomes.models import ComputedValue
from whatworks.outcomes.series import SeriesPoint, format_value
from whatworks.voice import bank
from whatworks.voice.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from whatworks.voice.surveys import answers_of, positive_of

SOURCE = "survey"
#: Fewest respondents (to the survey, and to each question) before anything is shown.
MIN_RESPONDENTS = {"children in care": 10, "care leavers": 10, "families": 5, "staff": 5}
RULE = (
    "Nothing is shown for a survey or a question until at least {minimum} have answered. "
    "Counts from 1 to 5 are shown as c (suppressed), and so is the next smallest count of "
    "the same question when only one would be. Percentages need at least 11 answers "
    "(low). Comments are never shown in results or exports."
)


def minimum(audience: str) -> int:
    """The fewest respondents an audience's results need."""
    return MIN_RESPONDENTS.get(audience, 10)


def rule(survey: Survey) -> str:
    """The suppression rule, in words, for the survey's audience."""
    return RULE.format(minimum=minimum(survey.audience))


def indicator_id(audience: str, question_id: str) -> str:
    """The indicator a question's good answers make: voice_children_in_care_feel_safe."""
    return f"voice_{audience.replace(' ', '_')}_{question_id}"


def indicator_title(audience: str, question: SurveyQuestion) -> str:
    """The indicator's title: "% of children in care who say they feel safe where they live"."""
    try:
        phrase = bank.question(question.question_id).indicator
    except Exception:  # a question since removed from the bank
        phrase = f"gave a good answer to: {question.text}"
    return f"% of {audience} who {phrase}"


@dataclass(frozen=True)
class Cell:
    """One answer's count and percentage after disclosure control."""

    answer: str
    count: int | None
    count_status: str
    percent: float | None
    percent_status: str


@dataclass(frozen=True)
class QuestionResult:
    """A question's results: how many answered, each answer, and the share of good ones."""

    position: int
    question_id: str
    theme: str
    text: str
    kind: str
    answered: int | None
    answered_status: str
    cells: list[Cell]
    indicator_id: str | None
    indicator_title: str | None
    positive: float | None
    positive_status: str
    good: int | None = None  # how many gave a good answer, when the share is shown
    previous: float | None = None
    previous_status: str | None = None
    change: float | None = None


@dataclass(frozen=True)
class SurveyResults:
    """Every question's results for one survey round."""

    survey_id: int
    title: str
    organisation: str
    audience: str
    round_label: str
    period: str
    status: str
    is_demo: bool
    respondents: int | None
    respondents_status: str
    minimum: int
    rule: str
    previous_round: str | None
    questions: list[QuestionResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tallies(session: Session, survey: Survey) -> tuple[int, dict[int, Counter[str]]]:
    respondents = session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
    )
    tallies: dict[int, Counter[str]] = {q.id: Counter() for q in survey.questions}
    rows = session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.answer, func.count())
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyQuestion.survey_id == survey.id, SurveyQuestion.kind == "scale")
        .group_by(SurveyAnswer.question_id, SurveyAnswer.answer)
    )
    for question_id, answer, count in rows:
        tallies[question_id][answer] = count
    comments = session.execute(
        select(SurveyAnswer.question_id, func.count())
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyQuestion.survey_id == survey.id, SurveyQuestion.kind == "text")
        .group_by(SurveyAnswer.question_id)
    )
    for question_id, count in comments:
        tallies[question_id]["comments"] = count
    return int(respondents or 0), tallies


def _suppressed(counts: dict[str, int]) -> set[str]:
    """Answers whose counts are withheld: 1 to 5, and the next smallest when only one is."""
    primary = {a for a, n in counts.items() if 0 < n <= SUPPRESS_UP_TO}
    if len(primary) == 1:
        others = sorted((n, a) for a, n in counts.items() if n > 0 and a not in primary)
        if others:
            primary.add(others[0][1])
    return primary


def _positive(good: int, base: int) -> Controlled:
    """The share of good answers; withheld when the good or the other answers are 1 to 5."""
    if 0 < base - good <= SUPPRESS_UP_TO:
        return Controlled(None, "c")
    return control_percentage(good, base)


def _share_reveals(hidden: set[str], good_answers: set[str]) -> bool:
    """Whether the share of good answers would give a withheld count away. The withheld
    counts' sum is known from the number who answered; the share splits it between good and
    other answers, so it is withheld unless every withheld answer is on the same side."""
    return bool(hidden & good_answers) and bool(hidden - good_answers)


def _question(
    question: SurveyQuestion, tally: Counter[str], least: int, audience: str, withheld: bool
) -> QuestionResult:
    is_scale = question.kind == "scale"
    base = sum(tally.values())
    has_indicator = is_scale and bool(positive_of(question))
    ident = indicator_id(audience, question.question_id) if has_indicator else None
    title = indicator_title(audience, question) if has_indicator else None
    if withheld or base < least:
        status = "z" if base == 0 and not withheld else "low"
        cells = [Cell(a, None, status, None, status) for a in answers_of(question)]
        return QuestionResult(
            question.position, question.question_id, question.theme, question.text,
            question.kind, None, status, cells if is_scale else [], ident, title, None, status,
        )  # fmt: skip
    counts = {a: tally.get(a, 0) for a in answers_of(question)}
    hidden = _suppressed(counts)
    cells = []
    for answer, count in counts.items():
        if answer in hidden:
            cells.append(Cell(answer, None, "c", None, "c"))
            continue
        share = control_percentage(count, base)
        cells.append(Cell(answer, count, "value", share.value, share.status))
    good_answers = set(positive_of(question))
    good = sum(counts.get(a, 0) for a in good_answers)
    share = _positive(good, base) if has_indicator else Controlled(None, "z")
    if share.status == "value" and _share_reveals(hidden, good_answers):
        share = Controlled(None, "c")
    return QuestionResult(
        question.position, question.question_id, question.theme, question.text,
        question.kind, base, "value", cells, ident, title, share.value, share.status,
        good if share.status == "value" else None,
    )  # fmt: skip


def _previous_survey(session: Session, survey: Survey) -> Survey | None:
    return session.scalar(
        select(Survey)
        .where(
            Survey.organisation_id == survey.organisation_id,
            Survey.audience == survey.audience,
            Survey.period < survey.period,
        )
        .order_by(Survey.period.desc(), Survey.id.desc())
        .limit(1)
    )


def survey_results(session: Session, survey: Survey, compare: bool = True) -> SurveyResults:
    """The survey's results with disclosure control, beside the previous round's."""
    least = minimum(survey.audience)
    respondents, tallies = _tallies(session, survey)
    if survey.status == "open":
        # Results that moved with each answer would show what the last person said to
        # whoever gave out one code and looked again: nothing is shown until it closes.
        return _not_yet(session, survey, least)
    withheld = respondents < least
    questions = [
        _question(q, Counter() if withheld else tallies[q.id], least, survey.audience, withheld)
        for q in survey.questions
    ]
    previous = _previous_survey(session, survey) if compare else None
    if previous is not None:
        before = {
            q.question_id: q for q in survey_results(session, previous, compare=False).questions
        }
        questions = [_compared(q, before.get(q.question_id)) for q in questions]
    organisation = session.get(Organisation, survey.organisation_id)
    return SurveyResults(
        survey.id, survey.title, organisation.name if organisation else "", survey.audience,
        survey.round_label, survey.period, survey.status, survey.is_demo,
        None if withheld else respondents, "low" if withheld else "value", least,
        rule(survey), previous.round_label if previous else None, questions,
    )  # fmt: skip


def _not_yet(session: Session, survey: Survey, least: int) -> SurveyResults:
    """An open survey's results: every figure "x" (not available until it closes)."""
    questions = []
    for q in survey.questions:
        has_indicator = q.kind == "scale" and bool(positive_of(q))
        cells = [Cell(a, None, "x", None, "x") for a in answers_of(q)] if q.kind == "scale" else []
        questions.append(
            QuestionResult(
                q.position,
                q.question_id,
                q.theme,
                q.text,
                q.kind,
                None,
                "x",
                cells,
                indicator_id(survey.audience, q.question_id) if has_indicator else None,
                indicator_title(survey.audience, q) if has_indicator else None,
                None,
                "x",
            )
        )
    organisation = session.get(Organisation, survey.organisation_id)
    return SurveyResults(
        survey.id, survey.title, organisation.name if organisation else "", survey.audience,
        survey.round_label, survey.period, survey.status, survey.is_demo, None, "x", least,
        rule(survey), None, questions,
    )  # fmt: skip


def _compared(now: QuestionResult, before: QuestionResult | None) -> QuestionResult:
    if before is None or now.indicator_id is None:
        return now
    change = (
        round(now.positive - before.positive, 1)
        if now.positive is not None and before.positive is not None
        else None
    )
    return QuestionResult(
        **{
            **asdict(now),
            "cells": now.cells,
            "previous": before.positive,
            "previous_status": before.positive_status,
            "change": change,
        }
    )


def shown(value: float | None, status: str | None) -> str:
    """A percentage as people read it, or what stands in its place."""
    if status is None:
        return ""
    return format_value(value, status, "%")


def csv_rows(found: SurveyResults) -> list[dict[str, Any]]:
    """One row per answer of each scale question, with disclosure control already applied:
    a withheld cell holds its symbol (c, low, z) as the DfE's open data files do."""
    rows = []
    for q in found.questions:
        if q.kind != "scale":
            continue
        for cell in q.cells:
            rows.append(
                {
                    "survey_id": found.survey_id,
                    "round": found.round_label,
                    "period": found.period,
                    "audience": found.audience,
                    "question_id": q.question_id,
                    "question": q.text,
                    "answered": q.answered if q.answered is not None else q.answered_status,
                    "answer": cell.answer,
                    "count": cell.count if cell.count is not None else cell.count_status,
                    "percent": cell.percent if cell.percent is not None else cell.percent_status,
                    "indicator_id": q.indicator_id or "",
                    "percent_good": q.positive if q.positive is not None else q.positive_status,
                }
            )
    return rows


CSV_COLUMNS = (
    "survey_id", "round", "period", "audience", "question_id", "question", "answered",
    "answer", "count", "percent", "indicator_id", "percent_good",
)  # fmt: skip


def publish(session: Session, survey: Survey) -> int:
    """Write each question's share of good answers to `outcomes` as the council's indicator
    value for the survey's period, with source "survey"; numbers behind a withheld share
    are not stored. Returns how many values were written (0 if the council has no LA code)."""
    organisation = session.get(Organisation, survey.organisation_id)
    if organisation is None or not organisation.la_code:
        return 0
    found = survey_results(session, survey, compare=False)
    origin = json.dumps(
        {
            "source": SOURCE,
            "survey_id": survey.id,
            "survey": survey.title,
            "round": survey.round_label,
            "audience": survey.audience,
            "respondents": found.respondents,
            "rule": found.rule,
            "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        sort_keys=True,
    )
    written = 0
    for q in found.questions:
        if q.indicator_id is None:
            continue
        row = session.scalar(
            select(ComputedValue).where(
                ComputedValue.la_code == organisation.la_code,
                ComputedValue.indicator_id == q.indicator_id,
                ComputedValue.period == survey.period,
            )
        )
        if row is None:
            row = ComputedValue(
                la_code=organisation.la_code, indicator_id=q.indicator_id, period=survey.period
            )
            session.add(row)
        shown_value = q.positive_status == "value"
        row.value, row.status = q.positive, q.positive_status
        row.numerator = q.good if shown_value else None
        row.denominator = q.answered if shown_value else None
        row.source = SOURCE
        row.provenance = origin
        row.computed_at = datetime.now(UTC).replace(tzinfo=None)
        written += 1
    session.flush()
    return written


def indicator_series(session: Session, la_code: str, ident: str) -> list[SeriesPoint]:
    """A survey indicator's values for a council, one per round, oldest first."""
    rows = session.scalars(
        select(ComputedValue)
        .where(
            ComputedValue.la_code == la_code,
            ComputedValue.indicator_id == ident,
            ComputedValue.source == SOURCE,
        )
        .order_by(ComputedValue.period)
    )
    return [SeriesPoint(r.period, r.value, r.status) for r in rows]
