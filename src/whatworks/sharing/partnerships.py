"""Partnerships and their data-sharing agreements.

A partnership is created by an administrator, or by a user of a council for the council's
own area (the council joins it as its first member). Its *lead* is its first member
organisation (the member added first, the lowest member id; for a council's partnership,
that council). Only an administrator, or a user of the lead holding the partnership member
role, adds the other organisations, each as one kind of agency. Adding a member sets every
active agreement of the partnership back to draft (audited, with the reason): the new
member must sign it and it must be activated again before anything is linked or shown.

An agreement records why and on which lawful basis the members share data, which agencies'
data and which standard fields, how long the shared identifiers are kept, and its start,
review and end dates. Each member organisation signs it (a user of that organisation
holding the partnership member role, or an administrator recording the signature); it can
be activated only once every member has signed; it can be ended early.
Whether it is *in force* on a day, and why not, is `access.problems`. Every change is in
the audit log. Bad input is refused with every problem, each naming its field, and nothing
is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.auth import get_or_create_organisation, has_role
from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.places.places import local_authority
from whatworks.sharing import access
from whatworks.sharing.linkage import STANDARD_FIELDS
from whatworks.sharing.models import Agreement, Partnership, PartnershipMember, Signatory

#: The kinds of agency a member organisation takes part as.
AGENCY_KINDS = ("council", "school", "health", "police", "other")
#: The fields an agreement can share: linkage's standard fields and the agency's needs.
SHAREABLE_FIELDS = (*STANDARD_FIELDS, "needs")
#: What each shareable field is, in words.
FIELD_LABELS = {
    "record_id": "Record id (the agency's own id of the record)",
    "first_name": "First name",
    "surname": "Surname",
    "dob": "Date of birth",
    "sex": "Sex",
    "postcode": "Postcode",
    "address": "Address",
    "upn": "Unique pupil number (UPN)",
    "nhs_number": "NHS number",
    "needs": "Needs (the agency's need codes)",
}
#: The usual lawful basis for sharing to safeguard children.
USUAL_BASIS = (
    "UK GDPR Article 6(1)(e) public task with the DPA 2018 Schedule 1 safeguarding of "
    "children and individuals at risk condition"
)
#: What `lawful_basis` holds when another basis is stated in full in `lawful_basis_detail`.
OTHER_BASIS = "Another lawful basis, stated in full"
MAX_RETENTION_MONTHS = 120
PURPOSE = "information sharing between agencies"

Problems = list[tuple[str, str]]  # (form field, message)


class SharingRefused(WhatworksError):
    """Input that could not be stored; nothing was. Carries (field, message) pairs."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))


# --- reading ------------------------------------------------------------------------------


def get_partnership(session: Session, partnership_id: int) -> Partnership:
    found = session.get(Partnership, partnership_id)
    if found is None:
        raise NotFound(f"There is no partnership {partnership_id}. Check the address.")
    return found


def get_agreement(session: Session, agreement_id: int) -> Agreement:
    found = session.get(Agreement, agreement_id)
    if found is None:
        raise NotFound(f"There is no data-sharing agreement {agreement_id}. Check the address.")
    return found


def member_partnership(session: Session, user: User | None, partnership_id: int) -> Partnership:
    """The partnership, if the user belongs to it (or is an administrator)."""
    partnership = get_partnership(session, partnership_id)
    access.require_member(session, user, partnership)
    return partnership


def member_agreement(session: Session, user: User | None, agreement_id: int) -> Agreement:
    """The agreement, if the user belongs to its partnership (or is an administrator)."""
    agreement = get_agreement(session, agreement_id)
    access.require_member(session, user, agreement.partnership)
    return agreement


def partnerships_of(session: Session, user: User) -> list[Partnership]:
    """The partnerships the user's organisation belongs to (every one, for an admin)."""
    query = select(Partnership).order_by(Partnership.name, Partnership.id)
    if not has_role(user, "admin"):
        if user.organisation_id is None:
            return []
        query = query.join(PartnershipMember).where(
            PartnershipMember.organisation_id == user.organisation_id
        )
    return list(session.scalars(query))


def organisation_of(session: Session, organisation_id: int) -> Organisation:
    found = session.get(Organisation, organisation_id)
    if found is None:
        raise NotFound(f"There is no organisation {organisation_id}.")
    return found


def member_organisations(session: Session, partnership: Partnership) -> list[Organisation]:
    """The member organisations, in the order they joined."""
    return [organisation_of(session, m.organisation_id) for m in partnership.members]


