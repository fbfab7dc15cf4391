"""The append-only audit log: one function every capability calls to record a read or change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from whatworks.core.errors import PermissionDenied
from whatworks.core.models import AuditEvent, User


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or a named system process such as the CLI."""

    username: str
    user_id: int | None = None
    organisation: str | None = None

    @classmethod
    def of(cls, user: User | None) -> Actor:
        if user is None:
            return cls("anonymous")
        org = user.organisation.name if user.organisation else None
        return cls(user.username, user.id, org)


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    purpose: str,
    **detail: Any,
) -> AuditEvent:
    """Append one event to the audit log in the caller's transaction."""
    entry = AuditEvent(
        user_id=actor.user_id,
        username=actor.username,
        organisation=actor.organisation,
        action=action,
        target=target,
        purpose=purpose,
        detail=json.dumps(detail, sort_keys=True, default=str) if detail else "",
    )
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    """The newest audit events first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def count(session: Session) -> int:
    """How many events the log holds."""
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(*_args: Any) -> None:
    raise PermissionDenied("The audit log is append-only: events cannot be changed or deleted.")
