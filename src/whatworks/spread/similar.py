"""Places like mine: a council's DfE statistical neighbours, in the DfE's order, and the
councils most like it on a documented similarity (size, region, Ofsted judgement and its
outcome profile), each with the features that made it close, what it tried, what happened
there and whom to talk to. Features, weights and the distance: docs/methods/places-like-mine.md.
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from whatworks.data import published_file
from whatworks.evidence.interventions import get_intervention
from whatworks.evidence.projects import list_projects
from whatworks.outcomes.catalogue import (
    POPULATION_MEASURE,
    POPULATION_SOURCE,
    Indicator,
    default_headline,
)
from whatworks.outcomes.scorecard import Context, load_context
from whatworks.outcomes.series import LA, fetch_rows
from whatworks.places.models import LocalAuthority
from whatworks.places.places import local_authorities, local_authority, neighbours, regions
from whatworks.spread.adoption import (
    Adoption,
    EvidenceCache,
    adoption_of,
    intervention_names,
)

#: Weights of the four features in the distance (they sum to 1); see the methods page.
WEIGHTS = {"size": 0.30, "region": 0.20, "ofsted": 0.10, "outcomes": 0.40}
LABELS = {
    "size": "Size (children aged 0 to 17)",
    "region": "Region",
    "ofsted": "Ofsted judgement (overall effectiveness)",
    "outcomes": "Outcome profile (headline indicators)",
}
SHORT = {
    "size": "size",
    "region": "region",
    "ofsted": "Ofsted judgement",
    "outcomes": "outcome profile",
}
#: A feature's distance (in standard deviations) below which it "made the place close",
#: and from which it "differs".
CLOSE, DIFFERS = 0.5, 1.0
#: No single feature adds more than this many standard deviations.
CAP = 3.0
OFSTED_FILE = "ofsted_la_inspection_outcomes_at_31_march_2025.csv"
OFSTED_GRADES = {
    "Outstanding": 1,
    "Good": 2,
    "Requires improvement to be good": 3,
    "Inadequate": 4,
}
#: How many places beyond the statistical neighbours a page lists by default.
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Ofsted:
    """A council's latest ILACS overall effectiveness judgement (at 31 March 2025)."""

    judgement: str
    inspected: str  # inspection date as published, YYYY-MM-DD

    @property
    def grade(self) -> int | None:
        return OFSTED_GRADES.get(self.judgement)


@lru_cache(maxsize=1)
def ofsted_judgements() -> dict[str, Ofsted]:
    """Each council's latest overall effectiveness judgement by new LA code, from the
    bundled Ofsted file (Ofsted official statistics, Open Government Licence)."""
    with published_file(OFSTED_FILE).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["Local authority area code"].strip(): Ofsted(
            row["Overall effectiveness"].strip(), row["Inspection date"].strip()
        )
        for row in rows
        if row.get("Local authority area code")
    }


def child_populations(session: Session) -> dict[str, dict[str, float]]:
    """ONS mid-year estimates of children aged 0 to 17, by old LA code and year."""
    pair = (POPULATION_SOURCE, POPULATION_MEASURE)
    found: dict[str, dict[str, float]] = {}
    for area, period, value, status, _ in fetch_rows(session, {pair}, LA, None).get(pair, []):
        if status == "value" and value:
            found.setdefault(area, {})[period] = value
    return found


def standardise(values: dict[str, float]) -> dict[str, float]:
    """Each value as standard deviations from the mean of all values (population SD)."""
    if len(values) < 2:
        return {}
    mean = statistics.fmean(values.values())
    sd = statistics.pstdev(values.values())
    if sd == 0:
        return {key: 0.0 for key in values}
    return {key: (value - mean) / sd for key, value in values.items()}


def latest_period(context: Context, item: Indicator) -> str | None:
    """The latest period for which at least half of the councils have a figure."""
    periods = sorted(
        {p.period for pts in context.by_level[LA].get(item.id, {}).values() for p in pts},
        reverse=True,
    )
    for period in periods:
        if len(context.at_period(item, period)) >= len(context.current) / 2:
            return period
    return None


@dataclass
class Profile:
    """Every current council's features, standardised, ready for distances."""

    places: dict[str, LocalAuthority]  # new code -> authority
    region_of: dict[str, str]  # new code -> top-level region code
    region_names: dict[str, str]
    children: dict[str, float]  # new code -> latest estimate of children aged 0 to 17
    children_year: str
    size_z: dict[str, float]
    ofsted: dict[str, Ofsted]
    ofsted_sd: float
    indicators: list[tuple[Indicator, str]]  # headline indicator, period used
    outcome_z: dict[str, dict[str, float]]  # indicator id -> new code -> z
    outcome_values: dict[str, dict[str, float]]  # indicator id -> new code -> value


