"""Results with disclosure control, worked out by hand for small groups: nothing shown for
fewer than 10 children, counts of 1 to 5 and their complements suppressed, no respondent
identifiable from the page's JSON or the CSV; results become indicator values."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import User
from whatworks.outcomes.models import ComputedValue
from whatworks.voice import demo, results, surveys
from whatworks.voice.models import Survey, SurveyAnswer

PASSWORD = "a long test password"
QUESTIONS = ("trust_social_worker", "anything_else")


def make(sessions, period: str, answers: list[str], comment: str = "") -> int:
    """A closed children in care survey of Barnet where each answer is one child's."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        user = session.scalar(select(User).where(User.username == "barnet")) or create_user(
            session, "barnet", PASSWORD, "member", organisation=barnet
        )
        chosen = surveys.NewSurvey("Your care", "children in care", period, period, QUESTIONS)
        survey = surveys.create_survey(session, user, barnet, chosen)
        codes = surveys.issue_codes(session, user, survey, "Everyone", len(answers))
        for code, choice in zip(codes, answers, strict=True):
            posted = {"question-1": choice, "question-2": comment}
            surveys.answer(session, code, posted, on=date(2025, 4, 1))
        surveys.close(session, user, survey)
        return survey.id


def found(sessions, survey_id: int) -> results.SurveyResults:
    with sessions() as session:
        return results.survey_results(session, session.get(Survey, survey_id))


def test_fewer_than_ten_children_show_nothing(sessions) -> None:
    survey_id = make(sessions, "2025", ["Yes"] * 8 + ["No"], comment="I am Sam at Elm House")
    shown = found(sessions, survey_id)
    assert shown.respondents is None and shown.respondents_status == "low"
    trust = shown.questions[0]
    assert trust.answered is None and trust.positive is None
    assert all(c.count is None and c.count_status == "low" for c in trust.cells)
    text = json.dumps(shown.as_dict()) + json.dumps(results.csv_rows(shown))
    assert "Sam" not in text and '"count": 8' not in text and '"count": 1' not in text
    assert "at least 10" in shown.rule
    with sessions() as session:
        value = session.scalar(select(ComputedValue))
        assert value is not None and value.value is None and value.numerator is None


def test_one_small_count_takes_the_next_smallest_with_it(sessions) -> None:
    # 12 children: 9 Yes, 3 No. "No" (3) is suppressed; alone it could be worked out as
    # 12 - 9, so "Yes" is suppressed too; 0s stay; the share saying Yes (75%) would
    # reveal the 3, so it is withheld.
    survey_id = make(sessions, "2025", ["Yes"] * 9 + ["No"] * 3)
    trust = found(sessions, survey_id).questions[0]
    assert trust.answered == 12
    by_answer = {c.answer: (c.count, c.count_status) for c in trust.cells}
    assert by_answer == {
        "Yes": (None, "c"), "No": (None, "c"), "Sometimes": (0, "value"),
        "I don't know": (0, "value"),
    }  # fmt: skip
    assert trust.positive is None and trust.positive_status == "c"


def test_large_enough_groups_show_counts_and_percentages(sessions) -> None:
    # 20 children: 12 Yes, 8 No: 60.0% and 40.0%, worked out by hand.
    before = make(sessions, "2024", ["Yes"] * 10 + ["No"] * 10)
    after = make(sessions, "2025", ["Yes"] * 12 + ["No"] * 8)
    shown = found(sessions, after)
    trust = shown.questions[0]
    cells = {c.answer: (c.count, c.percent) for c in trust.cells}
    assert cells["Yes"] == (12, 60.0) and cells["No"] == (8, 40.0)
    assert trust.positive == 60.0 and trust.previous == 50.0 and trust.change == 10.0
    assert shown.previous_round == "2024"
    assert trust.indicator_title == "% of children in care who say they trust their social worker"
    with sessions() as session:
        series = results.indicator_series(session, "E09000003", trust.indicator_id or "")
        assert [(p.period, p.value) for p in series] == [("2024", 50.0), ("2025", 60.0)]
        stored = session.scalar(
            select(ComputedValue).where(
                ComputedValue.period == "2025", ComputedValue.indicator_id == trust.indicator_id
            )
        )
        assert stored is not None and stored.source == "survey"
        assert (stored.numerator, stored.denominator) == (12, 20)
        assert json.loads(stored.provenance)["survey_id"] == after
    assert found(sessions, before).questions[0].previous is None


def test_comments_are_never_in_results_or_exports(sessions) -> None:
    survey_id = make(sessions, "2025", ["Yes"] * 20, comment="My name is Alex Example")
    shown = found(sessions, survey_id)
    assert "Alex" not in json.dumps(shown.as_dict()) + json.dumps(results.csv_rows(shown))


