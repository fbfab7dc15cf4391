"""Co-production on projects: the rubric on hand-built sets of activities (each level reached
and just missed, worked out by hand in each case), bad input and other organisations refused
with nothing stored, the suggestion applied as a rating the evidence hub's latest
conditions show beside people's own, the demo seeded once, and the pages and JSON twin
through the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent, User
from whatworks.evidence import projects
from whatworks.evidence.models import ConditionRating
from whatworks.voice import coproduction, demo
from whatworks.voice.coproduction import NewActivity, add_months, months_between, summarise
from whatworks.voice.models import CoproductionActivity
from whatworks.web.app import create_app

PASSWORD = "a long test password"
CONDITION = "sustained engagement with children and families"


def act(group: str, stage: str, held_on: date, people: int | None = None) -> CoproductionActivity:
    """An activity built in memory, never stored."""
    return CoproductionActivity(
        group=group, stage=stage, method="survey", held_on=held_on, people=people
    )


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- calendar months ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [("2024-01-31", 1, "2024-02-29"), ("2023-01-31", 1, "2023-02-28"),
     ("2024-11-30", 3, "2025-02-28"), ("2024-10-15", 3, "2025-01-15"),
     ("2024-03-15", 12, "2025-03-15")],
)  # fmt: skip
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(d(start), months) == d(expected)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [("2024-03-15", "2025-03-14", 11), ("2024-03-15", "2025-03-15", 12),
     ("2024-01-10", "2024-07-09", 5), ("2024-01-10", "2024-07-10", 6),
     ("2024-05-01", "2024-05-31", 0), ("2022-01-20", "2023-03-20", 14)],
)  # fmt: skip
def test_months_between(first: str, last: str, expected: int) -> None:
    assert months_between(d(first), d(last)) == expected


# --- the rubric --------------------------------------------------------------------------

#: Three stages over exactly twelve months, one activity every three months to the day.
QUARTERLY = [
    act("young people", "design", d("2024-01-15")),
    act("families", "delivery", d("2024-04-15")),
    act("children", "delivery", d("2024-07-15")),
    act("families", "delivery", d("2024-10-15")),
    act("young people", "evaluation", d("2025-01-15")),
]

RUBRIC_CASES = {
    "nothing recorded": ([], 1),
    "only staff, partners and communities, at every stage over two years": (
        [act("staff", "design", d("2023-01-01")), act("partners", "delivery", d("2023-09-01")),
         act("communities", "evaluation", d("2025-01-01"))],
        1,
    ),
    "one activity with young people": ([act("young people", "design", d("2024-02-01"))], 2),
    "two activities at one stage on the same day are one occasion": (
        [act("children", "design", d("2024-02-01")), act("families", "design", d("2024-02-01"))],
        2,
    ),
    "one stage on two dates": (
        [act("families", "design", d("2024-02-01")), act("families", "design", d("2024-02-02"))],
        3,
    ),
    "two stages on one day": (
        [act("children", "design", d("2024-02-01")),
         act("young people", "delivery", d("2024-02-01"))],
        3,
    ),
    "two stages over five whole months (one day short of six)": (
        [act("families", "design", d("2024-01-10")),
         act("families", "delivery", d("2024-07-09"))],
        3,
    ),
    "two stages over six months": (
        [act("families", "design", d("2024-01-10")),
         act("families", "delivery", d("2024-07-10"))],
        4,
    ),
    "three stages within two months": (
        [act("children", "design", d("2024-01-10")), act("children", "delivery", d("2024-02-10")),
         act("children", "evaluation", d("2024-03-10"))],
        4,
    ),
    "three stages over twelve months, every three months": (QUARTERLY, 5),
    "three stages over eleven months (one day short of twelve)": (
        [*QUARTERLY[:-1], act("young people", "evaluation", d("2025-01-14"))],
        4,
    ),
    "three stages over twelve months with one wait of three months and a day": (
        [act("young people", "design", d("2024-01-15")),
         act("families", "delivery", d("2024-04-16")),
         act("children", "delivery", d("2024-07-16")),
         act("families", "delivery", d("2024-10-16")),
         act("young people", "evaluation", d("2025-01-15"))],
        4,
    ),
    "a staff workshop does not fill a gap in children's involvement": (
        [*(a for a in QUARTERLY if a.held_on != d("2024-04-15")),
         act("staff", "delivery", d("2024-04-15"))],
        4,
    ),
    "evaluation by staff only leaves two stages, over nine months": (
        [*QUARTERLY[:-1], act("staff", "evaluation", d("2025-01-15"))],
        4,
    ),
    "two stages over twelve months, every three months, is still 4": (
        [*QUARTERLY[:-1], act("families", "delivery", d("2025-01-15"))],
        4,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", RUBRIC_CASES, ids=list(RUBRIC_CASES))
def test_the_rubric(case: str) -> None:
    activities, expected = RUBRIC_CASES[case]
    found = summarise(activities)
    assert found.rating == expected
    assert f"Suggested rating {expected}: {coproduction.RUBRIC[expected]}" in found.reasons


def test_staff_evaluation_leaves_two_stages() -> None:
    # Young people's design (15 January 2024) to families' delivery (15 October 2024): two
    # stages over nine months, so 4 by its second rule; the staff's evaluation adds nothing.
    activities, _ = RUBRIC_CASES["evaluation by staff only leaves two stages, over nine months"]
    found = summarise(activities)
    assert found.stages == ("design", "delivery") and found.span_months == 9
    assert found.grid["staff"]["evaluation"] == 1 and found.regular


def test_the_summary_of_a_set() -> None:
    found = summarise(
        [
            act("young people", "design", d("2024-01-15"), people=8),
            act("young people", "design", d("2024-03-01"), people=6),
            act("staff", "delivery", d("2024-02-01"), people=20),
            act("families", "evaluation", d("2024-09-30")),
        ]
    )
    assert found.grid["young people"] == {"design": 2, "delivery": 0, "evaluation": 0}
    assert found.grid["staff"] == {"design": 0, "delivery": 1, "evaluation": 0}
    assert found.grid["families"]["evaluation"] == 1 and found.grid["children"]["design"] == 0
    assert found.people["young people"] == 14 and found.people["families"] == 0
    assert (found.records, found.engaged) == (4, 3)
    assert found.stages == ("design", "evaluation")
    # 15 January to 30 September 2024: eight whole months (15 September is eight).
    assert (found.first, found.last, found.span_months) == (
        d("2024-01-15"),
        d("2024-09-30"),
        8,
    )
    # 1 March to 30 September is the longest wait between dates in a row.
    assert found.longest_gap == found.late_gap == (d("2024-03-01"), d("2024-09-30"))
    assert not found.regular
    assert found.rating == 4  # two stages over six months or more
    assert any("1 March 2024 to 30 September 2024" in r for r in found.reasons)
    assert found.reasons[-1].startswith("To reach 5: involve them in delivery")


def test_what_five_needs_names_the_long_wait() -> None:
    activities, _ = RUBRIC_CASES[
        "three stages over twelve months with one wait of three months and a day"
    ]
    found = summarise(activities)
    # 15 January to 16 April 2024 and 16 July to 16 October 2024 are both 92 days; only the
    # first is more than three calendar months.
    assert found.late_gap == (d("2024-01-15"), d("2024-04-16")) and not found.regular
    assert found.reasons[-1] == (
        "To reach 5: leave no more than three months between activities (the longest wait "
        "was from 15 January 2024 to 16 April 2024)."
    )


# --- recording on the real store ---------------------------------------------------------


@pytest.fixture
def made(sessions) -> SimpleNamespace:
    """A Barnet project, a Barnet member, a Leeds member, a researcher and an admin."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        centre = get_or_create_organisation(session, "A research centre", "research centre")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        create_user(session, "researcher", PASSWORD, "researcher", organisation=centre)
        create_user(session, "admin", PASSWORD, "admin")
        member = user(session, "barnet")
        project = projects.create_project(
            session, member, "Family network meetings", organisation_id=barnet.id
        )
        return SimpleNamespace(project=project.id, barnet=barnet.id)


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audited(sessions, action: str) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


