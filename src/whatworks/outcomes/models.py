"""Tables of published statistics: one row per imported file, one per published value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
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
