"""Signing in and out through the real forms, in Chromium with the CSP enforced."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_admin_signs_in_reads_the_audit_log_and_signs_out(tab: Any) -> None:
    site = tab.site
    page = tab.page
    tab.go("/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(site.admin_username)
    page.get_by_label("Password", exact=True).fill(site.admin_password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(site.url("/"))

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(site.url("/admin/audit"))
    first = page.locator("tbody tr").first
    assert first.locator("td").nth(1).inner_text().splitlines() == [
        site.admin_username,
        "Barnet Council",
    ]
    assert first.locator("td").nth(2).inner_text() in ("sign in", "read audit log")

    page.get_by_role("link", name=f"Sign out {site.admin_username}").click()
    page.wait_for_url(site.url("/sign-out"))
    assert f"You are signed in as {site.admin_name}" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(site.url("/"))
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert page.get_by_role("link", name="Audit log").count() == 0

    tab.go("/admin/audit", status=401)
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to see this page"
    assert not tab.problems, tab.problems


def test_a_wrong_password_is_explained(tab: Any) -> None:
    page = tab.page
    tab.go("/sign-in")
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Password", exact=True).fill("not-the-right-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state("load")

    assert page.title().startswith("Error: Sign in")
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    # GOV.UK Frontend focuses the summary; its link moves focus to the field.
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    summary.get_by_role("link", name="The username or password is not right").click()
    assert page.evaluate("document.activeElement.id") == "password"
    assert page.get_by_label("Username").input_value() == "someone"


def test_an_empty_form_names_both_fields(tab: Any) -> None:
    tab.go("/sign-in")
    tab.page.get_by_role("button", name="Sign in", exact=True).click()
    tab.page.wait_for_load_state("load")
    summary = tab.page.locator(".govuk-error-summary").inner_text()
    assert "Enter your username" in summary
    assert "Enter your password" in summary


def test_the_password_can_be_shown(tab: Any) -> None:
    """The password input's Show button is GOV.UK Frontend's script at work under the CSP."""
    tab.go("/sign-in")
    password = tab.page.get_by_label("Password", exact=True)
    assert password.get_attribute("type") == "password"
    tab.page.get_by_role("button", name="Show password").click()
    assert password.get_attribute("type") == "text"
    assert not tab.problems, tab.problems
