"""The evidence hub's pages in Chromium, on the browser store with the bundled evidence and
the demo studies: no WCAG 2.2 AA violations axe-core can find, nothing blocked by the
Content Security Policy, GOV.UK Frontend started, and no sideways scrolling at 320 CSS
pixels (WCAG 1.4.10), for the read pages and for forms showing their errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.evidence import seed

pytestmark = pytest.mark.browser

DEMO = seed.DEMO_INTERVENTION
SWIS_PRIMARY = "Child protection (section 47) enquiries (primary)"


@pytest.fixture(scope="module")
def evidence_site(site: Any) -> Any:
    """The browser site's store seeded with the evidence hub's bundled evidence and demo
    studies (seeding again adds nothing)."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        seed.seed(session)
        seed.seed_demo(session)
    engine.dispose()
    return site


def _open(path: str) -> Callable[[Any], None]:
    def visit(tab: Any) -> None:
        tab.go(path)

    return visit


def _northtown(tab: Any) -> None:
    tab.go(f"/evidence/interventions/{DEMO}")
    link = tab.page.locator("a[href^='/evidence/studies/']").first
    link.click()
    tab.page.wait_for_load_state("load")
    assert tab.page.get_by_role("heading", name="Results", exact=True).is_visible()


def _as_admin(path: str) -> Callable[[Any], None]:
    def visit(tab: Any) -> None:
        tab.sign_in_as_admin(next_path=path)
        assert tab.page.url == tab.site.url(path)

    return visit


def _study_form_errors(tab: Any) -> None:
    tab.sign_in_as_admin(next_path="/evidence/studies/new")
    tab.page.get_by_label("Year published (optional)").fill("20x")
    tab.page.get_by_role("button", name="Enter the study").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert tab.page.locator("#year-error").is_visible()


def _result_form_errors(tab: Any) -> None:
    tab.sign_in_as_admin(next_path=f"/evidence/interventions/{DEMO}")
    tab.page.locator("a[href^='/evidence/studies/']").first.click()
    tab.page.wait_for_load_state("load")
    tab.page.get_by_role("radio", name="A 2x2 table of counts").check()
    tab.page.get_by_label("Intervention group: with the outcome").fill("ten")
    tab.page.get_by_role("button", name="Add the result").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert tab.page.locator("#counts-ai-error").is_visible()


def _import_errors(tab: Any) -> None:
    tab.sign_in_as_admin(next_path="/evidence/studies/import")
    tab.page.get_by_label("Studies file (CSV, UTF-8)").set_input_files(
        {
            "name": "bad.csv",
            "mimeType": "text/csv",
            "buffer": b"title,design,maryland_level,outcome\nA trial,RCT,six,Care entry\n",
        }
    )
    tab.page.get_by_role("button", name="Import the studies").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert "maryland_level" in tab.page.locator("#problems").locator("xpath=..").inner_text()


def _override_errors(tab: Any) -> None:
    path = f"/evidence/interventions/social-workers-in-schools/outcomes/{SWIS_PRIMARY}/override"
    tab.sign_in_as_admin(next_path=path)
    tab.page.get_by_role("button", name="Record the override").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert tab.page.locator("#reason-error").is_visible()


def _demo_economics_and_conditions(tab: Any) -> None:
    tab.go(f"/evidence/interventions/{DEMO}")
    for heading in ("Benefits and costs", "Does it depend on the conditions?"):
        assert tab.page.get_by_role("heading", name=heading, exact=True).is_visible()


def _economics_form_errors(tab: Any) -> None:
    tab.sign_in_as_admin(next_path=f"/evidence/interventions/{DEMO}/economics")
    tab.page.get_by_label("Value of one unit a year, in pounds").fill("lots")
    tab.page.get_by_role("button", name="Save the economic case").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert tab.page.locator("#value_per_unit-error").is_visible()


#: How to reach each page checked, by a name that says which page it is.
VISITS: dict[str, Callable[[Any], None]] = {
    "/evidence": _open("/evidence"),
    "/evidence?q=pause": _open("/evidence?q=pause"),
    f"/evidence/interventions/{DEMO} (forest and funnel plots)": _open(
        f"/evidence/interventions/{DEMO}"
    ),
    "/evidence/interventions/social-workers-in-schools": _open(
        "/evidence/interventions/social-workers-in-schools"
    ),
    "a demo study's page": _northtown,
    "/evidence/failures": _open("/evidence/failures"),
    "/evidence/studies/import as the admin": _as_admin("/evidence/studies/import"),
    "/evidence/studies/new as the admin": _as_admin("/evidence/studies/new"),
    "the study form with errors": _study_form_errors,
    "a study's result form with errors": _result_form_errors,
    "the import page listing a file's problems": _import_errors,
    "the override form with errors": _override_errors,
    f"/evidence/interventions/{DEMO} (benefits and costs, conditions)": (
        _demo_economics_and_conditions
    ),
    "the economics form as the admin": _as_admin(f"/evidence/interventions/{DEMO}/economics"),
    "the economics form with errors": _economics_form_errors,
}

#: GOV.UK Frontend marks each component it starts with a data-<module>-init attribute.
COMPONENTS_NOT_STARTED = """
    [...document.querySelectorAll("[data-module]")]
        .filter(e => !e.hasAttribute(`data-${e.dataset.module}-init`))
        .map(e => e.dataset.module)
"""


@pytest.mark.parametrize("visit", VISITS)
def test_evidence_page_has_no_axe_violations(visit: str, evidence_site: Any, axe_tab: Any) -> None:
    VISITS[visit](axe_tab)
    axe_tab.assert_accessible(visit)


@pytest.mark.parametrize("visit", VISITS)
def test_evidence_page_loads_cleanly_and_reflows(visit: str, evidence_site: Any, tab: Any) -> None:
    VISITS[visit](tab)
    assert not tab.problems, f"console errors on {visit}:\n" + "\n".join(tab.problems)
    assert tab.page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    tab.page.wait_for_load_state("load")  # a form's reply may still be loading
    not_started = tab.page.evaluate(COMPONENTS_NOT_STARTED)
    assert not not_started, f"GOV.UK Frontend did not start {not_started} on {visit}"
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{visit} is {width} CSS pixels wide in a 320 pixel window"
