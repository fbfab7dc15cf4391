"""The practice-review forms in Chromium, empty and with their errors, signed in as the
browser site's administrator (who may change any review) on the demo reviews: no WCAG 2.2
AA violations axe-core can find, nothing blocked by the Content Security Policy, GOV.UK
Frontend started, and no sideways scrolling at 320 CSS pixels (WCAG 1.4.10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.evidence import seed
from whatworks.spread import learning_demo
from whatworks.spread.models import FindingAction, PracticeReview, ReviewFinding

pytestmark = pytest.mark.browser

#: Addresses filled in from the store by `review_site`.
PATHS: dict[str, str] = {}


@pytest.fixture(scope="module")
def review_site(site: Any) -> Any:
    """The browser site's store with the evidence and spread demo data (seeding again adds
    nothing), and the addresses of a demo review, its first finding and first action."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        seed.seed(session)
        seed.seed_demo(session)
        learning_demo.seed_demo(session)
    with make_session_factory(engine)() as session:
        review_id = session.scalar(
            select(PracticeReview.id).where(PracticeReview.title == "Baby N (demo)")
        )
        finding_id = session.scalar(
            select(ReviewFinding.id)
            .where(ReviewFinding.review_id == review_id)
            .order_by(ReviewFinding.id)
        )
        action_id = session.scalar(
            select(FindingAction.id)
            .where(FindingAction.finding_id == finding_id)
            .order_by(FindingAction.id)
        )
    engine.dispose()
    review = f"/spread/reviews/{review_id}"
    PATHS.update(
        review=review,
        finding=f"{review}/findings",
        action=f"{review}/findings/{finding_id}/actions",
        link=f"{review}/findings/{finding_id}/interventions",
        status=f"{review}/actions/{action_id}/status",
    )
    return site


@pytest.fixture(autouse=True)
def text_search_only(monkeypatch) -> None:
    monkeypatch.setenv("WHATWORKS_SEMANTIC", "off")


def _form(path: str, button: str = "", error: str = "") -> Callable[[Any], None]:
    """Open the form signed in; with `button`, send it empty and wait for the errors."""

    def visit(tab: Any) -> None:
        where = PATHS.get(path, path)
        tab.sign_in_as_admin(next_path=where)
        assert tab.page.url.endswith(where), tab.page.url
        if button:
            tab.page.get_by_role("button", name=button).click()
            tab.page.locator(".govuk-error-summary").wait_for()
            assert tab.page.locator(f"#{error}-error").is_visible()

    return visit


#: How to reach each page checked, by a name that says which page it is.
VISITS: dict[str, Callable[[Any], None]] = {
    "a practice review with the links to change it": _form("review"),
    "/spread/reviews/new": _form("/spread/reviews/new"),
    "/spread/reviews/new with errors": _form("/spread/reviews/new", "Record the review", "title"),
    "the finding form": _form("finding"),
    "the finding form with errors": _form("finding", "Add the finding", "system_parts"),
    "the action form": _form("action"),
    "the action form with errors": _form("action", "Add the action", "owner"),
    "the link form": _form("link"),
    "the link form with errors": _form("link", "Link the intervention", "intervention_id"),
    "the action status form": _form("status"),
}

COMPONENTS_NOT_STARTED = """
    [...document.querySelectorAll("[data-module]")]
        .filter(e => !e.hasAttribute(`data-${e.dataset.module}-init`))
        .map(e => e.dataset.module)
"""


@pytest.mark.parametrize("visit", list(VISITS))
def test_review_form_has_no_axe_violations(visit: str, review_site: Any, axe_tab: Any) -> None:
    VISITS[visit](axe_tab)
    axe_tab.assert_accessible(visit)


@pytest.mark.parametrize("visit", list(VISITS))
def test_review_form_loads_cleanly_and_reflows(visit: str, review_site: Any, tab: Any) -> None:
    VISITS[visit](tab)
    assert not tab.problems, f"console errors on {visit}:\n" + "\n".join(tab.problems)
    assert tab.page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    tab.page.wait_for_load_state("load")  # a form's reply may still be loading
    not_started = tab.page.evaluate(COMPONENTS_NOT_STARTED)
    assert not not_started, f"GOV.UK Frontend did not start {not_started} on {visit}"
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{visit} is {width} CSS pixels wide in a 320 pixel window"
