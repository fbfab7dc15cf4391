"""Spread's learning pages in Chromium, on the browser store with the bundled evidence,
the demo studies and the demo reviews and communities: no WCAG 2.2 AA violations axe-core
can find, nothing blocked by the Content Security Policy, GOV.UK Frontend started, and no
sideways scrolling at 320 CSS pixels (WCAG 1.4.10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.evidence import seed
from whatworks.spread import learning_demo
from whatworks.spread.models import PracticeReview

pytestmark = pytest.mark.browser

COMMUNITY = "/spread/communities/pause-practice-network-demo"
QUESTION = "how do we stop repeat removals of babies from the same mothers?"


@pytest.fixture(scope="module")
def spread_site(site: Any) -> Any:
    """The browser site's store with the evidence and spread demo data (seeding again adds
    nothing). The model is switched off so the pages answer as fast as without it."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        seed.seed(session)
        seed.seed_demo(session)
        learning_demo.seed_demo(session)
    with make_session_factory(engine)() as session:
        review_id = session.scalar(
            select(PracticeReview.id).where(PracticeReview.title == "Baby N (demo)")
        )
    engine.dispose()
    VISITS["a practice review"] = _open(f"/spread/reviews/{review_id}")
    return site


@pytest.fixture(autouse=True)
def text_search_only(monkeypatch) -> None:
    monkeypatch.setenv("WHATWORKS_SEMANTIC", "off")


def _open(path: str) -> Callable[[Any], None]:
    def visit(tab: Any) -> None:
        tab.go(path)

    return visit


def _ask(tab: Any) -> None:
    tab.go("/spread")
    tab.page.get_by_label("Your question").fill(QUESTION)
    tab.page.get_by_role("button", name="Search").click()
    tab.page.wait_for_load_state("load")
    assert tab.page.get_by_role("link", name="Pause", exact=True).first.is_visible()
    assert tab.page.locator("mark").count() > 0


def _as_member(tab: Any) -> None:
    tab.sign_in_as_admin(next_path=COMMUNITY)
    join = tab.page.get_by_role("button", name="Join the community")
    if join.count():
        join.click()
        tab.page.wait_for_load_state("load")
    assert tab.page.get_by_role("button", name="Ask the question").is_visible()


def _question_errors(tab: Any) -> None:
    _as_member(tab)
    tab.page.get_by_role("button", name="Ask the question").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert tab.page.locator("#title-error").is_visible()


#: How to reach each page checked, by a name that says which page it is.
VISITS: dict[str, Callable[[Any], None]] = {
    "/spread with results": _ask,
    "/spread/communities": _open("/spread/communities"),
    "a community page, signed out": _open(COMMUNITY),
    "a community page with the question form": _as_member,
    "the question form with errors": _question_errors,
    "/spread/reviews": _open("/spread/reviews"),
    "a practice review": _open("/spread/reviews/1"),  # replaced by its real address
    "/spread/reviews/themes": _open("/spread/reviews/themes"),
}

COMPONENTS_NOT_STARTED = """
    [...document.querySelectorAll("[data-module]")]
        .filter(e => !e.hasAttribute(`data-${e.dataset.module}-init`))
        .map(e => e.dataset.module)
"""


@pytest.mark.parametrize("visit", list(VISITS))
def test_spread_page_has_no_axe_violations(visit: str, spread_site: Any, axe_tab: Any) -> None:
    VISITS[visit](axe_tab)
    axe_tab.assert_accessible(visit)


@pytest.mark.parametrize("visit", list(VISITS))
def test_spread_page_loads_cleanly_and_reflows(visit: str, spread_site: Any, tab: Any) -> None:
    VISITS[visit](tab)
    assert not tab.problems, f"console errors on {visit}:\n" + "\n".join(tab.problems)
    assert tab.page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    tab.page.wait_for_load_state("load")  # a form's reply may still be loading
    not_started = tab.page.evaluate(COMPONENTS_NOT_STARTED)
    assert not not_started, f"GOV.UK Frontend did not start {not_started} on {visit}"
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{visit} is {width} CSS pixels wide in a 320 pixel window"
