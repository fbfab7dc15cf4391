"""Learning Together practice reviews on both stores: a review with systemic findings,
their actions and interventions; who may record them; and the themes across reviews,
counted by hand from the demo reviews."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent
from whatworks.evidence import seed
from whatworks.spread import learning_demo, reviews
from whatworks.spread.models import PracticeReview

PASSWORD = "a long test password"


@pytest.fixture
def people(session):
    barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
    leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
    seed.seed_interventions(session)
    return (
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet),
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds),
        create_user(session, "loner", PASSWORD, "member"),
        create_user(session, "researcher", PASSWORD, "researcher"),
    )


def test_a_member_records_a_review_for_their_organisation(session, people) -> None:
    barnet, leeds, loner, _ = people
    review = reviews.create_review(
        session,
        barnet,
        "Child B",
        kind="local child safeguarding practice review",
        reviewed_on=date(2025, 3, 1),
        la_code="302",  # Barnet's old code: the place and region come from it
    )
    assert (review.la_code, review.place, review.region) == ("E09000003", "Barnet", "London")
    assert review.organisation == "Barnet Council"
    finding = reviews.add_finding(
        session,
        barnet,
        review.id,
        title="Threshold decisions varied by team",
        pattern="The same referral got different responses from different teams.",
        system_parts=["tools", "management systems", "tools"],
        evidence="Audit of 30 referrals.",
        intervention_ids=("signs-of-safety",),
    )
    assert finding.system_parts == ["tools", "management systems"]
    assert reviews.linked_interventions(session, finding.id) == ["signs-of-safety"]
    action = reviews.add_action(
        session, barnet, finding.id, description="Joint threshold audit", owner="Head of MASH"
    )
    assert action.status == "planned"
    reviews.set_action_status(session, barnet, action.id, "done")
    with pytest.raises(PermissionDenied):
        reviews.add_finding(
            session, leeds, review.id, title="x", pattern="y", system_parts=["tools"]
        )
    with pytest.raises(PermissionDenied):
        reviews.set_action_status(session, leeds, action.id, "dropped")
    with pytest.raises(PermissionDenied):
        reviews.create_review(
            session, loner, "No organisation", kind="rapid review", reviewed_on=date.today()
        )
    with pytest.raises(PermissionDenied):
        reviews.create_review(
            session, None, "Anonymous", kind="rapid review", reviewed_on=date.today()
        )
    logged = session.scalars(
        select(AuditEvent.action).where(AuditEvent.purpose == "practice reviews")
    ).all()
    assert logged == ["record review", "add finding", "add action", "action status"]
    found = reviews.review_json(session, review)
    assert found["findings"][0]["actions"][0]["status"] == "done"


def test_a_researcher_may_record_and_change_any_review(session, people) -> None:
    barnet, _, _, researcher = people
    review = reviews.create_review(
        session, barnet, "Child C", kind="rapid review", reviewed_on=date(2024, 2, 2)
    )
    reviews.add_finding(
        session,
        researcher,
        review.id,
        title="Found by the researcher",
        pattern="A pattern.",
        system_parts=["family-professional interaction"],
    )


def test_findings_and_actions_are_checked(session, people) -> None:
    barnet = people[0]
    with pytest.raises(WhatworksError, match="Review kind 'inquiry'"):
        reviews.create_review(session, barnet, "x", kind="inquiry", reviewed_on=date.today())
    review = reviews.create_review(
        session, barnet, "Child D", kind="rapid review", reviewed_on=date(2024, 2, 2)
    )
    with pytest.raises(WhatworksError, match="not a part of the system"):
        reviews.add_finding(
            session, barnet, review.id, title="t", pattern="p", system_parts=["culture"]
        )
    with pytest.raises(WhatworksError, match="at least one part"):
        reviews.add_finding(session, barnet, review.id, title="t", pattern="p", system_parts=[])
    with pytest.raises(WhatworksError, match="Enter the pattern"):
        reviews.add_finding(
            session, barnet, review.id, title="t", pattern=" ", system_parts=["tools"]
        )
    finding = reviews.add_finding(
        session, barnet, review.id, title="t", pattern="p", system_parts=["tools"]
    )
    with pytest.raises(WhatworksError, match="Status 'late'"):
        reviews.add_action(session, barnet, finding.id, description="d", owner="o", status="late")


def test_demo_reviews_are_labelled_and_seeded_once(session) -> None:
    seed.seed_interventions(session)
    first = learning_demo.seed_demo(session)
    again = learning_demo.seed_demo(session)
    assert first == {"practice reviews": 4, "communities": 2}
    assert again == {"practice reviews": 0, "communities": 0}
    listed = reviews.list_reviews(session)
    assert all(r.is_demo and r.title.endswith("(demo)") for r in listed)
    assert all(r.la_code is None for r in listed)  # invented places, no real council named
    assert session.scalar(select(func.count()).select_from(PracticeReview)) == 4


def test_themes_count_findings_by_part_year_and_region(session) -> None:
    seed.seed_interventions(session)
    learning_demo.seed_demo(session)
    themes = reviews.themes(session)
    # By hand from learning_demo.DEMO_REVIEWS: 2 + 2 + 2 + 1 findings.
    assert (themes.reviews, themes.findings, themes.demo_reviews) == (4, 7, 4)
    assert themes.parts == reviews.SYSTEM_PARTS
    assert themes.by_year["management systems"] == {2021: 1, 2022: 1, 2024: 1}
    assert themes.by_year["multi-agency working in longer-term work"] == {2021: 1, 2023: 1}
    assert themes.by_region["human reasoning: cognitive and emotional biases"] == {"North West": 2}
    assert themes.totals == {
        "multi-agency working in response to incidents and crises": 1,
        "multi-agency working in longer-term work": 2,
        "family-professional interaction": 3,
        "human reasoning: cognitive and emotional biases": 2,
        "tools": 1,
        "management systems": 3,
    }
    assert reviews.themes(session, include_demo=False).findings == 0
    shown = themes.as_dict()
    tools = next(row for row in shown["by_year"] if row["part"] == "tools")
    assert tools["counts"] == {"2021": 1, "2022": 0, "2023": 0, "2024": 0}
