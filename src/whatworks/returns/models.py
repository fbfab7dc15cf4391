"""The record of each import of a statutory return (the rows themselves are in Parquet)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatworks.core.db import Base, utcnow


class ReturnImport(Base):
    """One import of a council's SSDA903 or CIN census return for a collection year."""

    __tablename__ = "return_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_code: Mapped[str] = mapped_column(String(9), index=True)  # new LA code
    year: Mapped[int] = mapped_column(Integer)  # collection year ending 31 March
    family: Mapped[str] = mapped_column(String(10))  # "ssda903" or "cin"
    files: Mapped[str] = mapped_column(Text)  # JSON [{name, bytes, sha256, table}]
    rows: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer)
    rule_failures: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(120))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
