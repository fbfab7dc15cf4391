"""A council's choices, targets and versioned turn-the-curve plans, with access and audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent
from whatworks.outcomes import plans

BARNET = "E09000003"
PASSWORD = "a long test password"


@pytest.fixture
def people(session):
    barnet = get_or_create_organisation(session, "Barnet Council", "council", BARNET)
    leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
    return {
        "barnet": create_user(session, "b", PASSWORD, "member", organisation=barnet),
        "leeds": create_user(session, "l", PASSWORD, "analyst", organisation=leeds),
        "admin": create_user(session, "a", PASSWORD, "admin"),
    }


def rated(tier: str) -> dict[str, str]:
    return {"tier": tier, "communication": "H", "proxy": "M", "data": "H"}


def test_default_lists_until_a_council_chooses(session, people) -> None:
    council = plans.council_of(session, BARNET)
    default = plans.lists(session, council)
    assert not default.chosen and len(default.headline) == 4
    plans.choose(
        session,
        people["barnet"],
        BARNET,
        {
            "rereferral_percent": rated("headline"),
            "cpp_subsequent_percent": rated("headline"),
            "sdq_average_score": rated("secondary"),
            "substance_misuse_percent": rated("development"),
        },
    )
    chosen = plans.lists(session, council)
    assert chosen.chosen
    assert [i.id for i in chosen.headline] == ["rereferral_percent", "cpp_subsequent_percent"]
    assert [i.id for i in chosen.secondary] == ["sdq_average_score"]
    assert [i.id for i in chosen.development] == ["substance_misuse_percent"]
    assert plans.ratings(session, council)["sdq_average_score"].proxy == "M"
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "choose indicators" in actions


def test_choices_are_checked(session, people) -> None:
    with pytest.raises(WhatworksError, match="between 1 and 4 headline"):
        plans.choose(
            session,
            people["barnet"],
            BARNET,
            {
                i: rated("headline")
                for i in (
                    "cla_count",
                    "cla_started",
                    "referrals",
                    "cin_at_31_march",
                    "cpp_at_31_march",
                )
            },
        )
    with pytest.raises(WhatworksError, match="rate its proxy power"):
        plans.choose(
            session,
            people["barnet"],
            BARNET,
            {"referrals": {"tier": "headline", "communication": "H", "proxy": "X", "data": "H"}},
        )


def test_only_the_council_itself_may_change_its_plans(session, people) -> None:
    with pytest.raises(PermissionDenied):
        plans.set_target(session, people["leeds"], BARNET, "rereferral_percent", 12.0)
    with pytest.raises(PermissionDenied):
        plans.set_target(session, None, BARNET, "rereferral_percent", 12.0)
    plans.set_target(session, people["admin"], BARNET, "rereferral_percent", 12.0)
    plans.set_target(session, people["barnet"], BARNET, "rereferral_percent", 13.5)
    council = plans.council_of(session, BARNET)
    assert plans.targets(session, council) == {"rereferral_percent": 13.5}
    plans.set_target(session, people["barnet"], BARNET, "rereferral_percent", None)
    assert plans.targets(session, council) == {}


def save(session, user, status: str, story: str):
    return plans.save_plan(
        session,
        user,
        BARNET,
        "rereferral_percent",
        status=status,
        method="linear trend",
        forecast=[{"period": "2026", "value": 14.0, "lower": 12.0, "upper": 16.0}],
        frozen_on="2026-11-22",
        target=12.0,
        story=story,
        partners="Police, schools",
        what_works="Family group conferences",
        actions=[
            {
                "action": "Audit re-referrals",
                "owner": "Head of service",
                "start": "2026-12-01",
                "due": "2027-03-31",
                "status": "not started",
            }
        ],
        reason="first plan",
    )


def test_plans_are_versioned_and_drafts_are_private(session, people) -> None:
    first = save(session, people["barnet"], "published", "Why the curve looks like this")
    second = save(session, people["barnet"], "draft", "A rewrite in progress")
    assert (first.version, second.version) == (1, 2)
    own = plans.plans(session, BARNET, "rereferral_percent", people["barnet"])
    assert [p.version for p in own] == [2, 1]
    public = plans.plans(session, BARNET, "rereferral_percent", None)
    assert [p.version for p in public] == [1]
    other = plans.plans(session, BARNET, "rereferral_percent", people["leeds"])
    assert [p.story for p in other] == ["Why the curve looks like this"]


def test_plan_actions_are_checked(session, people) -> None:
    with pytest.raises(WhatworksError, match="Action status"):
        plans.save_plan(
            session,
            people["barnet"],
            BARNET,
            "rereferral_percent",
            status="draft",
            method="linear trend",
            forecast=[],
            frozen_on=None,
            target=None,
            story="",
            partners="",
            what_works="",
            actions=[{"action": "x", "status": "someday"}],
            reason="",
        )
