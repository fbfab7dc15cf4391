"""Learning Together practice reviews (SCIE): a case or practice review recorded with its
systemic findings (the pattern in the system, which parts of the system it is about, the
evidence for it), each finding linked to actions and to interventions, and the findings
compared across reviews by theme over time and place.

Anyone may read. Members of the organisation that owns a review (and researchers) record
and change it; every change is in the audit log. Method: docs/spread.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.db import utcnow
from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.evidence.access import Author, require_member
from whatworks.evidence.interventions import get_intervention
from whatworks.places.places import local_authority, region
from whatworks.spread.models import (
    FindingAction,
    FindingIntervention,
    PracticeReview,
    ReviewFinding,
)

#: The parts of the system a Learning Together finding can be about (SCIE's typology of
#: underlying patterns, Fish, Munro and Bairstow 2008; docs/spread.md).
SYSTEM_PARTS = (
    "multi-agency working in response to incidents and crises",
    "multi-agency working in longer-term work",
    "family-professional interaction",
    "human reasoning: cognitive and emotional biases",
    "tools",
    "management systems",
)
REVIEW_KINDS = (
    "local child safeguarding practice review",
    "serious case review",
    "rapid review",
    "single-agency review",
    "learning review",
)
ACTION_STATUSES = ("planned", "in progress", "done", "dropped")
PURPOSE = "practice reviews"


def _record(session: Session, actor: audit.Actor, what: str, target: str, **detail: object) -> None:
    audit.record(session, actor, what, target, PURPOSE, **detail)


def _required(value: str, what: str) -> str:
    clean = (value or "").strip()
    if not clean:
        raise WhatworksError(f"Enter {what}.")
    return clean


def check_parts(parts: list[str]) -> list[str]:
    """The parts of the system named, each one of SYSTEM_PARTS; at least one."""
    clean = [p.strip() for p in parts if p.strip()]
    unknown = [p for p in clean if p not in SYSTEM_PARTS]
    if unknown:
        raise WhatworksError(
            f"{', '.join(unknown)} is not a part of the system in the Learning Together "
            f"typology; use {'; '.join(SYSTEM_PARTS)}."
        )
    if not clean:
        raise WhatworksError("Choose at least one part of the system the finding is about.")
    return list(dict.fromkeys(clean))


def create_review(
    session: Session,
    author: Author,
    title: str,
    *,
    kind: str,
    reviewed_on: date,
    place: str = "",
    la_code: str | None = None,
    region_name: str = "",
    organisation: str = "",
    summary: str = "",
    source: str = "",
    is_demo: bool = False,
    seed_key: str | None = None,
) -> PracticeReview:
    """A new review, owned by the author's organisation; the region comes from the place's
    local authority code when one is given."""
    organisation_id = author.organisation_id if isinstance(author, User) else None
    actor = require_member(author, organisation_id, "record practice reviews")
    if kind not in REVIEW_KINDS:
        raise WhatworksError(
            f"Review kind {kind!r} is not known; use one of {', '.join(REVIEW_KINDS)}."
        )
    if la_code:
        authority = local_authority(session, la_code)
        la_code = authority.new_la_code
        found = region(session, authority.region_code)
        if found.parent_code:  # Inner and Outer London count as London
            found = region(session, found.parent_code)
        region_name = found.name
        place = place or authority.name
    if not organisation and isinstance(author, User) and author.organisation is not None:
        organisation = author.organisation.name
    review = PracticeReview(
        title=_required(title, "the review's title"),
        kind=kind,
        place=place.strip(),
        la_code=la_code or None,
        region=region_name.strip(),
        reviewed_on=reviewed_on,
        organisation=organisation.strip(),
        organisation_id=organisation_id,
        summary=summary.strip(),
        source=source.strip(),
        is_demo=is_demo,
        seed_key=seed_key,
        created_by=actor.username,
    )
    session.add(review)
    session.flush()
    _record(session, actor, "record review", f"practice review:{review.id}", title=review.title)
    return review


def get_review(session: Session, review_id: int) -> PracticeReview:
    """One review by its number."""
    found = session.get(PracticeReview, review_id)
    if found is None:
        raise NotFound(f"No practice review has the number {review_id}.")
    return found


def list_reviews(session: Session) -> list[PracticeReview]:
    """Every review, newest first."""
    query = select(PracticeReview).order_by(PracticeReview.reviewed_on.desc(), PracticeReview.id)
    return list(session.scalars(query))


def _may_change(author: Author, review: PracticeReview, doing: str) -> audit.Actor:
    return require_member(author, review.organisation_id, doing)


def can_record(author: Author) -> bool:
    """Whether the author may record a new review (for their own organisation)."""
    organisation_id = author.organisation_id if isinstance(author, User) else None
    try:
        require_member(author, organisation_id, "record practice reviews")
    except PermissionDenied:
        return False
    return True


def can_change(author: Author, review: PracticeReview) -> bool:
    """Whether the author may add findings, actions and links to the review."""
    try:
        _may_change(author, review, "change this review")
    except PermissionDenied:
        return False
    return True


def get_finding(session: Session, finding_id: int) -> ReviewFinding:
    """One finding by its number."""
    found = session.get(ReviewFinding, finding_id)
    if found is None:
        raise NotFound(f"No review finding has the number {finding_id}.")
    return found


def get_action(session: Session, action_id: int) -> FindingAction:
    """One action by its number."""
    found = session.get(FindingAction, action_id)
    if found is None:
        raise NotFound(f"No action has the number {action_id}.")
    return found


def add_finding(
    session: Session,
    author: Author,
    review_id: int,
    *,
    title: str,
    pattern: str,
    system_parts: list[str],
    evidence: str = "",
    intervention_ids: tuple[str, ...] = (),
) -> ReviewFinding:
    """A systemic finding of a review, linked to the interventions that answer it."""
    review = get_review(session, review_id)
    actor = _may_change(author, review, "add findings to this review")
    finding = ReviewFinding(
        review_id=review.id,
        title=_required(title, "the finding's title"),
        pattern=_required(pattern, "the pattern in the system"),
        system_parts=check_parts(system_parts),
        evidence=evidence.strip(),
        created_by=actor.username,
    )
    session.add(finding)
    session.flush()
    for slug in dict.fromkeys(intervention_ids):
        get_intervention(session, slug)
        session.add(FindingIntervention(finding_id=finding.id, intervention_id=slug))
    session.flush()
    _record(
        session,
        actor,
        "add finding",
        f"practice review:{review.id}",
        finding=finding.id,
        interventions=list(intervention_ids),
    )
    return finding


def link_intervention(
    session: Session, author: Author, finding_id: int, intervention_id: str
) -> FindingIntervention:
    """Link a finding to an intervention that answers it; linking twice changes nothing."""
    finding = get_finding(session, finding_id)
    review = get_review(session, finding.review_id)
    actor = _may_change(author, review, "link this review's findings to interventions")
    get_intervention(session, intervention_id)
    link = session.get(FindingIntervention, (finding.id, intervention_id))
    if link is None:
        link = FindingIntervention(finding_id=finding.id, intervention_id=intervention_id)
        session.add(link)
        session.flush()
        _record(
            session,
            actor,
            "link intervention",
            f"practice review:{review.id}",
            finding=finding.id,
            intervention=intervention_id,
        )
    return link


def linked_interventions(session: Session, finding_id: int) -> list[str]:
    """The interventions a finding is linked to, by address."""
    query = select(FindingIntervention.intervention_id).where(
        FindingIntervention.finding_id == finding_id
    )
    return sorted(session.scalars(query))


def add_action(
    session: Session,
    author: Author,
    finding_id: int,
    *,
    description: str,
    owner: str,
    due_on: date | None = None,
    status: str = "planned",
) -> FindingAction:
    """An action on a finding: what, who owns it, by when and how it stands."""
    finding = session.get(ReviewFinding, finding_id)
    if finding is None:
        raise NotFound(f"No review finding has the number {finding_id}.")
    review = get_review(session, finding.review_id)
    actor = _may_change(author, review, "add actions to this review")
    if status not in ACTION_STATUSES:
        raise WhatworksError(
            f"Status {status!r} is not known; use one of {', '.join(ACTION_STATUSES)}."
        )
    action = FindingAction(
        finding_id=finding.id,
        description=_required(description, "what will be done"),
        owner=_required(owner, "who owns the action"),
        due_on=due_on,
        status=status,
    )
    session.add(action)
    session.flush()
    _record(session, actor, "add action", f"practice review:{review.id}", action_id=action.id)
    return action


def set_action_status(
    session: Session, author: Author, action_id: int, status: str
) -> FindingAction:
    """Move an action on (planned, in progress, done, dropped); audited."""
    action = session.get(FindingAction, action_id)
    if action is None:
        raise NotFound(f"No action has the number {action_id}.")
    finding = session.get(ReviewFinding, action.finding_id)
    assert finding is not None
    review = get_review(session, finding.review_id)
    actor = _may_change(author, review, "change this review's actions")
    if status not in ACTION_STATUSES:
        raise WhatworksError(
            f"Status {status!r} is not known; use one of {', '.join(ACTION_STATUSES)}."
        )
    old, action.status, action.updated_at = action.status, status, utcnow()
    session.flush()
    _record(session, actor, "action status", f"practice review:{review.id}", old=old, new=status)
    return action


# ---------------------------------------------------------------------------------------
# comparing findings across reviews


@dataclass(frozen=True)
class ThemeCounts:
    """How many findings named each part of the system, by year and by region."""

    parts: tuple[str, ...]
    years: tuple[int, ...]
    regions: tuple[str, ...]
    by_year: dict[str, dict[int, int]]
    by_region: dict[str, dict[str, int]]
    totals: dict[str, int]
    reviews: int
    findings: int
    demo_reviews: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "parts": list(self.parts),
            "years": list(self.years),
            "regions": list(self.regions),
            "by_year": [
                {"part": p, "counts": {str(y): self.by_year[p].get(y, 0) for y in self.years}}
                for p in self.parts
            ],
            "by_region": [
                {"part": p, "counts": {r: self.by_region[p].get(r, 0) for r in self.regions}}
                for p in self.parts
            ],
            "totals": self.totals,
            "reviews": self.reviews,
            "findings": self.findings,
            "demo_reviews": self.demo_reviews,
        }


def themes(session: Session, *, include_demo: bool = True) -> ThemeCounts:
    """Findings counted by the part of the system they name, by the year the review was
    published and by region ("not stated" when the review names none). A finding about
    two parts counts once under each."""
    query = select(ReviewFinding, PracticeReview).join(
        PracticeReview, ReviewFinding.review_id == PracticeReview.id
    )
    if not include_demo:
        query = query.where(PracticeReview.is_demo.is_(False))
    by_year: dict[str, Counter[int]] = {p: Counter() for p in SYSTEM_PARTS}
    by_region: dict[str, Counter[str]] = {p: Counter() for p in SYSTEM_PARTS}
    reviews: dict[int, bool] = {}
    findings = 0
    for finding, review in session.execute(query).all():
        findings += 1
        reviews[review.id] = review.is_demo
        for part in finding.system_parts:
            by_year.setdefault(part, Counter())[review.reviewed_on.year] += 1
            by_region.setdefault(part, Counter())[review.region or "not stated"] += 1
    parts = tuple(by_year)
    return ThemeCounts(
        parts=parts,
        years=tuple(sorted({y for c in by_year.values() for y in c})),
        regions=tuple(sorted({r for c in by_region.values() for r in c})),
        by_year={p: dict(by_year[p]) for p in parts},
        by_region={p: dict(by_region[p]) for p in parts},
        totals={p: sum(by_year[p].values()) for p in parts},
        reviews=len(reviews),
        findings=findings,
        demo_reviews=sum(reviews.values()),
    )


def review_json(session: Session, review: PracticeReview) -> dict[str, Any]:
    """A review with its findings, their actions and linked interventions, for the API."""
    return {
        "id": review.id,
        "title": review.title,
        "kind": review.kind,
        "place": review.place,
        "la_code": review.la_code,
        "region": review.region,
        "reviewed_on": review.reviewed_on.isoformat(),
        "organisation": review.organisation,
        "summary": review.summary,
        "source": review.source,
        "is_demo": review.is_demo,
        "url": f"/spread/reviews/{review.id}",
        "findings": [
            {
                "id": f.id,
                "title": f.title,
                "pattern": f.pattern,
                "system_parts": list(f.system_parts),
                "evidence": f.evidence,
                "interventions": linked_interventions(session, f.id),
                "actions": [
                    {
                        "id": a.id,
                        "description": a.description,
                        "owner": a.owner,
                        "due_on": a.due_on.isoformat() if a.due_on else None,
                        "status": a.status,
                    }
                    for a in f.actions
                ],
            }
            for f in review.findings
        ],
    }
