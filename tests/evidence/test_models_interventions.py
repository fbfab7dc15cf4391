"""Interventions and projects: who may write them, what is checked, what is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent
from whatworks.evidence import interventions, projects


def test_slugs_are_readable() -> None:
    assert interventions.slugify("Family Valued (Leeds restorative practice + FGC)") == (
        "family-valued"
    )
    assert interventions.slugify("Doncaster Children's Services Trust") == (
        "doncaster-childrens-services-trust"
    )


def test_researchers_add_and_correct_interventions_with_an_audit(session, people) -> None:
    with pytest.raises(PermissionDenied):
        interventions.create_intervention(session, people.member, "Pause")
    pause = interventions.create_intervention(
        session,
        people.researcher,
        "Pause",
        unit_cost="1,234.5",
        cost_components=[
            {"item": "Practitioner", "amount": 1000},
            {"item": "Rent", "amount": 234.5},
        ],
        contacts=[{"name": "A Person", "email": "a@example.org"}],
        outcome_domains=["care entry"],
    )
    assert pause.id == "pause" and pause.unit_cost == Decimal("1234.50")
    with pytest.raises(WhatworksError, match="exists"):
        interventions.create_intervention(session, people.researcher, "Pause")
    with pytest.raises(WhatworksError, match="needs a name"):
        interventions.create_intervention(
            session, people.researcher, "Other", contacts=[{"email": "x@example.org"}]
        )
    with pytest.raises(WhatworksError, match="reason"):
        interventions.update_intervention(session, people.researcher, "pause", "", owner="x")
    interventions.update_intervention(
        session, people.researcher, "pause", "Owner confirmed", owner="Pause (charity)"
    )
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "change intervention")
    ).one()
    assert "Owner confirmed" in event.detail and "Pause (charity)" in event.detail
    with pytest.raises(NotFound):
        interventions.get_intervention(session, "no-such")


def test_projects_link_to_the_catalogue_and_rate_conditions_over_time(session, people) -> None:
    project = projects.create_project(
        session,
        people.member,
        "Our Pause practice",
        organisation_id=people.barnet.id,
        la_code="E09000003",
        target_outcomes=["cla_started_rate_per_10000"],
        start_date=date(2024, 4, 1),
        funding_amount="150000",
    )
    assert project.place == "Barnet" and project.status == "planned"
    with pytest.raises(NotFound):
        projects.create_project(
            session,
            people.member,
            "x",
            organisation_id=people.barnet.id,
            target_outcomes=["not_an_indicator"],
        )
    with pytest.raises(PermissionDenied):
        projects.update_project(session, people.outsider, project.id, status="running")
    projects.update_project(session, people.member, project.id, status="stopped", lessons="L")
    with pytest.raises(WhatworksError, match="six conditions"):
        projects.rate_condition(session, people.member, project.id, "luck", 3, date(2024, 5, 1))
    with pytest.raises(WhatworksError, match="1 to 5"):
        projects.rate_condition(
            session, people.member, project.id, "clear vision", 6, date(2024, 5, 1)
        )
    projects.rate_condition(session, people.member, project.id, "clear vision", 2, date(2024, 5, 1))
    projects.rate_condition(session, people.member, project.id, "clear vision", 4, date(2025, 5, 1))
    history = projects.condition_history(session, project.id)
    assert [r.rating for r in history] == [2, 4]
    assert projects.latest_conditions(session, project.id)["clear vision"].rating == 4
