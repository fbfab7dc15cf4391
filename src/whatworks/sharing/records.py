"""The record-level view: one person's records in each agency's dataset, with the matching
fields kept in the partnership's own area and the agency's own record id.

Only for users with linked access (`access.require_linked_access`), only while each of the
run's datasets' own agreement is in force (`access.datasets_covered`), only with a stated
purpose (at least 10 characters), and every view writes one audit event naming who looked,
the person, the datasets and the purpose. Each record shows only the fields its dataset's
agreement shares. A dataset whose identifiers were deleted at the end of retention shows
that instead of its fields. `matching_rows` is the one reader of the matching files for people
to see; the review queue uses it too, with its own audit event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.audit import Actor
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.sharing import area, runs
from whatworks.sharing.access import datasets_covered, fields_of, require_linked_access
from whatworks.sharing.models import AgencyDataset, Agreement, LinkRun

DELETED = "identifiers deleted at the end of retention"
#: The matching fields shown, with their labels, in order.
FIELD_LABELS = {
    "record_id": "Agency record id",
    "first_name": "First name",
    "surname": "Surname",
    "dob": "Date of birth",
    "sex": "Sex",
    "postcode": "Postcode",
    "address": "Address",
    "upn": "UPN",
    "nhs_number": "NHS number",
}


@dataclass(frozen=True)
class Record:
    """One record of a person: its dataset, and the matching fields its agreement shares
    (None once deleted); its need codes, or None when the agreement does not share them."""

    dataset_id: int
    agency: str
    organisation: str
    title: str
    record: str  # pseudonym
    fields: dict[str, str] | None
    note: str = ""
    needs: tuple[str, ...] | None = ()


@dataclass
class PersonRecords:
    """Everything the record-level view shows of one person in one run."""

    run_id: int
    partnership_id: int
    partnership: str
    person: str
    purpose: str
    records: list[Record] = field(default_factory=list)

    @property
    def datasets(self) -> list[int]:
        return sorted({r.dataset_id for r in self.records})

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "partnership_id": self.partnership_id,
            "partnership": self.partnership,
            "person": self.person,
            "purpose": self.purpose,
            "datasets": self.datasets,
            "records": [asdict(r) for r in self.records],
        }


def shared_fields(agreement: Agreement) -> tuple[str, ...]:
    """The fields of FIELD_LABELS the agreement shares, in order."""
    shared = set(fields_of(agreement))
    return tuple(name for name in FIELD_LABELS if name in shared)


def matching_rows(
    data_dir: Path,
    dataset: AgencyDataset,
    records: set[str],
    shown: tuple[str, ...] = tuple(FIELD_LABELS),
) -> dict[str, dict[str, str]] | None:
    """The matching fields (those named in `shown`) of the named records of a dataset by
    pseudonym, or None when its identifiers were deleted at the end of retention. Callers
    write the audit event."""
    if dataset.status != "stored":
        return None
    path = area.matching_path(data_dir, dataset.partnership_id, dataset.id)
    if not path.exists():
        return None
    table = pq.read_table(path, filters=[("record", "in", sorted(records))]) if records else None
    found: dict[str, dict[str, str]] = {}
    for row in table.to_pylist() if table is not None else []:
        found[str(row["record"])] = {
            name: "" if row.get(name) is None else str(row[name]) for name in shown
        }
    return found


def needs_of(
    data_dir: Path, dataset: AgencyDataset, records: set[str]
) -> dict[str, tuple[str, ...]]:
    """The need codes of the named records, from the pseudonymised records."""
    path = area.records_path(runs.analytics_dir(data_dir), dataset.partnership_id, dataset.id)
    if not path.exists() or not records:
        return {}
    table = pq.read_table(
        path, columns=["record", "needs"], filters=[("record", "in", sorted(records))]
    )
    return {
        str(row["record"]): tuple(c for c in (row["needs"] or "").split(";") if c)
        for row in table.to_pylist()
    }


def require_view_of(
    session: Session, user: User | None, run: LinkRun, on: date | None = None
) -> tuple[User, dict[int, Agreement]]:
    """The user and each dataset's agreement (by dataset id), if they may see the run's
    linked records on the day (today): linked access, and every dataset's own agreement in
    force. PermissionDenied (403) otherwise."""
    partnership = runs.partnership_of(session, run)
    member = require_linked_access(session, user, partnership)
    covering = datasets_covered(
        session, partnership, runs.datasets_of(session, run), on or date.today()
    )
    if run.status != "done":
        raise WhatworksError(f"Linkage run {run.id} is {run.status}; it has no linked records.")
    return member, covering


def require_view(session: Session, user: User | None, run: LinkRun, on: date | None = None) -> User:
    """The user, if they may see the run's linked records (`require_view_of`)."""
    return require_view_of(session, user, run, on)[0]


def person_records(
    session: Session,
    data_dir: Path,
    user: User | None,
    run: LinkRun,
    person: str,
    purpose: str,
    *,
    on: date | None = None,
) -> PersonRecords:
    """A person's records in every dataset of the run, for a stated purpose; audited."""
    member, covering = require_view_of(session, user, run, on)
    purpose = runs.check_purpose(purpose)
    members = [r for r in runs.clusters_of(data_dir, run) if r["person"] == person]
    if not members:
        raise NotFound(f"Linkage run {run.id} has no person {person!r}.")
    partnership = runs.partnership_of(session, run)
    shown = PersonRecords(run.id, partnership.id, partnership.name, person, purpose)
    for dataset in runs.datasets_of(session, run):
        wanted = {r["record"] for r in members if r["dataset_id"] == dataset.id}
        if not wanted:
            continue
        organisation = session.get(Organisation, dataset.organisation_id)
        agreement = covering[dataset.id]
        fields = matching_rows(data_dir, dataset, wanted, shared_fields(agreement))
        sharing_needs = "needs" in fields_of(agreement)
        needs = needs_of(data_dir, dataset, wanted) if sharing_needs else {}
        for record in sorted(wanted):
            held = None if fields is None else fields.get(record)
            shown.records.append(
                Record(
                    dataset.id,
                    dataset.agency,
                    organisation.name if organisation else "",
                    dataset.title,
                    record,
                    held,
                    DELETED if fields is None else ("" if held else "record not found"),
                    needs.get(record, ()) if sharing_needs else None,
                )
            )
    audit.record(
        session,
        Actor.of(member),
        "view linked records",
        f"sharing person:{person}",
        purpose,
        run=run.id,
        partnership=partnership.id,
        datasets=shown.datasets,
        records=len(shown.records),
    )
    return shown


__all__ = [
    "DELETED",
    "FIELD_LABELS",
    "PersonRecords",
    "matching_rows",
    "person_records",
    "require_view",
    "require_view_of",
    "shared_fields",
]
