"""Co-production on projects: who was involved (children, young people, families, staff,
partners, communities), at which stage (design, delivery, evaluation) and how.

A project's activities add up to an engagement summary: a grid of groups by stages, the
span in months from the first activity with children, young people or families to the
last, and a suggested rating (1 to 5) of the condition for success "sustained engagement
with children and families" by the rubric below (docs/voice.md, "Co-production"). Only
activities with children, young people or families count towards it. Applying the
suggestion adds an ordinary rating through `evidence.projects.rate_condition`, so it sits
in the project's history beside any rating a person gives.

Only members of the project's organisation (and administrators) record activities or
apply the suggestion; every record and application is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.auth import has_role
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.evidence import projects
from whatworks.evidence.models import ConditionRating, Project
from whatworks.voice.models import CoproductionActivity

GROUPS = ("children", "young people", "families", "staff", "partners", "communities")
#: The groups whose involvement counts towards sustained engagement.
ENGAGED = ("children", "young people", "families")
STAGES = ("design", "delivery", "evaluation")
METHODS = (
    "young people's panel",
    "co-design workshop",
    "peer research",
    "interview panel for staff recruitment",
    "steering group membership",
    "survey",
    "other",
)
CONDITION = "sustained engagement with children and families"
MAX_DESCRIPTION = 2_000
MAX_PEOPLE = 100_000
#: What each rating means; a project gets the highest level whose rule it meets.
RUBRIC = {
    1: "No activity with children, young people or families is recorded.",
    2: "Children, young people or families took part once, at one stage.",
    3: "They took part at two stages, or on more than one date at one stage.",
    4: "They took part at all three stages, or at two stages over six months or more.",
    5: "They took part at all three stages over twelve months or more, with no more than "
    "three months between one activity and the next.",
}
#: Whole months from the first activity to the last that levels 4 and 5 ask for.
TWO_STAGE_MONTHS = 6
SUSTAINED_MONTHS = 12
#: The most months allowed between one activity and the next for level 5 (quarterly).
MAX_GAP_MONTHS = 3


class ActivityRefused(WhatworksError):
    """An activity that could not be stored; nothing was. Carries (field, message) pairs
    for the form's error summary."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (the month's last day if it is shorter:
    31 January plus one month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - date.resolution).day
    return date(year, month, min(day.day, last))


def months_between(first: date, last: date) -> int:
    """Whole calendar months from `first` to `last` (0 if `last` is less than a month on):
    15 March 2024 to 14 March 2025 is 11, to 15 March 2025 is 12."""
    months = (last.year - first.year) * 12 + last.month - first.month
    if months > 0 and add_months(first, months) > last:
        months -= 1
    return max(months, 0)


@dataclass(frozen=True)
class NewActivity:
    """An activity as a form or the API sends it, before it is checked."""

    group: str
    stage: str
    method: str
    held_on: date | None
    people: int | None = None
    description: str = ""

    def problems(self, today: date) -> list[tuple[str, str]]:
        """What is wrong, as (form field, message) pairs, in the form's order."""
        found: list[tuple[str, str]] = []
        if self.group not in GROUPS:
            found.append(("group", f"Choose who took part: {', '.join(GROUPS)}"))
        if self.stage not in STAGES:
            found.append(("stage", f"Choose the stage: {', '.join(STAGES)}"))
        if self.method not in METHODS:
            found.append(("method", "Choose how they took part, or 'other' and describe it"))
        if self.held_on is None:
            found.append(("held_on-day", "Enter the date of the activity"))
        elif self.held_on > today:
            found.append(("held_on-day", "The date of the activity must be today or in the past"))
        if self.people is not None and not 1 <= self.people <= MAX_PEOPLE:
            found.append(("people", "The number of people must be from 1 to 100,000"))
        if len(self.description) > MAX_DESCRIPTION:
            found.append(("description", "Write the description in 2,000 characters or fewer"))
        elif self.method == "other" and not self.description.strip():
            found.append(("description", "Describe the activity, since its method is 'other'"))
        return found


def may_record(user: User | None, project: Project) -> bool:
    """Whether the user is a member of the project's organisation (or an administrator)."""
    if user is None:
        return False
    if has_role(user, "admin"):
        return True
    return project.organisation_id is not None and user.organisation_id == project.organisation_id


def _check(user: User | None, project: Project, doing: str) -> User:
    if user is None:
        raise PermissionDenied(f"Sign in to {doing}.")
    if not may_record(user, project):
        raise PermissionDenied(
            f"Only members of the organisation that runs this project can {doing}."
        )
    return user