GOOD = NewActivity("young people", "design", "young people's panel", d("2025-03-01"), 8, "Ideas")
TODAY = d("2025-06-30")


def record(sessions, project_id: int, new: NewActivity = GOOD, who: str = "barnet") -> int:
    with transaction(sessions) as session:
        return coproduction.record_activity(
            session, user(session, who), project_id, new, today=TODAY
        ).id


def test_a_member_records_an_activity_audited(sessions, made) -> None:
    activity_id = record(sessions, made.project)
    with sessions() as session:
        stored = session.get(CoproductionActivity, activity_id)
        assert stored is not None
        assert (stored.group, stored.stage, stored.method, stored.people, stored.held_on) == (
            "young people",
            "design",
            "young people's panel",
            8,
            d("2025-03-01"),
        )
        assert (stored.organisation_id, stored.recorded_by) == (made.barnet, "barnet")
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "record co-production")
        )
        assert event is not None and event.target == f"project:{made.project}"
        assert f'"activity": {activity_id}' in event.detail
        assert [a.id for a in coproduction.list_activities(session, made.project)] == [activity_id]


def test_an_activity_on_the_day_is_allowed(sessions, made) -> None:
    on_the_day = NewActivity("families", "delivery", "survey", TODAY)
    record(sessions, made.project, on_the_day)
    assert count(sessions, CoproductionActivity) == 1


