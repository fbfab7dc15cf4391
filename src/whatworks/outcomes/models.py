"""Tables of published statistics: one row per imported file, one per published value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatworks.core.db import Base, utcnow


class PublishedDataset(Base):
    """One imported file in the DfE 'explore education statistics' layout."""

    __tablename__ = "published_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    measures: Mapped[str] = mapped_column(Text)  # JSON list of measure columns
    filters: Mapped[str] = mapped_column(Text)  # JSON list of breakdown columns
    row_count: Mapped[int]
    value_count: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublishedValue(Base):
    """One published figure, or the symbol that stands in its place (c, x, z, k, low, u)."""

    __tablename__ = "published_value"
    __table_args__ = (
        Index("ix_published_value_lookup", "dataset_id", "measure", "old_la_code"),
        Index("ix_published_value_area", "dataset_id", "measure", "area_code"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("published_dataset.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    period: Mapped[str] = mapped_column(String(8))
    time_identifier: Mapped[str] = mapped_column(String(40))
    geographic_level: Mapped[str] = mapped_column(String(40))
    area_code: Mapped[str] = mapped_column(String(40))
    old_la_code: Mapped[str | None] = mapped_column(String(20))
    filters: Mapped[str] = mapped_column(Text)  # canonical JSON object of breakdown values
    measure: Mapped[str] = mapped_column(String(120))
    value: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(8))  # "value" or a DfE symbol
    raw: Mapped[str] = mapped_column(String(40))


class IndicatorChoice(Base):
    """A council's (or partnership's) choice about one indicator: headline, secondary or on
    the data development agenda, with its ratings on Friedman's three powers."""

    __tablename__ = "indicator_choice"
    __table_args__ = (
        UniqueConstraint("organisation_id", "indicator_id", name="uq_indicator_choice_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    indicator_id: Mapped[str] = mapped_column(String(80))
    tier: Mapped[str] = mapped_column(String(20))  # headline, secondary, development
    communication: Mapped[str] = mapped_column(String(1))  # H, M or L
    proxy: Mapped[str] = mapped_column(String(1))
    data: Mapped[str] = mapped_column(String(1))
    chosen_by: Mapped[str] = mapped_column(String(120))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndicatorTarget(Base):
    """A target a council sets for one of its indicators."""

    __tablename__ = "indicator_target"
    __table_args__ = (
        UniqueConstraint("organisation_id", "indicator_id", name="uq_indicator_target_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    indicator_id: Mapped[str] = mapped_column(String(80))
    value: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(120))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class CurvePlan(Base):
    """One version of a council's turn-the-curve plan for one indicator. Versions are never
    changed: each save adds a new version, so every earlier one stays readable."""

    __tablename__ = "curve_plan"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "indicator_id", "version", name="uq_curve_plan_version"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    la_code: Mapped[str] = mapped_column(String(9))
    indicator_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # draft or published
    frozen_on: Mapped[str | None] = mapped_column(String(10))  # ISO date the baseline froze
    method: Mapped[str] = mapped_column(String(60))  # e.g. "linear trend", "adjusted"
    forecast: Mapped[str] = mapped_column(Text)  # JSON [{period, value, lower, upper}]
    target: Mapped[float | None] = mapped_column(Float)
    story: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[str] = mapped_column(Text, default="")
    what_works: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{action, owner, ...}]
    reason: Mapped[str] = mapped_column(Text, default="")
    saved_by: Mapped[str] = mapped_column(String(120))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class PerformanceMeasure(Base):
    """A performance measure of a council's service or programme, in one of Friedman's
    quadrants: how much did we do, how well did we do it, is anyone better off."""

    __tablename__ = "performance_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    quadrant: Mapped[str] = mapped_column(String(20))  # how much, how well, better off
    kind: Mapped[str] = mapped_column(String(10))  # number or percent
    polarity: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeasureValue(Base):
    """One period's value of a performance measure (a count, or a percentage with the
    numerator and denominator it was worked out from)."""

    __tablename__ = "measure_value"
    __table_args__ = (UniqueConstraint("measure_id", "period", name="uq_measure_value_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("performance_measure.id"))
    period: Mapped[str] = mapped_column(String(10))  # 2025, 2025-03 or 2025-Q1
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    entered_by: Mapped[str] = mapped_column(String(120))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComputedValue(Base):
    """An indicator value a council computed from its own child-level returns, before (or
    beside) the DfE's publication: visible to that council only, with its provenance."""

    __tablename__ = "computed_value"
    __table_args__ = (
        UniqueConstraint("la_code", "indicator_id", "period", name="uq_computed_value_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    la_code: Mapped[str] = mapped_column(String(9), index=True)  # new LA code
    indicator_id: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(10))  # 2025 (year to 31 March) or an ISO date
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[int | None] = mapped_column(BigInteger)
    denominator: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # "value" or a symbol (x, z)
    source: Mapped[str] = mapped_column(String(40), default="computed from returns")
    provenance: Mapped[str] = mapped_column(Text)  # JSON: engine, returns and their files
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
