"""Every page, loaded in Chromium: no WCAG 2.2 AA violations that axe-core can find, no
console errors with the Content Security Policy enforced, and no sideways scrolling at
320 CSS pixels wide (400% zoom)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

OPEN_PAGES = [
    "/",
    "/places",
    "/places?name=bar",
    "/places?region=E12000007",
    "/places/E09000003",
    "/places/E09000003?model=2021",
    "/places/E09000003/scorecard",
    "/places/E09000003/gaps",
    "/places/E09000003/curve/rereferral_percent",
    "/places/E09000003/curve/cla_rate_per_10000?method=damped",
    "/places/E09000003/curve/rereferral_percent/report",
    "/regions/E12000007/scorecard",
    "/england/scorecard",
    "/indicators",
    "/indicators/rereferral_percent",
    "/indicators/cla_rate_per_10000?period=2023",
    "/indicators/adoption_entry_to_placement_months",
    "/accessibility",
    "/data-sources",
    "/docs",
    "/sign-in",
]

#: GOV.UK Frontend marks each component it starts with a data-<module>-init attribute.
COMPONENTS_NOT_STARTED = """
    [...document.querySelectorAll("[data-module]")]
        .filter(e => !e.hasAttribute(`data-${e.dataset.module}-init`))
        .map(e => e.dataset.module)
"""


def _open(path: str) -> Callable[[Any], None]:
    def visit(tab: Any) -> None:
        tab.go(path)

    return visit


def _failed_sign_in(tab: Any) -> None:
    tab.go("/sign-in")
    tab.page.get_by_label("Username").fill("nobody")
    tab.page.get_by_label("Password", exact=True).fill("not-the-password")
    tab.page.get_by_role("button", name="Sign in", exact=True).click()
    tab.page.locator(".govuk-error-summary").wait_for()


def _not_found(tab: Any) -> None:
    tab.go("/no-such-page", status=404)


def _audit_log(tab: Any) -> None:
    tab.sign_in_as_admin(next_path="/admin/audit")
    assert tab.page.url == tab.site.url("/admin/audit")


def _choose_indicators(tab: Any) -> None:
    tab.sign_in_as_admin(next_path="/places/E09000003/indicators")
    assert tab.page.url == tab.site.url("/places/E09000003/indicators")


def _curve_form(tab: Any) -> None:
    tab.sign_in_as_admin(next_path="/places/E09000003/curve/rereferral_percent")
    assert tab.page.url == tab.site.url("/places/E09000003/curve/rereferral_percent")
    assert tab.page.get_by_role("button", name="Save a new version").is_visible()


def _signed_in(path: str) -> Callable[[Any], None]:
    def visit(tab: Any) -> None:
        tab.sign_in_as_admin(next_path=path)
        assert tab.page.url == tab.site.url(path)

    return visit


def _sign_out(tab: Any) -> None:
    tab.sign_in_as_admin(next_path="/sign-out")
    assert tab.page.url == tab.site.url("/sign-out")


#: How to reach each page checked, by a name that says which page it is.
VISITS: dict[str, Callable[[Any], None]] = {
    **{path: _open(path) for path in OPEN_PAGES},
    "/sign-in after a failed sign-in": _failed_sign_in,
    "/no-such-page (404)": _not_found,
    "/admin/audit as the admin": _audit_log,
    "/places/E09000003/indicators as the admin": _choose_indicators,
    "/places/E09000003/curve/rereferral_percent with its form": _curve_form,
    "/measures as a member": _signed_in("/measures"),
    "/measures/new as a member": _signed_in("/measures/new"),
    "/measures/1 as a member": _signed_in("/measures/1"),
    "/sign-out as the admin": _sign_out,
}


@pytest.mark.parametrize("visit", VISITS)
def test_page_has_no_axe_violations(visit: str, axe_tab: Any) -> None:
    VISITS[visit](axe_tab)
    axe_tab.assert_accessible(visit)


@pytest.mark.parametrize("visit", VISITS)
def test_page_loads_cleanly_and_reflows(visit: str, tab: Any) -> None:
    """Nothing the page needs is blocked by the CSP or missing, GOV.UK Frontend's scripts
    start, and at 320 CSS pixels the page does not scroll sideways (WCAG 1.4.10)."""
    VISITS[visit](tab)
    assert not tab.problems, f"console errors on {visit}:\n" + "\n".join(tab.problems)
    assert tab.page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    tab.page.wait_for_load_state("load")  # a form's reply may still be loading
    not_started = tab.page.evaluate(COMPONENTS_NOT_STARTED)
    assert not not_started, f"GOV.UK Frontend did not start {not_started} on {visit}"
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{visit} is {width} CSS pixels wide in a 320 pixel window"
