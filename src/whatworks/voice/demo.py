"""A clearly labelled demo: Barnet Council (demo)'s survey of children in care in two
rounds, answered through the same code-and-answer path as real respondents, and a small
care leavers' survey whose results stay suppressed (too few answered)."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.auth import get_or_create_organisation
from whatworks.core.models import User
from whatworks.voice import surveys
from whatworks.voice.models import Survey

DEMO_ORGANISATION = "Barnet Council (demo)"
DEMO_LA = "E09000003"
CHILDREN = ("trust_social_worker", "feel_safe", "listened_to", "social_workers_this_year",
            "happy_with_life", "anything_else")  # fmt: skip
#: (title, audience, round, period, respondents, chance of each good answer)
ROUNDS = (
    ("Your life, your care (demo)", "children in care", "Spring 2024 (demo)", "2024", 34, 0.62),
    ("Your life, your care (demo)", "children in care", "Spring 2025 (demo)", "2025", 41, 0.71),
    ("Leaving care survey (demo)", "care leavers", "Spring 2025 (demo)", "2025", 6, 0.6),
)


def _answers(survey: Survey, chance: float, rng: random.Random) -> dict[str, str]:
    posted = {}
    for q in survey.questions:
        if q.kind == "text":
            if rng.random() < 0.2:
                posted[surveys.field(q)] = "More time with my social worker please (demo)."
            continue
        good, scale = surveys.positive_of(q), surveys.answers_of(q)
        others = [a for a in scale if a not in good]
        posted[surveys.field(q)] = rng.choice(good if rng.random() < chance else others)
    return posted


def seed_demo(session: Session) -> list[Survey]:
    """The demo surveys, created and answered once; later calls change nothing."""
    organisation = get_or_create_organisation(session, DEMO_ORGANISATION, "council", DEMO_LA)
    if organisation.la_code is None:
        organisation.la_code = DEMO_LA
    existing = list(
        session.scalars(
            select(Survey).where(Survey.organisation_id == organisation.id, Survey.is_demo)
        )
    )
    if existing:
        return existing
    author = User(username="demo", full_name="Demo", password_hash="", role="admin")
    rng = random.Random(2025)
    made = []
    for title, audience, round_label, period, respondents, chance in ROUNDS:
        questions = tuple(
            q for q in CHILDREN if audience == "children in care" or q != "social_workers_this_year"
        )
        survey = surveys.create_survey(
            session,
            author,
            organisation,
            surveys.NewSurvey(title, audience, round_label, period, questions),
            is_demo=True,
        )
        codes = surveys.issue_codes(session, author, survey, "Demo respondents (demo)", respondents)
        answered_on = date(int(period), 4, 15)
        for code in codes:
            surveys.answer(session, code, _answers(survey, chance, rng), on=answered_on)
        surveys.close(session, author, survey)
        made.append(survey)
    return made
