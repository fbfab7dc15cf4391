"""Who may write to the evidence hub, and who the audit log names.

A signed-in `User` is checked against their role: researchers (and administrators) curate
interventions, studies and recommendations; members of an organisation record their own
projects, registrations and reviews. A named system process (`audit.Actor`: the command
line, the seed, the demo) runs with the authority of whoever owns the store, as the other
command-line imports do, and is named in the audit log.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.auth import has_role
from whatworks.core.errors import PermissionDenied
from whatworks.core.models import User

#: A signed-in person, or a named system process; None is an anonymous visitor.
Author = User | audit.Actor | None


def actor_of(author: Author) -> audit.Actor:
    """The audit log's record of who acted."""
    if isinstance(author, audit.Actor):
        return author
    return audit.Actor.of(author)


def name_of(author: Author) -> str:
    """The name stored beside what the author wrote."""
    return actor_of(author).username


def require_researcher(author: Author, doing: str) -> audit.Actor:
    """The actor, if the author may curate evidence (researcher or admin)."""
    if isinstance(author, audit.Actor):
        return author
    if author is None or not has_role(author, "researcher"):
        raise PermissionDenied(
            f"Only researchers can {doing}. Ask a researcher or an administrator to do it."
        )
    return audit.Actor.of(author)


def require_member(author: Author, organisation_id: int | None, doing: str) -> audit.Actor:
    """The actor, if the author belongs to the organisation (or is a researcher or admin)."""
    if isinstance(author, audit.Actor):
        return author
    if author is None:
        raise PermissionDenied(f"Sign in to {doing}.")
    if has_role(author, "researcher"):
        return audit.Actor.of(author)
    if organisation_id is not None and author.organisation_id == organisation_id:
        return audit.Actor.of(author)
    raise PermissionDenied(
        f"Only members of the organisation that owns it (or a researcher) can {doing}."
    )


def record(
    session: Session, actor: audit.Actor, action: str, target: str, **detail: object
) -> None:
    """Append one evidence-hub event to the audit log."""
    audit.record(session, actor, action, target, "evidence hub", **detail)
