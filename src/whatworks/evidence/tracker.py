"""The learning-from-failure tracker: is each registered evaluation ongoing, overdue,
reported or reported late; did its report keep to the registered primary outcomes; how
often do organisations and funders report; and a library of null and negative results and
stopped evaluations with their lessons.

Conventions (as trial trackers): results are due 12 months after the planned completion
date of the latest registered version; an evaluation with no results by then, as at the
date given, is overdue; one reported after it is reported late. Primary outcomes are
compared by name (case and spacing ignored) with the latest version's, as COMPare did:
a registered primary outcome not reported as primary is dropped, a primary outcome that
was not registered is added, and both together are a switch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.models import Organisation
from whatworks.evidence.models import (
    CheckpointReview,
    Intervention,
    Project,
    Registration,
    RegistrationVersion,
    Study,
    StudyResult,
)

Status = Literal["ongoing", "overdue", "reported", "reported late"]
STATUSES: tuple[Status, ...] = ("ongoing", "overdue", "reported", "reported late")
#: Months after planned completion by which results are due.
GRACE_MONTHS = 12
#: Directions the failure library collects.
FAILURE_DIRECTIONS = ("null", "negative")


def due_date(planned_completion: date) -> date:
    """The date results are due: `GRACE_MONTHS` after planned completion (29 February
    falls back to 28 February)."""
    years, month0 = divmod(planned_completion.month - 1 + GRACE_MONTHS, 12)
    year, month = planned_completion.year + years, month0 + 1
    try:
        return planned_completion.replace(year=year, month=month)
    except ValueError:
        return planned_completion.replace(year=year, month=month, day=28)


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


@dataclass(frozen=True)
class OutcomeCheck:
    """Reported primary outcomes against the registered ones."""

    registered: tuple[str, ...]
    reported: tuple[str, ...]
    dropped: tuple[str, ...]
    added: tuple[str, ...]
    reported_as_secondary: tuple[str, ...]

    @property
    def switched(self) -> bool:
        """A registered primary outcome was replaced by another."""
        return bool(self.dropped and self.added)

    @property
    def flagged(self) -> bool:
        return bool(self.dropped or self.added)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"switched": self.switched, "flagged": self.flagged}


def check_outcomes(
    registered: Iterable[str], reported_primary: Iterable[str], reported_other: Iterable[str]
) -> OutcomeCheck:
    """Compare outcome names: which registered primaries were dropped, which added."""
    registered, primary, other = list(registered), list(reported_primary), list(reported_other)
    reg_keys = {_norm(n) for n in registered}
    rep_keys = {_norm(n) for n in primary}
    other_keys = {_norm(n) for n in other}
    dropped = tuple(n for n in registered if _norm(n) not in rep_keys)
    return OutcomeCheck(
        registered=tuple(registered),
        reported=tuple(dict.fromkeys(primary)),
        dropped=dropped,
        added=tuple(dict.fromkeys(n for n in primary if _norm(n) not in reg_keys)),
        reported_as_secondary=tuple(n for n in dropped if _norm(n) in other_keys),
    )


@dataclass(frozen=True)
class TrackedRegistration:
    """Where one registered evaluation stands, as at a date."""

    registration_id: int
    title: str
    organisation: str
    funder: str
    intervention_id: str | None
    project_id: int | None
    version: int
    planned_completion: date
    planned_report: date
    due: date
    status: Status
    first_reported: date | None
    days_overdue: int | None
    outcomes: OutcomeCheck | None
    completion_moved_from: tuple[date, ...]
    stopped_on: date | None
    is_demo: bool

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["outcomes"] = self.outcomes.as_dict() if self.outcomes else None
        for key in ("planned_completion", "planned_report", "due", "first_reported", "stopped_on"):
            found[key] = found[key].isoformat() if found[key] else None
        found["completion_moved_from"] = [d.isoformat() for d in self.completion_moved_from]
        return found


def _status(due: date, first_reported: date | None, as_at: date) -> Status:
    if first_reported is not None and first_reported <= as_at:
        return "reported late" if first_reported > due else "reported"
    return "overdue" if as_at > due else "ongoing"


def track(session: Session, registration: Registration, as_at: date) -> TrackedRegistration:
    """Where one registration stands as at `as_at`."""
    history = list(
        session.scalars(
            select(RegistrationVersion)
            .where(RegistrationVersion.registration_id == registration.id)
            .order_by(RegistrationVersion.version)
        )
    )
    latest = history[-1]
    studies = list(session.scalars(select(Study).where(Study.registration_id == registration.id)))
    dates = [s.reported_on or s.entered_at.date() for s in studies]
    first_reported = min(dates) if dates else None
    due = due_date(latest.planned_completion)
    status = _status(due, first_reported, as_at)
    outcomes = None
    if first_reported is not None and first_reported <= as_at:
        results = list(
            session.scalars(
                select(StudyResult).where(StudyResult.study_id.in_([s.id for s in studies]))
            )
        )
        outcomes = check_outcomes(
            [o["name"] for o in latest.primary_outcomes],
            [r.outcome for r in results if r.is_primary],
            [r.outcome for r in results if not r.is_primary],
        )
    moved = tuple(
        dict.fromkeys(
            v.planned_completion
            for v in history[:-1]
            if v.planned_completion != latest.planned_completion
        )
    )
    stop = session.scalar(
        select(CheckpointReview.reviewed_on)
        .where(
            CheckpointReview.registration_id == registration.id,
            CheckpointReview.decision == "stop",
        )
        .order_by(CheckpointReview.reviewed_on)
        .limit(1)
    )
    organisation = (
        session.get(Organisation, registration.organisation_id)
        if registration.organisation_id is not None
        else None
    )
    return TrackedRegistration(
        registration_id=registration.id,
        title=latest.title,
        organisation=organisation.name if organisation else "",
        funder=registration.funder,
        intervention_id=registration.intervention_id,
        project_id=registration.project_id,
        version=latest.version,
        planned_completion=latest.planned_completion,
        planned_report=latest.planned_report,
        due=due,
        status=status,
        first_reported=first_reported if status.startswith("reported") else None,
        days_overdue=(as_at - due).days if status == "overdue" else None,
        outcomes=outcomes,
        completion_moved_from=moved,
        stopped_on=stop,
        is_demo=registration.is_demo,
    )


def tracker(
    session: Session,
    as_at: date,
    *,
    status: Status | None = None,
    include_demo: bool = True,
) -> list[TrackedRegistration]:
    """Every registration as at `as_at` (optionally of one status), overdue first."""
    query = select(Registration).order_by(Registration.id)
    if not include_demo:
        query = query.where(Registration.is_demo.is_(False))
    found = [track(session, r, as_at) for r in session.scalars(query)]
    if status is not None:
        found = [t for t in found if t.status == status]
    order = {"overdue": 0, "reported late": 1, "ongoing": 2, "reported": 3}
    return sorted(found, key=lambda t: (order[t.status], -(t.days_overdue or 0), t.registration_id))


@dataclass(frozen=True)
class ReportingRate:
    """How often one organisation's or funder's evaluations report once they are due."""

    group: str
    registrations: int
    due: int
    reported: int
    reported_on_time: int
    overdue: int
    ongoing: int
    outcome_flags: int

    @property
    def rate(self) -> float | None:
        """Share of due evaluations that have reported (on time or late)."""
        return self.reported / self.due if self.due else None

    @property
    def on_time_rate(self) -> float | None:
        return self.reported_on_time / self.due if self.due else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"rate": self.rate, "on_time_rate": self.on_time_rate}


def reporting_rates(
    tracked: Iterable[TrackedRegistration], by: Literal["organisation", "funder"]
) -> list[ReportingRate]:
    """Reporting rates grouped by organisation or by funder (blank: "not recorded")."""
    groups: dict[str, list[TrackedRegistration]] = {}
    for item in tracked:
        key = (item.organisation if by == "organisation" else item.funder) or "not recorded"
        groups.setdefault(key, []).append(item)
    rates = []
    for name, items in sorted(groups.items()):
        statuses = [i.status for i in items]
        rates.append(
            ReportingRate(
                group=name,
                registrations=len(items),
                due=sum(s != "ongoing" for s in statuses),
                reported=sum(s.startswith("reported") for s in statuses),
                reported_on_time=statuses.count("reported"),
                overdue=statuses.count("overdue"),
                ongoing=statuses.count("ongoing"),
                outcome_flags=sum(bool(i.outcomes and i.outcomes.flagged) for i in items),
            )
        )
    return rates


@dataclass(frozen=True)
class Lesson:
    """One entry of the failure library: a null or negative result, or a stopped
    evaluation, with what was learned."""

    kind: Literal["result", "stopped evaluation"]
    intervention_id: str | None
    intervention: str
    title: str
    year: int | None
    outcome: str
    direction: str
    reported: str
    lessons: tuple[str, ...]
    caveats: str
    source: str
    confidence: str
    study_id: int | None
    registration_id: int | None
    is_demo: bool

    def text(self) -> str:
        """Everything searchable, in one string."""
        return " ".join(
            [
                self.intervention,
                self.title,
                self.outcome,
                self.direction,
                self.reported,
                self.caveats,
                *self.lessons,
            ]
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lessons_of(session: Session, project_id: int | None, registration_id: int | None) -> list[str]:
    found = []
    if project_id is not None:
        project = session.get(Project, project_id)
        if project is not None and project.lessons.strip():
            found.append(project.lessons.strip())
    if registration_id is not None:
        for review in session.scalars(
            select(CheckpointReview)
            .where(CheckpointReview.registration_id == registration_id)
            .order_by(CheckpointReview.reviewed_on, CheckpointReview.id)
        ):
            found.append(f"{review.reviewed_on.isoformat()} ({review.decision}): {review.learned}")
    return found


def failure_library(session: Session, text: str = "", *, include_demo: bool = True) -> list[Lesson]:
    """Null and negative results and stopped evaluations, filtered by every word of
    `text` (case ignored), newest first."""
    names = {i.id: i.name for i in session.scalars(select(Intervention))}
    entries: list[Lesson] = []
    query = (
        select(Study, StudyResult)
        .join(StudyResult, StudyResult.study_id == Study.id)
        .where(StudyResult.direction.in_(FAILURE_DIRECTIONS))
        .order_by(Study.id, StudyResult.id)
    )
    if not include_demo:
        query = query.where(Study.is_demo.is_(False))
    for study, result in session.execute(query).all():
        project_id = study.project_id
        if project_id is None and study.registration_id is not None:
            registration = session.get(Registration, study.registration_id)
            project_id = registration.project_id if registration else None
        entries.append(
            Lesson(
                kind="result",
                intervention_id=study.intervention_id,
                intervention=names.get(study.intervention_id or "", ""),
                title=study.title,
                year=study.year,
                outcome=result.outcome,
                direction=result.direction or "",
                reported=result.reported,
                lessons=tuple(_lessons_of(session, project_id, study.registration_id)),
                caveats="; ".join(c for c in (study.caveats, result.caveats) if c),
                source=result.source or study.source,
                confidence=result.confidence or study.confidence,
                study_id=study.id,
                registration_id=study.registration_id,
                is_demo=study.is_demo,
            )
        )
    stops = select(CheckpointReview).where(CheckpointReview.decision == "stop")
    for review in session.scalars(stops.order_by(CheckpointReview.id)):
        registration = session.get(Registration, review.registration_id)
        if registration is None or (registration.is_demo and not include_demo):
            continue
        latest = session.scalar(
            select(RegistrationVersion)
            .where(RegistrationVersion.registration_id == registration.id)
            .order_by(RegistrationVersion.version.desc())
            .limit(1)
        )
        entries.append(
            Lesson(
                kind="stopped evaluation",
                intervention_id=registration.intervention_id,
                intervention=names.get(registration.intervention_id or "", ""),
                title=latest.title if latest else "",
                year=review.reviewed_on.year,
                outcome=", ".join(o["name"] for o in latest.primary_outcomes) if latest else "",
                direction="stopped",
                reported=f"Stopped at the review of {review.reviewed_on.isoformat()}.",
                lessons=tuple(_lessons_of(session, registration.project_id, registration.id)),
                caveats="",
                source=f"registration {registration.id}",
                confidence="high",
                study_id=None,
                registration_id=registration.id,
                is_demo=registration.is_demo,
            )
        )
    words = [w.casefold() for w in text.split()]
    chosen = [e for e in entries if all(w in e.text().casefold() for w in words)]
    return sorted(chosen, key=lambda e: -(e.year or 0))


def report(session: Session, as_at: date, status: Status | None = None) -> dict[str, Any]:
    """The tracker as at `as_at` (optionally of one status), with reporting rates by
    organisation and by funder: the JSON of this command and of /api/evidence/tracker."""
    tracked = tracker(session, as_at, status=status)
    return {
        "as_at": as_at.isoformat(),
        "status": status,
        "grace_months": GRACE_MONTHS,
        "registrations": [t.as_dict() for t in tracked],
        "reporting_rates": {
            by: [r.as_dict() for r in reporting_rates(tracked, by)]
            for by in ("organisation", "funder")
        },
    }
