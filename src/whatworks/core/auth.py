"""People and access: organisations, users, roles, password hashing and throttled sign-in."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.db import utcnow
from whatworks.core.errors import TooManyAttempts, WhatworksError
from whatworks.core.models import LoginAttempt, Organisation, User

#: Roles in increasing reach. Anonymous people have no account.
ROLES = ("member", "analyst", "researcher", "partnership_member", "admin")
ROLE_LABELS = {
    "anonymous": "Anonymous",
    "member": "Member of an organisation",
    "analyst": "Analyst (own organisation's child-level data)",
    "researcher": "Researcher (evidence curation)",
    "partnership_member": "Partnership member (linked data under an agreement)",
    "admin": "Administrator",
}
ORGANISATION_KINDS = ("council", "partner", "research centre")

#: Failed sign-ins allowed per username within the window before sign-in pauses.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_or_create_organisation(
    session: Session, name: str, kind: str, la_code: str | None = None
) -> Organisation:
    """The organisation called `name`, created if it does not exist yet."""
    if kind not in ORGANISATION_KINDS:
        raise WhatworksError(
            f"Organisation kind {kind!r} is not known; use one of {', '.join(ORGANISATION_KINDS)}."
        )
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    if found is not None:
        return found
    organisation = Organisation(name=name, kind=kind, la_code=la_code)
    session.add(organisation)
    session.flush()
    return organisation


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    organisation: Organisation | None = None,
) -> User:
    """A new user with a hashed password; the username must be free and the role known."""
    if role not in ROLES:
        raise WhatworksError(f"Role {role!r} is not known; use one of {', '.join(ROLES)}.")
    if len(password) < 12:
        raise WhatworksError("Passwords must have at least 12 characters; choose a longer one.")
    username = username.strip().lower()
    if not username:
        raise WhatworksError("A username is needed.")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise WhatworksError(f"The username {username!r} is taken; choose another.")
    user = User(
        username=username,
        full_name=full_name or username,
        password_hash=hash_password(password),
        role=role,
        organisation=organisation,
    )
    session.add(user)
    session.flush()
    return user


def recent_failures(session: Session, username: str) -> int:
    """Failed sign-ins for `username` within the throttling window."""
    since = utcnow() - FAILURE_WINDOW
    query = select(func.count()).where(
        LoginAttempt.username == username,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= since,
    )
    return session.scalar(query) or 0


def authenticate(session: Session, username: str, password: str, client: str) -> User | None:
    """The user if the password is right; None if not. Raises after too many failures."""
    username = username.strip().lower()
    if recent_failures(session, username) >= MAX_FAILURES:
        raise TooManyAttempts(
            "Too many failed sign-in attempts for this account. Wait 15 minutes and try again."
        )
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    ok = user is not None and verify_password(user.password_hash, password)
    session.add(LoginAttempt(username=username, client=client[:64], succeeded=ok))
    if not ok or user is None:
        session.flush()
        return None
    audit.record(session, audit.Actor.of(user), "sign in", f"user:{user.username}", "sign in")
    return user


def has_role(user: User | None, *roles: str) -> bool:
    """Whether `user` holds one of `roles`; admins hold every role."""
    if user is None:
        return "anonymous" in roles
    return user.role == "admin" or user.role in roles
