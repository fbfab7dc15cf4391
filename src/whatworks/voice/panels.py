"""Children's and families' panels and "you said, we did".

A panel records what it raised at each meeting ("you said", in its own words); each point
becomes a commitment ("we did / we will") with an owner, a due date and a status that moves
proposed -> agreed -> in progress -> done, or to explained (not done, with a plain-language
explanation). Only those moves are allowed; every change is kept as a history row and in
the audit log. Only members of the panel's council (and administrators) change anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.auth import has_role
from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.voice.models import (
    Commitment,
    CommitmentChange,
    Panel,
    PanelMeeting,
    PanelPoint,
)

AUDIENCES = ("children in care", "care leavers", "families")
STATUSES = ("proposed", "agreed", "in progress", "done", "explained")
#: The statuses each status may move to; done and explained are final.
NEXT: dict[str, tuple[str, ...]] = {
    "proposed": ("agreed", "explained"),
    "agreed": ("in progress", "explained"),
    "in progress": ("done", "explained"),
    "done": (),
    "explained": (),
}
#: Each status in plain words, as the panel's young people read it.
PLAIN = {
    "proposed": "We are thinking about how to do this",
    "agreed": "We have agreed to do this",
    "in progress": "We are doing this now",
    "done": "We did this",
    "explained": "We could not do this, and this is why",
}
#: The GOV.UK tag colour of each status.
COLOUR = {
    "proposed": "govuk-tag--grey",
    "agreed": "govuk-tag--blue",
    "in progress": "govuk-tag--yellow",
    "done": "govuk-tag--green",
    "explained": "govuk-tag--orange",
}
MAX_TEXT = 1_000
MAX_OWNER = 200


class PointRefused(WhatworksError):
    """A point or commitment that could not be stored; nothing was. Carries (field, message)
    pairs for the form's error summary."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


class TransitionRefused(WhatworksError):
    """A status change the commitment's status does not allow, or an explanation missing."""


def may_change(user: User | None, panel: Panel) -> bool:
    """Whether the user is a member of the panel's council (or an administrator)."""
    if user is None:
        return False
    return has_role(user, "admin") or user.organisation_id == panel.organisation_id


def _check(user: User | None, panel: Panel, doing: str) -> User:
    if user is None or not may_change(user, panel):
        raise PermissionDenied(f"Only members of the council that runs this panel can {doing}.")
    return user


def get_panel(session: Session, panel_id: int) -> Panel:
    """The panel, or NotFound."""
    found = session.get(Panel, panel_id)
    if found is None:
        raise NotFound(f"There is no panel {panel_id}. Check the address.")
    return found


def member_panel(session: Session, user: User | None, panel_id: int) -> Panel:
    """The panel, if the user is a member of its council; NotFound or PermissionDenied."""
    panel = get_panel(session, panel_id)
    _check(user, panel, "see its commitments")
    return panel


def list_panels(session: Session, user: User) -> list[Panel]:
    """The panels of the user's council (every council's, for an administrator)."""
    query = select(Panel).order_by(Panel.name, Panel.id)
    if not has_role(user, "admin"):
        query = query.where(Panel.organisation_id == user.organisation_id)
    return list(session.scalars(query))


def create_panel(
    session: Session,
    user: User,
    organisation: Organisation,
    name: str,
    audience: str,
    is_demo: bool = False,
) -> Panel:
    """A new panel of a council, for children in care, care leavers or families."""
    if not (has_role(user, "admin") or user.organisation_id == organisation.id):
        raise PermissionDenied("Only members of a council can create its panels.")
    name = name.strip()
    if not name or len(name) > 200:
        raise WhatworksError("Name the panel in up to 200 characters.")
    if audience not in AUDIENCES:
        raise WhatworksError(f"A panel is for one of: {', '.join(AUDIENCES)}.")
    panel = Panel(
        organisation_id=organisation.id,
        name=name,
        audience=audience,
        is_demo=is_demo,
        created_by=user.username,
    )
    session.add(panel)
    session.flush()
    audit.record(session, audit.Actor.of(user), "create panel", f"panel:{panel.id}", "voice")
    return panel