def agencies_of_members(partnership: Partnership) -> list[str]:
    """The kinds of agency the partnership's members take part as, in AGENCY_KINDS order."""
    held = {m.agency for m in partnership.members}
    return [kind for kind in AGENCY_KINDS if kind in held]


def unsigned(session: Session, agreement: Agreement) -> list[Organisation]:
    """Member organisations that have not signed the agreement."""
    signed = {s.organisation_id for s in agreement.signatories}
    return [o for o in member_organisations(session, agreement.partnership) if o.id not in signed]


def lawful_basis_text(agreement: Agreement) -> str:
    """The lawful basis in full: the usual one (with any detail), or the one stated."""
    if agreement.lawful_basis == OTHER_BASIS:
        return agreement.lawful_basis_detail
    detail = agreement.lawful_basis_detail.strip()
    return f"{agreement.lawful_basis}. {detail}" if detail else agreement.lawful_basis


def state(session: Session, agreement: Agreement, on: date) -> dict[str, object]:
    """The agreement's status, whether it is in force on the day, and why not."""
    why = access.problems(session, agreement, on)
    return {"status": agreement.status, "in_force": not why, "problems": why}


def agreement_json(session: Session, agreement: Agreement, on: date) -> dict[str, object]:
    """The agreement as plain data."""
    names = {o.id: o.name for o in member_organisations(session, agreement.partnership)}
    return {
        "id": agreement.id,
        "partnership_id": agreement.partnership_id,
        "title": agreement.title,
        "purpose": agreement.purpose,
        "lawful_basis": agreement.lawful_basis,
        "lawful_basis_detail": agreement.lawful_basis_detail,
        "agencies": access.agencies_of(agreement),
        "fields": access.fields_of(agreement),
        "retention_months": agreement.retention_months,
        "start_date": agreement.start_date.isoformat(),
        "review_date": agreement.review_date.isoformat(),
        "end_date": agreement.end_date.isoformat(),
        "created_by": agreement.created_by,
        "signatories": [
            {
                "organisation_id": s.organisation_id,
                "organisation": names.get(s.organisation_id, ""),
                "name": s.name,
                "job_title": s.job_title,
                "signed_on": s.signed_on.isoformat(),
                "recorded_by": s.recorded_by,
            }
            for s in agreement.signatories
        ],
        "unsigned": [o.name for o in unsigned(session, agreement)],
        "as_at": on.isoformat(),
        **state(session, agreement, on),
    }


def partnership_json(session: Session, partnership: Partnership, on: date) -> dict[str, object]:
    """The partnership, its members and its agreements as plain data."""
    organisations = {o.id: o for o in member_organisations(session, partnership)}
    lead = lead_member(partnership)
    return {
        "id": partnership.id,
        "name": partnership.name,
        "la_code": partnership.la_code,
        "is_demo": partnership.is_demo,
        "created_by": partnership.created_by,
        "lead_organisation_id": lead.organisation_id if lead else None,
        "members": [
            {
                "organisation_id": m.organisation_id,
                "organisation": organisations[m.organisation_id].name,
                "agency": m.agency,
            }
            for m in partnership.members
        ],
        "agreements": [
            {
                "id": a.id,
                "title": a.title,
                "start_date": a.start_date.isoformat(),
                "end_date": a.end_date.isoformat(),
                **state(session, a, on),
            }
            for a in partnership.agreements
        ],
    }


# --- partnerships and members ---------------------------------------------------------------


def lead_member(partnership: Partnership) -> PartnershipMember | None:
    """The partnership's lead: its first member (the lowest member id), None if it has none.
    A council's partnership is led by that council, which joins it as it is created."""
    return min(partnership.members, key=lambda m: m.id, default=None)


def may_add_members(user: User | None, partnership: Partnership) -> bool:
    """Whether the user may add members: an administrator, or a user of the lead
    organisation holding the partnership member role."""
    if user is None:
        return False
    if has_role(user, "admin"):
        return True
    lead = lead_member(partnership)
    return (
        lead is not None
        and user.organisation_id == lead.organisation_id
        and user.role == "partnership_member"
    )


def may_create(user: User | None) -> bool:
    """Whether the user may create a partnership: an admin, or a user of a council."""
    if user is None:
        return False
    if has_role(user, "admin"):
        return True
    return user.organisation is not None and user.organisation.kind == "council"


