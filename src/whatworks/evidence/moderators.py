"""Does an intervention's effect on an outcome depend on the conditions? Subgroups by the
region of the place each study ran in, and a meta-regression on each of the six
conditions for success of the project behind each study (its latest rating).

Both read the studies the hub pooled for the outcome. A moderator is analysed only when
at least `MIN_STUDIES` studies have a value for it and the values differ; otherwise the
reason is given. With fewer than `EXPLORATORY_BELOW` studies the analysis is labelled
exploratory. Methods: docs/methods/meta-analysis.md, "Subgroups and meta-regression"
and "Moderators on the intervention page".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from whatworks.evidence import projects, synthesis
from whatworks.evidence.models import Project, Registration, Study, StudyResult
from whatworks.evidence.plots import default_transform, number
from whatworks.places.models import LocalAuthority, Region

#: Studies with a value, and distinct values, a moderator needs before it is analysed.
MIN_STUDIES, MIN_VALUES = 3, 2
#: Below this many studies a moderator analysis is exploratory (Cochrane Handbook 10.11.5.1:
#: meta-regression should generally not be considered with fewer than ten studies).
EXPLORATORY_BELOW = 10
REGION = "region"


@dataclass(frozen=True)
class Moderator:
    """One moderator of one outcome: its values by study and, if analysed, the result."""

    name: str
    kind: str  # "subgroups" (a category) or "meta-regression" (a rating 1 to 5)
    values: dict[str, Any]  # study label -> value
    analysed: bool
    reason: str = ""  # why it was not analysed
    findings: tuple[str, ...] = ()  # the result in plain words
    subgroups: synthesis.SubgroupResult | None = None
    regression: synthesis.MetaResult | None = None

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["findings"] = list(self.findings)
        return found


@dataclass(frozen=True)
class ModeratorAnalysis:
    """What the pooled studies of one outcome can say about the conditions."""

    outcome: str
    k: int
    exploratory: bool
    caveats: tuple[str, ...]
    moderators: tuple[Moderator, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "k": self.k,
            "exploratory": self.exploratory,
            "caveats": list(self.caveats),
            "moderators": [m.as_dict() for m in self.moderators],
        }


def study_project(session: Session, study: Study) -> Project | None:
    """The project behind a study: its own, or the one its registration evaluates."""
    project_id = study.project_id
    if project_id is None and study.registration_id is not None:
        registration = session.get(Registration, study.registration_id)
        project_id = registration.project_id if registration else None
    return session.get(Project, project_id) if project_id is not None else None


def region_name(session: Session, la_code: str | None) -> str | None:
    """The English region of a local authority (Inner and Outer London read as London)."""
    authority = session.get(LocalAuthority, la_code) if la_code else None
    found = session.get(Region, authority.region_code) if authority else None
    while found is not None and found.parent_code:
        found = session.get(Region, found.parent_code)
    return found.name if found else None


def _effect(metric: str, value: float) -> str:
    return number(default_transform(metric)(value))


def _subgroups(
    labels: list[str], yi: list[float], vi: list[float], regions: dict[str, str], metric: str,
    method: synthesis.Method,
) -> Moderator:  # fmt: skip
    groups = [regions[label] for label in labels]
    found = synthesis.subgroups(yi, vi, groups, method=method)
    lines = []
    for name, meta in found.groups.items():
        studies = "1 study" if meta.k == 1 else f"{meta.k} studies"
        lines.append(
            f"{name} ({studies}): {metric} {_effect(metric, meta.estimate)} (95% CI "
            f"{_effect(metric, meta.ci_low)} to {_effect(metric, meta.ci_high)})."
        )
    lines.append(
        f"Test for a difference between regions: Q = {found.q_between:.2f} on "
        f"{found.q_between_df} df, p = {found.q_between_p:.3f}."
    )
    return Moderator(REGION, "subgroups", regions, True, findings=tuple(lines), subgroups=found)


def _regression(
    condition: str, yi: list[float], vi: list[float], ratings: dict[str, int], metric: str,
    method: synthesis.Method,
) -> Moderator:  # fmt: skip
    found = synthesis.meta(yi, vi, method=method, moderators={condition: list(ratings.values())})
    slope = found.coefficients[1]
    if metric in ("RR", "OR", "HR", "IRR"):
        change = (
            f"each point higher on the rating goes with a {metric} "
            f"{_effect(metric, slope.estimate)} times as large (95% CI "
            f"{_effect(metric, slope.ci_low)} to {_effect(metric, slope.ci_high)})"
        )
    else:
        change = (
            f"each point higher on the rating goes with an effect {number(slope.estimate, 3)} "
            f"larger (95% CI {number(slope.ci_low, 3)} to {number(slope.ci_high, 3)})"
        )
    line = f"Across {found.k} studies, {change}; p = {slope.p:.3f}."
    return Moderator(
        condition, "meta-regression", ratings, True, findings=(line,), regression=found
    )


def _not_analysed(name: str, kind: str, values: dict[str, Any], k: int) -> Moderator | None:
    if len(values) < MIN_STUDIES:
        why = (
            f"Only {len(values)} of the {k} pooled studies "
            f"{'has' if len(values) == 1 else 'have'} a value; at least {MIN_STUDIES} are needed."
        )
        return Moderator(name, kind, values, False, why)
    if len(set(values.values())) < MIN_VALUES:
        why = f"Every study with a value has the same one ({next(iter(values.values()))})."
        return Moderator(name, kind, values, False, why)
    return None


def analyse(
    session: Session,
    outcome: str,
    pooled: Sequence[tuple[Study, StudyResult]],
    metric: str,
    label: dict[int, str],
    method: synthesis.Method = "REML",
) -> ModeratorAnalysis:
    """Subgroups by region and a meta-regression on each condition for success, over the
    pooled studies of one outcome (`label` names each study by id, as the hub does)."""
    k = len(pooled)
    regions: dict[str, str] = {}
    ratings: dict[str, dict[str, int]] = {c: {} for c in projects.CONDITIONS}
    effects: dict[str, tuple[float, float]] = {}
    for study, result in pooled:
        name = label[study.id]
        effects[name] = (float(result.yi or 0), float(result.vi or 0))
        project = study_project(session, study)
        if project is None:
            continue
        region = region_name(session, project.la_code)
        if region:
            regions[name] = region
        for condition, row in projects.latest_conditions(session, project.id).items():
            ratings.setdefault(condition, {})[name] = row.rating

    def column(values: dict[str, Any]) -> tuple[list[str], list[float], list[float]]:
        names = list(values)
        return names, [effects[n][0] for n in names], [effects[n][1] for n in names]

    found = []
    refused = _not_analysed(REGION, "subgroups", regions, k)
    if refused is None:
        names, yi, vi = column(regions)
        found.append(_subgroups(names, yi, vi, regions, metric, method))
    else:
        found.append(refused)
    for condition, values in ratings.items():
        refused = _not_analysed(condition, "meta-regression", values, k)
        if refused is not None:
            found.append(refused)
            continue
        _, yi, vi = column(values)
        try:
            found.append(_regression(condition, yi, vi, values, metric, method))
        except ValueError as error:
            found.append(Moderator(condition, "meta-regression", values, False, str(error)))
    return ModeratorAnalysis(outcome, k, k < EXPLORATORY_BELOW, _caveats(k), tuple(found))


def _caveats(k: int) -> tuple[str, ...]:
    lines = [
        "Studies differ in many ways at once, so a difference between them is an association "
        "across studies, not proof that the condition or the place causes it.",
        "With few studies, finding no difference does not show that there is none.",
        "Conditions are each project's latest rating, which may be later than its study.",
    ]
    if k < EXPLORATORY_BELOW:
        lines.insert(
            0,
            f"With {k} studies (fewer than {EXPLORATORY_BELOW}) this is exploratory: it can "
            "suggest where to look, not settle whether the effect depends on the conditions.",
        )
    return tuple(lines)