def build_profile(session: Session) -> Profile:
    """The features of every current council, from the store and the bundled Ofsted file."""
    context = load_context(session)
    places = {la.new_la_code: la for la in local_authorities(session)}
    parents = {r.code: r.parent_code or r.code for r in regions(session, top_level_only=False)}
    names = {r.code: r.name for r in regions(session)}
    populations = child_populations(session)
    year = max((max(by_year) for by_year in populations.values()), default="")
    children = {
        code: populations[la.old_la_code][year]
        for code, la in places.items()
        if year in populations.get(la.old_la_code, {})
    }
    ofsted = {code: found for code, found in ofsted_judgements().items() if code in places}
    grades = [o.grade for o in ofsted.values() if o.grade is not None]
    by_old = {la.old_la_code: code for code, la in places.items()}
    chosen, outcome_z, outcome_values = [], {}, {}
    for item in default_headline():
        period = latest_period(context, item)
        if period is None:
            continue
        values = {by_old[o]: v for o, v in context.at_period(item, period).items() if o in by_old}
        chosen.append((item, period))
        outcome_values[item.id] = values
        outcome_z[item.id] = standardise(values)
    return Profile(
        places=places,
        region_of={
            code: parents.get(la.region_code, la.region_code) for code, la in places.items()
        },
        region_names=names,
        children=children,
        children_year=year,
        size_z=standardise({code: math.log10(n) for code, n in children.items()}),
        ofsted=ofsted,
        ofsted_sd=statistics.pstdev(grades) if len(grades) > 1 else 1.0,
        indicators=chosen,
        outcome_z=outcome_z,
        outcome_values=outcome_values,
    )


@dataclass(frozen=True)
class Feature:
    """One feature's part in a distance: both places' values, how far apart they are
    (in standard deviations; region 0 or 1) and the verdict."""

    key: str
    mine: str
    theirs: str
    distance: float | None  # None: not known for one of the places

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def weight(self) -> float:
        return WEIGHTS[self.key]

    @property
    def verdict(self) -> str:
        if self.distance is None:
            return "not known"
        if self.distance < CLOSE:
            return "close"
        if self.distance < DIFFERS:
            return "somewhat close"
        return "differs"

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.key,
            "label": self.label,
            "mine": self.mine,
            "theirs": self.theirs,
            "distance": None if self.distance is None else round(self.distance, 3),
            "weight": self.weight,
            "verdict": self.verdict,
        }


def _ofsted_text(found: Ofsted | None) -> str:
    if found is None or found.grade is None:
        return "not known"
    return f"{found.judgement} ({found.inspected[:4]})"


def features(profile: Profile, mine: str, theirs: str) -> list[Feature]:
    """The four features of `theirs` against `mine`, each as a distance."""
    found = []
    size = None
    if mine in profile.size_z and theirs in profile.size_z:
        size = min(CAP, abs(profile.size_z[mine] - profile.size_z[theirs]))
    found.append(
        Feature(
            "size",
            f"{profile.children.get(mine, 0):,.0f} children",
            f"{profile.children.get(theirs, 0):,.0f} children",
            size,
        )
    )
    region_mine, region_theirs = profile.region_of[mine], profile.region_of[theirs]
    found.append(
        Feature(
            "region",
            profile.region_names.get(region_mine, region_mine),
            profile.region_names.get(region_theirs, region_theirs),
            0.0 if region_mine == region_theirs else 1.0,
        )
    )
    ofsted_mine, ofsted_theirs = profile.ofsted.get(mine), profile.ofsted.get(theirs)
    grade_gap = None
    if ofsted_mine and ofsted_theirs and ofsted_mine.grade and ofsted_theirs.grade:
        grade_gap = min(CAP, abs(ofsted_mine.grade - ofsted_theirs.grade) / profile.ofsted_sd)
    found.append(
        Feature("ofsted", _ofsted_text(ofsted_mine), _ofsted_text(ofsted_theirs), grade_gap)
    )
    gaps = [
        (z[mine] - z[theirs]) ** 2 for z in profile.outcome_z.values() if mine in z and theirs in z
    ]
    rms = min(CAP, math.sqrt(statistics.fmean(gaps))) if gaps else None
    found.append(
        Feature(
            "outcomes",
            f"{sum(1 for z in profile.outcome_z.values() if mine in z)} headline indicators",
            f"compared on {len(gaps)}",
            rms,
        )
    )
    return found


def distance(found: list[Feature]) -> float:
    """The weighted mean of the known features' distances (weights renormalised over the
    features known for both places)."""
    known = [f for f in found if f.distance is not None]
    total = sum(f.weight for f in known)
    if not total:
        return math.inf
    return sum(f.weight * (f.distance or 0.0) for f in known) / total


