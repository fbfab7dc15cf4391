"""Answering a survey in Chromium on a 320-pixel-wide phone screen, and its results page:
no axe-core violations, no sideways scrolling (WCAG 1.4.10), and the answer stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.voice import demo, surveys
from whatworks.voice.models import Survey, SurveyResponse

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def voice(site) -> tuple[int, list[str]]:
    """The voice demo on the browser store, its 2025 children's survey reopened with codes."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        made = demo.seed_demo(session)
        survey = session.get(Survey, made[1].id)
        assert survey is not None
        survey.status = "open"
        author = surveys.User(username="demo", full_name="Demo", password_hash="", role="admin")
        found = survey.id, surveys.issue_codes(session, author, survey, "Browser test", 2)
    engine.dispose()
    return found


def responses(site) -> int:
    engine = create_db_engine(site.database_url)
    with make_session_factory(engine)() as session:
        found = int(session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)
    engine.dispose()
    return found


def no_sideways_scroll(tab) -> None:
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page is {width} pixels wide at 320"


def test_answer_a_survey_on_a_phone(axe_tab, site, voice) -> None:
    _, codes = voice
    before = responses(site)
    axe_tab.page.set_viewport_size({"width": 320, "height": 800})
    axe_tab.go("/voice/answer")
    axe_tab.assert_accessible("the survey code page at 320 pixels")
    no_sideways_scroll(axe_tab)
    axe_tab.page.get_by_label("Enter your survey code").fill(surveys.shown_code(codes[0]))
    axe_tab.page.get_by_role("button", name="Continue").click()
    axe_tab.page.wait_for_load_state("load")
    assert "Do you trust your social worker?" in axe_tab.page.content()
    axe_tab.assert_accessible("the survey's questions at 320 pixels")
    no_sideways_scroll(axe_tab)
    axe_tab.page.get_by_role("group", name="Do you trust your social worker?").get_by_label(
        "Yes", exact=True
    ).check()
    axe_tab.page.get_by_label("Is there anything else you want to tell us?").fill("x" * 1_001)
    axe_tab.page.get_by_role("button", name="Send my answers").click()
    axe_tab.page.wait_for_load_state("load")
    assert "There is a problem" in axe_tab.page.content() and responses(site) == before
    axe_tab.assert_accessible("the survey's error page at 320 pixels")
    axe_tab.page.get_by_label("Is there anything else you want to tell us?").fill("Thank you")
    axe_tab.page.get_by_role("button", name="Send my answers").click()
    axe_tab.page.wait_for_load_state("load")
    assert "Your answers have been sent" in axe_tab.page.content()
    axe_tab.assert_accessible("the thank-you page at 320 pixels")
    assert responses(site) == before + 1


def test_results_page(axe_tab, tab, site, voice) -> None:
    survey_id, _ = voice
    axe_tab.sign_in_as_admin(f"/voice/surveys/{survey_id}")
    assert "% of children in care who say they trust" in axe_tab.page.content()
    axe_tab.assert_accessible("a survey's results page")
    tab.sign_in_as_admin("/voice/surveys")
    assert "Your life, your care (demo)" in tab.page.content()
    assert not tab.problems


@pytest.fixture(scope="module")
def panel(site) -> int:
    """The demo panel on the browser store."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        found = demo.seed_demo_panels(session).id
    engine.dispose()
    return found


def test_panel_pages_on_a_phone(axe_tab, site, panel) -> None:
    axe_tab.page.set_viewport_size({"width": 320, "height": 800})
    axe_tab.go(f"/voice/panels/{panel}/you-said-we-did")
    assert "free bus passes" in axe_tab.page.content()
    axe_tab.assert_accessible("the you said, we did page at 320 pixels")
    no_sideways_scroll(axe_tab)
    axe_tab.sign_in_as_admin(f"/voice/panels/{panel}")
    assert "Children in care council (demo)" in axe_tab.page.content()
    axe_tab.assert_accessible("a panel's page at 320 pixels")
    no_sideways_scroll(axe_tab)
    axe_tab.go(f"/voice/panels/{panel}/points/new")
    axe_tab.page.get_by_label("Owner").fill("")
    axe_tab.page.get_by_role("button", name="Add the point").click()
    axe_tab.page.wait_for_load_state("load")
    assert "There is a problem" in axe_tab.page.content()
    axe_tab.assert_accessible("the add a point form with errors at 320 pixels")
    no_sideways_scroll(axe_tab)
    axe_tab.go(f"/voice/panels/{panel}")
    axe_tab.page.get_by_role("link", name="Change status").first.click()
    axe_tab.page.wait_for_load_state("load")
    axe_tab.page.get_by_role("button", name="Save the status").click()
    axe_tab.page.wait_for_load_state("load")
    assert "Choose the commitment" in axe_tab.page.content()
    axe_tab.assert_accessible("the change status form with errors at 320 pixels")
    no_sideways_scroll(axe_tab)
