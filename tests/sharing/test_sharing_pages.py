"""The sharing pages and their JSON twins through the real app: a council's user creates a
partnership, adds a member, records an agreement (a bad one refused with nothing stored),
both sign, it is activated; an upload is mapped with the guessed columns preselected and
imported, its profile shown; an upload without an agreement in force, or with a hard error,
stores nothing, and an upload whose import fails for any other reason is deleted; people
outside the partnership get 403 on every page and JSON; only the lead's partnership members
add members; a dataset's profile is for its organisation and those with linked access."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent, Organisation
from whatworks.sharing import demo
from whatworks.sharing.models import AgencyDataset, Agreement, Partnership, Signatory
from whatworks.web.app import create_app

PASSWORD = "a long test password"
FILE = (
    "ID,Forename,Surname,Date of Birth,NHS No,Needs\n"
    "H1,Amy,Smith,2015-04-03,4010232137,CAMHS\n"  # 4010232137: check digit 7, worked by hand
    "H2,Ben,Jones,2016-05-06,4010232130,\n"  # ...so 0 fails the check
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def users(sessions) -> None:
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        health = get_or_create_organisation(session, "Barnet Health Trust", "partner")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        create_user(session, "barnet", PASSWORD, "partnership_member", organisation=barnet)
        create_user(session, "nurse", PASSWORD, "partnership_member", organisation=health)
        create_user(session, "leeds", PASSWORD, "partnership_member", organisation=leeds)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    token = csrf(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return csrf(client.get("/sign-out").text)


def sign_out(client: TestClient, token: str) -> None:
    client.post("/sign-out", data={"csrf_token": token})


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def dates(prefix: str, day: date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month),
            f"{prefix}-year": str(day.year)}  # fmt: skip


def test_a_partnership_from_creation_to_a_profile(
    client, sessions, settings, users, tmp_path: Path
) -> None:
    token = sign_in(client, "barnet")
    made = client.post(
        "/sharing/partnerships/new",
        data={"csrf_token": token, "name": "Barnet SCP"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = made.headers["location"]
    pid = int(page.rsplit("/", 1)[1])
    added = client.post(
        f"{page}/members",
        data={"csrf_token": token, "organisation": "Barnet Health Trust", "agency": "health"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    shown = client.get(f"/api/sharing/partnerships/{pid}").json()
    assert [(m["organisation"], m["agency"]) for m in shown["members"]] == [
        ("Barnet Council", "council"),
        ("Barnet Health Trust", "health"),
    ]
    # the agreement form preselects the usual lawful basis; a bad agreement stores nothing
    form = client.get(f"{page}/agreements/new").text
    assert re.search(r'value="UK GDPR Article 6\(1\)\(e\)[^"]*" checked', form)
    today = date.today()
    agreement = {
        "csrf_token": token, "title": "Safeguarding", "purpose": "Known to several services",
        "lawful_basis": "UK GDPR Article 6(1)(e) public task with the DPA 2018 Schedule 1 "
        "safeguarding of children and individuals at risk condition",
        "agencies": ["council", "health"], "fields": ["record_id", "first_name", "surname",
        "dob", "nhs_number", "needs"], "retention_months": "12",
        **dates("start_date", date(today.year - 1, 1, 1)),
        **dates("review_date", date(today.year, 1, 1)),
        **dates("end_date", date(today.year - 1, 1, 1)),
    }  # fmt: skip
    refused = client.post(f"{page}/agreements/new", data=agreement)
    assert refused.status_code == 400
    assert "The end date must be after the start date" in refused.text
    assert 'href="#end_date-day"' in refused.text
    assert count(sessions, Agreement) == 0
    agreement.update(dates("end_date", date(today.year + 1, 12, 31)))
    recorded = client.post(f"{page}/agreements/new", data=agreement, follow_redirects=False)
    assert recorded.status_code == 303
    agreement_page = recorded.headers["location"]
    aid = int(agreement_page.rsplit("/", 1)[1])
    # activating before everyone signed says who has not
    early = client.post(f"{agreement_page}/activate", data={"csrf_token": token})
    assert (
        early.status_code == 400
        and "not yet signed by Barnet Council, Barnet Health Trust" in early.text
    )
    ids = {
        m["organisation"]: m["organisation_id"]
        for m in client.get(f"/api/sharing/partnerships/{pid}").json()["members"]
    }
    signed = client.post(
        f"{agreement_page}/sign",
        data={
            "csrf_token": token,
            "organisation": str(ids["Barnet Council"]),
            "name": "Chris",
            "job_title": "Director",
            **dates("signed_on", today),
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    # a council user cannot sign for the health trust
    other = client.post(
        f"{agreement_page}/sign",
        data={
            "csrf_token": token,
            "organisation": str(ids["Barnet Health Trust"]),
            "name": "Sam",
            "job_title": "Nurse",
            **dates("signed_on", today),
        },
    )
    assert other.status_code == 403
    assert count(sessions, Signatory) == 1
    sign_out(client, token)
    nurse = sign_in(client, "nurse")
    assert "Barnet SCP" in client.get("/sharing").text
    client.post(
        f"{agreement_page}/sign",
        data={
            "csrf_token": nurse,
            "organisation": str(ids["Barnet Health Trust"]),
            "name": "Sam",
            "job_title": "Nurse",
            **dates("signed_on", today),
        },
    )
    active = client.post(f"{agreement_page}/activate", data={"csrf_token": nurse})
    assert active.status_code == 200 and "In force" in active.text
    state = client.get(f"/api/sharing/agreements/{aid}").json()
    assert (state["status"], state["in_force"], state["problems"]) == ("active", True, [])
    # the nurse uploads the health trust's file; the mapping step preselects the guesses
    health = str(ids["Barnet Health Trust"])
    upload_page = f"{page}/datasets/new"
    assert "Barnet Health Trust (health)" in client.get(upload_page).text
    sent = client.post(
        upload_page,
        data={"csrf_token": nurse, "member": health, "title": "CAMHS list"},
        files={"file": ("camhs.csv", FILE.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    mapping_page = sent.headers["location"]
    mapping = client.get(mapping_page).text
    for field, column in (("record_id", "ID"), ("first_name", "Forename"),
                          ("dob", "Date of Birth"), ("nhs_number", "NHS No")):  # fmt: skip
        select_html = mapping.split(f'id="map-{field}"', 1)[1].split("</select>", 1)[0]
        assert f'<option value="{column}" selected>' in select_html
    assert 'id="map-address"' not in mapping  # the agreement does not share addresses
    guessed = client.get("/api" + mapping_page).json()["suggested_mapping"]
    assert guessed == {
        "record_id": "ID", "first_name": "Forename", "surname": "Surname",
        "dob": "Date of Birth", "nhs_number": "NHS No", "needs": "Needs",
    }  # fmt: skip
    imported = client.post(
        mapping_page,
        data={"csrf_token": nurse, **{f"map-{f}": c for f, c in guessed.items()}},
        follow_redirects=False,
    )
    assert imported.status_code == 303
    profile_page = client.get(imported.headers["location"]).text
    assert "CAMHS list" in profile_page and "Fails the modulus 11 check" in profile_page
    did = int(imported.headers["location"].rsplit("/", 1)[1])
    profile = client.get(f"/api/sharing/datasets/{did}").json()["profile"]
    assert profile["fields"]["nhs_number"]["valid_pct"] == 50.0  # 1 of the 2
    # one record: suppressed under disclosure control
    assert profile["fields"]["needs"]["codes"] == {
        "CAMHS": {"value": None, "status": "c", "shown": "c"}
    }
    assert not list((settings.data_dir / "partnerships" / f"p{pid}" / "uploads").glob("*"))


def _demo(sessions, settings) -> tuple[int, int, int]:
    with transaction(sessions) as session:
        made = demo.seed_demo_sharing(session, settings, link=False)
        partnership = session.get(Partnership, made.partnership_id)
        return (
            partnership.id,
            partnership.agreements[0].id,
            session.scalar(
                select(AgencyDataset.id).where(AgencyDataset.partnership_id == partnership.id)
            ),
        )


def demo_council_user(sessions, partnership_id: int) -> int:
    """A user of the demo partnership's council; returns the council's organisation id."""
    with transaction(sessions) as session:
        council = session.get(Partnership, partnership_id).members[0].organisation_id
        create_user(
            session, "demo-council", PASSWORD, "partnership_member",
            organisation=session.get(Organisation, council),
        )  # fmt: skip
    return council


def test_people_outside_the_partnership_get_403_on_every_page_and_json(
    client, sessions, settings, users
) -> None:
    pid, aid, did = _demo(sessions, settings)
    pages = [
        f"/sharing/partnerships/{pid}",
        f"/sharing/partnerships/{pid}/agreements/new",
        f"/sharing/agreements/{aid}",
        f"/sharing/partnerships/{pid}/datasets/new",
        f"/sharing/partnerships/{pid}/datasets/new/{'x' * 24}",
        f"/sharing/datasets/{did}",
    ]
    for page in pages:  # a visitor is asked to sign in
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303 and "/sign-in" in answer.headers["location"]
        assert client.get("/api" + page).status_code == 401
    token = sign_in(client, "leeds")
    for page in pages:
        assert client.get(page).status_code == 403, page
        assert client.get("/api" + page).status_code == 403, page
    for action, data in (
        (f"/sharing/partnerships/{pid}/members", {"organisation": "X", "agency": "other"}),
        (f"/sharing/partnerships/{pid}/agreements/new", {"title": "X"}),
        (f"/sharing/agreements/{aid}/sign", {"name": "X"}),
        (f"/sharing/agreements/{aid}/activate", {}),
        (f"/sharing/agreements/{aid}/end", {}),
        (f"/sharing/partnerships/{pid}/datasets/new", {"member": "1"}),
    ):
        assert client.post(action, data={"csrf_token": token, **data}).status_code == 403
    assert client.get("/api/sharing/partnerships").json()["partnerships"] == []
    with sessions() as session:
        agreement = session.get(Agreement, aid)
        assert agreement is not None and agreement.status == "active"
        assert len(session.get(Partnership, pid).members) == 4


def test_an_upload_is_refused_with_the_reason_when_no_agreement_is_in_force(
    client, sessions, settings, users
) -> None:
    pid, aid, _ = _demo(sessions, settings)
    with transaction(sessions) as session:
        session.get(Agreement, aid).start_date = date.today() + timedelta(days=400)
        before = session.scalar(select(func.count()).select_from(AgencyDataset))
    barnet = demo_council_user(sessions, pid)
    token = sign_in(client, "demo-council")
    page = client.get(f"/sharing/partnerships/{pid}/datasets/new").text
    assert "None in force" in page and "it starts on" in page
    refused = client.post(
        f"/sharing/partnerships/{pid}/datasets/new",
        data={"csrf_token": token, "member": str(barnet)},
        files={"file": ("council.csv", FILE.encode("utf-8"), "text/csv")},
    )
    assert refused.status_code == 400
    assert "is in force on" in refused.text and "it starts on" in refused.text
    assert count(sessions, AgencyDataset) == before
    assert not list((settings.data_dir / "partnerships" / f"p{pid}" / "uploads").glob("*"))


def test_a_hard_error_at_the_mapping_step_stores_nothing(client, sessions, settings, users) -> None:
    pid, _, _ = _demo(sessions, settings)
    barnet = demo_council_user(sessions, pid)
    token = sign_in(client, "demo-council")
    before = count(sessions, AgencyDataset)
    files_before = sorted((settings.data_dir / "partnerships").rglob("*.parquet"))
    sent = client.post(
        f"/sharing/partnerships/{pid}/datasets/new",
        data={"csrf_token": token, "member": str(barnet)},
        files={"file": ("council.csv", FILE.replace("H2,", "H1,").encode(), "text/csv")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    refused = client.post(
        sent.headers["location"],
        data={"csrf_token": token, "map-record_id": "ID", "map-first_name": "Forename"},
    )
    assert refused.status_code == 400
    assert "council.csv, row 3, column &#39;ID&#39;: record id &#39;H1&#39; repeats row 2" in (
        refused.text
    )
    assert count(sessions, AgencyDataset) == before
    assert sorted((settings.data_dir / "partnerships").rglob("*.parquet")) == files_before
    # the file waits for another mapping, or is deleted
    client.post(sent.headers["location"] + "/discard", data={"csrf_token": token})
    assert not list((settings.data_dir / "partnerships" / f"p{pid}" / "uploads").glob("*"))


def test_the_demo_partnership_is_linked_once(sessions, settings) -> None:
    from whatworks.sharing import synthetic
    from whatworks.sharing.models import LinkRun

    with transaction(sessions) as session:
        made = demo.seed_demo_sharing(session, settings)
    with transaction(sessions) as session:
        assert demo.seed_demo_sharing(session, settings).datasets_added == 0
        found = session.scalars(select(LinkRun)).all()
    assert len(found) == 1 and found[0].status == "done"
    # The truth the demo was generated from: the children held by at least one agency.
    data = synthetic.generate(demo.PEOPLE, demo.SEED, agencies=synthetic.AGENCIES)
    rows = [r for agency in synthetic.AGENCIES for r in data.rows(agency)]
    children = {r["person_id"] for r in rows}
    assert found[0].record_count == len(rows) == made.records_added
    assert abs(found[0].cluster_count - len(children)) <= 0.02 * len(children)


def _demo_user(sessions, partnership_id: int, username: str, role: str, agency: str) -> None:
    with transaction(sessions) as session:
        member = next(
            m for m in session.get(Partnership, partnership_id).members if m.agency == agency
        )
        create_user(
            session, username, PASSWORD, role,
            organisation=session.get(Organisation, member.organisation_id),
        )  # fmt: skip


def test_only_the_lead_s_partnership_members_add_members(client, sessions, settings, users) -> None:
    pid, aid, _ = _demo(sessions, settings)
    demo_council_user(sessions, pid)  # the council is the demo partnership's first member
    _demo_user(sessions, pid, "demo-police", "partnership_member", "police")
    page = f"/sharing/partnerships/{pid}"
    token = sign_in(client, "demo-police")
    assert "Add the member" not in client.get(page).text
    assert client.get(f"/api{page}").json()["may_add_members"] is False
    refused = client.post(
        f"{page}/members", data={"csrf_token": token, "organisation": "X", "agency": "other"}
    )
    assert refused.status_code == 403
    sign_out(client, token)
    token = sign_in(client, "demo-council")
    assert "Add the member" in client.get(page).text
    added = client.post(
        f"{page}/members",
        data={"csrf_token": token, "organisation": "Hendon Youth Club", "agency": "other"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    state = client.get(f"/api/sharing/agreements/{aid}").json()
    assert (state["status"], state["in_force"], state["unsigned"]) == (
        "draft", False, ["Hendon Youth Club"]
    )  # fmt: skip
    with sessions() as session:
        assert len(session.get(Partnership, pid).members) == 5


def test_a_dataset_s_profile_is_for_its_organisation_and_linked_access(
    client, sessions, settings, users
) -> None:
    pid, _, _ = _demo(sessions, settings)
    with sessions() as session:
        council = session.scalar(
            select(AgencyDataset.id).where(
                AgencyDataset.partnership_id == pid, AgencyDataset.agency == "council"
            )
        )
    _demo_user(sessions, pid, "council-clerk", "member", "council")
    _demo_user(sessions, pid, "police-clerk", "member", "police")
    _demo_user(sessions, pid, "police-analyst", "partnership_member", "police")
    for who, status in (("police-clerk", 403), ("council-clerk", 200), ("police-analyst", 200)):
        token = sign_in(client, who)
        assert client.get(f"/sharing/datasets/{council}").status_code == status, who
        assert client.get(f"/api/sharing/datasets/{council}").status_code == status, who
        sign_out(client, token)
    token = sign_in(client, "council-clerk")
    page = client.get(f"/sharing/datasets/{council}").text
    codes = client.get(f"/api/sharing/datasets/{council}").json()["profile"]["fields"]["needs"]
    for shown in codes["codes"].values():  # every count rounded to 10, or suppressed
        assert shown["status"] == "c" or (shown["value"] % 10 == 0 and shown["value"] > 5)
        assert (
            f'<td class="govuk-table__cell govuk-table__cell--numeric">{shown["shown"]}</td>'
            in (page)
        )
    with sessions() as session:
        viewed = session.scalars(
            select(AuditEvent.username)
            .where(
                AuditEvent.action == "view agency dataset",
                AuditEvent.target == f"dataset:{council}",
            )
            .order_by(AuditEvent.id)
        ).all()
    # each page and JSON seen, the refused ones not
    assert viewed == ["council-clerk"] * 2 + ["police-analyst"] * 2 + ["council-clerk"] * 2


def test_an_upload_whose_import_fails_unexpectedly_is_deleted(
    client, sessions, settings, users
) -> None:
    pid, _, _ = _demo(sessions, settings)
    barnet = demo_council_user(sessions, pid)
    token = sign_in(client, "demo-council")
    before = count(sessions, AgencyDataset)
    sent = client.post(
        f"/sharing/partnerships/{pid}/datasets/new",
        data={"csrf_token": token, "member": str(barnet)},
        files={"file": ("council.csv", FILE.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    uploads = settings.data_dir / "partnerships" / f"p{pid}" / "uploads"
    assert len(list(uploads.glob("*"))) == 2  # the file and what it is
    # the analytics store cannot be written: its folder for the partnership is a file
    folder = settings.analytics_dir / "sharing" / f"p{pid}"
    aside = folder.with_name(f"p{pid}-aside")
    folder.rename(aside)
    folder.write_text("not a folder", encoding="utf-8")
    try:
        with pytest.raises(OSError):
            client.post(
                sent.headers["location"],
                data={"csrf_token": token, "map-record_id": "ID", "map-first_name": "Forename"},
            )
    finally:
        folder.unlink()
        aside.rename(folder)
    assert not list(uploads.glob("*"))
    assert count(sessions, AgencyDataset) == before
