"""The sharing pages in Chromium: the demo partnership, its agreement, a new agreement's
form with its errors, an upload and its mapping step, and the profile of the dataset it
makes: no axe-core violations on any of them, and the upload imported through the forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from whatworks.config import Settings
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.sharing import demo
from whatworks.sharing.models import AgencyDataset, Partnership

pytestmark = pytest.mark.browser

UPLOAD = (
    "Case number,Forename,Family name,DOB,Post Code,NHS No,Needs\n"
    "X1,Amy,Smith,2015-04-03,N12 0AB,4010232137,CAMHS\n"
    "X2,Ben,Jones,2016-05-06,NOT A POSTCODE,,A&E attendance\n"
)


def _factory(site):  # type: ignore[no-untyped-def]
    return make_session_factory(create_db_engine(site.database_url))


@pytest.fixture(scope="module")
def partnership(site) -> tuple[int, int]:
    """The sharing demo on the browser store (its data folder beside the SQLite file)."""
    folder = Path(site.database_url.removeprefix("sqlite:///")).parent
    settings = Settings(folder, site.database_url, "unused", "duckdb", False)
    factory = _factory(site)
    with transaction(factory) as session:
        made = demo.seed_demo_sharing(session, settings)
        found = session.get(Partnership, made.partnership_id)
        assert found is not None
        ids = found.id, found.agreements[0].id
    factory.kw["bind"].dispose()
    return ids


def datasets(site) -> int:
    factory = _factory(site)
    with factory() as session:
        found = int(session.scalar(select(func.count()).select_from(AgencyDataset)) or 0)
    factory.kw["bind"].dispose()
    return found


def test_partnership_and_agreement_pages(axe_tab, partnership) -> None:
    pid, aid = partnership
    axe_tab.sign_in_as_admin("/sharing")
    assert demo.DEMO_PARTNERSHIP in axe_tab.page.content()
    axe_tab.assert_accessible("the list of partnerships")
    axe_tab.go(f"/sharing/partnerships/{pid}")
    content = axe_tab.page.content()
    assert "Metropolitan Police (demo)" in content and "In force" in content
    axe_tab.assert_accessible("a partnership's page")
    axe_tab.screenshot("sharing-partnership")
    axe_tab.go(f"/sharing/agreements/{aid}")
    assert "UK GDPR Article 6(1)(e)" in axe_tab.page.content()
    axe_tab.assert_accessible("an agreement's page")
    axe_tab.go(f"/sharing/partnerships/{pid}/agreements/new")
    axe_tab.assert_accessible("the new agreement form")
    axe_tab.page.get_by_label("Title").fill("Missing its dates")
    axe_tab.page.get_by_role("button", name="Record the agreement").click()
    axe_tab.page.wait_for_load_state("load")
    assert "Enter the start date" in axe_tab.page.content()
    axe_tab.assert_accessible("the new agreement form with errors")


def test_upload_map_import_and_profile(axe_tab, tab, site, partnership, tmp_path) -> None:
    pid, _ = partnership
    before = datasets(site)
    axe_tab.sign_in_as_admin(f"/sharing/partnerships/{pid}/datasets/new")
    axe_tab.assert_accessible("the upload form")
    axe_tab.page.get_by_role("button", name="Upload and continue").click()
    axe_tab.page.wait_for_load_state("load")
    assert "Choose whose records these are" in axe_tab.page.content()
    axe_tab.assert_accessible("the upload form with errors")
    file = tmp_path / "camhs.csv"
    file.write_text(UPLOAD, encoding="utf-8")
    axe_tab.page.get_by_label("Whose records these are").select_option(
        label="North London Community Health (demo) (health)"
    )
    axe_tab.page.get_by_label("Title (optional)").fill("CAMHS referrals (browser test)")
    axe_tab.page.get_by_label("CSV file").set_input_files(str(file))
    axe_tab.page.get_by_role("button", name="Upload and continue").click()
    axe_tab.page.wait_for_load_state("load")
    assert "Choose the column of each field" in axe_tab.page.content()
    axe_tab.assert_accessible("the mapping step")
    # the guesses: "Case number" is not a usual name for the record id
    assert axe_tab.page.get_by_label("First name").input_value() == "Forename"
    assert axe_tab.page.get_by_label("NHS number").input_value() == "NHS No"
    assert axe_tab.page.get_by_label("Surname").input_value() == "Family name"
    assert (
        axe_tab.page.get_by_label("Record id (the agency's own id of the record)").input_value()
        == ""
    )
    axe_tab.page.get_by_role("button", name="Import the records").click()
    axe_tab.page.wait_for_load_state("load")
    assert "choose the column that holds the record id" in axe_tab.page.content()
    axe_tab.assert_accessible("the mapping step with errors")
    assert datasets(site) == before
    axe_tab.page.get_by_label("Record id (the agency's own id of the record)").select_option(
        "Case number"
    )
    axe_tab.page.get_by_role("button", name="Import the records").click()
    axe_tab.page.wait_for_load_state("load")
    assert datasets(site) == before + 1
    content = axe_tab.page.content()
    assert "CAMHS referrals (browser test)" in content and "Not a UK postcode" in content
    axe_tab.assert_accessible("a dataset's profile")
    axe_tab.screenshot("sharing-dataset-profile")
    tab.sign_in_as_admin(f"/sharing/partnerships/{pid}")
    assert "CAMHS referrals (browser test)" in tab.page.content()
    assert not tab.problems
