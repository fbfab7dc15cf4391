"""Clerical review: the uncertain pairs of a run, side by side with each comparison's part
in the decision, and the reviewer's decision, which re-clusters the run at once.

The queue holds the pairs in the review band (match weight within 3 bits of the
threshold's) and the guarded pairs above it (possibly siblings or twins), most uncertain
first. Both records' matching fields are read through `records.matching_rows`, and each
look at the queue is one audit event naming the pairs shown; only the fields each dataset's
own agreement shares are shown. A decision ("match" or "not a match") is kept by the
ordered pair of record pseudonyms for the partnership, so later runs apply it too; it is
audited, and the run's counts and indicators are rewritten at once, its clusters file when
the decision is committed (a decision rolled back leaves the clusters as they were).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.audit import Actor
from whatworks.core.db import utcnow
from whatworks.core.errors import WhatworksError
from whatworks.core.models import User
from whatworks.sharing import records, runs, system
from whatworks.sharing.linkage import Threshold, choose_threshold
from whatworks.sharing.models import AgencyDataset, LinkRun, ReviewDecision

log = logging.getLogger("whatworks.sharing")
#: Pairs shown on one page of the queue.
PAGE = 25
LEVEL_WORDS = {"missing": "missing on one side", "different": "different"}


@dataclass(frozen=True)
class Side:
    """One record of a pair as the reviewer sees it."""

    dataset_id: int
    agency: str
    title: str
    record: str
    person: str
    fields: dict[str, str] | None
    note: str = ""


@dataclass(frozen=True)
class Item:
    """A pair for review, with each comparison's weight (bits; positive is for a match)."""

    left: Side
    right: Side
    probability: float
    match_weight: float
    prior_weight: float
    distance: float  # bits from the threshold's weight: 0 is the most uncertain
    explanation: list[dict[str, Any]]
    guard: str
    linked: bool  # as the model had it
    decision: str | None = None
    note: str = ""
    decided_by: str = ""