@dataclass(frozen=True)
class NewPoint:
    """A point raised at a meeting and the commitment it becomes."""

    held_on: date | None
    said: str
    action: str
    owner: str
    due_on: date | None

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong, as (form field, message) pairs."""
        found: list[tuple[str, str]] = []
        if self.held_on is None:
            found.append(("held_on-day", "Enter the date of the meeting"))
        for field, text, label in (
            ("said", self.said, "what the panel said"),
            ("action", self.action, "what the council will do"),
        ):
            if not text.strip():
                found.append((field, f"Enter {label}"))
            elif len(text) > MAX_TEXT:
                found.append((field, f"Write {label} in 1,000 characters or fewer"))
        if not self.owner.strip():
            found.append(("owner", "Enter who owns the commitment, such as a job title"))
        elif len(self.owner) > MAX_OWNER:
            found.append(("owner", "Write the owner in 200 characters or fewer"))
        if self.due_on is None:
            found.append(("due_on-day", "Enter the date it is due"))
        elif self.held_on is not None and self.due_on < self.held_on:
            found.append(("due_on-day", "The due date must be on or after the meeting"))
        return found


def add_point(session: Session, user: User | None, panel: Panel, new: NewPoint) -> Commitment:
    """Record a point raised at a meeting (adding the meeting if it is new) and its
    commitment, proposed. Refuses bad input with every problem, storing nothing."""
    author = _check(user, panel, "add its points")
    problems = new.problems()
    if problems or new.held_on is None or new.due_on is None:
        raise PointRefused(problems)
    meeting = session.scalar(
        select(PanelMeeting).where(
            PanelMeeting.panel_id == panel.id, PanelMeeting.held_on == new.held_on
        )
    )
    if meeting is None:
        meeting = PanelMeeting(panel_id=panel.id, held_on=new.held_on)
        session.add(meeting)
        session.flush()
    point = PanelPoint(meeting_id=meeting.id, said=new.said.strip(), created_by=author.username)
    session.add(point)
    session.flush()
    commitment = Commitment(
        point_id=point.id,
        action=new.action.strip(),
        owner=new.owner.strip(),
        due_on=new.due_on,
        status="proposed",
        explanation="",
    )
    session.add(commitment)
    session.flush()
    session.add(
        CommitmentChange(
            commitment_id=commitment.id,
            changed_by=author.username,
            from_status="",
            to_status="proposed",
            note="Raised by the panel",
        )
    )
    audit.record(
        session,
        audit.Actor.of(author),
        "add panel point",
        f"commitment:{commitment.id}",
        "voice",
        panel=panel.id,
        meeting=str(new.held_on),
    )
    session.flush()
    return commitment


def panel_of(commitment: Commitment) -> Panel:
    """The panel a commitment belongs to."""
    return commitment.point.meeting.panel


def get_commitment(session: Session, panel: Panel, commitment_id: int) -> Commitment:
    """One of the panel's commitments, or NotFound."""
    found = session.get(Commitment, commitment_id)
    if found is None or panel_of(found).id != panel.id:
        raise NotFound(f"This panel has no commitment {commitment_id}. Check the address.")
    return found


def change_status(
    session: Session, user: User | None, commitment: Commitment, to: str, note: str = ""
) -> Commitment:
    """Move a commitment to its next status, keeping a history row and an audit entry.
    Refuses a move its status does not allow, and "explained" without an explanation."""
    author = _check(user, panel_of(commitment), "change its commitments")
    note = note.strip()
    current = commitment.status
    if to not in STATUSES:
        raise TransitionRefused(f"{to!r} is not a status. Choose one of: {', '.join(STATUSES)}.")
    if to not in NEXT[current]:
        allowed = " or ".join(f"'{s}'" for s in NEXT[current])
        if allowed:
            raise TransitionRefused(
                f"A commitment that is '{current}' can only move to {allowed}, not '{to}'."
            )
        raise TransitionRefused(f"A commitment that is '{current}' is finished: it cannot change.")
    if len(note) > MAX_TEXT:
        raise TransitionRefused("Write the note in 1,000 characters or fewer.")
    if to == "explained" and not note:
        raise TransitionRefused(
            "Explain in plain words why this was not done: the panel will read it."
        )
    commitment.status = to
    if to == "explained":
        commitment.explanation = note
    session.add(
        CommitmentChange(
            commitment_id=commitment.id,
            changed_by=author.username,
            from_status=current,
            to_status=to,
            note=note,
        )
    )
    audit.record(
        session,
        audit.Actor.of(author),
        "change commitment status",
        f"commitment:{commitment.id}",
        "voice",
        **{"from": current, "to": to},
    )
    session.flush()
    return commitment


def commitments(panel: Panel) -> list[Commitment]:
    """The panel's commitments, the newest meeting first."""
    return [
        point.commitment
        for meeting in reversed(panel.meetings)
        for point in meeting.points
        if point.commitment is not None
    ]


def panel_json(panel: Panel, organisation: str) -> dict[str, Any]:
    """A panel's points, commitments and their history, as its page shows them."""
    return {
        "id": panel.id,
        "name": panel.name,
        "organisation": organisation,
        "audience": panel.audience,
        "is_demo": panel.is_demo,
        "points": [
            {
                "meeting": str(c.point.meeting.held_on),
                "you_said": c.point.said,
                "commitment": {
                    "id": c.id,
                    "we_will": c.action,
                    "owner": c.owner,
                    "due_on": str(c.due_on),
                    "status": c.status,
                    "in_plain_words": PLAIN[c.status],
                    "explanation": c.explanation,
                    "next": list(NEXT[c.status]),
                    "history": [
                        {
                            "by": h.changed_by,
                            "at": h.changed_at.isoformat(timespec="seconds"),
                            "from": h.from_status,
                            "to": h.to_status,
                            "note": h.note,
                        }
                        for h in c.history
                    ],
                },
            }
            for c in commitments(panel)
        ],
    }
