"""Partnerships and data-sharing agreements on the real store: who may create a partnership
and add members, an agreement's checks (each refusal naming its field, nothing stored),
members added only by the lead organisation's partnership members (or an administrator),
a new member sending active agreements back to draft, signing only for one's own
organisation with the partnership member role, activation only once every member has
signed, ending early, and an audit entry for every change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.errors import PermissionDenied
from whatworks.core.models import AuditEvent, Organisation, User
from whatworks.sharing import access, partnerships
from whatworks.sharing.models import Agreement, Partnership, PartnershipMember, Signatory
from whatworks.sharing.partnerships import NewAgreement, SharingRefused

PASSWORD = "a long test password"
AGREEMENT = NewAgreement(
    title="Sharing to safeguard children",
    purpose="To see which children are known to several services.",
    lawful_basis=partnerships.USUAL_BASIS,
    lawful_basis_detail="",
    agencies=("council", "health"),
    fields=("record_id", "first_name", "surname", "dob", "needs"),
    retention_months=12,
    start_date=date(2026, 1, 1),
    review_date=date(2026, 12, 31),
    end_date=date(2027, 12, 31),
)


@pytest.fixture
def people(sessions) -> None:
    """Barnet Council, a health trust, Leeds City Council; a user of each and an admin; a
    user of Barnet and of the trust without the partnership member role."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        health = get_or_create_organisation(session, "Barnet Health Trust", "partner")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        create_user(session, "barnet", PASSWORD, "partnership_member", organisation=barnet)
        create_user(session, "nurse", PASSWORD, "partnership_member", organisation=health)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        create_user(session, "admin", PASSWORD, "admin")
        create_user(session, "clerk", PASSWORD, "member", organisation=barnet)
        create_user(session, "porter", PASSWORD, "analyst", organisation=health)


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def org(session, name: str) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    assert found is not None
    return found


