"""People and places for the evidence hub's tests: a council member, a researcher, an admin."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from whatworks.core.auth import create_user, get_or_create_organisation

PASSWORD = "a long test password"
BARNET = "E09000003"


@pytest.fixture
def people(session) -> SimpleNamespace:
    """A Barnet member, a Leeds member, a researcher and an administrator."""
    barnet = get_or_create_organisation(session, "Barnet Council", "council", BARNET)
    leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
    centre = get_or_create_organisation(session, "A research centre", "research centre")
    return SimpleNamespace(
        barnet=barnet,
        leeds=leeds,
        member=create_user(session, "m", PASSWORD, "member", organisation=barnet),
        outsider=create_user(session, "o", PASSWORD, "member", organisation=leeds),
        researcher=create_user(session, "r", PASSWORD, "researcher", organisation=centre),
        admin=create_user(session, "a", PASSWORD, "admin"),
    )
