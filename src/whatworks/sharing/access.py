"""Who may see a partnership's linked data, and whether an agreement lets anything run.

- Members of a partnership are the users of its member organisations. Linked data (the
  whole-system view, runs, the review queue, the record-level view) is for members holding
  the `partnership_member` role, and administrators; anybody else gets PermissionDenied
  (403 on the web).
- Nothing is linked, and no linked data is shown, without an agreement **in force**: status
  active, signed for every member organisation, started and not yet ended on the day, and
  covering the agencies whose datasets are used. An ended agreement stops access at once.
- Each dataset is shared under its own agreement (the one it was uploaded under,
  `AgencyDataset.agreement_id`): a run, the review queue, the record-level view and the
  whole-system view need that agreement in force for every dataset they use
  (`datasets_covered`); another agreement of the partnership does not stand in for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.auth import has_role
from whatworks.core.errors import PermissionDenied
from whatworks.core.models import User
from whatworks.sharing.models import AgencyDataset, Agreement, Partnership, PartnershipMember


class AgreementNeeded(PermissionDenied):
    """No data-sharing agreement in force covers what was asked."""


def agencies_of(agreement: Agreement) -> list[str]:
    return list(json.loads(agreement.agencies or "[]"))


def fields_of(agreement: Agreement) -> list[str]:
    return list(json.loads(agreement.fields or "[]"))


def problems(
    session: Session, agreement: Agreement, on: date, agencies: Iterable[str] = ()
) -> list[str]:
    """Why the agreement is not in force on the day for these agencies (empty if it is)."""
    found: list[str] = []
    if agreement.status != "active":
        found.append(f"it is {agreement.status}, not active")
    if on < agreement.start_date:
        found.append(f"it starts on {agreement.start_date.isoformat()}")
    if on > agreement.end_date:
        found.append(f"it ended on {agreement.end_date.isoformat()}")
    members = set(
        session.scalars(
            select(PartnershipMember.organisation_id).where(
                PartnershipMember.partnership_id == agreement.partnership_id
            )
        )
    )
    signed = {s.organisation_id for s in agreement.signatories}
    if members - signed:
        found.append(f"{len(members - signed)} member organisation(s) have not signed it")
    missing = sorted(set(agencies) - set(agencies_of(agreement)))
    if missing:
        found.append(f"it does not cover {', '.join(missing)} data")
    return found


def in_force(
    session: Session, agreement: Agreement, on: date, agencies: Iterable[str] = ()
) -> bool:
    return not problems(session, agreement, on, agencies)


def agreement_for(
    session: Session, partnership: Partnership, on: date, agencies: Iterable[str] = ()
) -> Agreement:
    """The newest agreement in force on the day covering the agencies, or AgreementNeeded
    saying why each agreement does not do."""
    wanted = list(agencies)
    reasons = []
    for agreement in sorted(partnership.agreements, key=lambda a: a.id, reverse=True):
        why = problems(session, agreement, on, wanted)
        if not why:
            return agreement
        reasons.append(f"'{agreement.title}': {'; '.join(why)}")
    if not reasons:
        raise AgreementNeeded(
            f"{partnership.name} has no data-sharing agreement; record and sign one first."
        )
    raise AgreementNeeded(
        f"No data-sharing agreement of {partnership.name} is in force on {on.isoformat()}: "
        + " | ".join(reasons)
    )


def datasets_covered(
    session: Session, partnership: Partnership, datasets: Iterable[AgencyDataset], on: date
) -> dict[int, Agreement]:
    """Each dataset's own agreement (the one it was uploaded under), by dataset id, if every
    one is in force on the day for that dataset's agency; else AgreementNeeded naming each
    dataset that is not covered and why."""
    found: dict[int, Agreement] = {}
    reasons: list[str] = []
    for dataset in datasets:
        agreement = session.get(Agreement, dataset.agreement_id)
        name = f"dataset {dataset.id} ('{dataset.title}', {dataset.agency})"
        if agreement is None or agreement.partnership_id != partnership.id:
            reasons.append(
                f"{name}: its agreement {dataset.agreement_id} is not one of "
                f"{partnership.name}'s agreements"
            )
            continue
        why = problems(session, agreement, on, [dataset.agency])
        if why:
            reasons.append(f"{name} under '{agreement.title}': {'; '.join(why)}")
            continue
        found[dataset.id] = agreement
    if reasons:
        raise AgreementNeeded(
            f"The data-sharing agreement of each dataset must be in force on {on.isoformat()}: "
            + " | ".join(reasons)
            + ". Renew or sign the agreement, or leave the dataset out."
        )
    return found


def is_member(session: Session, user: User | None, partnership: Partnership) -> bool:
    """Whether the user belongs to one of the partnership's organisations."""
    if user is None or user.organisation_id is None:
        return False
    return (
        session.scalar(
            select(PartnershipMember.id).where(
                PartnershipMember.partnership_id == partnership.id,
                PartnershipMember.organisation_id == user.organisation_id,
            )
        )
        is not None
    )


def require_member(session: Session, user: User | None, partnership: Partnership) -> User:
    """The user, if they belong to the partnership (any role) or are an administrator."""
    if user is not None and has_role(user, "admin"):
        return user
    if user is None or not is_member(session, user, partnership):
        raise PermissionDenied(
            f"Only the organisations of {partnership.name} may see this; ask its lead to add "
            "your organisation."
        )
    return user


def require_linked_access(session: Session, user: User | None, partnership: Partnership) -> User:
    """The user, if they may see linked data: a member holding the partnership member role,
    or an administrator."""
    member = require_member(session, user, partnership)
    if not has_role(member, "partnership_member"):
        raise PermissionDenied(
            f"Linked data of {partnership.name} is for partnership members; your role is "
            f"{member.role}. Ask an administrator for the partnership member role."
        )
    return member
