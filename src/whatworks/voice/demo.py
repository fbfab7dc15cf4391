"""A clearly labelled demo: Barnet Council (demo)'s survey of children in care in two
rounds, answered through the same code-and-answer path as real respondents, and a small
care leavers' survey whose results stay suppressed (too few answered); and its children in
care council (demo), whose points are commitments in each state of "you said, we did"; and
the co-production of its family network meetings project (demo)."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.auth import get_or_create_organisation
from whatworks.core.models import User
from whatworks.evidence.models import Project
from whatworks.voice import coproduction, panels, surveys
from whatworks.voice.models import Panel, Survey

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


STAFF = ("happy_at_work", "supported_by_manager", "manageable_workload")
#: The staff survey's rounds: (round, period, respondents, chance of each good answer).
STAFF_ROUNDS = (
    ("Autumn 2024 (demo)", "2024", 58, 0.64),
    ("Autumn 2025 (demo)", "2025", 66, 0.78),
)


def seed_demo_staff(session: Session) -> list[Survey]:
    """Two rounds of the demo council's staff survey (morale, support and workload), which
    the workforce page shows beside the published workforce figures; later calls change
    nothing."""
    organisation = get_or_create_organisation(session, DEMO_ORGANISATION, "council", DEMO_LA)
    title = "Working here (demo)"
    existing = list(
        session.scalars(
            select(Survey).where(
                Survey.organisation_id == organisation.id, Survey.is_demo, Survey.title == title
            )
        )
    )
    if existing:
        return existing
    author = User(username="demo", full_name="Demo", password_hash="", role="admin")
    rng = random.Random(2024)
    made = []
    for round_label, period, respondents, chance in STAFF_ROUNDS:
        survey = surveys.create_survey(
            session,
            author,
            organisation,
            surveys.NewSurvey(title, "staff", round_label, period, STAFF),
            is_demo=True,
        )
        codes = surveys.issue_codes(
            session, author, survey, "Social work teams (demo)", respondents
        )
        for code in codes:
            surveys.answer(
                session, code, _answers(survey, chance, rng), on=date(int(period), 10, 15)
            )
        surveys.close(session, author, survey)
        made.append(survey)
    return made


DEMO_PANEL = "Children in care council (demo)"
#: (meeting, you said, we will, owner, due, statuses it moved through, note of the last move)
POINTS = (
    (date(2025, 1, 14), "We want to see our social worker on our own, not always with our carers.",
     "We will ask every social worker to offer time alone at each visit, and check it happens.",
     "Head of children in care (demo)", date(2025, 4, 30), ("agreed", "in progress", "done"),
     "Time alone is now offered at every visit and checked in supervision."),
    (date(2025, 1, 14), "Reviews are boring and full of words we do not understand.",
     "We will rewrite the review letters with you, in plain words.",
     "Independent reviewing officer manager (demo)", date(2025, 9, 30),
     ("agreed", "in progress"), "The panel is writing the new letter with us."),
    (date(2025, 5, 20), "We want free bus passes so we can see our friends and family.",
     "We will ask the transport team for free bus passes for everyone in care.",
     "Corporate parenting lead (demo)", date(2025, 12, 31), ("explained",),
     "The bus company said no to free passes for everyone. Instead, your social worker can "
     "now give you a bus pass whenever you are visiting family or friends."),
    (date(2025, 5, 20), "Tell us when our social worker is going to change.",
     "We will write to you before your social worker changes, and say who is next.",
     "Head of children in care (demo)", date(2026, 3, 31), ("agreed",), ""),
    (date(2025, 5, 20), "We want a say in who is chosen as a foster carer.",
     "We will find a way for young people to join foster carer interviews.",
     "Fostering service manager (demo)", date(2026, 6, 30), (), ""),
)  # fmt: skip


def seed_demo_panels(session: Session) -> Panel:
    """The demo council's labelled children in care panel, with points whose commitments
    are in different states; created once, later calls change nothing."""
    organisation = get_or_create_organisation(session, DEMO_ORGANISATION, "council", DEMO_LA)
    existing = session.scalar(
        select(Panel).where(Panel.organisation_id == organisation.id, Panel.is_demo)
    )
    if existing is not None:
        return existing
    author = User(username="demo", full_name="Demo", password_hash="", role="admin")
    panel = panels.create_panel(
        session, author, organisation, DEMO_PANEL, "children in care", is_demo=True
    )
    for held_on, said, action, owner, due_on, moves, note in POINTS:
        commitment = panels.add_point(
            session, author, panel, panels.NewPoint(held_on, said, action, owner, due_on)
        )
        for n, to in enumerate(moves):
            panels.change_status(
                session, author, commitment, to, note if n == len(moves) - 1 else ""
            )
    session.flush()
    session.refresh(panel)
    return panel


DEMO_PROJECT = "demo:barnet-family-network-meetings"
#: (date, who took part, stage, how, people, what happened) on the demo council's family
#: network meetings project: all three stages over 14 months, with one wait of more than
#: three months, so the suggested rating is 4 and the page says what 5 would need.
COPRODUCTION = (
    (date(2022, 1, 20), "young people", "design", "young people's panel", 8,
     "The children in care council said what a good family meeting feels like (demo)."),
    (date(2022, 2, 15), "families", "design", "co-design workshop", 12,
     "Parents and grandparents wrote the invitation letter and chose the venues (demo)."),
    (date(2022, 2, 16), "staff", "design", "co-design workshop", 15,
     "Social workers and coordinators mapped the referral route (demo)."),
    (date(2022, 5, 10), "families", "delivery", "steering group membership", 3,
     "Three parents joined the project's steering group (demo)."),
    (date(2022, 6, 1), "young people", "delivery", "interview panel for staff recruitment", 4,
     "Young people interviewed the candidates for coordinator (demo)."),
    (date(2022, 7, 12), "young people", "delivery", "young people's panel", 9,
     "The panel reviewed the first meetings' feedback forms (demo)."),
    (date(2022, 9, 8), "partners", "delivery", "steering group membership", 5,
     "Health visitors and schools joined the steering group (demo)."),
    (date(2022, 10, 4), "families", "delivery", "steering group membership", 3,
     "The parents on the steering group reported back on the first meetings (demo)."),
    (date(2023, 1, 18), "young people", "evaluation", "peer research", 6,
     "Care leavers trained as peer researchers interviewed families (demo)."),
    (date(2023, 3, 20), "families", "evaluation", "survey", 41,
     "Families who had a meeting answered the evaluation survey (demo)."),
)  # fmt: skip


def seed_demo_coproduction(session: Session) -> int:
    """The labelled co-production of the demo council's family network meetings project
    (seeded by the evidence hub's demo); returns how many activities were added: none when
    the project is missing or already has activities."""
    project = session.scalar(select(Project).where(Project.seed_key == DEMO_PROJECT))
    if project is None or coproduction.list_activities(session, project.id):
        return 0
    author = User(username="demo", full_name="Demo", password_hash="", role="admin")
    for held_on, group, stage, method, people, description in COPRODUCTION:
        coproduction.record_activity(
            session,
            author,
            project.id,
            coproduction.NewActivity(group, stage, method, held_on, people, description),
        )
    return len(COPRODUCTION)
