"""The end of retention: a dataset's identifiers in clear are deleted, its pseudonymised
records kept.

A dataset's matching file (names, date of birth, postcode, address, UPN, NHS number) is
deleted the day after its `retain_until` (the upload date plus the agreement's retention
months), or, if its agreement has ended (ended early, or past its end date), the day after
the end date plus the retention months, if that comes first. The dataset's status becomes
"identifiers deleted", with the time; each deletion is in the audit log. Pending uploads
waiting for their mapping for more than a day are deleted too. Running it again deletes
nothing more and records nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.db import utcnow
from whatworks.sharing import area
from whatworks.sharing.datasets import add_months, sweep_pending
from whatworks.sharing.models import AgencyDataset, Agreement
from whatworks.sharing.partnerships import PURPOSE


@dataclass(frozen=True)
class Deletion:
    """One dataset whose identifiers were deleted, and why then."""

    dataset_id: int
    partnership_id: int
    title: str
    due: date
    reason: str


def deletion_due(dataset: AgencyDataset, agreement: Agreement, on: date) -> tuple[date, str]:
    """The last day the dataset's identifiers may be kept, and why."""
    due, reason = dataset.retain_until, "its retention ended"
    ended = agreement.status == "ended" or agreement.end_date < on
    if ended:
        after_end = add_months(agreement.end_date, agreement.retention_months)
        if after_end < due:
            due, reason = after_end, "its agreement ended and the retention after it passed"
    return due, reason


def apply_retention(
    session: Session, data_dir: Path, on: date | None = None, actor: audit.Actor | None = None
) -> list[Deletion]:
    """Delete the matching file of every dataset whose retention has passed on the day, mark
    it, and audit each deletion; the caller commits. Idempotent."""
    on = on or date.today()
    who = actor or audit.Actor("retention")
    done: list[Deletion] = []
    stored = session.scalars(
        select(AgencyDataset).where(AgencyDataset.status == "stored").order_by(AgencyDataset.id)
    )
    for dataset in stored:
        agreement = session.get(Agreement, dataset.agreement_id)
        assert agreement is not None
        due, reason = deletion_due(dataset, agreement, on)
        if on <= due:
            continue
        path = area.matching_path(data_dir, dataset.partnership_id, dataset.id)
        path.unlink(missing_ok=True)
        dataset.status = "identifiers deleted"
        dataset.identifiers_deleted_at = utcnow()
        session.flush()
        audit.record(
            session, who, "delete identifiers", f"dataset:{dataset.id}", PURPOSE,
            partnership_id=dataset.partnership_id, retained_until=due, reason=reason,
        )  # fmt: skip
        done.append(Deletion(dataset.id, dataset.partnership_id, dataset.title, due, reason))
    sweep_pending(data_dir)
    return done
