"""Tables of surveys: the survey and its chosen questions, respondent groups with one-time
access codes (kept only as hashes), and anonymous responses with their answers.

Anonymous by design: a response holds its survey, the date it was given and its answers,
and nothing else: no user, no address, no time of day, and no link to the code that
opened it (docs/voice.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whatworks.core.db import Base, utcnow


class Survey(Base):
    """One round of a council's survey for one audience, built from the question bank."""

    __tablename__ = "voice_survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(40))  # children in care, care leavers, ...
    round_label: Mapped[str] = mapped_column(String(80))  # e.g. "Spring 2025"
    period: Mapped[str] = mapped_column(String(10))  # 2025, 2025-03 or 2025-Q1
    status: Mapped[str] = mapped_column(String(10), default="open")  # open or closed
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position"
    )


class SurveyQuestion(Base):
    """A question chosen from the bank, copied as it was asked so results stay readable
    if the bank changes."""

    __tablename__ = "voice_survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("voice_survey.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(80))  # its id in the bank
    theme: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # scale or text
    answers: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, in order
    positive: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the good answers

    survey: Mapped[Survey] = relationship(back_populates="questions")


class RespondentGroup(Base):
    """A group the council hands codes to (a team, a home, a cohort), one code a person."""

    __tablename__ = "voice_respondent_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("voice_survey.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessCode(Base):
    """One one-time code, stored only as its SHA-256 hash; `used` once it has answered.
    When it was used is deliberately not kept."""

    __tablename__ = "voice_access_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("voice_respondent_group.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used: Mapped[bool] = mapped_column(default=False)


class SurveyResponse(Base):
    """One person's answers to a survey: no user, no address, no time finer than the date,
    and no link to the code that opened it."""

    __tablename__ = "voice_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("voice_survey.id", ondelete="CASCADE"), index=True
    )
    answered_on: Mapped[date] = mapped_column(Date)


class SurveyAnswer(Base):
    """One answer of a response: a choice from the question's scale, or free text."""

    __tablename__ = "voice_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("voice_response.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("voice_survey_question.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(Text)


class Panel(Base):
    """A council's panel of children in care, care leavers or families, whose points become
    commitments shown back to it as "you said, we did" (docs/voice.md)."""

    __tablename__ = "voice_panel"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(40))  # children in care, care leavers, families
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meetings: Mapped[list[PanelMeeting]] = relationship(
        back_populates="panel", order_by="PanelMeeting.held_on"
    )


class PanelMeeting(Base):
    """One meeting of a panel, on a date."""

    __tablename__ = "voice_panel_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(
        ForeignKey("voice_panel.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)

    panel: Mapped[Panel] = relationship(back_populates="meetings")
    points: Mapped[list[PanelPoint]] = relationship(
        back_populates="meeting", order_by="PanelPoint.id"
    )


class PanelPoint(Base):
    """What the panel raised ("you said"), in its own words."""

    __tablename__ = "voice_panel_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("voice_panel_meeting.id", ondelete="CASCADE"), index=True
    )
    said: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[PanelMeeting] = relationship(back_populates="points")
    commitment: Mapped[Commitment | None] = relationship(back_populates="point")


class Commitment(Base):
    """What the council does about a point ("we did / we will"): its owner, due date and
    status (proposed, agreed, in progress, done, or explained when it was not done)."""

    __tablename__ = "voice_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(
        ForeignKey("voice_panel_point.id", ondelete="CASCADE"), unique=True
    )
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    explanation: Mapped[str] = mapped_column(Text, default="")

    point: Mapped[PanelPoint] = relationship(back_populates="commitment")
    history: Mapped[list[CommitmentChange]] = relationship(
        back_populates="commitment", order_by="CommitmentChange.id"
    )


class CommitmentChange(Base):
    """One change of a commitment's status: who, when, from, to and a note. Kept for good."""

    __tablename__ = "voice_commitment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("voice_commitment.id", ondelete="CASCADE"), index=True
    )
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str] = mapped_column(String(20))  # "" when the commitment was made
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    commitment: Mapped[Commitment] = relationship(back_populates="history")


class CoproductionActivity(Base):
    """One time a group (children, young people, families, staff, partners or communities)
    helped shape a project at one stage (design, delivery or evaluation), and how: a
    panel, a co-design workshop, peer research, a recruitment panel... (docs/voice.md)."""

    __tablename__ = "voice_coproduction"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    # The project's organisation when recorded (the recorder's, for a project without one).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    group: Mapped[str] = mapped_column(String(20))  # children, young people, families, ...
    stage: Mapped[str] = mapped_column(String(20))  # design, delivery or evaluation
    method: Mapped[str] = mapped_column(String(60))  # e.g. young people's panel
    people: Mapped[int | None] = mapped_column(Integer)  # how many took part, if known
    held_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")  # at most 2,000 characters
    recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
