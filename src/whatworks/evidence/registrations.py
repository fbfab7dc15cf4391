"""Pre-registered evaluation plans: frozen, time-stamped versions, and checkpoint reviews.

Registering stores version 1 of the plan. Nothing registered is changed in place: a change
is a new version with a stated reason (`amend`), and every version stays readable, so a
failure cannot be quietly dropped. Each version's SHA-256 covers its plan, its reason, its
time stamp and the previous version's hash; `verify` recomputes the chain. The ORM refuses
updates and deletes of registrations and versions (evidence/models.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whatworks.core.db import utcnow
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access
from whatworks.evidence.interventions import get_intervention
from whatworks.evidence.models import CheckpointReview, Registration, RegistrationVersion
from whatworks.evidence.projects import get_project

DECISIONS = ("continue", "adapt", "stop")


@dataclass(frozen=True)
class OutcomeMeasure:
    """An outcome the evaluation will report, and how it will be measured."""

    name: str
    measure: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name.strip(), "measure": self.measure.strip()}


@dataclass(frozen=True)
class Checkpoint:
    """A planned review: when, what will be looked at, and the rule for stopping."""

    on: date
    question: str
    stop_rule: str

    def as_dict(self) -> dict[str, str]:
        return {
            "on": self.on.isoformat(),
            "question": self.question.strip(),
            "stop_rule": self.stop_rule.strip(),
        }


@dataclass(frozen=True, kw_only=True)
class EvaluationPlan:
    """What a registration freezes. `maryland_level` is the Maryland Scientific Methods
    Scale (5 = randomised trial; 3 = a justified comparison group)."""

    title: str
    questions: tuple[str, ...]
    primary_outcomes: tuple[OutcomeMeasure, ...]
    design: str
    maryland_level: int
    planned_completion: date
    planned_report: date
    secondary_outcomes: tuple[OutcomeMeasure, ...] = ()
    planned_sample: int | None = None
    minimum_detectable_effect: str = ""
    analysis_plan: str = ""
    success_criteria: str = ""
    checkpoints: tuple[Checkpoint, ...] = field(default=())

    def problems(self) -> list[str]:
        """Everything that stops the plan being registered, each saying what to do."""
        found = []
        if not self.title.strip():
            found.append("give the evaluation a title")
        if not any(q.strip() for q in self.questions):
            found.append("state at least one question the evaluation answers")
        if not self.primary_outcomes:
            found.append("name at least one primary outcome with its measure")
        for kind, outcomes in (
            ("primary", self.primary_outcomes),
            ("secondary", self.secondary_outcomes),
        ):
            names = [o.name.strip().casefold() for o in outcomes]
            for o in outcomes:
                if not o.name.strip() or not o.measure.strip():
                    found.append(f"every {kind} outcome needs a name and a measure")
                    break
            if len(set(names)) < len(names):
                found.append(f"a {kind} outcome is named twice")
        if not self.design.strip():
            found.append("describe the design (e.g. cluster randomised trial)")
        if isinstance(self.maryland_level, bool) or self.maryland_level not in (1, 2, 3, 4, 5):
            found.append(f"Maryland level {self.maryland_level!r} must be a whole number 1-5")
        if self.planned_sample is not None and self.planned_sample < 1:
            found.append("the planned sample must be at least 1")
        if self.planned_report < self.planned_completion:
            found.append(
                f"the report date {self.planned_report} is before completion "
                f"{self.planned_completion}"
            )
        for n, checkpoint in enumerate(self.checkpoints, 1):
            if not checkpoint.question.strip() or not checkpoint.stop_rule.strip():
                found.append(f"checkpoint {n} needs what will be reviewed and a stop rule")
        return found

    def content(self) -> dict[str, Any]:
        """The plan as the stored, hashed record (plain JSON values)."""
        return {
            "title": self.title.strip(),
            "questions": [q.strip() for q in self.questions if q.strip()],
            "primary_outcomes": [o.as_dict() for o in self.primary_outcomes],
            "secondary_outcomes": [o.as_dict() for o in self.secondary_outcomes],
            "design": self.design.strip(),
            "maryland_level": self.maryland_level,
            "planned_sample": self.planned_sample,
            "minimum_detectable_effect": self.minimum_detectable_effect.strip(),
            "analysis_plan": self.analysis_plan.strip(),
            "success_criteria": self.success_criteria.strip(),
            "checkpoints": [c.as_dict() for c in self.checkpoints],
            "planned_completion": self.planned_completion.isoformat(),
            "planned_report": self.planned_report.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationPlan:
        """A plan from plain values (a form or JSON): outcomes as {name, measure}, dates as
        ISO strings or dates, checkpoints as {on, question, stop_rule}."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise WhatworksError(f"{', '.join(unknown)} is not part of an evaluation plan.")
        try:
            return cls(
                title=str(data.get("title", "")),
                questions=tuple(str(q) for q in data.get("questions", ())),
                primary_outcomes=_outcomes(data.get("primary_outcomes", ())),
                secondary_outcomes=_outcomes(data.get("secondary_outcomes", ())),
                design=str(data.get("design", "")),
                maryland_level=int(data.get("maryland_level", 0)),
                planned_sample=(
                    None
                    if data.get("planned_sample") in (None, "")
                    else int(data["planned_sample"])
                ),
                minimum_detectable_effect=str(data.get("minimum_detectable_effect", "")),
                analysis_plan=str(data.get("analysis_plan", "")),
                success_criteria=str(data.get("success_criteria", "")),
                checkpoints=tuple(
                    Checkpoint(_date(c.get("on"), "checkpoint date"), c["question"], c["stop_rule"])
                    for c in data.get("checkpoints", ())
                ),
                planned_completion=_date(data.get("planned_completion"), "planned completion"),
                planned_report=_date(data.get("planned_report"), "planned report date"),
            )
        except (KeyError, TypeError, ValueError) as problem:
            raise WhatworksError(f"The evaluation plan could not be read: {problem}.") from None

    @classmethod
    def of(cls, version: RegistrationVersion) -> EvaluationPlan:
        """The plan a stored version holds."""
        return cls.from_dict(_stored_content(version))


