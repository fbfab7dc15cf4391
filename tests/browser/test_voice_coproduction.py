"""Co-production in Chromium: the demo project's page for a visitor on a 320-pixel-wide
screen, and for a member of the project's organisation, who records an activity through the
form (errors first) and applies the suggested rating. No axe-core violations, no sideways
scrolling of the page (WCAG 1.4.10; its tables scroll in their own regions)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import get_or_create_organisation
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.core.models import User
from whatworks.evidence import projects, seed
from whatworks.evidence.models import Project
from whatworks.voice import demo
from whatworks.voice.models import CoproductionActivity

pytestmark = pytest.mark.browser
OWN = "browser:coproduction"
CONDITION = "sustained engagement with children and families"


@pytest.fixture(scope="module")
def made(site) -> tuple[int, int]:
    """The evidence demo with its co-production on the browser store, and a project of the
    site administrator's own council with none (seeding again adds nothing)."""
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        seed.seed(session)
        seed.seed_demo(session)
        demo.seed_demo_coproduction(session)
        shown = session.scalar(select(Project.id).where(Project.seed_key == demo.DEMO_PROJECT))
        own = session.scalar(select(Project.id).where(Project.seed_key == OWN))
        if own is None:
            barnet = get_or_create_organisation(session, "Barnet Council", "council")
            actor = User(username="browser", full_name="Browser", password_hash="", role="admin")
            own = projects.create_project(
                session,
                actor,
                "Family time at weekends (browser test)",
                organisation_id=barnet.id,
                seed_key=OWN,
            ).id
    engine.dispose()
    assert shown is not None
    return shown, own


def activities(site, project_id: int) -> int:
    engine = create_db_engine(site.database_url)
    with make_session_factory(engine)() as session:
        found = session.scalar(
            select(func.count())
            .select_from(CoproductionActivity)
            .where(CoproductionActivity.project_id == project_id)
        )
    engine.dispose()
    return int(found or 0)


def latest(site, project_id: int) -> int | None:
    engine = create_db_engine(site.database_url)
    with make_session_factory(engine)() as session:
        found = projects.latest_conditions(session, project_id).get(CONDITION)
        rating = found.rating if found else None
    engine.dispose()
    return rating


def no_sideways_scroll(tab) -> None:
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page is {width} pixels wide at 320"


def test_the_demo_projects_coproduction_on_a_phone(axe_tab, made) -> None:
    shown, _ = made
    axe_tab.page.set_viewport_size({"width": 320, "height": 800})
    axe_tab.go(f"/evidence/projects/{shown}")
    axe_tab.page.get_by_role("link", name="Co-production", exact=True).click()
    axe_tab.page.wait_for_load_state("load")
    content = axe_tab.page.content()
    assert "Activities by who took part and stage" in content
    assert "4 out of 5" in content and "from 4 October 2022 to 18 January 2023" in content
    assert "Record an activity" not in content
    axe_tab.assert_accessible("the co-production page at 320 pixels")
    no_sideways_scroll(axe_tab)


def test_a_member_records_and_applies(axe_tab, tab, site, made) -> None:
    _, own = made
    before = activities(site, own)
    axe_tab.sign_in_as_admin(f"/voice/projects/{own}/co-production")
    assert "No co-production has been recorded" in axe_tab.page.content()
    axe_tab.assert_accessible("the co-production page with its form")
    page = axe_tab.page
    page.get_by_role("group", name="Who took part").get_by_label("Young people").check()
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2025")
    page.get_by_label("What happened (optional)").fill("x" * 2_001)
    page.get_by_role("button", name="Record the activity").click()
    page.wait_for_load_state("load")
    content = page.content()
    assert "There is a problem" in content and "Choose the stage" in content
    assert "must be a real date" in content and "2,000 characters or fewer" in content
    assert activities(site, own) == before
    axe_tab.assert_accessible("the co-production form with errors")
    page.get_by_role("group", name="At which stage of the project").get_by_label("Design").check()
    page.get_by_role("group", name="How they took part").get_by_label("Co-design workshop").check()
    page.get_by_label("Day").fill("14")
    page.get_by_label("How many people took part (optional)").fill("7")
    page.get_by_label("What happened (optional)").fill("Young people drew the family room.")
    page.get_by_role("button", name="Record the activity").click()
    page.wait_for_load_state("load")
    assert activities(site, own) == before + 1
    assert "Young people drew the family room." in page.content()
    page.get_by_role("button", name="Record 2 as the project's rating").click()
    page.wait_for_load_state("load")
    assert "is now rated 2" in page.content() and latest(site, own) == 2
    axe_tab.assert_accessible("the co-production page after applying the rating")
    tab.go(f"/voice/projects/{own}/co-production")
    assert "Young people drew the family room." in tab.page.content()
    assert not tab.problems
