"""Tables of places: regions, local authorities and statistical neighbours."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from whatworks.core.db import Base


class Region(Base):
    """An English region (or Inner/Outer London, whose parent is London)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(String(9))


class LocalAuthority(Base):
    """A local authority with children's services duties, current or replaced."""

    __tablename__ = "local_authority"

    new_la_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    old_la_code: Mapped[str] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    current: Mapped[bool]
    first_period: Mapped[str] = mapped_column(String(8))
    last_period: Mapped[str] = mapped_column(String(8))
    replaced_by: Mapped[str | None] = mapped_column(String(9))


class StatisticalNeighbour(Base):
    """One of a local authority's ten DfE statistical neighbours in one model year."""

    __tablename__ = "statistical_neighbour"

    model: Mapped[str] = mapped_column(String(4), primary_key=True)  # "2021" or "2025"
    la_code: Mapped[str] = mapped_column(
        ForeignKey("local_authority.new_la_code"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(primary_key=True)
    neighbour_code: Mapped[str] = mapped_column(ForeignKey("local_authority.new_la_code"))
    closeness: Mapped[str] = mapped_column(String(20))
