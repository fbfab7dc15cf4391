"""What a council decides about its outcomes: which indicators are headline, secondary or
on the data development agenda, its targets, and its turn-the-curve plans (versioned).

Every change is written to the audit log. Reading a draft plan is for members of the
council's own organisation only; published plans are open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.outcomes.catalogue import Indicator, catalogue, default_headline, indicator
from whatworks.outcomes.models import CurvePlan, IndicatorChoice, IndicatorTarget

TIERS = ("headline", "secondary", "development")
RATINGS = ("H", "M", "L")
PLAN_STATUSES = ("draft", "published")
ACTION_STATUSES = ("not started", "in progress", "done", "stopped")
MAX_HEADLINE = 4
MAX_ACTIONS = 20


@dataclass(frozen=True)
class IndicatorLists:
    """The three-part list: headline, secondary, and the data development agenda."""

    headline: tuple[Indicator, ...]
    secondary: tuple[Indicator, ...]
    development: tuple[Indicator, ...]
    chosen: bool  # False while the council uses the default


def council_of(session: Session, la_code: str) -> Organisation | None:
    """The organisation of the council for a local authority, if it has one here."""
    return session.scalar(
        select(Organisation).where(Organisation.la_code == la_code, Organisation.kind == "council")
    )


def may_edit(user: User | None, la_code: str) -> bool:
    """Members of a council's own organisation (and administrators) may edit its plans."""
    if user is None:
        return False
    if user.role == "admin":
        return True
    return user.organisation is not None and user.organisation.la_code == la_code


def _require(user: User | None, la_code: str) -> User:
    if user is None or not may_edit(user, la_code):
        raise PermissionDenied(
            "Only members of this council's own organisation can change its outcomes plans."
        )
    return user


def lists(session: Session, organisation: Organisation | None) -> IndicatorLists:
    """The council's chosen lists, or the default (headline from the catalogue)."""
    rows = (
        list(
            session.scalars(
                select(IndicatorChoice).where(IndicatorChoice.organisation_id == organisation.id)
            )
        )
        if organisation
        else []
    )
    if not rows:
        headline = default_headline()
        return IndicatorLists(
            headline, tuple(i for i in catalogue() if i not in headline), (), chosen=False
        )
    by_tier: dict[str, list[Indicator]] = {tier: [] for tier in TIERS}
    order = {item.id: n for n, item in enumerate(catalogue())}
    for row in sorted(rows, key=lambda r: order.get(r.indicator_id, 999)):
        by_tier[row.tier].append(indicator(row.indicator_id))
    return IndicatorLists(
        tuple(by_tier["headline"]),
        tuple(by_tier["secondary"]),
        tuple(by_tier["development"]),
        chosen=True,
    )


def ratings(session: Session, organisation: Organisation | None) -> dict[str, IndicatorChoice]:
    """The council's ratings and tiers by indicator id."""
    if organisation is None:
        return {}
    return {
        row.indicator_id: row
        for row in session.scalars(
            select(IndicatorChoice).where(IndicatorChoice.organisation_id == organisation.id)
        )
    }


def choose(
    session: Session, user: User | None, la_code: str, chosen: dict[str, dict[str, str]]
) -> None:
    """Replace the council's lists: {indicator id: {tier, communication, proxy, data}}."""
    editor = _require(user, la_code)
    organisation = council_of(session, la_code)
    if organisation is None:
        raise WhatworksError(f"No council organisation is registered for {la_code}.")
    problems = []
    for indicator_id, choice in chosen.items():
        indicator(indicator_id)
        if choice.get("tier") not in TIERS:
            problems.append(f"{indicator_id}: choose headline, secondary or development")
        for power in ("communication", "proxy", "data"):
            if choice.get(power) not in RATINGS:
                problems.append(f"{indicator_id}: rate its {power} power H, M or L")
    headline = [i for i, c in chosen.items() if c.get("tier") == "headline"]
    if not 1 <= len(headline) <= MAX_HEADLINE:
        problems.append(
            f"choose between 1 and {MAX_HEADLINE} headline indicators (you chose {len(headline)})"
        )
    if problems:
        raise WhatworksError("The choices were not saved: " + "; ".join(problems) + ".")
    for row in session.scalars(
        select(IndicatorChoice).where(IndicatorChoice.organisation_id == organisation.id)
    ):
        session.delete(row)
    session.flush()
    for indicator_id, choice in chosen.items():
        session.add(
            IndicatorChoice(
                organisation_id=organisation.id,
                indicator_id=indicator_id,
                tier=choice["tier"],
                communication=choice["communication"],
                proxy=choice["proxy"],
                data=choice["data"],
                chosen_by=editor.username,
            )
        )
    audit.record(
        session,
        audit.Actor.of(editor),
        "choose indicators",
        f"council:{la_code}",
        "choosing headline indicators",
        headline=headline,
    )