def create_partnership(
    session: Session, user: User, name: str, la_code: str | None = None, is_demo: bool = False
) -> Partnership:
    """A new partnership. A council's user creates one for the council's own area, and the
    council becomes its first member; an administrator may name any area, or none."""
    if not may_create(user):
        raise PermissionDenied(
            "Only a council's users (for the council's area) or an administrator can create "
            "a partnership."
        )
    problems: Problems = []
    name = name.strip()
    if not name:
        problems.append(("name", "Enter the partnership's name"))
    elif len(name) > 200:
        problems.append(("name", "Write the partnership's name in 200 characters or fewer"))
    elif session.scalar(select(Partnership.id).where(Partnership.name == name)) is not None:
        problems.append(("name", f"A partnership called {name!r} already exists; choose another"))
    council = None if has_role(user, "admin") else user.organisation
    code = (la_code or "").strip().upper() or None
    if council is not None:
        if code and council.la_code and code != council.la_code:
            problems.append(
                ("la_code", f"{council.name} can create a partnership for its own area only "
                 f"({council.la_code}), not {code}")
            )  # fmt: skip
        code = council.la_code
    if code:
        try:
            code = local_authority(session, code).new_la_code
        except NotFound as error:
            problems.append(("la_code", str(error)))
    if problems:
        raise SharingRefused(problems)
    partnership = Partnership(name=name, la_code=code, is_demo=is_demo, created_by=user.username)
    session.add(partnership)
    session.flush()
    audit.record(
        session, audit.Actor.of(user), "create partnership", f"partnership:{partnership.id}",
        PURPOSE, name=name, la_code=code,
    )  # fmt: skip
    if council is not None:
        _add(session, user, partnership, council, "council")
    return partnership


def _add(
    session: Session, user: User, partnership: Partnership, org: Organisation, agency: str
) -> PartnershipMember:
    member = PartnershipMember(partnership_id=partnership.id, organisation_id=org.id, agency=agency)
    session.add(member)
    session.flush()
    session.expire(partnership, ["members"])
    audit.record(
        session, audit.Actor.of(user), "add partnership member", f"partnership:{partnership.id}",
        PURPOSE, organisation=org.name, organisation_id=org.id, agency=agency,
    )  # fmt: skip
    return member


def add_member(
    session: Session, user: User | None, partnership: Partnership, organisation: str, agency: str
) -> PartnershipMember:
    """Add an organisation (by name; created if new) as one kind of agency. Only an
    administrator, or a user of the lead organisation holding the partnership member role,
    may add members. Every active agreement of the partnership goes back to draft, audited
    with the reason, until the new member has signed it and it is activated again."""
    who = access.require_member(session, user, partnership)
    if not may_add_members(who, partnership):
        lead = lead_member(partnership)
        named = organisation_of(session, lead.organisation_id).name if lead else "its lead"
        raise PermissionDenied(
            f"Only {named}'s partnership members, or an administrator, can add organisations "
            f"to {partnership.name}."
        )
    problems: Problems = []
    name = organisation.strip()
    if agency not in AGENCY_KINDS:
        problems.append(("agency", f"Choose the kind of agency: {', '.join(AGENCY_KINDS)}"))
    if not name:
        problems.append(("organisation", "Enter the organisation's name"))
    elif len(name) > 200:
        problems.append(
            ("organisation", "Write the organisation's name in 200 characters or fewer")
        )
    existing = session.scalar(select(Organisation).where(Organisation.name == name))
    if existing is not None and any(m.organisation_id == existing.id for m in partnership.members):
        problems.append(("organisation", f"{name} is already a member of {partnership.name}"))
    if problems:
        raise SharingRefused(problems)
    org = existing or get_or_create_organisation(
        session, name, "council" if agency == "council" else "partner"
    )
    member = _add(session, who, partnership, org, agency)
    for agreement in partnership.agreements:
        if agreement.status != "active":
            continue
        agreement.status = "draft"
        session.flush()
        audit.record(
            session, audit.Actor.of(who), "agreement back to draft", f"agreement:{agreement.id}",
            PURPOSE, reason=f"{org.name} joined the partnership as {agency} and has not signed "
            "it; it must sign and the agreement be activated again", organisation_id=org.id,
        )  # fmt: skip
    return member