def record_activity(
    session: Session,
    user: User | None,
    project_id: int,
    new: NewActivity,
    today: date | None = None,
) -> CoproductionActivity:
    """Store one activity of the project, audited. Refuses bad input with every problem
    (ActivityRefused), and anyone outside the project's organisation (PermissionDenied),
    storing nothing."""
    project = projects.get_project(session, project_id)
    author = _check(user, project, "record its co-production")
    problems = new.problems(today or date.today())
    if problems or new.held_on is None:
        raise ActivityRefused(problems)
    activity = CoproductionActivity(
        project_id=project.id,
        organisation_id=(
            project.organisation_id
            if project.organisation_id is not None
            else author.organisation_id
        ),
        group=new.group,
        stage=new.stage,
        method=new.method,
        people=new.people,
        held_on=new.held_on,
        description=new.description.strip(),
        recorded_by=author.username,
    )
    session.add(activity)
    session.flush()
    audit.record(
        session,
        audit.Actor.of(author),
        "record co-production",
        f"project:{project.id}",
        "voice",
        activity=activity.id,
        group=new.group,
        stage=new.stage,
        method=new.method,
        held_on=str(new.held_on),
    )
    return activity


def list_activities(session: Session, project_id: int) -> list[CoproductionActivity]:
    """The project's activities, oldest first."""
    return list(
        session.scalars(
            select(CoproductionActivity)
            .where(CoproductionActivity.project_id == project_id)
            .order_by(CoproductionActivity.held_on, CoproductionActivity.id)
        )
    )


@dataclass(frozen=True)
class Summary:
    """How a project's activities add up, and the rating they suggest."""

    grid: dict[str, dict[str, int]]  # activities by group, then stage
    people: dict[str, int]  # people who took part, by group, where counted
    records: int  # every activity, of any group
    engaged: int  # activities with children, young people or families
    dates: tuple[date, ...]  # their distinct dates, in order
    stages: tuple[str, ...]  # the stages they took part in, in STAGES order
    first: date | None
    last: date | None
    span_months: int  # whole months from first to last
    longest_gap: tuple[date, date] | None  # the longest wait between two dates in a row
    late_gap: tuple[date, date] | None  # the longest wait of more than MAX_GAP_MONTHS
    regular: bool  # no more than MAX_GAP_MONTHS between one date and the next
    rating: int
    reasons: tuple[str, ...] = field(default=())


def _rating(stages: int, dates: int, span: int, regular: bool) -> int:
    if stages == 3 and span >= SUSTAINED_MONTHS and regular:
        return 5
    if stages == 3 or (stages == 2 and span >= TWO_STAGE_MONTHS):
        return 4
    if stages == 2 or dates >= 2:
        return 3
    if dates == 1:
        return 2
    return 1


def _to_reach(
    rating: int, stages: tuple[str, ...], span: int, late: tuple[date, date] | None
) -> str:
    missing = [s for s in STAGES if s not in stages]
    if rating == 1:
        return "To reach 2: involve children, young people or families in an activity."
    if rating == 2:
        return "To reach 3: involve them again, or at another stage."
    if rating == 3:
        if len(stages) == 2:
            return (
                f"To reach 4: involve them in {missing[0]} too, or keep going at two "
                "stages until six months separate the first activity from the last."
            )
        return (
            "To reach 4: involve them at all three stages, or at one more stage "
            f"({' or '.join(missing)}) over six months or more."
        )
    if rating == 4:
        needs = []
        if missing:
            needs.append(f"involve them in {' and '.join(missing)}")
        if span < SUSTAINED_MONTHS:
            needs.append("keep going until twelve months separate the first activity from the last")
        if late is not None:
            needs.append(
                f"leave no more than three months between activities (the longest wait was "
                f"from {_long(late[0])} to {_long(late[1])})"
            )
        return "To reach 5: " + "; ".join(needs) + "."
    return ""