def count(session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def fields_of(refused: pytest.ExceptionInfo[SharingRefused]) -> list[str]:
    return [where for where, _ in refused.value.problems]


@pytest.fixture
def partnership(sessions, people) -> int:
    """Barnet's partnership (created by its council's user) with the health trust added."""
    with transaction(sessions) as session:
        made = partnerships.create_partnership(session, user(session, "barnet"), "Barnet SCP")
        partnerships.add_member(
            session, user(session, "barnet"), made, "Barnet Health Trust", "health"
        )
        return made.id


def test_a_council_user_creates_a_partnership_for_its_own_area(session, people) -> None:
    barnet = user(session, "barnet")
    made = partnerships.create_partnership(session, barnet, "Barnet SCP")
    session.commit()
    assert made.la_code == "E09000003" and made.created_by == "barnet"
    assert [(m.organisation_id, m.agency) for m in made.members] == [
        (org(session, "Barnet Council").id, "council")
    ]
    assert actions(session) == ["create partnership", "add partnership member"]
    with pytest.raises(SharingRefused) as refused:
        partnerships.create_partnership(session, barnet, "Leeds SCP", "E08000035")
    assert fields_of(refused) == ["la_code"]
    assert "own area only (E09000003), not E08000035" in str(refused.value)
    with pytest.raises(SharingRefused) as refused:
        partnerships.create_partnership(session, barnet, "Barnet SCP")
    assert fields_of(refused) == ["name"]
    with pytest.raises(PermissionDenied):  # a health trust is not a council
        partnerships.create_partnership(session, user(session, "nurse"), "Health SCP")
    session.rollback()
    assert count(session, Partnership) == 1


def test_an_admin_may_name_an_area_by_its_old_code_and_joins_nothing(session, people) -> None:
    made = partnerships.create_partnership(session, user(session, "admin"), "North SCP", "302")
    assert made.la_code == "E09000003"  # Barnet's old code is 302
    assert made.members == []
    with pytest.raises(SharingRefused) as refused:
        partnerships.create_partnership(session, user(session, "admin"), "Nowhere", "999")
    assert fields_of(refused) == ["la_code"]


def test_members_are_added_by_the_lead_s_partnership_members_only_each_once(
    session, partnership
) -> None:
    found = session.get(Partnership, partnership)
    assert found is not None
    # the lead is the first member: the council that created it
    lead = partnerships.lead_member(found)
    assert lead is not None and lead.organisation_id == org(session, "Barnet Council").id
    for who in ("leeds", "nurse", "clerk"):  # outside; a member, not the lead; not the role
        with pytest.raises(PermissionDenied):
            partnerships.add_member(session, user(session, who), found, "A School", "school")
        assert partnerships.may_add_members(user(session, who), found) is False
    assert session.scalar(select(Organisation).where(Organisation.name == "A School")) is None
    with pytest.raises(SharingRefused) as refused:
        partnerships.add_member(session, user(session, "barnet"), found, "", "fire")
    assert fields_of(refused) == ["agency", "organisation"]
    with pytest.raises(SharingRefused) as refused:
        partnerships.add_member(session, user(session, "barnet"), found, "Barnet Council", "other")
    assert "Barnet Council is already a member" in str(refused.value)
    added = partnerships.add_member(
        session, user(session, "barnet"), found, "Hendon School", "school"
    )
    school = session.get(Organisation, added.organisation_id)
    assert school is not None and school.kind == "partner"
    partnerships.add_member(session, user(session, "admin"), found, "Barnet Police", "police")
    assert [m.agency for m in found.members] == ["council", "health", "school", "police"]


def test_a_new_member_sends_an_active_agreement_back_to_draft(sessions, partnership) -> None:
    on = date(2026, 3, 1)
    with transaction(sessions) as session:
        found = session.get(Partnership, partnership)
        active = partnerships.record_agreement(session, user(session, "admin"), found, AGREEMENT)
        draft = partnerships.record_agreement(session, user(session, "admin"), found, AGREEMENT)
        for organisation in partnerships.member_organisations(session, found):
            partnerships.sign(
                session, user(session, "admin"), active, organisation.id, "A", "B", on, on
            )
        partnerships.activate(session, user(session, "admin"), active, on)
        assert access.in_force(session, active, on)
        partnerships.add_member(session, user(session, "barnet"), found, "Hendon School", "school")
        assert (active.status, draft.status) == ("draft", "draft")
        assert access.problems(session, active, on) == [
            "it is draft, not active",
            "1 member organisation(s) have not signed it",
        ]
        with pytest.raises(access.AgreementNeeded):
            access.agreement_for(session, found, on)
        active_id = active.id
    with sessions() as session:
        back = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "agreement back to draft")
        ).all()
    assert [e.target for e in back] == [f"agreement:{active_id}"]
    assert "Hendon School joined the partnership as school" in json.loads(back[0].detail)["reason"]


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ({"title": " "}, "title", "Enter the agreement's title"),
        ({"purpose": ""}, "purpose", "Enter the purpose"),
        ({"lawful_basis": partnerships.OTHER_BASIS}, "lawful_basis_detail", "in full"),
        ({"lawful_basis": "consent"}, "lawful_basis", "Choose the lawful basis"),
        ({"agencies": ()}, "agencies", "Choose the agencies"),
        ({"agencies": ("council", "police")}, "agencies", "takes part as police"),
        ({"fields": ("first_name", "surname")}, "fields", "must include the record id"),
        ({"fields": ("record_id", "ethnicity")}, "fields", "ethnicity are not fields"),
        ({"retention_months": 0}, "retention_months", "between 1 and 120"),
        ({"retention_months": None}, "retention_months", "Enter how many months"),
        ({"end_date": date(2026, 1, 1)}, "end_date-day", "after the start date"),
        ({"review_date": date(2028, 1, 1)}, "review_date-day", "before the end date"),
        ({"review_date": date(2026, 1, 1)}, "review_date-day", "after the start date"),
        ({"start_date": None}, "start_date-day", "Enter the start date"),
    ],
)
def test_an_agreement_with_a_problem_is_refused_naming_the_field(
    session, partnership, change, where, words
) -> None:
    found = session.get(Partnership, partnership)
    with pytest.raises(SharingRefused) as refused:
        partnerships.record_agreement(
            session, user(session, "barnet"), found, replace(AGREEMENT, **change)
        )
    assert fields_of(refused) == [where]
    assert words in str(refused.value)
    assert count(session, Agreement) == 0


def test_another_lawful_basis_is_kept_in_full(session, partnership) -> None:
    stated = "UK GDPR Article 6(1)(c) legal obligation under the Children Act 1989, section 47"
    made = partnerships.record_agreement(
        session,
        user(session, "barnet"),
        session.get(Partnership, partnership),
        replace(AGREEMENT, lawful_basis=partnerships.OTHER_BASIS, lawful_basis_detail=stated),
    )
    assert partnerships.lawful_basis_text(made) == stated
    assert made.status == "draft"
    assert json.loads(made.agencies) == ["council", "health"]
    assert json.loads(made.fields) == ["record_id", "first_name", "surname", "dob", "needs"]


