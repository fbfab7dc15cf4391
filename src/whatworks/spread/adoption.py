"""Adoption and diffusion: which places adopted an intervention and when, whether each kept
it, changed it or gave it up, and how the number of adopters grew year by year.

An adoption is an evidence-hub project of the intervention in a place; what happened to it
is read from the project's status, dates and checkpoint reviews by the rule in
docs/methods/places-like-mine.md ("Adoption: sustained, adapted or stopped").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import altair as alt
from markupsafe import Markup
from sqlalchemy.orm import Session

from whatworks.core.charts import AXIS, GOVUK_BLUE, figure, render_svg
from whatworks.evidence import hub, registrations, studies
from whatworks.evidence.interventions import get_intervention, list_interventions
from whatworks.evidence.models import Project
from whatworks.evidence.projects import list_projects

#: A running project counts as sustained once it has run this long (SCIE's condition "in
#: it for the long haul"; two years is the shortest span the evaluations we hold report on).
SUSTAINED_YEARS = 2
#: What became of an adoption, in the order the pages list them.
OUTCOMES = {
    "sustained": "Sustained: running for two years or more",
    "adapted": "Adapted: changed at a checkpoint review and kept going",
    "early": "Running: too early to say (under two years)",
    "ended": "Ended: the project finished; whether the practice continued is not recorded",
    "stopped": "Stopped",
    "planned": "Planned: not started",
    "not recorded": "Not recorded: no status or dates",
}
#: Outcomes that count a place as an adopter (a project that started).
ADOPTED = ("sustained", "adapted", "early", "ended", "stopped")


@dataclass(frozen=True)
class Review:
    """A checkpoint decision on one of the project's registered evaluations."""

    reviewed_on: date
    decision: str  # continue, adapt or stop
    learned: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviewed_on": self.reviewed_on.isoformat(),
            "decision": self.decision,
            "learned": self.learned,
        }


def years_between(start: date, end: date) -> float:
    """Whole and part years from `start` to `end` (365.25 days a year)."""
    return (end - start).days / 365.25


def adoption_outcome(
    status: str | None,
    start: date | None,
    end: date | None,
    reviews: list[Review],
    today: date,
) -> str:
    """What became of an adoption (a key of OUTCOMES), by the documented rule:
    stopped status, or ended status, first; then planned (or a start in the future); then a
    running project is adapted if a checkpoint review decided to adapt or to stop part of
    it, sustained if it has run SUSTAINED_YEARS or more, early otherwise."""
    if status == "stopped":
        return "stopped"
    if status == "ended" or (end is not None and end < today and status is None):
        return "ended"
    if status == "planned" or (start is not None and start > today):
        return "planned"
    if status is None and start is None:
        return "not recorded"
    if any(r.decision in ("adapt", "stop") for r in reviews):
        return "adapted"
    if start is not None and years_between(start, today) >= SUSTAINED_YEARS:
        return "sustained"
    return "early"


def project_reviews(session: Session, project_id: int) -> list[Review]:
    """Every checkpoint review of the project's registered evaluations, oldest first."""
    found = [
        Review(r.reviewed_on, r.decision, r.learned)
        for registration in registrations.list_registrations(session, project_id=project_id)
        for r in registrations.reviews(session, registration.id)
    ]
    return sorted(found, key=lambda r: r.reviewed_on)


def project_studies(session: Session, project: Project) -> list[dict[str, Any]]:
    """Studies of this project (entered against it, or reporting one of its registered
    evaluations), each with its results as reported."""
    found = {
        s.id: s
        for registration in registrations.list_registrations(session, project_id=project.id)
        for s in studies.list_studies(session, registration_id=registration.id)
    }
    if project.intervention_id:
        for s in studies.list_studies(session, intervention_id=project.intervention_id):
            if s.project_id == project.id:
                found[s.id] = s
    return [
        {
            "id": s.id,
            "title": s.title,
            "year": s.year,
            "design": s.design,
            "is_demo": s.is_demo,
            "url": f"/evidence/studies/{s.id}",
            "results": [
                {"outcome": r.outcome, "direction": r.direction, "reported": r.reported}
                for r in s.results
            ],
        }
        for s in sorted(found.values(), key=lambda s: s.id)
    ]


