"""Sign-in, CSRF, roles and the audit page through real HTTP requests to the app."""

from __future__ import annotations

from sqlalchemy import select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent


def test_anonymous_cannot_reach_the_audit_page(client) -> None:
    page = client.get("/admin/audit")
    assert page.status_code == 401
    assert "Sign in to see this page" in page.text
    assert client.get("/api/admin/audit").status_code == 401


def test_a_member_is_refused_the_audit_page(client, users, sign_in) -> None:
    assert sign_in(client, "member").status_code == 303
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/api/admin/audit").status_code == 403


def test_an_admin_reads_the_audit_log_and_the_read_is_audited(
    client, users, session, sign_in
) -> None:
    assert sign_in(client, "admin").status_code == 303
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "sign in" in page.text
    data = client.get("/api/admin/audit").json()
    assert [e["action"] for e in data["events"]][:2] == ["read audit log", "sign in"]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["sign in", "read audit log", "read audit log"]


def test_a_form_post_without_its_csrf_token_is_refused(client, users) -> None:
    client.get("/sign-in")  # a session exists, so only the token is missing
    refused = client.post(
        "/sign-in", data={"username": "admin", "password": "a long test password"}
    )
    assert refused.status_code == 403
    assert "did not come from whatworks" in refused.text
    forged = client.post(
        "/sign-in",
        data={"username": "admin", "password": "a long test password", "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert client.get("/api/me").json() == {"signed_in": False, "role": "anonymous"}


def test_sign_out_needs_its_token_too(client, users, sign_in, csrf_from) -> None:
    sign_in(client, "member")
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.get("/api/me").json()["signed_in"] is True
    token = csrf_from(client.get("/sign-out").text)
    assert (
        client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/api/me").json()["signed_in"] is False


def test_wrong_password_then_throttling(client, users, sign_in) -> None:
    wrong = sign_in(client, "member", "not the password")
    assert wrong.status_code == 401
    assert "The username or password is not right" in wrong.text
    for _ in range(4):
        sign_in(client, "member", "not the password")
    paused = sign_in(client, "member")
    assert paused.status_code == 429
    assert "Too many failed sign-in attempts" in paused.text


def test_session_cookie_is_http_only_and_same_site(client, users, sign_in) -> None:
    response = sign_in(client, "member")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_sign_in_never_redirects_to_another_site(client, users, csrf_from) -> None:
    token = csrf_from(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={
            "username": "member",
            "password": "a long test password",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_security_headers(client) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_an_error_page_shows_the_menu_of_a_user_with_an_organisation(sessions, client, sign_in):
    """The error page reads the user's organisation after the request's session has closed;
    it is loaded when the user is, so a 404 stays a 404 (not a 500)."""
    with transaction(sessions) as session:
        council = get_or_create_organisation(session, "Barnet", "council", "E09000003")
        create_user(session, "org-admin", "a long test password", "admin", "Ola Admin", council)
    sign_in(client, "org-admin", "a long test password")
    page = client.get("/voice/surveys/999")
    assert page.status_code == 404
    assert "Sign out" in page.text