# --- agreements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAgreement:
    """What an agreement records, as entered."""

    title: str
    purpose: str
    lawful_basis: str  # USUAL_BASIS or OTHER_BASIS
    lawful_basis_detail: str
    agencies: tuple[str, ...]
    fields: tuple[str, ...]
    retention_months: int | None
    start_date: date | None
    review_date: date | None
    end_date: date | None
    #: Problems already found reading the form (dates that are not dates, say).
    read_problems: Problems = field(default_factory=list)

    def problems(self, partnership: Partnership) -> Problems:
        """Every problem, as (form field, message) pairs."""
        found: Problems = list(self.read_problems)
        if not self.title.strip():
            found.append(("title", "Enter the agreement's title"))
        elif len(self.title.strip()) > 200:
            found.append(("title", "Write the title in 200 characters or fewer"))
        if not self.purpose.strip():
            found.append(("purpose", "Enter the purpose: why the agencies share these data"))
        if self.lawful_basis not in (USUAL_BASIS, OTHER_BASIS):
            found.append(("lawful_basis", "Choose the lawful basis"))
        elif self.lawful_basis == OTHER_BASIS and len(self.lawful_basis_detail.strip()) < 20:
            found.append(
                ("lawful_basis_detail", "State the other lawful basis in full: the UK GDPR "
                 "Article 6 basis and, for special category data, the Article 9 condition")
            )  # fmt: skip
        held = set(agencies_of_members(partnership))
        if not self.agencies:
            found.append(("agencies", "Choose the agencies whose data the agreement covers"))
        for agency in self.agencies:
            if agency not in AGENCY_KINDS:
                found.append(("agencies", f"{agency!r} is not a kind of agency"))
            elif agency not in held:
                found.append(
                    ("agencies", f"No member of {partnership.name} takes part as {agency}; "
                     "add that member first")
                )  # fmt: skip
        unknown = [f for f in self.fields if f not in SHAREABLE_FIELDS]
        if unknown:
            found.append(("fields", f"{', '.join(unknown)} are not fields that can be shared"))
        if "record_id" not in self.fields:
            found.append(("fields", "The fields must include the record id"))
        if self.retention_months is None:
            if not any(p[0] == "retention_months" for p in found):
                found.append(("retention_months", "Enter how many months identifiers are kept"))
        elif not 1 <= self.retention_months <= MAX_RETENTION_MONTHS:
            found.append(
                ("retention_months",
                 f"Retention must be between 1 and {MAX_RETENTION_MONTHS} months")
            )  # fmt: skip
        start, review, end = self.start_date, self.review_date, self.end_date
        for value, where, label in (
            (start, "start_date", "the start date"),
            (review, "review_date", "the review date"),
            (end, "end_date", "the end date"),
        ):
            if value is None and not any(p[0] == f"{where}-day" for p in found):
                found.append((f"{where}-day", f"Enter {label}"))
        if start is not None and end is not None and end <= start:
            found.append(("end_date-day", "The end date must be after the start date"))
        if (
            start is not None
            and review is not None
            and end is not None
            and end > start
            and not start < review < end
        ):
            found.append(
                ("review_date-day", "The review date must be after the start date and before "
                 "the end date")
            )  # fmt: skip
        return found


def record_agreement(
    session: Session, user: User | None, partnership: Partnership, new: NewAgreement
) -> Agreement:
    """Record a draft agreement; refuses bad input with every problem, storing nothing."""
    who = access.require_member(session, user, partnership)
    problems = new.problems(partnership)
    if problems:
        raise SharingRefused(problems)
    assert new.start_date and new.review_date and new.end_date and new.retention_months
    agreement = Agreement(
        partnership_id=partnership.id,
        title=new.title.strip(),
        purpose=new.purpose.strip(),
        lawful_basis=new.lawful_basis,
        lawful_basis_detail=new.lawful_basis_detail.strip(),
        agencies=json.dumps([a for a in AGENCY_KINDS if a in new.agencies]),
        fields=json.dumps([f for f in SHAREABLE_FIELDS if f in new.fields]),
        retention_months=new.retention_months,
        start_date=new.start_date,
        review_date=new.review_date,
        end_date=new.end_date,
        status="draft",
        created_by=who.username,
    )
    session.add(agreement)
    session.flush()
    session.expire(partnership, ["agreements"])
    audit.record(
        session, audit.Actor.of(who), "record agreement", f"agreement:{agreement.id}", PURPOSE,
        partnership_id=partnership.id, title=agreement.title,
    )  # fmt: skip
    return agreement


def may_sign_for(user: User | None, organisation_id: int) -> bool:
    """Whether the user may record a signature for the organisation: its own users holding
    the partnership member role, or an administrator."""
    if user is None:
        return False
    if has_role(user, "admin"):
        return True
    return user.organisation_id == organisation_id and user.role == "partnership_member"


