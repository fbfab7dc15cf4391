"""The record-level view: one person's records with their matching fields, only for users
with linked access under an agreement in force and with a purpose; every view is exactly
one audit event naming the purpose; deleted identifiers say so."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from whatworks.core.audit import Actor
from whatworks.core.errors import NotFound, PermissionDenied
from whatworks.core.models import AuditEvent, User
from whatworks.sharing import area, records, runs
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import AgencyDataset, Agreement, Partnership

PURPOSE = "Strategic needs assessment of children known to several agencies"
WHY = "Multi-agency strategy meeting for a child at risk"


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def audit_count(session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.fixture
def tiny_run(session, tmp_path, builder, people, tiny):
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    session.commit()
    assert run.status == "done", run.error
    person = {(r["dataset_id"], r["record"]): r["person"] for r in runs.clusters_of(tmp_path, run)}
    amelia = person[built.datasets["council"], built.record("council", "C1")]
    return built, run, amelia


def test_a_persons_records_side_by_side(session, tmp_path, tiny_run) -> None:
    built, run, amelia = tiny_run
    shown = records.person_records(session, tmp_path, user(session, "linked"), run, amelia, WHY)
    assert [(r.agency, r.fields["record_id"], r.fields["first_name"]) for r in shown.records] == [
        ("council", "C1", "Amelia"),
        ("health", "H1", "Amelia"),
    ]
    assert shown.records[0].fields["dob"] == "2012-05-14"
    assert shown.records[0].needs == ("CIN", "CP") and shown.records[1].needs == ("MH",)
    assert shown.records[0].organisation == "Barnet Council"
    assert shown.datasets == sorted(built.datasets.values())


def test_every_view_adds_exactly_one_audit_event_naming_the_purpose(
    session, tmp_path, tiny_run
) -> None:
    built, run, amelia = tiny_run
    linked = user(session, "linked")
    for purpose in (WHY, "Review of the child's education health and care plan"):
        before = audit_count(session)
        records.person_records(session, tmp_path, linked, run, amelia, purpose)
        assert audit_count(session) == before + 1
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert event is not None
        assert (event.action, event.username, event.target, event.purpose) == (
            "view linked records", "linked", f"sharing person:{amelia}", purpose,
        )  # fmt: skip
        detail = json.loads(event.detail)
        assert detail["run"] == run.id and detail["records"] == 2
        assert detail["datasets"] == sorted(built.datasets.values())


def test_no_purpose_no_records_and_no_event(session, tmp_path, tiny_run) -> None:
    _, run, amelia = tiny_run
    before = audit_count(session)
    for purpose in ("", "   ", "to check"):
        with pytest.raises(runs.PurposeNeeded, match="at least 10 characters"):
            records.person_records(session, tmp_path, user(session, "linked"), run, amelia, purpose)
    assert audit_count(session) == before


def test_refused_outside_the_partnership_and_without_an_agreement(
    session, tmp_path, tiny_run
) -> None:
    built, run, amelia = tiny_run
    before = audit_count(session)
    for who in ("outsider", "plain"):
        with pytest.raises(PermissionDenied):
            records.person_records(session, tmp_path, user(session, who), run, amelia, WHY)
    with pytest.raises(NotFound):
        records.person_records(session, tmp_path, user(session, "linked"), run, "f" * 20, WHY)
    session.get(Agreement, built.agreement_id).status = "ended"
    with pytest.raises(AgreementNeeded, match="it is ended"):
        records.person_records(session, tmp_path, user(session, "linked"), run, amelia, WHY)
    assert audit_count(session) == before


def test_deleted_identifiers_are_said_to_be_deleted(session, tmp_path, tiny_run) -> None:
    built, run, amelia = tiny_run
    health = session.get(AgencyDataset, built.datasets["health"])
    health.status = "identifiers deleted"
    area.matching_path(tmp_path, built.partnership_id, health.id).unlink()
    shown = records.person_records(session, tmp_path, user(session, "linked"), run, amelia, WHY)
    by_agency = {r.agency: r for r in shown.records}
    assert by_agency["council"].fields is not None
    assert by_agency["council"].fields["surname"] == "Brown"
    assert by_agency["health"].fields is None
    assert by_agency["health"].note == "identifiers deleted at the end of retention"


def test_each_dataset_shows_only_the_fields_its_agreement_shares(
    session, tmp_path, tiny_run, another_agreement
) -> None:
    built, run, amelia = tiny_run
    narrow = another_agreement(
        session, built, ["health"], ["record_id", "first_name", "surname"], title="Names only"
    )
    session.get(AgencyDataset, built.datasets["health"]).agreement_id = narrow.id
    shown = records.person_records(session, tmp_path, user(session, "linked"), run, amelia, WHY)
    by_agency = {r.agency: r for r in shown.records}
    assert by_agency["health"].fields == {
        "record_id": "H1", "first_name": "Amelia", "surname": "Brown",
    }  # fmt: skip
    assert by_agency["health"].needs is None  # needs are not shared under "Names only"
    council = by_agency["council"].fields
    assert council is not None and council["dob"] == "2012-05-14" and council["sex"] == "F"
    assert by_agency["council"].needs == ("CIN", "CP")


def test_each_dataset_needs_its_own_agreement_in_force(
    session, tmp_path, tiny_run, another_agreement
) -> None:
    built, run, amelia = tiny_run
    before = audit_count(session)
    another_agreement(session, built, ["council", "health"])
    session.get(Agreement, built.agreement_id).status = "ended"
    health = session.get(AgencyDataset, built.datasets["health"])
    with pytest.raises(AgreementNeeded, match=f"dataset {health.id} "):
        records.person_records(session, tmp_path, user(session, "linked"), run, amelia, WHY)
    assert audit_count(session) == before