BAD = {
    "unknown group": (NewActivity("carers", "design", "survey", d("2025-03-01")), ["group"]),
    "unknown stage": (NewActivity("families", "planning", "survey", d("2025-03-01")), ["stage"]),
    "unknown method": (NewActivity("families", "design", "focus group", d("2025-03-01")),
                       ["method"]),
    "a date tomorrow": (NewActivity("families", "design", "survey", TODAY + timedelta(days=1)),
                        ["held_on-day"]),
    "no date": (NewActivity("families", "design", "survey", None), ["held_on-day"]),
    "a description of 2,001 characters": (
        NewActivity("families", "design", "survey", d("2025-03-01"), None, "x" * 2_001),
        ["description"],
    ),
    "other, not described": (NewActivity("families", "design", "other", d("2025-03-01")),
                             ["description"]),
    "no people": (NewActivity("families", "design", "survey", d("2025-03-01"), 0), ["people"]),
    "everything wrong": (
        NewActivity("everyone", "after", "", TODAY + timedelta(days=30), -1, "y" * 2_001),
        ["group", "stage", "method", "held_on-day", "people", "description"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_stores_nothing(sessions, made, case: str) -> None:
    new, fields = BAD[case]
    with pytest.raises(coproduction.ActivityRefused) as refused:
        record(sessions, made.project, new)
    assert [f for f, _ in refused.value.problems] == fields
    assert count(sessions, CoproductionActivity) == 0
    assert audited(sessions, "record co-production") == 0


def test_a_description_of_2000_characters_is_allowed(sessions, made) -> None:
    record(
        sessions, made.project, NewActivity("families", "design", "other", TODAY, 3, "z" * 2_000)
    )
    assert count(sessions, CoproductionActivity) == 1


@pytest.mark.parametrize("who", ["leeds", "researcher"])
def test_other_organisations_are_refused(sessions, made, who: str) -> None:
    with pytest.raises(PermissionDenied, match="Only members of the organisation"):
        record(sessions, made.project, who=who)
    with pytest.raises(PermissionDenied), transaction(sessions) as session:
        coproduction.record_activity(session, None, made.project, GOOD, today=TODAY)
    assert count(sessions, CoproductionActivity) == 0


def test_an_administrator_records_for_any_organisation(sessions, made) -> None:
    activity_id = record(sessions, made.project, who="admin")
    with sessions() as session:
        stored = session.get(CoproductionActivity, activity_id)
        assert stored is not None and stored.organisation_id == made.barnet


def test_applying_the_suggestion_adds_a_rating_beside_peoples(sessions, made) -> None:
    with transaction(sessions) as session:
        projects.rate_condition(
            session, user(session, "barnet"), made.project, CONDITION, 2, d("2025-01-31"), "ours"
        )
    # Young people in design (1 March) and delivery (1 May), families in evaluation
    # (30 June), and a staff workshop: all three stages within four months, so 4.
    for new in (
        GOOD,
        NewActivity("young people", "delivery", "peer research", d("2025-05-01")),
        NewActivity("families", "evaluation", "survey", d("2025-06-30")),
        NewActivity("staff", "design", "co-design workshop", d("2025-02-01")),
    ):
        record(sessions, made.project, new)
    with transaction(sessions) as session:
        coproduction.apply_suggestion(session, user(session, "barnet"), made.project, TODAY)
    with sessions() as session:
        latest = projects.latest_conditions(session, made.project)[CONDITION]
        assert (latest.rating, latest.rated_on, latest.rated_by) == (4, TODAY, "barnet")
        assert latest.note.startswith(
            "Suggested from 4 co-production records (3 with children, young people or families)"
        )
        history = [(r.rating, r.note) for r in projects.condition_history(session, made.project)]
        assert history[0] == (2, "ours") and history[1][0] == 4 and len(history) == 2
    assert audited(sessions, "apply co-production rating") == 1
    # A person may still rate otherwise; both stay in the history.
    with transaction(sessions) as session:
        projects.rate_condition(
            session, user(session, "barnet"), made.project, CONDITION, 3, TODAY, "we disagree"
        )
    with sessions() as session:
        assert projects.latest_conditions(session, made.project)[CONDITION].rating == 3
        assert [r.rating for r in projects.condition_history(session, made.project)] == [2, 4, 3]


def test_applying_twice_on_a_day_adds_one_rating(sessions, made) -> None:
    # Families at design (1 March) and delivery (1 May): two stages, two months apart, so 3.
    for new in (
        NewActivity("families", "design", "survey", d("2025-03-01")),
        NewActivity("families", "delivery", "peer research", d("2025-05-01")),
    ):
        record(sessions, made.project, new)
    ids = []
    for _ in range(2):  # a double click
        with transaction(sessions) as session:
            ids.append(
                coproduction.apply_suggestion(
                    session, user(session, "barnet"), made.project, TODAY
                ).id
            )
    assert ids[0] == ids[1] and count(sessions, ConditionRating) == 1
    assert audited(sessions, "apply co-production rating") == 1
    with sessions() as session:
        assert [r.rating for r in projects.condition_history(session, made.project)] == [3]
    # The next day is a new rating; so is today's suggestion after a person's own rating.
    with transaction(sessions) as session:
        coproduction.apply_suggestion(
            session, user(session, "barnet"), made.project, TODAY + timedelta(days=1)
        )
    with transaction(sessions) as session:
        projects.rate_condition(
            session, user(session, "barnet"), made.project, CONDITION, 3,
            TODAY + timedelta(days=1), "Suggested from the panel, not the records",
        )  # fmt: skip
        coproduction.apply_suggestion(
            session, user(session, "barnet"), made.project, TODAY + timedelta(days=1)
        )
    assert count(sessions, ConditionRating) == 4


def test_applying_needs_records_and_membership(sessions, made) -> None:
    with (
        pytest.raises(WhatworksError, match="no co-production records"),
        transaction(sessions) as session,
    ):
        coproduction.apply_suggestion(session, user(session, "barnet"), made.project, TODAY)
    record(sessions, made.project)
    with pytest.raises(PermissionDenied), transaction(sessions) as session:
        coproduction.apply_suggestion(session, user(session, "leeds"), made.project, TODAY)
    assert count(sessions, ConditionRating) == 0


def test_demo_coproduction_is_seeded_once(sessions) -> None:
    with transaction(sessions) as session:
        council = get_or_create_organisation(session, demo.DEMO_ORGANISATION, "council")
        actor = User(username="demo", full_name="Demo", password_hash="", role="admin")
        project = projects.create_project(
            session,
            actor,
            "Family network meetings in Barnet (demo)",
            organisation_id=council.id,
            is_demo=True,
            seed_key=demo.DEMO_PROJECT,
        ).id
    with transaction(sessions) as session:
        assert demo.seed_demo_coproduction(session) == len(demo.COPRODUCTION)
    with transaction(sessions) as session:
        assert demo.seed_demo_coproduction(session) == 0
    assert count(sessions, CoproductionActivity) == len(demo.COPRODUCTION) == 10
    with sessions() as session:
        found = summarise(coproduction.list_activities(session, project))
    # Children, young people or families on 8 dates from 20 January 2022 to 20 March 2023
    # (14 months) at all three stages; 4 October 2022 to 18 January 2023 is more than three
    # months, so 4, not 5.
    assert (found.engaged, len(found.dates), found.span_months) == (8, 8, 14)
    assert found.longest_gap == found.late_gap == (d("2022-10-04"), d("2023-01-18"))
    assert found.rating == 4


def test_no_project_no_demo(sessions) -> None:
    with transaction(sessions) as session:
        assert demo.seed_demo_coproduction(session) == 0


# --- through the real app ----------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    token = csrf(client.get("/sign-in").text)
    client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


FORM = {
    "group": "families", "stage": "delivery", "method": "steering group membership",
    "held_on-day": "4", "held_on-month": "10", "held_on-year": "2024", "people": "3",
    "description": "Three parents joined the steering group.",
}  # fmt: skip


def test_the_page_is_public_and_recording_is_for_members(client, sessions, made) -> None:
    url = f"/voice/projects/{made.project}/co-production"
    page = client.get(url)
    assert page.status_code == 200 and "Activities by who took part and stage" in page.text
    assert "Record an activity" not in page.text and "Sign in" in page.text
    assert client.get(f"/evidence/projects/{made.project}").text.count(url) == 1
    twin = client.get(f"/api{url}").json()
    assert twin["summary"]["suggested_rating"]["rating"] == 1
    token = csrf(client.get("/sign-in").text)
    assert client.post(url, data={**FORM, "csrf_token": token}).status_code == 401
    sign_in(client, "leeds")
    assert "Record an activity" not in client.get(url).text
    token = csrf(client.get("/sign-out").text)
    assert client.post(url, data={**FORM, "csrf_token": token}).status_code == 403
    assert client.post(f"{url}/rating", data={"csrf_token": token}).status_code == 403
    sent = {"group": "families", "stage": "design", "method": "survey", "held_on": "2024-10-04"}
    assert client.post(f"/api{url}", json=sent).status_code == 403
    assert count(sessions, CoproductionActivity) == 0


def test_a_member_records_through_the_form(client, sessions, made) -> None:
    url = f"/voice/projects/{made.project}/co-production"
    sign_in(client, "barnet")
    page = client.get(url)
    assert "Record an activity" in page.text
    token = csrf(page.text)
    bad = {**FORM, "group": "carers", "held_on-year": str(date.today().year + 1),
           "people": "three", "csrf_token": token}  # fmt: skip
    refused = client.post(url, data=bad)
    assert refused.status_code == 400 and "There is a problem" in refused.text
    assert 'href="#group"' in refused.text and 'href="#held_on-day"' in refused.text
    assert "whole number, like 12" in refused.text
    assert count(sessions, CoproductionActivity) == 0
    done = client.post(url, data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and count(sessions, CoproductionActivity) == 1
    shown = client.get(url).text
    assert "Three parents joined the steering group." in shown and "4 October 2024" in shown
    applied = client.post(f"{url}/rating", data={"csrf_token": token}, follow_redirects=False)
    assert applied.status_code == 303
    twice = client.post(f"{url}/rating", data={"csrf_token": token}, follow_redirects=False)
    assert twice.status_code == 303 and count(sessions, ConditionRating) == 1
    with sessions() as session:
        latest = projects.latest_conditions(session, made.project)[CONDITION]
        # One families' activity at one stage: 2.
        assert latest.rating == 2 and "from 1 co-production record " in latest.note


def test_the_json_twin_records(client, sessions, made) -> None:
    url = f"/api/voice/projects/{made.project}/co-production"
    sign_in(client, "barnet")
    twin = client.get(url).json()
    assert twin["may_record"] and twin["choices"]["stage"] == ["design", "delivery", "evaluation"]
    sent = {"group": "children", "stage": "evaluation", "method": "peer research",
            "held_on": "2024-11-20", "people": 5}  # fmt: skip
    bad = client.post(url, json={**sent, "stage": "after", "held_on": "2024-13-01"})
    assert bad.status_code == 422
    assert [p["field"] for p in bad.json()["errors"]] == ["stage", "held_on"]
    assert count(sessions, CoproductionActivity) == 0
    made_one = client.post(url, json=sent)
    assert made_one.status_code == 201 and made_one.json()["group"] == "children"
    found = client.get(url).json()
    assert found["summary"]["grid"]["children"]["evaluation"] == 1
    assert found["summary"]["suggested_rating"]["rating"] == 2
    rated = client.post(f"{url}/rating")
    assert rated.status_code == 201 and rated.json()["rating"] == 2
    assert client.get(url).json()["latest_rating"]["rating"] == 2
