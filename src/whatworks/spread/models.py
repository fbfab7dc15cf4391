"""Tables of spread: communities of practice (members, events, questions and answers) and
Learning Together practice reviews (systemic findings, their actions and the interventions
they point to).

The search index of `spread.search` is not a table here: it is rebuilt from the source
rows for each search (see docs/spread.md, "Ask a question").
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whatworks.core.db import Base, utcnow
from whatworks.core.models import User


class Community(Base):
    """A community of practice around an intervention or a theme: people from places that
    do it and places that want to learn it. `slug` is its readable address."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    theme: Mapped[str] = mapped_column(String(200), default="")
    intervention_id: Mapped[str | None] = mapped_column(ForeignKey("intervention.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[CommunityMember]] = relationship(
        order_by="CommunityMember.joined_at", viewonly=True
    )


class CommunityMember(Base):
    """A person who belongs to a community; only members post questions and answers."""

    __tablename__ = "community_member"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(viewonly=True)


class CommunityEvent(Base):
    """An open day, action learning set, site visit or online session, with its date and
    place: where tacit knowledge passes between people."""

    __tablename__ = "community_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    host: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityQuestion(Base):
    """A learner's question to the places that do it (the source sites), kept with its
    answers as searchable knowledge."""

    __tablename__ = "community_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    addressed_to: Mapped[str] = mapped_column(String(200), default="")  # a source site
    asked_by: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)

    answers: Mapped[list[CommunityAnswer]] = relationship(
        order_by="CommunityAnswer.id", viewonly=True
    )


class CommunityAnswer(Base):
    """An answer to a community question, by a member, often from a source site."""

    __tablename__ = "community_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("community_question.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    answered_by: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticeReview(Base):
    """A case or practice review done the Learning Together way: what happened is the
    start, the systemic findings (patterns in the system) are the point."""

    __tablename__ = "practice_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(60))  # see reviews.REVIEW_KINDS
    place: Mapped[str] = mapped_column(String(200), default="")
    la_code: Mapped[str | None] = mapped_column(String(9))  # new LA code of the place
    region: Mapped[str] = mapped_column(String(80), default="")  # region name, from la_code
    reviewed_on: Mapped[date] = mapped_column(Date)  # when the review was published
    organisation: Mapped[str] = mapped_column(String(200), default="")  # who commissioned it
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    findings: Mapped[list[ReviewFinding]] = relationship(order_by="ReviewFinding.id", viewonly=True)


class ReviewFinding(Base):
    """One systemic finding: the pattern in the system, which parts of the system it is
    about (the Learning Together typology, reviews.SYSTEM_PARTS) and the evidence for it."""

    __tablename__ = "review_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("practice_review.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    pattern: Mapped[str] = mapped_column(Text)
    system_parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actions: Mapped[list[FindingAction]] = relationship(order_by="FindingAction.id", viewonly=True)


class FindingIntervention(Base):
    """A finding linked to an intervention that answers the pattern it found."""

    __tablename__ = "finding_intervention"

    finding_id: Mapped[int] = mapped_column(ForeignKey("review_finding.id"), primary_key=True)
    intervention_id: Mapped[str] = mapped_column(ForeignKey("intervention.id"), primary_key=True)


class FindingAction(Base):
    """What a partner will do about a finding: who owns it, by when, and how it stands."""

    __tablename__ = "finding_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("review_finding.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # see reviews.ACTION_STATUSES
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