def test_signing_activation_and_force_step_by_step(sessions, partnership) -> None:
    with transaction(sessions) as session:
        found = session.get(Partnership, partnership)
        agreement = partnerships.record_agreement(
            session, user(session, "barnet"), found, AGREEMENT
        )
        agreement_id = agreement.id
        barnet, health = org(session, "Barnet Council").id, org(session, "Barnet Health Trust").id
    on = date(2026, 3, 1)
    with transaction(sessions) as session:
        agreement = session.get(Agreement, agreement_id)
        # only the organisation's own partnership members (or an admin) sign for it
        with pytest.raises(PermissionDenied):
            partnerships.sign(
                session, user(session, "barnet"), agreement, health, "Sam", "Nurse", on, on
            )
        for who, organisation in (("clerk", barnet), ("porter", health)):
            assert not partnerships.may_sign_for(user(session, who), organisation)
            with pytest.raises(PermissionDenied):
                partnerships.sign(
                    session, user(session, who), agreement, organisation, "Al", "Clerk", on, on
                )
        with pytest.raises(SharingRefused) as refused:
            partnerships.sign(
                session, user(session, "barnet"), agreement, barnet, "", "", date(2026, 3, 2), on
            )
        assert fields_of(refused) == ["name", "job_title", "signed_on-day"]
        assert "cannot be in the future" in str(refused.value)
        partnerships.sign(
            session, user(session, "barnet"), agreement, barnet, "Chris", "Director", on, on
        )
        with pytest.raises(SharingRefused) as refused:
            partnerships.sign(
                session, user(session, "admin"), agreement, barnet, "Again", "Director", on, on
            )
        assert "has already signed" in str(refused.value)
        with pytest.raises(SharingRefused) as refused:
            partnerships.activate(session, user(session, "barnet"), agreement, on)
        assert "not yet signed by Barnet Health Trust" in str(refused.value)
        assert "1 member organisation(s) have not signed it" in access.problems(
            session, agreement, on
        )
        partnerships.sign(
            session, user(session, "nurse"), agreement, health, "Sam", "Named nurse", on, on
        )
        assert partnerships.activate(session, user(session, "nurse"), agreement, on) == []
        assert agreement.status == "active" and access.in_force(session, agreement, on)
        # before its start it is active but not in force
        assert access.problems(session, agreement, date(2025, 12, 31)) == [
            "it starts on 2026-01-01"
        ]
        # a new member must sign, and the agreement be activated again, before it is in force
        found = session.get(Partnership, partnership)
        partnerships.add_member(session, user(session, "barnet"), found, "Hendon School", "school")
        assert access.problems(session, agreement, on) == [
            "it is draft, not active",
            "1 member organisation(s) have not signed it",
        ]
        school = org(session, "Hendon School").id
        partnerships.sign(session, user(session, "admin"), agreement, school, "Jo", "DSL", on, on)
        assert access.problems(session, agreement, on) == ["it is draft, not active"]
        assert partnerships.activate(session, user(session, "barnet"), agreement, on) == []
        assert access.in_force(session, agreement, on)
    with sessions() as session:
        assert count(session, Signatory) == 3
        assert actions(session).count("sign agreement") == 3
        assert actions(session).count("activate agreement") == 2
        assert actions(session).count("agreement back to draft") == 1


def test_ending_early_stops_force_and_keeps_the_planned_end_in_the_audit(
    sessions, partnership
) -> None:
    on = date(2026, 3, 1)
    with transaction(sessions) as session:
        found = session.get(Partnership, partnership)
        agreement = partnerships.record_agreement(session, user(session, "admin"), found, AGREEMENT)
        for organisation in partnerships.member_organisations(session, found):
            partnerships.sign(
                session, user(session, "admin"), agreement, organisation.id, "A", "B", on, on
            )
        partnerships.activate(session, user(session, "admin"), agreement, on)
        with pytest.raises(PermissionDenied):
            partnerships.end(session, user(session, "leeds"), agreement, date(2026, 6, 30))
        partnerships.end(session, user(session, "barnet"), agreement, date(2026, 6, 30), "Merged")
        assert agreement.status == "ended" and agreement.end_date == date(2026, 6, 30)
        assert access.problems(session, agreement, date(2026, 6, 1)) == ["it is ended, not active"]
        with pytest.raises(SharingRefused):
            partnerships.end(session, user(session, "barnet"), agreement)
        with pytest.raises(SharingRefused) as refused:
            partnerships.sign(session, user(session, "admin"), agreement, None, "A", "B", on, on)
        assert "has ended" in str(refused.value)
    with sessions() as session:
        detail = session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "end agreement")
        )
    assert json.loads(detail) == {
        "ended_on": "2026-06-30",
        "planned_end": "2027-12-31",
        "reason": "Merged",
    }


def test_partnerships_of_a_user_are_their_organisations(session, partnership) -> None:
    partnerships.create_partnership(session, user(session, "admin"), "Another SCP")
    names = lambda who: [p.name for p in partnerships.partnerships_of(session, user(session, who))]  # noqa: E731
    assert names("nurse") == ["Barnet SCP"]
    assert names("leeds") == []
    assert names("admin") == ["Another SCP", "Barnet SCP"]
    assert count(session, PartnershipMember) == 2