def _outcomes(items: Any) -> tuple[OutcomeMeasure, ...]:
    found = []
    for item in items:
        if isinstance(item, OutcomeMeasure):
            found.append(item)
        else:
            found.append(OutcomeMeasure(str(item["name"]), str(item.get("measure", ""))))
    return tuple(found)


def _date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a date like 2026-03-31") from None


def _stored_content(version: RegistrationVersion) -> dict[str, Any]:
    return {
        "title": version.title,
        "questions": list(version.questions),
        "primary_outcomes": list(version.primary_outcomes),
        "secondary_outcomes": list(version.secondary_outcomes),
        "design": version.design,
        "maryland_level": version.maryland_level,
        "planned_sample": version.planned_sample,
        "minimum_detectable_effect": version.minimum_detectable_effect,
        "analysis_plan": version.analysis_plan,
        "success_criteria": version.success_criteria,
        "checkpoints": list(version.checkpoints),
        "planned_completion": version.planned_completion.isoformat(),
        "planned_report": version.planned_report.isoformat(),
    }


def content_hash(
    registration_id: int,
    version: int,
    content: Mapping[str, Any],
    reason: str,
    registered_at: datetime,
    previous: str,
) -> str:
    """SHA-256 of a version's canonical JSON (sorted keys, no spaces) and the previous hash."""
    record = {
        "registration": registration_id,
        "version": version,
        "plan": content,
        "reason": reason,
        "registered_at": registered_at.isoformat(),
        "previous": previous,
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _store_version(
    session: Session,
    registration: Registration,
    number: int,
    plan: EvaluationPlan,
    reason: str,
    by: str,
    previous: str,
) -> RegistrationVersion:
    content = plan.content()
    at = utcnow()
    version = RegistrationVersion(
        registration_id=registration.id,
        version=number,
        title=content["title"],
        questions=content["questions"],
        primary_outcomes=content["primary_outcomes"],
        secondary_outcomes=content["secondary_outcomes"],
        design=content["design"],
        maryland_level=content["maryland_level"],
        planned_sample=content["planned_sample"],
        minimum_detectable_effect=content["minimum_detectable_effect"],
        analysis_plan=content["analysis_plan"],
        success_criteria=content["success_criteria"],
        checkpoints=content["checkpoints"],
        planned_completion=plan.planned_completion,
        planned_report=plan.planned_report,
        reason=reason,
        registered_by=by,
        registered_at=at,
        content_sha256=content_hash(registration.id, number, content, reason, at, previous),
    )
    session.add(version)
    session.flush()
    return version


def _check(plan: EvaluationPlan) -> None:
    problems = plan.problems()
    if problems:
        raise WhatworksError("The plan was not registered: " + "; ".join(problems) + ".")


def register(
    session: Session,
    author: access.Author,
    plan: EvaluationPlan,
    *,
    project_id: int | None = None,
    intervention_id: str | None = None,
    organisation_id: int | None = None,
    funder: str | None = None,
    is_demo: bool = False,
    seed_key: str | None = None,
) -> RegistrationVersion:
    """Register an evaluation of a project (or of an intervention): version 1, frozen now.

    The organisation, intervention and funder default to the project's.
    """
    if project_id is None and intervention_id is None:
        raise WhatworksError("Say which project or intervention the evaluation is of.")
    if project_id is not None:
        project = get_project(session, project_id)
        organisation_id = (
            organisation_id if organisation_id is not None else project.organisation_id
        )
        intervention_id = intervention_id or project.intervention_id
        funder = project.funder if funder is None else funder
    if intervention_id is not None:
        get_intervention(session, intervention_id)
    actor = access.require_member(author, organisation_id, "register an evaluation")
    _check(plan)
    registration = Registration(
        project_id=project_id,
        intervention_id=intervention_id,
        organisation_id=organisation_id,
        funder=(funder or "").strip(),
        is_demo=is_demo,
        seed_key=seed_key,
        created_by=actor.username,
    )
    session.add(registration)
    session.flush()
    version = _store_version(session, registration, 1, plan, "", actor.username, "")
    access.record(
        session,
        actor,
        "register evaluation",
        f"registration:{registration.id}:v1",
        sha256=version.content_sha256,
        title=version.title,
    )
    return version


def amend(
    session: Session,
    author: access.Author,
    registration_id: int,
    plan: EvaluationPlan,
    reason: str,
) -> RegistrationVersion:
    """Register a changed plan as the next version; the reason is required and kept."""
    registration = get_registration(session, registration_id)
    actor = access.require_member(author, registration.organisation_id, "change this plan")
    if not reason.strip():
        raise WhatworksError(
            "A registered plan is never changed in place: a new version needs a reason for "
            "the change. Say why the plan changes."
        )
    _check(plan)
    latest = latest_version(session, registration_id)
    if plan.content() == _stored_content(latest):
        raise WhatworksError(
            f"The plan is the same as version {latest.version}; nothing to register."
        )
    version = _store_version(
        session,
        registration,
        latest.version + 1,
        plan,
        reason.strip(),
        actor.username,
        latest.content_sha256,
    )
    access.record(
        session,
        actor,
        "amend registration",
        f"registration:{registration.id}:v{version.version}",
        reason=reason.strip(),
        changed=sorted(changes(latest, version)),
        sha256=version.content_sha256,
    )
    return version


def get_registration(session: Session, registration_id: int) -> Registration:
    """The registration with `registration_id`, or NotFound."""
    found = session.get(Registration, registration_id)
    if found is None:
        raise NotFound(f"No registered evaluation has the number {registration_id}.")
    return found


def versions(session: Session, registration_id: int) -> list[RegistrationVersion]:
    """Every version of a registration, the original first."""
    return list(
        session.scalars(
            select(RegistrationVersion)
            .where(RegistrationVersion.registration_id == registration_id)
            .order_by(RegistrationVersion.version)
        )
    )


def latest_version(session: Session, registration_id: int) -> RegistrationVersion:
    """The current version of a registration's plan."""
    found = session.scalar(
        select(RegistrationVersion)
        .where(RegistrationVersion.registration_id == registration_id)
        .order_by(RegistrationVersion.version.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(f"No registered evaluation has the number {registration_id}.")
    return found


def list_registrations(
    session: Session,
    *,
    project_id: int | None = None,
    intervention_id: str | None = None,
    organisation_id: int | None = None,
) -> list[Registration]:
    """Registrations, oldest first, optionally of one project, intervention or organisation."""
    query = select(Registration).order_by(Registration.id)
    if project_id is not None:
        query = query.where(Registration.project_id == project_id)
    if intervention_id is not None:
        query = query.where(Registration.intervention_id == intervention_id)
    if organisation_id is not None:
        query = query.where(Registration.organisation_id == organisation_id)
    return list(session.scalars(query))


def version_count(session: Session, registration_id: int) -> int:
    """How many versions a registration has."""
    return (
        session.scalar(
            select(func.count()).where(RegistrationVersion.registration_id == registration_id)
        )
        or 0
    )


def changes(older: RegistrationVersion, newer: RegistrationVersion) -> dict[str, tuple[Any, Any]]:
    """Which parts of the plan differ between two versions: {field: (old, new)}."""
    before, after = _stored_content(older), _stored_content(newer)
    return {key: (before[key], after[key]) for key in before if before[key] != after[key]}


def verify(session: Session, registration_id: int) -> list[str]:
    """Recompute every version's hash; a non-empty list names each version that no longer
    matches what was registered (changed behind the application)."""
    problems = []
    previous = ""
    for version in versions(session, registration_id):
        expected = content_hash(
            registration_id,
            version.version,
            _stored_content(version),
            version.reason,
            version.registered_at,
            previous,
        )
        if expected != version.content_sha256:
            problems.append(
                f"Version {version.version} of registration {registration_id} does not match "
                "its registered hash: it was changed after registration."
            )
        previous = version.content_sha256
    return problems


def review_checkpoint(
    session: Session,
    author: access.Author,
    registration_id: int,
    reviewed_on: date,
    decision: str,
    learned: str,
) -> CheckpointReview:
    """Record a checkpoint review: continue, adapt or stop, and what was learned."""
    registration = get_registration(session, registration_id)
    actor = access.require_member(author, registration.organisation_id, "review this evaluation")
    if decision not in DECISIONS:
        raise WhatworksError(
            f"The decision must be one of {', '.join(DECISIONS)}, not {decision!r}."
        )
    if not learned.strip():
        raise WhatworksError(
            "Say what was learned at this review: a decision to stop is learning too."
        )
    if not isinstance(reviewed_on, date):
        raise WhatworksError("The review needs the date it took place.")
    review = CheckpointReview(
        registration_id=registration.id,
        reviewed_on=reviewed_on,
        decision=decision,
        learned=learned.strip(),
        reviewed_by=actor.username,
    )
    session.add(review)
    session.flush()
    access.record(
        session,
        actor,
        "review checkpoint",
        f"registration:{registration.id}",
        decision=decision,
        reviewed_on=reviewed_on,
    )
    return review


def reviews(session: Session, registration_id: int) -> list[CheckpointReview]:
    """A registration's checkpoint reviews, oldest first."""
    return list(
        session.scalars(
            select(CheckpointReview)
            .where(CheckpointReview.registration_id == registration_id)
            .order_by(CheckpointReview.reviewed_on, CheckpointReview.id)
        )
    )


def primary_outcome_names(version: RegistrationVersion) -> list[str]:
    """The registered primary outcomes' names, as registered."""
    return [o["name"] for o in version.primary_outcomes]
