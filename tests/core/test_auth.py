"""Users, roles, argon2 hashing and throttled sign-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import (
    MAX_FAILURES,
    authenticate,
    create_user,
    get_or_create_organisation,
    has_role,
    hash_password,
    verify_password,
)
from whatworks.core.errors import TooManyAttempts, WhatworksError
from whatworks.core.models import AuditEvent, LoginAttempt

PASSWORD = "correct horse battery"


def test_passwords_are_argon2id_hashes_never_the_password() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


def test_create_user_checks_role_password_and_uniqueness(session) -> None:
    council = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
    user = create_user(session, "Analyst@Leeds", PASSWORD, "analyst", "A N Alyst", council)
    assert user.username == "analyst@leeds"
    assert user.organisation.name == "Leeds City Council"
    with pytest.raises(WhatworksError, match="taken"):
        create_user(session, "analyst@leeds", PASSWORD, "analyst")
    with pytest.raises(WhatworksError, match="Role 'king' is not known"):
        create_user(session, "someone", PASSWORD, "king")
    with pytest.raises(WhatworksError, match="at least 12 characters"):
        create_user(session, "someone", "short", "member")
    assert get_or_create_organisation(session, "Leeds City Council", "council").id == council.id


def test_authenticate_records_attempts_and_audits_success(session) -> None:
    create_user(session, "member", PASSWORD, "member")
    assert authenticate(session, "member", "wrong password!", "127.0.0.1") is None
    user = authenticate(session, " MEMBER ", PASSWORD, "127.0.0.1")
    assert user is not None and user.username == "member"
    attempts = session.scalars(select(LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert attempts == [False, True]
    events = session.scalars(select(AuditEvent.action)).all()
    assert events == ["sign in"]


def test_sign_in_pauses_after_repeated_failures(session) -> None:
    create_user(session, "target", PASSWORD, "member")
    for _ in range(MAX_FAILURES):
        assert authenticate(session, "target", "guess guess guess", "10.0.0.1") is None
    with pytest.raises(TooManyAttempts, match="Wait 15 minutes"):
        authenticate(session, "target", PASSWORD, "10.0.0.1")
    # Throttling is per account: another user is not affected.
    create_user(session, "other", PASSWORD, "member")
    assert authenticate(session, "other", PASSWORD, "10.0.0.1") is not None
    failures = session.scalar(
        select(func.count()).where(LoginAttempt.username == "target", ~LoginAttempt.succeeded)
    )
    assert failures == MAX_FAILURES


def test_roles(session) -> None:
    admin = create_user(session, "root", PASSWORD, "admin")
    analyst = create_user(session, "ana", PASSWORD, "analyst")
    assert has_role(admin, "analyst") and has_role(admin, "researcher")
    assert has_role(analyst, "analyst") and not has_role(analyst, "admin")
    assert has_role(None, "anonymous") and not has_role(None, "member")
