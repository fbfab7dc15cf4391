"""Answering a survey in Chromium on a 320-pixel-wide phone screen, and its results page;
running a survey on a 375-pixel-wide phone (create it, issue codes, answer with one of
them, close it) and creating a panel: no axe-core violations, no sideways scrolling
(WCAG 1.4.10), and the answers stored."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.voice import demo, surveys
from whatworks.voice.models import Panel, Survey, SurveyResponse

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


def no_sideways_scroll(tab, viewport: int = 320) -> None:
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport, f"the page is {width} pixels wide at {viewport}"


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
    open_id, _ = voice
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        closed_id = demo.seed_demo(session)[0].id  # the 2024 round, closed
    engine.dispose()
    axe_tab.sign_in_as_admin(f"/voice/surveys/{closed_id}")
    assert "% of children in care who say they trust" in axe_tab.page.content()
    axe_tab.assert_accessible("a survey's results page")
    axe_tab.go(f"/voice/surveys/{open_id}")
    assert "Shown when the survey closes" in axe_tab.page.content()
    axe_tab.assert_accessible("an open survey's page")
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


def made_survey(site, title: str) -> tuple[int, str, int]:
    """The survey with this title: its id, status and how many have answered it."""
    engine = create_db_engine(site.database_url)
    with make_session_factory(engine)() as session:
        survey = session.scalar(select(Survey).where(Survey.title == title))
        assert survey is not None, f"no survey {title!r} was stored"
        answered = session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id)
        )
        found = survey.id, survey.status, int(answered or 0)
    engine.dispose()
    return found


def test_run_a_survey_on_a_phone(axe_tab, site) -> None:
    page = axe_tab.page
    page.set_viewport_size({"width": 375, "height": 800})
    axe_tab.sign_in_as_admin("/voice/surveys")
    page.get_by_role("button", name="Create a survey").click()
    page.wait_for_load_state("load")
    axe_tab.assert_accessible("who a new survey is for, at 375 pixels")
    no_sideways_scroll(axe_tab, 375)
    page.get_by_label("Children in care", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert "I am happy at work." not in page.content()  # a staff question
    page.get_by_label("Period").fill("2025-13")
    page.get_by_role("button", name="Create the survey").click()
    page.wait_for_load_state("load")
    assert "There is a problem" in page.content()
    assert "Enter the period as a year" in page.content()
    axe_tab.assert_accessible("the new survey form with errors, at 375 pixels")
    no_sideways_scroll(axe_tab, 375)
    page.get_by_label("Title").fill("Browser phone survey")
    page.get_by_label("Round").fill("Autumn 2025")
    page.get_by_label("Period").fill("2025-Q3")
    page.get_by_label("Do you trust your social worker?").check()
    page.get_by_label("Is there anything else you want to tell us?").check()
    axe_tab.assert_accessible("the new survey form, filled in, at 375 pixels")
    page.get_by_role("button", name="Create the survey").click()
    page.wait_for_load_state("load")
    assert re.search(r"/voice/surveys/\d+$", page.url), page.url
    survey_id, status, answered = made_survey(site, "Browser phone survey")
    assert (status, answered) == ("open", 0)

    page.get_by_label("Respondent group").fill("Browser home")
    page.get_by_label("Number of codes").fill("3")
    page.get_by_role("button", name="Issue codes").click()
    page.wait_for_load_state("load")
    assert "will not be shown again" in page.content()
    codes = [c.strip() for c in page.locator("#codes li").all_inner_texts()]
    assert len(codes) == 3 and all(surveys.normalise_code(c) for c in codes), codes
    assert page.get_by_label("The same codes as plain text").input_value().split() == codes
    axe_tab.assert_accessible("the codes, shown once, at 375 pixels")
    no_sideways_scroll(axe_tab, 375)

    axe_tab.go("/voice/answer")
    page.get_by_label("Enter your survey code").fill(codes[1])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    page.get_by_role("group", name="Do you trust your social worker?").get_by_label(
        "Yes", exact=True
    ).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state("load")
    assert "Your answers have been sent" in page.content()
    assert made_survey(site, "Browser phone survey")[2] == 1

    axe_tab.go(f"/voice/surveys/{survey_id}")
    page.get_by_role("button", name="Close the survey").click()
    page.wait_for_load_state("load")
    assert "Close this survey?" in page.content()
    axe_tab.assert_accessible("the close a survey page, at 375 pixels")
    no_sideways_scroll(axe_tab, 375)
    page.get_by_role("button", name="Close the survey").click()
    page.wait_for_load_state("load")
    assert "This survey is closed" in page.content()
    assert made_survey(site, "Browser phone survey")[1] == "closed"


def test_create_a_panel_on_a_phone(axe_tab, site) -> None:
    page = axe_tab.page
    page.set_viewport_size({"width": 375, "height": 800})
    axe_tab.sign_in_as_admin("/voice/panels")
    page.get_by_role("button", name="Create a panel").click()
    page.wait_for_load_state("load")
    axe_tab.assert_accessible("the new panel form, at 375 pixels")
    no_sideways_scroll(axe_tab, 375)
    page.get_by_role("button", name="Create the panel").click()
    page.wait_for_load_state("load")
    assert "Enter the name of the panel" in page.content()
    assert "Choose who the panel is for" in page.content()
    axe_tab.assert_accessible("the new panel form with errors, at 375 pixels")
    no_sideways_scroll(axe_tab, 375)
    page.get_by_label("Name of the panel").fill("Browser care leavers' forum")
    page.get_by_label("Care leavers", exact=True).check()
    page.get_by_role("button", name="Create the panel").click()
    page.wait_for_load_state("load")
    assert re.search(r"/voice/panels/\d+$", page.url), page.url
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Browser care leavers' forum"
    engine = create_db_engine(site.database_url)
    with make_session_factory(engine)() as session:
        made = session.scalar(select(Panel).where(Panel.name == "Browser care leavers' forum"))
        assert made is not None and made.audience == "care leavers"
    engine.dispose()
