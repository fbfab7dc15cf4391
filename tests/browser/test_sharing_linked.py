"""Linked data in Chromium: start a linkage run from its form, the run's page, the review
queue (deciding a pair), the whole-system view and a child's records behind the purpose
form, each with no axe-core violations and no console errors."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.core.models import AuditEvent, User
from whatworks.sharing import datasets
from whatworks.sharing.models import Agreement, Partnership, PartnershipMember, Signatory
from whatworks.sharing.synthetic import generate

pytestmark = pytest.mark.browser

USERNAME = "linker"
PASSWORD = "browser-linked-password"
AGENCIES = {
    "council": ("Barnet Council", "council", "E09000003"),
    "health": ("North Central London Health", "partner", None),
    "police": ("Metropolitan Police North West", "partner", None),
}
FIELDS = ["record_id", "first_name", "surname", "dob", "sex", "postcode", "address", "upn",
          "nhs_number", "needs"]  # fmt: skip


def _data_dir(site) -> Path:
    return Path(site.database_url.removeprefix("sqlite:///")).parent


@pytest.fixture(scope="module")
def partnership(site, tmp_path_factory) -> int:
    """A partnership of council, health and police on the browser store, with an agreement
    in force and 120 synthetic children's records uploaded; a partnership member to sign in."""
    folder = tmp_path_factory.mktemp("sharing-linked")
    data = generate(120, seed=2, difficulty="hard", agencies=tuple(AGENCIES))
    data_dir = _data_dir(site)
    settings = Settings(data_dir, site.database_url, "unused", "duckdb", False)
    engine = create_db_engine(site.database_url)
    with transaction(make_session_factory(engine)) as session:
        found = Partnership(
            name="Barnet Safeguarding Partnership (browser test)",
            la_code="E09000003",
            created_by="browser test",
        )
        session.add(found)
        session.flush()
        organisations = {}
        for agency, (name, kind, code) in AGENCIES.items():
            organisation = get_or_create_organisation(session, name, kind, code)
            organisations[agency] = organisation
            session.add(
                PartnershipMember(
                    partnership_id=found.id, organisation_id=organisation.id, agency=agency
                )
            )
        agreement = Agreement(
            partnership_id=found.id,
            title="Safeguarding information sharing agreement",
            purpose="To see which children are known to several agencies",
            lawful_basis="UK GDPR Article 6(1)(e) public task",
            agencies=json.dumps(sorted(AGENCIES)),
            fields=json.dumps(FIELDS),
            retention_months=24,
            start_date=date(2024, 1, 1),
            review_date=date(2026, 1, 1),
            end_date=date(2030, 12, 31),
            status="active",
            created_by="browser test",
        )
        session.add(agreement)
        session.flush()
        for organisation in organisations.values():
            session.add(
                Signatory(
                    agreement_id=agreement.id, organisation_id=organisation.id,
                    name="Sam Signer", job_title="Caldicott guardian",
                    signed_on=date(2024, 1, 1), recorded_by="browser test",
                )
            )  # fmt: skip
        admin = session.scalar(select(User).where(User.username == site.admin_username))
        for agency in AGENCIES:
            path = folder / f"{agency}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(data.rows(agency))
            datasets.import_dataset(
                session, settings, admin, found, agency, path, {f: f for f in FIELDS},
                f"{AGENCIES[agency][0]} records",
            )  # fmt: skip
        create_user(
            session, USERNAME, PASSWORD, "partnership_member", "Lin Linked",
            organisations["council"],
        )  # fmt: skip
        partnership_id = found.id
    engine.dispose()
    return partnership_id


def views_of_records(site) -> int:
    engine = create_db_engine(site.database_url)
    with make_session_factory(engine)() as session:
        found = len(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "view linked records")
            ).all()
        )
    engine.dispose()
    return found


def test_linked_pages(axe_tab, tab, site, partnership) -> None:
    page = axe_tab.page
    axe_tab.sign_in(USERNAME, PASSWORD, f"/sharing/partnerships/{partnership}/runs")
    assert "Start a run" in page.content()
    axe_tab.assert_accessible("the linkage runs page")
    page.get_by_role("button", name="Link the records").click()
    page.wait_for_load_state("load")
    assert "There is a problem" in page.content()
    axe_tab.assert_accessible("the start a run form with an error")
    page.get_by_label("Purpose of the run").fill("Needs assessment for the partnership's plan")
    page.get_by_role("button", name="Link the records").click()
    page.wait_for_load_state("load", timeout=120_000)
    assert "/sharing/runs/" in page.url and "Estimated precision" in page.content()
    run_path = page.url.removeprefix(site.base_url)
    axe_tab.assert_accessible("a linkage run's page")

    page.get_by_role("link", name="Review the uncertain pairs").click()
    page.wait_for_load_state("load")
    assert "Pair 1: match probability" in page.content()
    axe_tab.assert_accessible("the review queue")
    page.get_by_role("button", name="Save the decision on pair 1", exact=True).click()
    page.wait_for_load_state("load")
    assert "Choose match or not a match" in page.content()
    axe_tab.assert_accessible("the review queue with an error")
    page.get_by_role("group", name="Pair 1: are these the same child?", exact=True).get_by_label(
        "Not a match"
    ).check()
    page.get_by_role("button", name="Save the decision on pair 1", exact=True).click()
    page.wait_for_load_state("load")
    assert "Decision saved" in page.content()
    axe_tab.assert_accessible("the review queue after a decision")

    axe_tab.go(f"/sharing/partnerships/{partnership}/system")
    assert "Children known to 3 or more agencies" in page.content()
    assert "confidential: suppressed to protect confidentiality" in page.content()
    axe_tab.assert_accessible("the whole-system view")

    before = views_of_records(site)
    axe_tab.go(run_path)
    page.locator("table a.govuk-link").first.click()
    page.wait_for_load_state("load")
    assert "Why you need this child" in page.content()
    axe_tab.assert_accessible("the purpose form of the record-level view")
    person_path = page.url.removeprefix(site.base_url)
    page.get_by_role("button", name="Show the records").click()
    page.wait_for_load_state("load")
    assert "There is a problem" in page.content() and views_of_records(site) == before
    axe_tab.assert_accessible("the purpose form with an error")
    page.get_by_label("Purpose").fill("Strategy meeting for a child at risk of exploitation")
    page.get_by_role("button", name="Show the records").click()
    page.wait_for_load_state("load")
    assert "Agency record id" in page.content()
    axe_tab.assert_accessible("a child's records")
    assert views_of_records(site) == before + 1
    # The JSON twin is a POST with the purpose in its body; a GET is refused and not audited.
    api = f"{site.base_url}/api{person_path}"
    assert page.request.get(api, params={"purpose": "Strategy meeting"}).status == 405
    shown = page.request.post(
        api, data={"purpose": "Strategy meeting for a child at risk of exploitation"}
    )
    assert shown.status == 200 and shown.json()["records"]
    assert views_of_records(site) == before + 2

    tab.sign_in(USERNAME, PASSWORD, f"/sharing/partnerships/{partnership}/system")
    assert "Whole-system view" in tab.page.content()
    tab.go(run_path)
    assert not tab.problems