def targets(session: Session, organisation: Organisation | None) -> dict[str, float]:
    """The council's targets by indicator id."""
    if organisation is None:
        return {}
    return {
        row.indicator_id: row.value
        for row in session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.organisation_id == organisation.id)
        )
    }


def set_target(
    session: Session, user: User | None, la_code: str, indicator_id: str, value: float | None
) -> None:
    """Set (or with None, remove) the council's target for one indicator."""
    editor = _require(user, la_code)
    organisation = council_of(session, la_code)
    if organisation is None:
        raise WhatworksError(f"No council organisation is registered for {la_code}.")
    indicator(indicator_id)
    found = session.scalar(
        select(IndicatorTarget).where(
            IndicatorTarget.organisation_id == organisation.id,
            IndicatorTarget.indicator_id == indicator_id,
        )
    )
    if value is None:
        if found is not None:
            session.delete(found)
    elif found is None:
        session.add(
            IndicatorTarget(
                organisation_id=organisation.id,
                indicator_id=indicator_id,
                value=value,
                set_by=editor.username,
            )
        )
    else:
        found.value, found.set_by = value, editor.username
    audit.record(
        session,
        audit.Actor.of(editor),
        "set target",
        f"council:{la_code}:{indicator_id}",
        "target setting",
        value=value,
    )


def save_plan(
    session: Session,
    user: User | None,
    la_code: str,
    indicator_id: str,
    *,
    status: str,
    method: str,
    forecast: list[dict[str, Any]],
    frozen_on: str | None,
    target: float | None,
    story: str,
    partners: str,
    what_works: str,
    actions: list[dict[str, str]],
    reason: str,
) -> CurvePlan:
    """Save a new version of the council's plan for one indicator; earlier ones stay."""
    editor = _require(user, la_code)
    organisation = council_of(session, la_code)
    if organisation is None:
        raise WhatworksError(f"No council organisation is registered for {la_code}.")
    indicator(indicator_id)
    if status not in PLAN_STATUSES:
        raise WhatworksError(f"Plan status must be draft or published, not {status!r}.")
    for action in actions:
        if not action.get("action", "").strip():
            raise WhatworksError("Every action needs a description.")
        if action.get("status", "not started") not in ACTION_STATUSES:
            raise WhatworksError(f"Action status must be one of {', '.join(ACTION_STATUSES)}.")
    version = (
        session.scalar(
            select(func.max(CurvePlan.version)).where(
                CurvePlan.organisation_id == organisation.id,
                CurvePlan.indicator_id == indicator_id,
            )
        )
        or 0
    ) + 1
    plan = CurvePlan(
        organisation_id=organisation.id,
        la_code=la_code,
        indicator_id=indicator_id,
        version=version,
        status=status,
        frozen_on=frozen_on,
        method=method,
        forecast=json.dumps(forecast),
        target=target,
        story=story,
        partners=partners,
        what_works=what_works,
        actions=json.dumps(actions),
        reason=reason,
        saved_by=editor.username,
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        audit.Actor.of(editor),
        "save curve plan",
        f"council:{la_code}:{indicator_id}:v{version}",
        "turning the curve",
        status=status,
    )
    return plan


def plans(session: Session, la_code: str, indicator_id: str, user: User | None) -> list[CurvePlan]:
    """Every version the viewer may see, newest first: drafts only for the council's members."""
    query = (
        select(CurvePlan)
        .where(CurvePlan.la_code == la_code, CurvePlan.indicator_id == indicator_id)
        .order_by(CurvePlan.version.desc())
    )
    if not may_edit(user, la_code):
        query = query.where(CurvePlan.status == "published")
    return list(session.scalars(query))
