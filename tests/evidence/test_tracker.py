"""The learning-from-failure tracker: overdue, reported and reported-late registrations,
switched primary outcomes, reporting rates and the failure library. Dates and counts are
worked by hand from the rule: results are due 12 months after planned completion."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from whatworks.evidence import projects, registrations, studies, tracker
from whatworks.evidence.interventions import create_intervention
from whatworks.evidence.registrations import EvaluationPlan, OutcomeMeasure

PLAN = EvaluationPlan(
    title="Trial",
    questions=("Does it reduce care entry?",),
    primary_outcomes=(OutcomeMeasure("Care entry at 12 months", "SSDA903"),),
    design="Cluster randomised trial",
    maryland_level=5,
    planned_completion=date(2023, 3, 31),
    planned_report=date(2023, 9, 30),
)


@pytest.fixture
def setting(session, people):
    create_intervention(session, people.researcher, "Family Group Conferencing", slug="fgc")
    barnet = projects.create_project(
        session,
        people.member,
        "FGC in Barnet",
        organisation_id=people.barnet.id,
        intervention_id="fgc",
        funder="Funder A",
        lessons="Referrals only flowed once coordinators sat with the teams.",
    )
    leeds = projects.create_project(
        session,
        people.outsider,
        "FGC in Leeds",
        organisation_id=people.leeds.id,
        intervention_id="fgc",
        funder="Funder B",
    )
    return barnet, leeds


def report(session, author, registration_id, reported_on, outcomes):
    study = studies.add_study(
        session,
        author,
        registration_id=registration_id,
        title="Results",
        design="Cluster randomised trial",
        maryland_level=5,
        reported_on=reported_on,
    )
    for name, primary, direction in outcomes:
        studies.add_result(
            session,
            author,
            study.id,
            outcome=name,
            direction=direction,
            is_primary=primary,
            reported=f"{name}: {direction}",
        )
    return study


def test_due_date_is_twelve_months_after_completion() -> None:
    assert tracker.due_date(date(2023, 3, 31)) == date(2024, 3, 31)
    assert tracker.due_date(date(2024, 2, 29)) == date(2025, 2, 28)


def test_an_unreported_registration_becomes_overdue(session, people, setting) -> None:
    barnet, _ = setting
    version = registrations.register(session, people.member, PLAN, project_id=barnet.id)
    on_time = tracker.track(session, version.registration, date(2024, 3, 31))
    assert on_time.status == "ongoing" and on_time.due == date(2024, 3, 31)
    late = tracker.track(session, version.registration, date(2024, 6, 30))
    assert late.status == "overdue"
    assert late.days_overdue == 91  # 1 April to 30 June 2024
    assert [t.registration_id for t in tracker.tracker(session, date(2024, 6, 30))] == [
        version.registration_id
    ]
    assert tracker.tracker(session, date(2024, 6, 30), status="overdue")[0].title == "Trial"


def test_a_switched_primary_outcome_is_flagged(session, people, setting) -> None:
    barnet, _ = setting
    version = registrations.register(session, people.member, PLAN, project_id=barnet.id)
    report(
        session,
        people.member,
        version.registration_id,
        date(2023, 12, 1),
        [("Family satisfaction", True, "positive"), ("care entry at 12 months", False, "null")],
    )
    tracked = tracker.track(session, version.registration, date(2024, 6, 30))
    assert tracked.status == "reported" and tracked.first_reported == date(2023, 12, 1)
    assert tracked.outcomes is not None and tracked.outcomes.switched
    assert tracked.outcomes.dropped == ("Care entry at 12 months",)
    assert tracked.outcomes.added == ("Family satisfaction",)
    assert tracked.outcomes.reported_as_secondary == ("Care entry at 12 months",)
    assert tracked.as_dict()["outcomes"]["switched"] is True


def test_a_faithful_report_after_the_due_date_is_reported_late(session, people, setting) -> None:
    barnet, _ = setting
    version = registrations.register(session, people.member, PLAN, project_id=barnet.id)
    registrations.amend(
        session,
        people.member,
        version.registration_id,
        replace(PLAN, planned_completion=date(2023, 6, 30)),
        "Recruitment ran three months longer.",
    )
    report(
        session,
        people.member,
        version.registration_id,
        date(2024, 8, 1),
        [("Care Entry at 12 months", True, "null")],
    )
    tracked = tracker.track(session, version.registration, date(2024, 9, 1))
    assert tracked.due == date(2024, 6, 30)  # from the latest version
    assert tracked.status == "reported late"
    assert tracked.completion_moved_from == (date(2023, 3, 31),)
    assert tracked.outcomes is not None and not tracked.outcomes.flagged
    # as at a date before the report, it was overdue
    assert tracker.track(session, version.registration, date(2024, 7, 15)).status == "overdue"


def test_reporting_rates_by_organisation_and_funder(session, people, setting) -> None:
    barnet, leeds = setting
    reported = registrations.register(session, people.member, PLAN, project_id=barnet.id)
    report(session, people.member, reported.registration_id, date(2023, 10, 1), [])
    registrations.register(session, people.member, PLAN, project_id=barnet.id)  # overdue
    registrations.register(  # ongoing: due 2026
        session,
        people.member,
        replace(PLAN, planned_completion=date(2025, 3, 31), planned_report=date(2025, 9, 30)),
        project_id=barnet.id,
    )
    registrations.register(session, people.outsider, PLAN, project_id=leeds.id)  # overdue
    tracked = tracker.tracker(session, date(2024, 6, 30))
    by_org = {r.group: r for r in tracker.reporting_rates(tracked, "organisation")}
    assert (by_org["Barnet Council"].registrations, by_org["Barnet Council"].due) == (3, 2)
    assert by_org["Barnet Council"].reported == 1 and by_org["Barnet Council"].rate == 0.5
    assert by_org["Barnet Council"].ongoing == 1
    assert by_org["Leeds City Council"].rate == 0.0
    by_funder = {r.group: r for r in tracker.reporting_rates(tracked, "funder")}
    assert by_funder["Funder A"].rate == 0.5 and by_funder["Funder B"].overdue == 1


def test_the_failure_library_holds_nulls_negatives_and_stops_with_lessons(
    session, people, setting
) -> None:
    barnet, _ = setting
    version = registrations.register(session, people.member, PLAN, project_id=barnet.id)
    report(
        session,
        people.member,
        version.registration_id,
        date(2024, 1, 10),
        [("Care entry at 12 months", True, "null"), ("Re-referral", False, "positive")],
    )
    stopped = registrations.register(session, people.member, PLAN, project_id=barnet.id)
    registrations.review_checkpoint(
        session,
        people.member,
        stopped.registration_id,
        date(2022, 9, 1),
        "stop",
        "Too few adolescents referred; stopped under the stop rule.",
    )
    library = tracker.failure_library(session)
    assert sorted(e.kind for e in library) == ["result", "stopped evaluation"]
    result = next(e for e in library if e.kind == "result")
    assert result.outcome == "Care entry at 12 months" and result.direction == "null"
    assert "coordinators sat with the teams" in " ".join(result.lessons)
    assert [e.kind for e in tracker.failure_library(session, "ADOLESCENTS stop")] == [
        "stopped evaluation"
    ]
    assert tracker.failure_library(session, "no such words") == []