def summarise(activities: Sequence[CoproductionActivity]) -> Summary:
    """The grid, span and suggested rating of a project's activities (by RUBRIC)."""
    grid = {g: dict.fromkeys(STAGES, 0) for g in GROUPS}
    people = dict.fromkeys(GROUPS, 0)
    for a in activities:
        grid[a.group][a.stage] += 1
        people[a.group] += a.people or 0
    engaged = [a for a in activities if a.group in ENGAGED]
    dates = tuple(sorted({a.held_on for a in engaged}))
    stages = tuple(s for s in STAGES if any(a.stage == s for a in engaged))
    first, last = (dates[0], dates[-1]) if dates else (None, None)
    span = months_between(first, last) if first and last else 0
    pairs = list(pairwise(dates))
    late = [
        (before, after) for before, after in pairs if after > add_months(before, MAX_GAP_MONTHS)
    ]
    longest = max(pairs, key=lambda p: p[1] - p[0], default=None)  # the first, if tied
    longest_late = max(late, key=lambda p: p[1] - p[0], default=None)
    regular = not late
    rating = _rating(len(stages), len(dates), span, regular)
    reasons = []
    if engaged:
        reasons.append(
            f"Children, young people or families took part in {len(engaged)} of the "
            f"{len(activities)} activities recorded, on {len(dates)} "
            f"{'date' if len(dates) == 1 else 'different dates'}, at "
            f"{len(stages)} of the 3 stages ({', '.join(stages)})."
        )
        if first and last and first != last:
            reasons.append(
                f"From {_long(first)} to {_long(last)}: {span} whole "
                f"{'month' if span == 1 else 'months'}."
            )
        if longest is not None:
            wait = months_between(*longest)
            reasons.append(
                f"The longest wait from one activity to the next was from {_long(longest[0])} "
                f"to {_long(longest[1])}"
                + (
                    f" ({wait} whole {'month' if wait == 1 else 'months'})."
                    if wait
                    else " (under a month)."
                )
            )
    elif activities:
        reasons.append(
            f"None of the {len(activities)} activities recorded involved children, young "
            "people or families; staff, partners and communities do not count here."
        )
    reasons.append(f"Suggested rating {rating}: {RUBRIC[rating]}")
    hint = _to_reach(rating, stages, span, longest_late)
    if hint:
        reasons.append(hint)
    return Summary(
        grid=grid,
        people=people,
        records=len(activities),
        engaged=len(engaged),
        dates=dates,
        stages=stages,
        first=first,
        last=last,
        span_months=span,
        longest_gap=longest,
        late_gap=longest_late,
        regular=regular,
        rating=rating,
        reasons=tuple(reasons),
    )


#: How the note of a rating applied from the co-production records begins.
SUGGESTED_FROM = "Suggested from "


def _suggested(rating: ConditionRating) -> bool:
    """Whether a rating was applied from the co-production records, not given by a person."""
    return rating.note.startswith(SUGGESTED_FROM) and " co-production record" in rating.note


def apply_suggestion(
    session: Session, user: User | None, project_id: int, today: date | None = None
) -> ConditionRating:
    """Record the suggested rating of sustained engagement as the project's rating on
    `today`, with a note of how many co-production records it comes from. Earlier and
    later ratings by people stay in the history beside it. When the project's latest
    rating of the condition is already today's suggestion with the same rating (a second
    click, a form sent twice), that rating is returned and nothing is added."""
    project = projects.get_project(session, project_id)
    author = _check(user, project, "rate its conditions for success")
    activities = list_activities(session, project.id)
    if not activities:
        raise WhatworksError(
            "This project has no co-production records, so there is nothing to suggest a "
            "rating from. Record its activities first, or rate the condition yourself."
        )
    summary = summarise(activities)
    on = today or date.today()
    latest = projects.latest_conditions(session, project.id).get(CONDITION)
    if (
        latest is not None
        and latest.rated_on == on
        and latest.rating == summary.rating
        and _suggested(latest)
    ):
        return latest
    plural = "record" if summary.records == 1 else "records"
    note = (
        f"{SUGGESTED_FROM}{summary.records} co-production {plural} "
        f"({summary.engaged} with children, young people or families): {RUBRIC[summary.rating]}"
    )
    rating = projects.rate_condition(
        session, author, project.id, CONDITION, summary.rating, on, note
    )
    audit.record(
        session,
        audit.Actor.of(author),
        "apply co-production rating",
        f"project:{project.id}",
        "voice",
        rating=summary.rating,
        records=summary.records,
        condition_rating=rating.id,
    )
    return rating


def activity_json(activity: CoproductionActivity) -> dict[str, Any]:
    """One activity as the JSON twin shows it."""
    return {
        "id": activity.id,
        "group": activity.group,
        "stage": activity.stage,
        "method": activity.method,
        "people": activity.people,
        "held_on": activity.held_on.isoformat(),
        "description": activity.description,
        "recorded_by": activity.recorded_by,
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    """The engagement summary as the JSON twin shows it."""
    return {
        "grid": summary.grid,
        "people": summary.people,
        "records": summary.records,
        "with_children_young_people_or_families": summary.engaged,
        "dates": [d.isoformat() for d in summary.dates],
        "stages": list(summary.stages),
        "first": summary.first.isoformat() if summary.first else None,
        "last": summary.last.isoformat() if summary.last else None,
        "span_months": summary.span_months,
        "longest_gap": (
            [d.isoformat() for d in summary.longest_gap] if summary.longest_gap else None
        ),
        "longest_gap_over_three_months": (
            [d.isoformat() for d in summary.late_gap] if summary.late_gap else None
        ),
        "at_least_quarterly": summary.regular,
        "suggested_rating": {
            "condition": CONDITION,
            "rating": summary.rating,
            "rule": RUBRIC[summary.rating],
            "reasons": list(summary.reasons),
        },
        "rubric": {str(level): rule for level, rule in RUBRIC.items()},
    }
