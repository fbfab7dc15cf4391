"""Places like mine, adoption and centres of excellence in Chromium, on the browser store
with the bundled and demo evidence and one adoption in a statistical neighbour of Barnet:
no WCAG 2.2 AA violations axe-core can find, nothing blocked by the Content Security
Policy, GOV.UK Frontend started, and no sideways scrolling at 320 CSS pixels."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from whatworks.core.audit import Actor
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.evidence import projects, seed
from whatworks.evidence.models import Project

pytestmark = pytest.mark.browser

FGC = "family-group-conferencing-at-pre-proceedings"
PAGES = {
    "places like Barnet": "/places/E09000003/like-mine",
    "places like Barnet that adopted FGC": f"/places/E09000003/like-mine?intervention={FGC}",
    "adoption of FGC": f"/spread/adoption/{FGC}",
    "adoption of the demo intervention": f"/spread/adoption/{seed.DEMO_INTERVENTION}",
    "Barnet's adoption history": "/places/E09000003/adoption",
    "centres of excellence": "/spread/centres",
    "centres on care leavers": "/spread/centres?indicator=care_leavers_eet_19_21_percent",
}
COMPONENTS_NOT_STARTED = """
    [...document.querySelectorAll("[data-module]")]
        .filter(e => !e.hasAttribute(`data-${e.dataset.module}-init`))
        .map(e => e.dataset.module)
"""
SEED_KEY = "test:spread:waltham-forest-fgc"


@pytest.fixture(scope="module")
def spread_site(site: Any) -> Any:
    """The browser site's store with the evidence hub seeded and Waltham Forest (Barnet's
    first statistical neighbour) running family group conferencing since 2021."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        seed.seed(session)
        seed.seed_demo(session)
        if session.scalar(select(Project).where(Project.seed_key == SEED_KEY)) is None:
            projects.create_project(
                session,
                Actor("test"),
                "Family group conferencing in Waltham Forest (test)",
                intervention_id=FGC,
                la_code="E09000031",
                status="running",
                start_date=date(2021, 9, 1),
                lessons="Independent coordinators mattered (test).",
                contacts=[{"name": "Jo Coordinator (test)", "role": "FGC manager"}],
                seed_key=SEED_KEY,
            )
    engine.dispose()
    return site


@pytest.mark.parametrize("name", PAGES)
def test_spread_page_has_no_axe_violations(name: str, spread_site: Any, axe_tab: Any) -> None:
    axe_tab.go(PAGES[name])
    axe_tab.assert_accessible(name)


@pytest.mark.parametrize("name", PAGES)
def test_spread_page_loads_cleanly_and_reflows(name: str, spread_site: Any, tab: Any) -> None:
    tab.go(PAGES[name])
    assert not tab.problems, f"console errors on {name}:\n" + "\n".join(tab.problems)
    assert tab.page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    tab.page.wait_for_load_state("load")  # a form's reply may still be loading
    not_started = tab.page.evaluate(COMPONENTS_NOT_STARTED)
    assert not not_started, f"GOV.UK Frontend did not start {not_started} on {name}"
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{name} is {width} CSS pixels wide in a 320 pixel window"


def test_choosing_an_intervention_shows_the_neighbours_that_adopted_it(
    spread_site: Any, tab: Any
) -> None:
    tab.go("/places/E09000003/like-mine")
    tab.page.get_by_label("Only places that adopted").select_option(FGC)
    tab.page.get_by_role("button", name="Show places").click()
    tab.page.wait_for_load_state("load")
    assert f"intervention={FGC}" in tab.page.url
    assert tab.page.get_by_role("heading", name="Waltham Forest", exact=True).is_visible()
    assert tab.page.get_by_text("Jo Coordinator (test), FGC manager").is_visible()