@dataclass
class Match:
    """A place like mine: how close, why, and what it tried."""

    la: LocalAuthority
    region_name: str
    distance: float
    similarity_rank: int  # 1 = the most similar council by the distance
    features: list[Feature]
    neighbour_rank: int | None = None  # DfE statistical neighbour rank, 1 = closest
    closeness: str | None = None  # the DfE closeness band
    adoptions: list[Adoption] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        """Which features made the place close, and which differ, in words."""
        close = [SHORT[f.key] for f in self.features if f.verdict == "close"]
        differs = [SHORT[f.key] for f in self.features if f.verdict == "differs"]
        parts = []
        if self.neighbour_rank is not None:
            band = (self.closeness or "").lower()
            parts.append(f"DfE statistical neighbour {self.neighbour_rank} ({band})")
        if close:
            parts.append("close on " + _and(close))
        if differs:
            parts.append("differs on " + _and(differs))
        if not parts:
            return "Somewhat close on every feature."
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "la_code": self.la.new_la_code,
            "old_la_code": self.la.old_la_code,
            "name": self.la.name,
            "region": self.region_name,
            "url": f"/places/{self.la.new_la_code}/like-mine",
            "statistical_neighbour_rank": self.neighbour_rank,
            "closeness": self.closeness,
            "distance": round(self.distance, 3),
            "similarity_rank": self.similarity_rank,
            "explanation": self.explanation,
            "features": [f.as_dict() for f in self.features],
            "tried": [a.as_dict() for a in self.adoptions],
        }


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass
class PlacesLikeMine:
    """A council, its statistical neighbours, the other places most like it and, when an
    intervention is chosen, every place like it that adopted that intervention."""

    la: LocalAuthority
    region_name: str
    profile_year: str
    indicators: list[tuple[Indicator, str]]
    neighbours: list[Match]
    also_similar: list[Match]
    intervention: tuple[str, str] | None = None  # (slug, name)
    adopters: list[Match] = field(default_factory=list)
    mine: list[Adoption] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "la_code": self.la.new_la_code,
            "name": self.la.name,
            "region": self.region_name,
            "children_aged_0_to_17_year": self.profile_year,
            "headline_indicators": [{"id": i.id, "period": p} for i, p in self.indicators],
            "weights": WEIGHTS,
            "method": "docs/methods/places-like-mine.md",
            "intervention": {"id": self.intervention[0], "name": self.intervention[1]}
            if self.intervention
            else None,
            "statistical_neighbours": [m.as_dict() for m in self.neighbours],
            "also_similar": [m.as_dict() for m in self.also_similar],
            "adopters": [m.as_dict() for m in self.adopters] if self.intervention else None,
            "my_adoptions": [a.as_dict() for a in self.mine],
        }


def ranked(profile: Profile, code: str) -> list[Match]:
    """Every other current council as a Match, most similar first (ties by name)."""
    found = []
    for other, la in profile.places.items():
        if other == code:
            continue
        found_features = features(profile, code, other)
        found.append(
            Match(
                la,
                profile.region_names.get(profile.region_of[other], ""),
                distance(found_features),
                0,
                found_features,
            )
        )
    found.sort(key=lambda m: (m.distance, m.la.name))
    for n, match in enumerate(found, 1):
        match.similarity_rank = n
    return found


def places_like_mine(
    session: Session,
    code: str,
    intervention: str | None = None,
    limit: int = DEFAULT_LIMIT,
    today: date | None = None,
) -> PlacesLikeMine:
    """Places like the council at `code`: its statistical neighbours (DfE 2025 model, in
    order), the next `limit` most similar councils, and what each tried. With
    `intervention`, every council that adopted it, neighbours first, then by similarity."""
    today = today or date.today()
    la = local_authority(session, code)
    profile = build_profile(session)
    if la.new_la_code not in profile.places:
        la = profile.places.get(la.replaced_by or "", la)
    every = ranked(profile, la.new_la_code)
    by_code = {m.la.new_la_code: m for m in every}
    chosen = (intervention, get_intervention(session, intervention).name) if intervention else None
    names = intervention_names(session)
    evidence = EvidenceCache(session)
    tried: dict[str, list[Adoption]] = {}
    for project in list_projects(session, intervention_id=intervention):
        if project.la_code:
            tried.setdefault(project.la_code, []).append(
                adoption_of(session, project, names, evidence, today)
            )
    for found in tried.values():
        found.sort(key=lambda a: (a.start_date is None, a.start_date or date.min, a.project_id))
    group = []
    for n in neighbours(session, la.new_la_code):
        match = by_code.get(n.la.new_la_code)
        if match is not None:
            match.neighbour_rank, match.closeness = n.rank, n.closeness
            group.append(match)
    for match in every:
        match.adoptions = tried.get(match.la.new_la_code, [])
    in_group = {m.la.new_la_code for m in group}
    result = PlacesLikeMine(
        la=la,
        region_name=profile.region_names.get(profile.region_of.get(la.new_la_code, ""), ""),
        profile_year=profile.children_year,
        indicators=profile.indicators,
        neighbours=group,
        also_similar=[m for m in every if m.la.new_la_code not in in_group][:limit],
        intervention=chosen,
        mine=tried.get(la.new_la_code, []),
    )
    if chosen:
        result.adopters = sorted(
            (m for m in every if m.adoptions),
            key=lambda m: (m.neighbour_rank is None, m.neighbour_rank or 0, m.distance),
        )
    return result
