"""The audit log is append-only, in the ORM and in the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from whatworks.core import audit
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.errors import PermissionDenied


def test_record_keeps_who_what_when_and_purpose(session) -> None:
    org = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
    user = create_user(session, "reader", "a long enough password", "analyst", organisation=org)
    entry = audit.record(
        session,
        audit.Actor.of(user),
        "read",
        "returns:302:2025",
        "monthly performance report",
        rows=120,
    )
    session.commit()
    [found] = audit.recent(session)
    assert found.id == entry.id
    assert (found.username, found.organisation, found.action) == (
        "reader",
        "Barnet Council",
        "read",
    )
    assert found.target == "returns:302:2025"
    assert found.purpose == "monthly performance report"
    assert found.detail == '{"rows": 120}'
    assert found.at is not None
    assert audit.count(session) == 1


def test_events_come_newest_first(session) -> None:
    for n in range(3):
        audit.record(session, audit.Actor("cli"), "import", f"file {n}", "demo")
    session.commit()
    assert [e.target for e in audit.recent(session)] == ["file 2", "file 1", "file 0"]
    assert [e.target for e in audit.recent(session, limit=1, offset=1)] == ["file 1"]


def test_orm_refuses_to_change_or_delete(session) -> None:
    entry = audit.record(session, audit.Actor("cli"), "import", "x", "demo")
    session.commit()
    entry.purpose = "something else"
    with pytest.raises(PermissionDenied, match="append-only"):
        session.commit()
    session.rollback()
    session.delete(entry)
    with pytest.raises(PermissionDenied, match="append-only"):
        session.commit()


def test_database_refuses_to_change_or_delete(session) -> None:
    audit.record(session, audit.Actor("cli"), "import", "x", "demo")
    session.commit()
    for statement in ("UPDATE audit_event SET purpose = 'rewritten'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert audit.count(session) == 1