def test_demo_seed_is_labelled_and_runs_once(sessions) -> None:
    with transaction(sessions) as session:
        made = demo.seed_demo(session)
        again = demo.seed_demo(session)
    assert [s.id for s in made] == [s.id for s in again] and len(made) == 3
    assert all("(demo)" in s.title and s.is_demo for s in made)
    with sessions() as session:
        leavers = results.survey_results(session, session.get(Survey, made[2].id))
        assert leavers.respondents_status == "low"
        children = results.survey_results(session, session.get(Survey, made[1].id))
        assert children.respondents == 41 and children.previous_round == "Spring 2024 (demo)"


@pytest.mark.parametrize("audience", ["children in care", "care leavers"])
def test_children_need_ten(audience: str) -> None:
    assert results.MIN_RESPONDENTS[audience] == 10


def test_demo_staff_survey_has_two_rounds_shown_in_full(sessions) -> None:
    with transaction(sessions) as session:
        made = demo.seed_demo_staff(session)
        again = demo.seed_demo_staff(session)
    assert [s.id for s in made] == [s.id for s in again] and len(made) == 2
    with sessions() as session:
        latest = results.survey_results(session, session.get(Survey, made[1].id))
        assert latest.respondents == 66 and latest.previous_round == "Autumn 2024 (demo)"
        happy = next(q for q in latest.questions if q.question_id == "happy_at_work")
        # 66 staff answered, well above the threshold of 5 for staff: a percentage is shown.
        assert happy.answered == 66 and happy.positive_status == "value"
        # The share counted straight from the stored answers, rounded half up by hand.
        question = next(q for q in made[1].questions if q.question_id == "happy_at_work")
        agreed = session.scalar(
            select(func.count())
            .select_from(SurveyAnswer)
            .where(
                SurveyAnswer.question_id == question.id,
                SurveyAnswer.answer.in_(("Strongly agree", "Agree")),
            )
        )
        expected = Decimal(100 * agreed) / Decimal(66)
        assert Decimal(str(happy.positive)) == expected.quantize(Decimal("0.1"), ROUND_HALF_UP)


def test_the_share_of_good_answers_never_gives_a_withheld_count_away(sessions) -> None:
    # 20 children: 7 Yes, 3 Sometimes, 10 No. "Sometimes" (3) is suppressed and, alone, so
    # is the next smallest, "Yes" (7). The share saying Yes (35%) would give 7, and then
    # 20 - 10 - 7 = 3 Sometimes: withheld, on the page, in the JSON, the CSV and outcomes.
    survey_id = make(sessions, "2025", ["Yes"] * 7 + ["Sometimes"] * 3 + ["No"] * 10)
    shown = found(sessions, survey_id)
    trust = shown.questions[0]
    assert {c.answer: c.count_status for c in trust.cells}["Sometimes"] == "c"
    assert trust.positive is None and trust.positive_status == "c" and trust.good is None
    text = json.dumps(shown.as_dict()) + json.dumps(results.csv_rows(shown))
    assert "35" not in text and '"good": 7' not in text
    with sessions() as session:
        stored = session.scalar(select(ComputedValue))
        assert stored is not None and stored.value is None and stored.numerator is None


def test_the_share_is_shown_when_every_withheld_count_is_on_one_side(sessions) -> None:
    # 20 children: 12 Yes, 6 Sometimes, 2 No. "No" (2) and the next smallest, "Sometimes"
    # (6), are withheld; both are other than Yes, whose 12 is shown, so the share (60.0%)
    # tells nothing new: 20 - 12 = 8 for the two was known already.
    survey_id = make(sessions, "2025", ["Yes"] * 12 + ["Sometimes"] * 6 + ["No"] * 2)
    trust = found(sessions, survey_id).questions[0]
    statuses = {c.answer: c.count_status for c in trust.cells}
    assert statuses["No"] == "c" and statuses["Sometimes"] == "c" and statuses["Yes"] == "value"
    assert trust.positive == 60.0 and trust.positive_status == "value"


def test_an_open_survey_shows_no_figures(sessions) -> None:
    # Results that moved with each answer would show what the last person said.
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        user = create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        chosen = surveys.NewSurvey("Your care", "children in care", "2025", "2025", QUESTIONS)
        survey = surveys.create_survey(session, user, barnet, chosen)
        for code in surveys.issue_codes(session, user, survey, "Everyone", 12):
            surveys.answer(session, code, {"question-1": "Yes"}, on=date(2025, 4, 1))
        survey_id = survey.id
    shown = found(sessions, survey_id)
    assert shown.respondents is None and shown.respondents_status == "x"
    trust = shown.questions[0]
    assert trust.answered is None and trust.positive is None
    assert all(c.count is None and c.count_status == "x" for c in trust.cells)
    assert "12" not in json.dumps(shown.as_dict()) + json.dumps(results.csv_rows(shown))
    with transaction(sessions) as session:
        surveys.close(session, session.scalar(select(User)), session.get(Survey, survey_id))
    closed = found(sessions, survey_id)
    assert closed.respondents == 12 and closed.questions[0].positive == 100.0
