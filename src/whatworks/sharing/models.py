"""Tables of information sharing: partnerships and their member organisations, data-sharing
agreements and their signatories, agency datasets, linkage runs and clerical review
decisions.

Records themselves are not here. Each dataset's matching fields (names, date of birth,
postcode, address, UPN, NHS number) are kept, in clear, only in the partnership's own area
of the data folder, for the linkage step, and are deleted at the end of retention. The
analytics store holds each record pseudonymised: a keyed HMAC of the agency's record id,
year and month of birth, sex, postcode district and the agency's need codes (docs/sharing.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whatworks.core.db import Base, utcnow


class Partnership(Base):
    """A local safeguarding partnership (or any group of agencies) that shares data."""

    __tablename__ = "sharing_partnership"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    la_code: Mapped[str | None] = mapped_column(String(9))  # the council area it covers
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[PartnershipMember]] = relationship(
        back_populates="partnership", order_by="PartnershipMember.id"
    )
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="partnership", order_by="Agreement.id"
    )


class PartnershipMember(Base):
    """An organisation taking part in a partnership, as one kind of agency."""

    __tablename__ = "sharing_partnership_member"
    __table_args__ = (
        UniqueConstraint("partnership_id", "organisation_id", name="uq_sharing_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_partnership.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agency: Mapped[str] = mapped_column(String(20))  # council, school, health, police, other

    partnership: Mapped[Partnership] = relationship(back_populates="members")


class Agreement(Base):
    """A data-sharing agreement: who shares what, why, on which lawful basis, for how long.

    Linkage runs, and linked data is shown, only under an agreement that is in force: signed
    by every party, started and not ended, covering the datasets and the purpose."""

    __tablename__ = "sharing_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_partnership.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    lawful_basis: Mapped[str] = mapped_column(String(200))
    lawful_basis_detail: Mapped[str] = mapped_column(Text, default="")
    agencies: Mapped[str] = mapped_column(Text, default="[]")  # JSON: agencies whose data
    fields: Mapped[str] = mapped_column(Text, default="[]")  # JSON: standard fields shared
    retention_months: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft, active, ended
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partnership: Mapped[Partnership] = relationship(back_populates="agreements")
    signatories: Mapped[list[Signatory]] = relationship(
        back_populates="agreement", order_by="Signatory.id"
    )


class Signatory(Base):
    """A person who signed an agreement for one of the partnership's organisations."""

    __tablename__ = "sharing_signatory"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_agreement.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(120))

    agreement: Mapped[Agreement] = relationship(back_populates="signatories")


class AgencyDataset(Base):
    """One upload of an agency's records into a partnership, under an agreement."""

    __tablename__ = "sharing_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_partnership.id", ondelete="CASCADE"), index=True
    )
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    agency: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[str] = mapped_column(Text)  # JSON: standard field -> CSV column
    profile: Mapped[str] = mapped_column(Text)  # JSON: the data-quality profile
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    retain_until: Mapped[date] = mapped_column(Date)
    # "stored", then "identifiers deleted" at the end of retention
    status: Mapped[str] = mapped_column(String(24), default="stored")
    identifiers_deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class LinkRun(Base):
    """One linkage of a partnership's datasets, for a stated purpose, under an agreement.
    Its pairs and clusters are kept as Parquet in the partnership's own area."""

    __tablename__ = "sharing_link_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_partnership.id", ondelete="CASCADE"), index=True
    )
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"))
    purpose: Mapped[str] = mapped_column(Text)
    dataset_ids: Mapped[str] = mapped_column(Text)  # JSON list
    engine: Mapped[str] = mapped_column(String(10), default="duckdb")
    status: Mapped[str] = mapped_column(String(10), default="running")  # running, done, failed
    error: Mapped[str] = mapped_column(Text, default="")
    threshold: Mapped[float | None] = mapped_column(Float)
    estimated_precision: Mapped[float | None] = mapped_column(Float)
    estimated_recall: Mapped[float | None] = mapped_column(Float)
    pair_count: Mapped[int] = mapped_column(Integer, default=0)
    link_count: Mapped[int] = mapped_column(Integer, default=0)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    cluster_count: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    run_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ReviewDecision(Base):
    """A person's decision on an uncertain pair: the same child or not. Decisions are kept
    by record pseudonym, so they hold for later runs and later uploads of the same records."""

    __tablename__ = "sharing_review_decision"
    __table_args__ = (
        UniqueConstraint(
            "partnership_id", "left_record", "right_record", name="uq_sharing_review_pair"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_partnership.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("sharing_link_run.id"))
    left_record: Mapped[str] = mapped_column(String(40))  # record pseudonyms, ordered
    right_record: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(12))  # "match" or "not a match"
    probability: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