class EvidenceCache:
    """The evidence hub's headline for each intervention, assessed once per request."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._found: dict[str, dict[str, Any] | None] = {}

    def headline(self, slug: str) -> dict[str, Any] | None:
        """The outcome with the strongest evidence of benefit: its level, certainty and
        recommendation, with the outcomes a rigorous study found it did not improve."""
        if slug not in self._found:
            evidence = hub.assess(self.session, slug)
            best = evidence.headline()
            self._found[slug] = (
                None
                if best is None
                else {
                    "outcome": best.outcome,
                    "level": best.level.level,
                    "certainty": best.certainty.grade,
                    "recommendation": best.recommendation.wording,
                    "not_effective": [
                        o.outcome for o in evidence.outcomes if o.level.level == "NE"
                    ],
                }
            )
        return self._found[slug]


@dataclass(frozen=True)
class Adoption:
    """One project of an intervention in a place: when, what became of it, what it learned,
    what was found and whom to talk to."""

    project_id: int
    title: str
    intervention_id: str | None
    intervention_name: str
    la_code: str | None
    place: str
    status: str | None
    start_date: date | None
    end_date: date | None
    outcome: str
    lessons: str
    contacts: list[dict[str, Any]]
    reviews: list[Review]
    studies: list[dict[str, Any]]
    evidence: dict[str, Any] | None
    is_demo: bool

    @property
    def outcome_text(self) -> str:
        return OUTCOMES[self.outcome]

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "title": self.title,
            "url": f"/evidence/projects/{self.project_id}",
            "intervention": {"id": self.intervention_id, "name": self.intervention_name}
            if self.intervention_id
            else None,
            "la_code": self.la_code,
            "place": self.place,
            "status": self.status,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "outcome": self.outcome,
            "outcome_text": self.outcome_text,
            "lessons": self.lessons,
            "contacts": self.contacts,
            "checkpoint_reviews": [r.as_dict() for r in self.reviews],
            "studies": self.studies,
            "evidence": self.evidence,
            "is_demo": self.is_demo,
        }


def adoption_of(
    session: Session,
    project: Project,
    names: dict[str, str],
    evidence: EvidenceCache,
    today: date,
) -> Adoption:
    """A project read as an adoption."""
    reviews = project_reviews(session, project.id)
    slug = project.intervention_id
    return Adoption(
        project_id=project.id,
        title=project.title,
        intervention_id=slug,
        intervention_name=names.get(slug, slug) if slug else "A new idea",
        la_code=project.la_code,
        place=project.place,
        status=project.status,
        start_date=project.start_date,
        end_date=project.end_date,
        outcome=adoption_outcome(
            project.status, project.start_date, project.end_date, reviews, today
        ),
        lessons=project.lessons,
        contacts=list(project.contacts or []),
        reviews=reviews,
        studies=project_studies(session, project),
        evidence=evidence.headline(slug) if slug else None,
        is_demo=project.is_demo,
    )


def intervention_names(session: Session) -> dict[str, str]:
    """Every intervention's name by its slug."""
    return {i.id: i.name for i in list_interventions(session)}


@dataclass(frozen=True)
class DiffusionYear:
    """One year of an intervention's spread."""

    year: int
    new: int  # places whose first project started this year
    cumulative: int  # places that had started by the end of this year
    active: int  # places with a project running at some point in the year

    def as_dict(self) -> dict[str, int]:
        return {
            "year": self.year,
            "new_adopters": self.new,
            "cumulative_adopters": self.cumulative,
            "active": self.active,
        }


