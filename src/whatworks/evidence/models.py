"""Tables of the evidence hub: interventions, projects and their conditions for success,
pre-registered evaluations (frozen versions), studies and their results, checkpoint
reviews, recommendation overrides, and the economic case and savings claims of an
intervention.

Registrations and their versions are append-only: the ORM refuses to change or delete a
row once it is stored, as the audit log does (see `_refuse_change` below). A change to an
evaluation plan is a new version with its reason (`evidence.registrations.amend`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whatworks.core.db import Base, utcnow
from whatworks.core.errors import PermissionDenied


class Intervention(Base):
    """A model of practice (Pause, Mockingbird, Family Group Conferencing...), described
    once, whoever implements it. `id` is a readable slug used in addresses."""

    __tablename__ = "intervention"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    core_components: Mapped[str] = mapped_column(Text, default="")  # what must stay the same
    target_population: Mapped[str] = mapped_column(Text, default="")
    outcome_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # £ per child
    cost_components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cost_basis: Mapped[str] = mapped_column(Text, default="")  # where the unit cost comes from
    benefit_cost_ratio: Mapped[float | None] = mapped_column(Float)
    benefit_cost_basis: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    evaluator: Mapped[str] = mapped_column(Text, default="")
    adopters: Mapped[str] = mapped_column(Text, default="")  # as published, with years
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(Base):
    """One organisation's implementation of an intervention, or a new idea (no intervention)."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    intervention_id: Mapped[str | None] = mapped_column(ForeignKey("intervention.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    la_code: Mapped[str | None] = mapped_column(String(9))  # new LA code of the place
    place: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    funder: Mapped[str] = mapped_column(String(200), default="")
    funding_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # £
    status: Mapped[str | None] = mapped_column(String(20))  # planned/running/ended/stopped
    vision: Mapped[str] = mapped_column(Text, default="")
    target_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)  # indicator ids
    lessons: Mapped[str] = mapped_column(Text, default="")
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConditionRating(Base):
    """One rating (1-5) of one of the six conditions for success of a project, on a date.
    Ratings accumulate: the history shows how the conditions changed over time."""

    __tablename__ = "condition_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    condition: Mapped[str] = mapped_column(String(60))
    rating: Mapped[int] = mapped_column(Integer)
    rated_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Registration(Base):
    """A pre-registered evaluation of a project or an intervention: what it links to. Its
    plan is in its versions; neither the registration nor a version is ever changed."""

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    intervention_id: Mapped[str | None] = mapped_column(ForeignKey("intervention.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    funder: Mapped[str] = mapped_column(String(200), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[RegistrationVersion]] = relationship(
        order_by="RegistrationVersion.version", viewonly=True
    )


class RegistrationVersion(Base):
    """One frozen, time-stamped version of an evaluation plan. Version 1 is the original;
    each later version gives the reason for the change. `content_sha256` hashes the plan
    and the previous version's hash, so a change made behind the application shows."""

    __tablename__ = "registration_version"
    __table_args__ = (
        UniqueConstraint("registration_id", "version", name="uq_registration_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary_outcomes: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{name, measure}]
    secondary_outcomes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    design: Mapped[str] = mapped_column(Text)
    maryland_level: Mapped[int] = mapped_column(Integer)
    planned_sample: Mapped[int | None] = mapped_column(Integer)
    minimum_detectable_effect: Mapped[str] = mapped_column(String(200), default="")
    analysis_plan: Mapped[str] = mapped_column(Text, default="")
    success_criteria: Mapped[str] = mapped_column(Text, default="")
    checkpoints: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    planned_completion: Mapped[date] = mapped_column(Date)
    planned_report: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")  # empty only for version 1
    registered_by: Mapped[str] = mapped_column(String(120))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_sha256: Mapped[str] = mapped_column(String(64))

    registration: Mapped[Registration] = relationship(viewonly=True)


class CheckpointReview(Base):
    """A review at a checkpoint of a registered evaluation: continue, adapt or stop, and
    what was learned, so a small, safe failure is kept as learning."""

    __tablename__ = "checkpoint_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    reviewed_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(20))  # continue, adapt, stop
    learned: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Study(Base):
    """A report of results: a published evaluation, or the results of a registration."""

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[str | None] = mapped_column(ForeignKey("intervention.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer)
    year_reported: Mapped[str] = mapped_column(String(120), default="")  # as published
    reported_on: Mapped[date | None] = mapped_column(Date)  # when results were made public
    design: Mapped[str] = mapped_column(Text)
    maryland_level: Mapped[int] = mapped_column(Integer)
    risk_of_bias: Mapped[str | None] = mapped_column(String(20))  # None: not assessed
    independent: Mapped[bool | None] = mapped_column(Boolean)  # None: not known
    sample_size: Mapped[int | None] = mapped_column(Integer)
    sample_reported: Mapped[str] = mapped_column(Text, default="")  # as published
    follow_up_months: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[str] = mapped_column(String(20), default="high")  # high, medium, low
    caveats: Mapped[str] = mapped_column(Text, default="")
    cost_or_savings: Mapped[str] = mapped_column(Text, default="")  # as published
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    entered_by: Mapped[str] = mapped_column(String(120))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    results: Mapped[list[StudyResult]] = relationship(
        back_populates="study", order_by="StudyResult.id", cascade="all, delete-orphan"
    )


class StudyResult(Base):
    """One study's result on one outcome: direction, significance, the text as published
    and, where there is one, an effect `yi` with variance `vi` on a stated metric."""

    __tablename__ = "study_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    outcome: Mapped[str] = mapped_column(Text)
    outcome_domain: Mapped[str] = mapped_column(String(120), default="")
    measure_text: Mapped[str] = mapped_column(Text, default="")  # how it was measured
    direction: Mapped[str | None] = mapped_column(String(20))  # None: the source did not say
    significant: Mapped[bool | None] = mapped_column(Boolean)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    metric: Mapped[str | None] = mapped_column(String(10))  # RR, OR, RD, SMD, MD, GEN
    yi: Mapped[float | None] = mapped_column(Float)
    vi: Mapped[float | None] = mapped_column(Float)
    conversion: Mapped[str] = mapped_column(Text, default="")  # how yi and vi were obtained
    raw_inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reported: Mapped[str] = mapped_column(Text, default="")  # the result exactly as published
    effect_reported: Mapped[str] = mapped_column(Text, default="")  # effect size as published
    source: Mapped[str] = mapped_column(Text, default="")  # where this result was read
    confidence: Mapped[str | None] = mapped_column(String(20))
    caveats: Mapped[str] = mapped_column(Text, default="")

    study: Mapped[Study] = relationship(back_populates="results")


class RecommendationOverride(Base):
    """A researcher's decision to replace the derived recommendation for one outcome of an
    intervention, with the reason. Rows accumulate; the newest applies. A row without a
    wording withdraws the override, so the derived recommendation stands again."""

    __tablename__ = "recommendation_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[str] = mapped_column(ForeignKey("intervention.id"), index=True)
    outcome: Mapped[str] = mapped_column(Text)
    wording: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class EconomicCase(Base):
    """What an intervention's benefits are worth, per child, to turn its pooled effect on
    one outcome into a net present value (docs/methods/economics.md, "On the intervention
    page"). One per intervention; a researcher corrects it in place, audited."""

    __tablename__ = "economic_case"

    intervention_id: Mapped[str] = mapped_column(ForeignKey("intervention.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(Text)  # the hub's outcome (domain or name)
    direction: Mapped[str] = mapped_column(String(10))  # "avoided" or "gained"
    value_unit: Mapped[str] = mapped_column(Text)  # e.g. "child who does not enter care"
    value_per_unit: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # £ a year per unit
    value_source: Mapped[str] = mapped_column(Text)
    baseline: Mapped[float | None] = mapped_column(Float)  # risk without it, 0 to 1
    baseline_source: Mapped[str] = mapped_column(Text, default="")
    horizon_years: Mapped[int] = mapped_column(Integer)
    cost_per_child: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # None: unit cost
    cost_uncertainty: Mapped[float] = mapped_column(Float)  # half-width, 0.10 is ±10%
    discount_rate: Mapped[float] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClaimedSaving(Base):
    """A savings claim as reported (`economics.SavingsClaim`): amount, basis, source, year.
    Shown beside the benefit-cost result, never fed into it."""

    __tablename__ = "claimed_saving"

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[str] = mapped_column(ForeignKey("intervention.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # £
    basis: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by: Mapped[str] = mapped_column(String(120))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


def _refuse_change(_mapper: Any, _connection: Any, target: Any) -> None:
    raise PermissionDenied(
        f"{type(target).__name__} {target.id} is frozen: a registered evaluation plan cannot "
        "be changed or deleted. Register a new version with the reason for the change."
    )


def _refuse_history_change(_mapper: Any, _connection: Any, target: Any) -> None:
    raise PermissionDenied(
        f"{type(target).__name__} {target.id} is part of the record and cannot be changed or "
        "deleted; add a new entry instead."
    )


for _frozen in (Registration, RegistrationVersion):
    event.listen(_frozen, "before_update", _refuse_change)
    event.listen(_frozen, "before_delete", _refuse_change)
for _history in (CheckpointReview, ConditionRating, RecommendationOverride):
    event.listen(_history, "before_update", _refuse_history_change)
    event.listen(_history, "before_delete", _refuse_history_change)
