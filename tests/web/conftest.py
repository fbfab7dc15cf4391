"""An in-process client of the real app on the test store."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from whatworks.config import Settings
from whatworks.core.auth import create_user
from whatworks.core.db import transaction
from whatworks.web.app import create_app

PASSWORD = "a long test password"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def users(sessions) -> dict[str, str]:
    """An admin and a member, with the password they sign in with."""
    with transaction(sessions) as session:
        create_user(session, "admin", PASSWORD, "admin", "Ada Admin")
        create_user(session, "member", PASSWORD, "member", "Mo Member")
    return {"admin": PASSWORD, "member": PASSWORD}


def _csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form has no CSRF token"
    return found.group(1)


def _sign_in(client: TestClient, username: str, password: str = PASSWORD):
    token = _csrf_from(client.get("/sign-in").text)
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


@pytest.fixture
def csrf_from():
    """Reads the CSRF token out of a page's form."""
    return _csrf_from


@pytest.fixture
def sign_in():
    """Signs in through the real form: sign_in(client, username, password)."""
    return _sign_in