@dataclass
class InterventionAdoption:
    """Everywhere an intervention was adopted, and its diffusion over time."""

    intervention_id: str
    name: str
    published_adopters: str
    adoptions: list[Adoption] = field(default_factory=list)
    diffusion: list[DiffusionYear] = field(default_factory=list)

    @property
    def undated(self) -> list[Adoption]:
        """Adoptions with no start date: listed, but not in the chart."""
        return [a for a in self.adoptions if a.start_date is None]

    def as_dict(self) -> dict[str, Any]:
        counts = {key: sum(1 for a in self.adoptions if a.outcome == key) for key in OUTCOMES}
        return {
            "intervention": {"id": self.intervention_id, "name": self.name},
            "published_adopters": self.published_adopters,
            "outcome_counts": counts,
            "adoptions": [a.as_dict() for a in self.adoptions],
            "diffusion": [d.as_dict() for d in self.diffusion],
            "undated": [a.project_id for a in self.undated],
            "method": "docs/methods/places-like-mine.md#adoption-sustained-adapted-or-stopped",
        }


def _place_key(adoption: Adoption) -> str:
    return adoption.la_code or adoption.place or f"project {adoption.project_id}"


def _running_in(adoption: Adoption, year: int) -> bool:
    """Whether the project ran at some point in `year`. A stopped or ended project with no
    end date is counted in its start year only (when it stopped is not known)."""
    start, end = adoption.start_date, adoption.end_date
    if start is None or start.year > year:
        return False
    if end is not None:
        return end.year >= year
    return adoption.outcome not in ("stopped", "ended") or start.year == year


def diffusion(adoptions: list[Adoption], today: date) -> list[DiffusionYear]:
    """Cumulative adopters by calendar year, from the first start to this year. A place
    adopts in the year its first project started; planned projects do not count."""
    started = [a for a in adoptions if a.start_date is not None and a.outcome in ADOPTED]
    if not started:
        return []
    first: dict[str, int] = {}
    for a in started:
        assert a.start_date is not None
        key = _place_key(a)
        first[key] = min(first.get(key, a.start_date.year), a.start_date.year)
    years = range(min(first.values()), max(today.year, max(first.values())) + 1)
    found = []
    for year in years:
        active = {_place_key(a) for a in started if _running_in(a, year)}
        found.append(
            DiffusionYear(
                year=year,
                new=sum(1 for y in first.values() if y == year),
                cumulative=sum(1 for y in first.values() if y <= year),
                active=len(active),
            )
        )
    return found


def intervention_adoption(
    session: Session, slug: str, today: date | None = None
) -> InterventionAdoption:
    """Every project of the intervention as an adoption, earliest start first, and the
    diffusion of the intervention year by year."""
    today = today or date.today()
    intervention = get_intervention(session, slug)
    names = {slug: intervention.name}
    evidence = EvidenceCache(session)
    found = [
        adoption_of(session, p, names, evidence, today)
        for p in list_projects(session, intervention_id=slug)
    ]
    found.sort(key=lambda a: (a.start_date is None, a.start_date or date.min, a.project_id))
    return InterventionAdoption(
        intervention_id=slug,
        name=intervention.name,
        published_adopters=intervention.adopters,
        adoptions=found,
        diffusion=diffusion(found, today),
    )


def place_history(session: Session, la_code: str, today: date | None = None) -> list[Adoption]:
    """A place's own adoption history: every project there, earliest start first."""
    today = today or date.today()
    names = intervention_names(session)
    evidence = EvidenceCache(session)
    found = [
        adoption_of(session, p, names, evidence, today)
        for p in list_projects(session, la_code=la_code)
    ]
    found.sort(key=lambda a: (a.start_date is None, a.start_date or date.min, a.project_id))
    return found


def diffusion_figure(name: str, years: list[DiffusionYear]) -> Markup:
    """The diffusion chart (cumulative adopters by year, as steps) with its table."""
    rows = [{"year": str(d.year), "cumulative": d.cumulative} for d in years]
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True, color=GOVUK_BLUE, strokeWidth=3, interpolate="step-after")
        .encode(
            x=alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "cumulative:Q",
                title="Places that have adopted it",
                axis=alt.Axis(format=",d", tickMinStep=1),
                scale=alt.Scale(zero=True),
            ),
        )
        .properties(width=520, height=220)
        .configure_axis(**AXIS)
        .configure_view(stroke=None)
    )
    return figure(
        f"Diffusion of {name}: places that have adopted it, by year",
        render_svg(chart.to_dict()),
        ["Year", "New adopters", "Adopters so far", "Places running it"],
        [(d.year, d.new, d.cumulative, d.active) for d in years],
    )
