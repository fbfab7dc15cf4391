"""A council's workforce and leadership page in Chromium: for a visitor (published figures
only) and for a member (staff survey with a withheld share, and the standard workforce
measures added through the real button), with no axe-core violations, nothing blocked by
the Content Security Policy and no sideways scrolling on a 320-pixel-wide screen."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.core.models import Organisation, User
from whatworks.voice import surveys

pytestmark = pytest.mark.browser
BARNET = "E09000003"
PAGE = f"/voice/workforce/{BARNET}"


@pytest.fixture(scope="module")
def staff_survey(site) -> None:
    """A closed staff survey of Barnet Council on the browser store: 12 staff, 9 of whom
    are happy at work (the share is withheld: 3 is a small count) and 6 of whom find their
    workload manageable (50%)."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        barnet = session.scalar(select(Organisation).where(Organisation.la_code == BARNET))
        admin = session.scalar(select(User).where(User.username == site.admin_username))
        assert barnet is not None and admin is not None
        chosen = surveys.NewSurvey(
            "Working here (browser test)", "staff", "Spring 2025", "2025",
            ("happy_at_work", "manageable_workload"),
        )  # fmt: skip
        survey = surveys.create_survey(session, admin, barnet, chosen)
        answers = [("Agree", "Agree")] * 6 + [("Agree", "Disagree")] * 3
        answers += [("Disagree", "Disagree")] * 3
        codes = surveys.issue_codes(session, admin, survey, "Teams", len(answers))
        for code, (happy, workload) in zip(codes, answers, strict=True):
            posted = {"question-1": happy, "question-2": workload}
            surveys.answer(session, code, posted, on=date(2025, 5, 1))
        surveys.close(session, admin, survey)
    engine.dispose()


def no_sideways_scroll(tab) -> None:
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page is {width} pixels wide at 320"


def test_visitor_sees_the_published_figures(axe_tab, tab) -> None:
    axe_tab.go(PAGE)
    content = axe_tab.page.content()
    assert "Social worker turnover rate (FTE, %)" in content
    assert "Children in care with 3 or more social workers in the year (%)" in content
    assert "shown only to members" in content
    axe_tab.assert_accessible("the workforce page for a visitor")
    axe_tab.page.set_viewport_size({"width": 320, "height": 800})
    axe_tab.go(PAGE)
    axe_tab.assert_accessible("the workforce page for a visitor at 320 pixels")
    no_sideways_scroll(axe_tab)
    tab.go(PAGE)
    assert not tab.problems


def test_member_adds_the_standard_measures(axe_tab, tab, staff_survey) -> None:
    axe_tab.sign_in_as_admin(PAGE)
    content = axe_tab.page.content()
    assert "% of staff who say they are happy at work" in content
    assert "c (suppressed)" in content and "50%" in content
    axe_tab.assert_accessible("the workforce page for a member")
    axe_tab.page.get_by_role("button", name="Add the standard workforce measures").click()
    axe_tab.page.wait_for_load_state("load")
    content = axe_tab.page.content()
    assert "6 standard workforce measures added" in content
    assert "Team managers in permanent posts (%)" in content
    assert "Add the standard workforce measures" not in content
    axe_tab.assert_accessible("the workforce page with its measures")
    axe_tab.screenshot("voice-workforce")
    axe_tab.page.set_viewport_size({"width": 320, "height": 800})
    axe_tab.go(PAGE)
    axe_tab.assert_accessible("the workforce page for a member at 320 pixels")
    no_sideways_scroll(axe_tab)
    tab.sign_in_as_admin(PAGE)
    assert "In-year workforce measures" in tab.page.content()
    assert not tab.problems