@dataclass
class Queue:
    """The run's review queue: undecided pairs, most uncertain first, then decided ones."""

    run_id: int
    partnership_id: int
    partnership: str
    threshold: float
    waiting: int
    decided: int
    items: list[Item] = field(default_factory=list)
    done: list[Item] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _centre_of(probability: float) -> float:
    """The match weight of a probability (log2 of its odds): the review band's centre."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def _threshold(run: LinkRun) -> Threshold:
    if run.threshold is None:
        return choose_threshold([])
    return Threshold(
        run.threshold, run.estimated_precision or 0.0, run.estimated_recall or 0.0, 0.0, False
    )


def _explained(text: str) -> list[dict[str, Any]]:
    found = []
    for c in json.loads(text or "[]"):
        found.append({**c, "level": LEVEL_WORDS.get(c["level"], c["level"])})
    return found


def review_queue(
    session: Session,
    data_dir: Path,
    user: User | None,
    run: LinkRun,
    *,
    on: date | None = None,
    limit: int = PAGE,
) -> Queue:
    """The run's review queue for a user with linked access while each dataset's own
    agreement is in force; the matching fields of the records shown (those the agreement
    shares) are read and the view audited."""
    member, covering = records.require_view_of(session, user, run, on)
    partnership = runs.partnership_of(session, run)
    centre = _centre_of(_threshold(run).probability)
    decisions = {
        runs.ordered(d.left_record, d.right_record): d
        for d in session.scalars(
            select(ReviewDecision).where(ReviewDecision.partnership_id == partnership.id)
        )
    }
    banded = [p for p in runs.pairs(data_dir, run) if p["in_review"]]
    banded.sort(
        key=lambda p: (abs(p["match_weight"] - centre), p["left_record"], p["right_record"])
    )
    waiting = [
        p for p in banded if runs.ordered(p["left_record"], p["right_record"]) not in decisions
    ]
    decided = [p for p in banded if runs.ordered(p["left_record"], p["right_record"]) in decisions]
    shown = waiting[:limit] + decided[:limit]
    person = {(r["dataset_id"], r["record"]): r["person"] for r in runs.clusters_of(data_dir, run)}
    datasets = {d.id: d for d in runs.datasets_of(session, run)}
    wanted: dict[int, set[str]] = {}
    for p in shown:
        wanted.setdefault(p["left_dataset"], set()).add(p["left_record"])
        wanted.setdefault(p["right_dataset"], set()).add(p["right_record"])
    fields = {
        d: records.matching_rows(data_dir, datasets[d], ids, records.shared_fields(covering[d]))
        for d, ids in wanted.items()
    }

    def side(dataset_id: int, record: str) -> Side:
        dataset: AgencyDataset = datasets[dataset_id]
        held = fields.get(dataset_id)
        return Side(
            dataset_id,
            dataset.agency,
            dataset.title,
            record,
            person.get((dataset_id, record), ""),
            None if held is None else held.get(record),
            records.DELETED if held is None else "",
        )

    def item(p: dict[str, Any]) -> Item:
        decision = decisions.get(runs.ordered(p["left_record"], p["right_record"]))
        return Item(
            side(p["left_dataset"], p["left_record"]),
            side(p["right_dataset"], p["right_record"]),
            p["probability"],
            p["match_weight"],
            p["prior_weight"],
            abs(p["match_weight"] - centre),
            _explained(p["explanation"]),
            p["guard"],
            p["linked"],
            decision.decision if decision else None,
            decision.note if decision else "",
            decision.decided_by if decision else "",
        )

    queue = Queue(
        run.id,
        partnership.id,
        partnership.name,
        _threshold(run).probability,
        len(waiting),
        len(decided),
        [item(p) for p in waiting[:limit]],
        [item(p) for p in decided[:limit]],
    )
    audit.record(
        session,
        Actor.of(member),
        "view review queue",
        f"sharing run:{run.id}",
        f"clerical review of linkage run {run.id}: {run.purpose}",
        partnership=partnership.id,
        pairs=[[p["left_record"], p["right_record"]] for p in shown],
    )
    return queue


def decide(
    session: Session,
    data_dir: Path,
    user: User | None,
    run: LinkRun,
    left_record: str,
    right_record: str,
    decision: str,
    note: str = "",
    *,
    on: date | None = None,
) -> ReviewDecision:
    """Record (or change) the decision on a pair of the run's records and re-cluster the
    run at once; later runs of the partnership apply it too. Audited."""
    member = records.require_view(session, user, run, on)
    if decision not in runs.DECISIONS:
        raise WhatworksError(
            f"The decision must be one of {', '.join(runs.DECISIONS)}; got {decision!r}."
        )
    left, right = left_record.strip(), right_record.strip()
    if not left or not right or left == right:
        raise WhatworksError("A decision needs two different records of the run.")
    held = {r["record"] for r in runs.clusters_of(data_dir, run)}
    for record in (left, right):
        if record not in held:
            raise WhatworksError(f"Record {record!r} is not in linkage run {run.id}.")
    key = runs.ordered(left, right)
    probability = next(
        (
            p["probability"]
            for p in runs.pairs(data_dir, run)
            if runs.ordered(p["left_record"], p["right_record"]) == key
        ),
        0.0,
    )
    row = session.scalar(
        select(ReviewDecision).where(
            ReviewDecision.partnership_id == run.partnership_id,
            ReviewDecision.left_record == key[0],
            ReviewDecision.right_record == key[1],
        )
    )
    before = row.decision if row else None
    if row is None:
        row = ReviewDecision(
            partnership_id=run.partnership_id, left_record=key[0], right_record=key[1]
        )
        session.add(row)
    row.run_id = run.id
    row.decision = decision
    row.probability = probability
    row.note = note.strip()
    row.decided_by = member.username
    row.decided_at = utcnow()
    session.flush()
    audit.record(
        session,
        Actor.of(member),
        "decide review pair",
        f"sharing run:{run.id}",
        f"clerical review of linkage run {run.id}: {run.purpose}",
        pair=list(key),
        decision=decision,
        before=before,
        probability=probability,
    )
    pending = runs.recluster(session, data_dir, run)
    latest = runs.latest_run(session, runs.partnership_of(session, run))
    if latest is not None and latest.id == run.id:
        try:
            system.publish(session, data_dir, run, clusters=pending)
        except system.IndicatorConflict as refused:
            log.warning("Linkage run %s: indicators not written: %s", run.id, refused)
    return row


__all__ = ["PAGE", "Item", "Queue", "Side", "decide", "review_queue"]
