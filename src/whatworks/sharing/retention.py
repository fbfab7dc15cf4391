"""The end of retention: a dataset's identifiers in clear are deleted, its pseudonymised
records kept.

A dataset's matching file (names, date of birth, postcode, address, UPN, NHS number) is
deleted the day after its `retain_until` (the upload date plus the agreement's retention
months), or, if its agreement has ended (ended early, or past its end date), the day after
the end date plus the retention months, if that comes first. The dataset's status becomes
"identifiers deleted", with the time; each deletion is in the audit log. The free-text
notes of the partnership's clerical review decisions on a pair involving one of the
dataset's records (by record pseudonym, from its pseudonymised records) are cleared too,
since a reviewer may have written identifying details in them; the decisions themselves
stay, and how many notes were cleared is in the audit log. Pending uploads
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
from whatworks.sharing import area, runs
from whatworks.sharing.datasets import add_months, records_table, sweep_pending
from whatworks.sharing.models import AgencyDataset, Agreement, ReviewDecision
from whatworks.sharing.partnerships import PURPOSE


@dataclass(frozen=True)
class Deletion:
    """One dataset whose identifiers were deleted, and why then."""

    dataset_id: int
    partnership_id: int
    title: str
    due: date
    reason: str
    notes_cleared: int = 0


def deletion_due(dataset: AgencyDataset, agreement: Agreement, on: date) -> tuple[date, str]:
    """The last day the dataset's identifiers may be kept, and why."""
    due, reason = dataset.retain_until, "its retention ended"
    ended = agreement.status == "ended" or agreement.end_date < on
    if ended:
        after_end = add_months(agreement.end_date, agreement.retention_months)
        if after_end < due:
            due, reason = after_end, "its agreement ended and the retention after it passed"
    return due, reason


def clear_review_notes(
    session: Session, data_dir: Path, dataset: AgencyDataset, actor: audit.Actor
) -> int:
    """Empty the note of every review decision of the dataset's partnership on a pair with
    one of the dataset's records; returns (and audits) how many notes were cleared."""
    analytics = runs.analytics_dir(data_dir)
    held: set[str] = set()
    if area.records_path(analytics, dataset.partnership_id, dataset.id).exists():
        held = {p for p in records_table(analytics, dataset).column("record").to_pylist() if p}
    cleared = 0
    for decision in session.scalars(
        select(ReviewDecision).where(
            ReviewDecision.partnership_id == dataset.partnership_id, ReviewDecision.note != ""
        )
    ):
        if decision.left_record in held or decision.right_record in held:
            decision.note = ""
            cleared += 1
    session.flush()
    audit.record(
        session, actor, "clear review notes", f"dataset:{dataset.id}", PURPOSE,
        partnership_id=dataset.partnership_id, notes_cleared=cleared,
    )  # fmt: skip
    return cleared


def apply_retention(
    session: Session, data_dir: Path, on: date | None = None, actor: audit.Actor | None = None
) -> list[Deletion]:
    """Delete the matching file of every dataset whose retention has passed on the day, mark
    it, clear the review notes on its records, and audit each; the caller commits.
    Idempotent."""
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
        cleared = clear_review_notes(session, data_dir, dataset, who)
        done.append(
            Deletion(dataset.id, dataset.partnership_id, dataset.title, due, reason, cleared)
        )
    sweep_pending(data_dir)
    return done
