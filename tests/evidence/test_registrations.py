"""Pre-registered evaluation plans are frozen: a change is a new version with its reason,
every version stays readable, and nothing registered can be edited in place."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, text, update

from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent
from whatworks.evidence import projects, registrations
from whatworks.evidence.interventions import create_intervention
from whatworks.evidence.models import Registration, RegistrationVersion
from whatworks.evidence.registrations import Checkpoint, EvaluationPlan, OutcomeMeasure

PLAN = EvaluationPlan(
    title="Family group conferences before proceedings in Barnet",
    questions=("Does referral to a family group conference reduce care entry?",),
    primary_outcomes=(OutcomeMeasure("Care entry at 12 months", "SSDA903 episodes"),),
    secondary_outcomes=(OutcomeMeasure("Days in care", "SSDA903 episodes"),),
    design="Individually randomised trial",
    maryland_level=5,
    planned_sample=600,
    minimum_detectable_effect="8 percentage points",
    analysis_plan="Logistic regression adjusted for age and referral reason",
    success_criteria="Care entry at least 5 points lower, 95% interval excluding 0",
    checkpoints=(
        Checkpoint(date(2026, 1, 31), "Referrals", "Stop if fewer than 50 families in 6 months"),
    ),
    planned_completion=date(2027, 3, 31),
    planned_report=date(2027, 9, 30),
)


@pytest.fixture
def project(session, people):
    create_intervention(session, people.researcher, "Family Group Conferencing")
    return projects.create_project(
        session,
        people.member,
        "FGC at pre-proceedings",
        organisation_id=people.barnet.id,
        intervention_id="family-group-conferencing",
        la_code="E09000003",
        funder="A Foundation",
    )


def test_registering_freezes_version_one_with_its_hash(session, people, project) -> None:
    version = registrations.register(session, people.member, PLAN, project_id=project.id)
    registration = registrations.get_registration(session, version.registration_id)
    assert version.version == 1 and version.reason == ""
    assert registration.organisation_id == people.barnet.id
    assert registration.intervention_id == "family-group-conferencing"
    assert registration.funder == "A Foundation"
    # the hash is SHA-256 of the canonical JSON written out here by hand
    record = {
        "registration": registration.id,
        "version": 1,
        "plan": PLAN.content(),
        "reason": "",
        "registered_at": version.registered_at.isoformat(),
        "previous": "",
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert version.content_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert registrations.verify(session, registration.id) == []
    assert EvaluationPlan.of(version) == PLAN
    assert "register evaluation" in session.scalars(select(AuditEvent.action)).all()


def test_a_change_makes_version_two_with_its_reason(session, people, project) -> None:
    first = registrations.register(session, people.member, PLAN, project_id=project.id)
    changed = replace(PLAN, planned_completion=date(2027, 9, 30), planned_report=date(2028, 3, 31))
    second = registrations.amend(
        session, people.member, first.registration_id, changed, "Recruitment started late."
    )
    assert second.version == 2
    assert second.reason == "Recruitment started late."
    history = registrations.versions(session, first.registration_id)
    assert [v.version for v in history] == [1, 2]
    assert history[0].planned_completion == date(2027, 3, 31)  # version 1 unchanged
    assert registrations.latest_version(session, first.registration_id).version == 2
    assert set(registrations.changes(history[0], history[1])) == {
        "planned_completion",
        "planned_report",
    }
    assert registrations.verify(session, first.registration_id) == []


def test_a_change_without_a_reason_or_without_a_change_is_refused(session, people, project) -> None:
    first = registrations.register(session, people.member, PLAN, project_id=project.id)
    changed = replace(PLAN, planned_sample=800)
    with pytest.raises(WhatworksError, match="needs a reason"):
        registrations.amend(session, people.member, first.registration_id, changed, "  ")
    with pytest.raises(WhatworksError, match="same as version 1"):
        registrations.amend(session, people.member, first.registration_id, PLAN, "No change")
    assert registrations.version_count(session, first.registration_id) == 1


def test_a_registered_version_cannot_be_edited_in_place_through_the_orm(
    session, people, project
) -> None:
    version = registrations.register(session, people.member, PLAN, project_id=project.id)
    session.commit()
    version.primary_outcomes = [{"name": "Family satisfaction", "measure": "survey"}]
    with pytest.raises(PermissionDenied, match="frozen"):
        session.flush()
    session.rollback()
    with pytest.raises(PermissionDenied, match="frozen"):
        session.delete(session.get(RegistrationVersion, version.id))
        session.flush()
    session.rollback()
    registration = session.get(Registration, version.registration_id)
    registration.funder = "Someone else"
    with pytest.raises(PermissionDenied, match="frozen"):
        session.flush()
    session.rollback()
    stored = session.get(RegistrationVersion, version.id)
    assert stored.primary_outcomes == [
        {"name": "Care entry at 12 months", "measure": "SSDA903 episodes"}
    ]


def test_an_edit_behind_the_application_is_detected(session, people, project) -> None:
    version = registrations.register(session, people.member, PLAN, project_id=project.id)
    registrations.amend(
        session, people.member, version.registration_id, replace(PLAN, planned_sample=700), "Power"
    )
    session.commit()
    # a bulk SQL update bypasses the ORM's per-object guard; the hash chain shows it
    session.execute(
        update(RegistrationVersion)
        .where(RegistrationVersion.id == version.id)
        .values(design="Before and after"),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    session.expire_all()
    problems = registrations.verify(session, version.registration_id)
    assert len(problems) == 1 and "Version 1" in problems[0]


def test_plans_are_checked_and_only_members_register(session, people, project) -> None:
    bad = replace(PLAN, primary_outcomes=(), maryland_level=7, planned_report=date(2026, 1, 1))
    with pytest.raises(WhatworksError) as raised:
        registrations.register(session, people.member, bad, project_id=project.id)
    message = str(raised.value)
    assert "primary outcome" in message and "Maryland level 7" in message
    assert "before completion" in message
    with pytest.raises(PermissionDenied):
        registrations.register(session, people.outsider, PLAN, project_id=project.id)
    with pytest.raises(PermissionDenied):
        registrations.register(session, None, PLAN, project_id=project.id)
    assert registrations.register(session, people.researcher, PLAN, project_id=project.id)


def test_plan_from_plain_values(session) -> None:
    plan = EvaluationPlan.from_dict(
        {
            **PLAN.content(),
            "planned_sample": "600",
        }
    )
    assert plan == PLAN
    with pytest.raises(WhatworksError, match="not a date"):
        EvaluationPlan.from_dict({**PLAN.content(), "planned_completion": "31/03/2027"})


def test_checkpoint_reviews_record_the_decision_and_what_was_learned(
    session, people, project
) -> None:
    version = registrations.register(session, people.member, PLAN, project_id=project.id)
    review = registrations.review_checkpoint(
        session,
        people.member,
        version.registration_id,
        date(2026, 1, 31),
        "stop",
        "Only 20 families referred: the referral route did not reach families in time.",
    )
    assert review.decision == "stop"
    with pytest.raises(WhatworksError, match="continue, adapt, stop"):
        registrations.review_checkpoint(
            session, people.member, version.registration_id, date(2026, 2, 1), "pause", "x"
        )
    with pytest.raises(WhatworksError, match="what was learned"):
        registrations.review_checkpoint(
            session, people.member, version.registration_id, date(2026, 2, 1), "adapt", " "
        )
    assert [r.decision for r in registrations.reviews(session, version.registration_id)] == ["stop"]
    review.learned = "rewritten"
    with pytest.raises(PermissionDenied):
        session.flush()
    session.rollback()


def test_raw_sql_sees_every_version(session, people, project) -> None:
    version = registrations.register(session, people.member, PLAN, project_id=project.id)
    registrations.amend(
        session,
        people.member,
        version.registration_id,
        replace(PLAN, title="FGC before proceedings (renamed)"),
        "Title agreed with partners",
    )
    session.commit()
    rows = session.execute(
        text("SELECT version, title FROM registration_version ORDER BY version")
    ).all()
    assert [tuple(r) for r in rows] == [
        (1, "Family group conferences before proceedings in Barnet"),
        (2, "FGC before proceedings (renamed)"),
    ]