def sign(
    session: Session,
    user: User | None,
    agreement: Agreement,
    organisation_id: int | None,
    name: str,
    job_title: str,
    signed_on: date | None,
    today: date | None = None,
) -> Signatory:
    """Record that a person signed the agreement for a member organisation: only a user of
    that organisation holding the partnership member role, or an administrator. A draft or
    active agreement may be signed; an ended one may not. (An active agreement goes back to
    draft when a member joins, so a new member signs a draft.)"""
    who = access.require_member(session, user, agreement.partnership)
    today = today or date.today()
    problems: Problems = []
    members = {m.organisation_id for m in agreement.partnership.members}
    if organisation_id is None or organisation_id not in members:
        problems.append(("organisation", "Choose the member organisation signing"))
    elif not may_sign_for(who, organisation_id):
        raise PermissionDenied(
            "Only a partnership member of the organisation signing, or an administrator, can "
            "record its signature."
        )
    elif any(s.organisation_id == organisation_id for s in agreement.signatories):
        problems.append(
            ("organisation", f"{organisation_of(session, organisation_id).name} has already "
             "signed this agreement")
        )  # fmt: skip
    if agreement.status == "ended":
        problems.append(("organisation", "This agreement has ended; it cannot be signed"))
    if not name.strip():
        problems.append(("name", "Enter the name of the person who signed"))
    elif len(name.strip()) > 200:
        problems.append(("name", "Write the name in 200 characters or fewer"))
    if not job_title.strip():
        problems.append(("job_title", "Enter the job title of the person who signed"))
    elif len(job_title.strip()) > 200:
        problems.append(("job_title", "Write the job title in 200 characters or fewer"))
    if signed_on is None:
        problems.append(("signed_on-day", "Enter the date it was signed"))
    elif signed_on > today:
        problems.append(("signed_on-day", "The date it was signed cannot be in the future"))
    elif signed_on > agreement.end_date:
        problems.append(("signed_on-day", "The date it was signed is after the agreement ends"))
    if problems:
        raise SharingRefused(problems)
    assert organisation_id is not None and signed_on is not None
    signatory = Signatory(
        agreement_id=agreement.id,
        organisation_id=organisation_id,
        name=name.strip(),
        job_title=job_title.strip(),
        signed_on=signed_on,
        recorded_by=who.username,
    )
    session.add(signatory)
    session.flush()
    session.expire(agreement, ["signatories"])
    audit.record(
        session, audit.Actor.of(who), "sign agreement", f"agreement:{agreement.id}", PURPOSE,
        organisation_id=organisation_id, name=signatory.name, job_title=signatory.job_title,
        signed_on=signed_on,
    )  # fmt: skip
    return signatory


def activate(
    session: Session, user: User | None, agreement: Agreement, on: date | None = None
) -> list[str]:
    """Make a draft agreement active, once every member organisation has signed it. Returns
    why it is still not in force on the day (not started yet, say), empty if it is."""
    who = access.require_member(session, user, agreement.partnership)
    if agreement.status != "draft":
        raise SharingRefused([("agreement", f"This agreement is {agreement.status}, not a draft")])
    missing = unsigned(session, agreement)
    if missing:
        raise SharingRefused(
            [("agreement", "Every member organisation must sign it first; not yet signed by "
              + ", ".join(o.name for o in missing))]
        )  # fmt: skip
    agreement.status = "active"
    session.flush()
    audit.record(
        session, audit.Actor.of(who), "activate agreement", f"agreement:{agreement.id}", PURPOSE
    )
    return access.problems(session, agreement, on or date.today())


def end(
    session: Session,
    user: User | None,
    agreement: Agreement,
    on: date | None = None,
    reason: str = "",
) -> Agreement:
    """End the agreement early: its status becomes ended, so from now nothing is uploaded,
    linked or shown under it, and its end date becomes the day given (today by default;
    never before its start), from which `retention.apply_retention` counts its retention.
    The planned end date is kept in the audit log."""
    who = access.require_member(session, user, agreement.partnership)
    on = on or date.today()
    if agreement.status == "ended":
        raise SharingRefused([("agreement", "This agreement has already ended")])
    planned = agreement.end_date
    agreement.status = "ended"
    agreement.end_date = min(planned, max(on, agreement.start_date))
    session.flush()
    audit.record(
        session, audit.Actor.of(who), "end agreement", f"agreement:{agreement.id}", PURPOSE,
        planned_end=planned, ended_on=agreement.end_date, reason=reason.strip(),
    )  # fmt: skip
    return agreement
