"""Conditions or model? For one intervention and one indicator: each adopting council's own
effect (difference-in-differences for that council alone against the councils that never
adopted, as on its "Did it work here?" page), related to the sites' conditions for success
and region through the evidence hub's meta-regression and subgroups.

A moderator is analysed only when at least `MIN_SITES` sites have a value for it and the
values differ; otherwise the reason is given. Methods:
docs/methods/difference-in-differences.md, "Conditions or model?", and
docs/methods/meta-analysis.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from whatworks import __version__
from whatworks.core.errors import WhatworksError
from whatworks.evidence import projects, synthesis
from whatworks.evidence.interventions import get_intervention, list_interventions
from whatworks.evidence.moderators import EXPLORATORY_BELOW, MIN_STUDIES, MIN_VALUES, region_name
from whatworks.impact import service
from whatworks.impact.did import DEFAULT_SEED
from whatworks.impact.panels import SOURCES, Source, adoptions_from_projects
from whatworks.outcomes.catalogue import catalogue, indicator

#: Sites with a value, and distinct values, a moderator needs (as on the evidence hub).
MIN_SITES = MIN_STUDIES
REGION = "region"
#: Above this |correlation| between a rating and the adoption year, the page warns that the
#: condition and the timing of adoption cannot be told apart.
CONFOUNDED_R = 0.5


@dataclass(frozen=True)
class Site:
    """One adopting council's effect on the indicator, with what may moderate it."""

    label: str
    effect: float
    se: float
    first_treated: int
    region: str | None = None
    conditions: Mapping[str, int] = field(default_factory=dict)


def _plain(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _coefficient(c: synthesis.Coefficient) -> dict[str, Any]:
    return {
        "name": c.name,
        "estimate": _plain(c.estimate),
        "se": _plain(c.se),
        "ci_low": _plain(c.ci_low),
        "ci_high": _plain(c.ci_high),
        "p": _plain(c.p),
    }


def _pooled(found: synthesis.MetaResult) -> dict[str, Any]:
    return {
        "k": found.k,
        "estimate": _plain(found.estimate),
        "se": _plain(found.se),
        "ci_low": _plain(found.ci_low),
        "ci_high": _plain(found.ci_high),
        "p": _plain(found.p),
        "tau2": _plain(found.tau2),
        "i2": _plain(found.i2),
        "q": _plain(found.q),
        "q_p": _plain(found.q_p),
    }


def _refusal(values: Mapping[str, Any], k: int) -> str | None:
    """Why a moderator is not analysed (too few sites, or one value), or None."""
    if len(values) < MIN_SITES:
        has = "has" if len(values) == 1 else "have"
        return (
            f"Only {len(values)} of the {k} sites {has} a value; at least {MIN_SITES} sites are "
            "needed."
        )
    if len(set(values.values())) < MIN_VALUES:
        return f"Every site with a value has the same one ({next(iter(values.values()))})."
    return None


def _correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return float(np.corrcoef(np.asarray(xs, float), np.asarray(ys, float))[0, 1])


def _timing(condition: str, ratings: Mapping[str, int], sites: Mapping[str, Site]) -> str:
    """Whether the sites that rate a condition higher also adopted earlier."""
    names = list(ratings)
    r = _correlation([ratings[n] for n in names], [sites[n].first_treated for n in names])
    if r is None:
        return "The sites all started in the same year, so timing cannot explain a slope."
    if r <= -CONFOUNDED_R:
        return (
            f"Sites that rate {condition!r} higher also started earlier (correlation {r:.2f} "
            "with the first year): the condition and an earlier, longer-running adoption "
            "cannot be told apart."
        )
    if r >= CONFOUNDED_R:
        return (
            f"Sites that rate {condition!r} higher also started later (correlation {r:.2f} "
            "with the first year): the condition and a later, shorter-running adoption "
            "cannot be told apart."
        )
    return f"The ratings are not strongly related to when sites started (correlation {r:.2f})."


def _regression(
    condition: str, ratings: Mapping[str, int], sites: Mapping[str, Site], method: str
) -> dict[str, Any]:
    names = list(ratings)
    found = synthesis.meta(
        [sites[n].effect for n in names],
        [sites[n].se ** 2 for n in names],
        method=method,  # type: ignore[arg-type]
        moderators={condition: [float(ratings[n]) for n in names]},
    )
    slope = found.coefficients[1]
    words = (
        f"Across {found.k} sites, each point higher on {condition!r} went with an effect "
        f"{slope.estimate:.3g} larger (95% CI {slope.ci_low:.3g} to {slope.ci_high:.3g}; "
        f"p = {slope.p:.3f})."
    )
    return {
        "k": found.k,
        "coefficients": [_coefficient(c) for c in found.coefficients],
        "tau2": _plain(found.tau2),
        "i2": _plain(found.i2),
        "r2": _plain(found.r2),
        "qm": _plain(found.qm),
        "qm_p": _plain(found.qm_p),
        "findings": [words, _timing(condition, ratings, sites)],
    }


def _subgroups(
    regions: Mapping[str, str], sites: Mapping[str, Site], method: str
) -> dict[str, Any]:
    names = list(regions)
    found = synthesis.subgroups(
        [sites[n].effect for n in names],
        [sites[n].se ** 2 for n in names],
        [regions[n] for n in names],
        method=method,  # type: ignore[arg-type]
    )
    groups = [{"name": name, **_pooled(meta)} for name, meta in found.groups.items()]
    words = [
        f"{g['name']} ({g['k']} site{'' if g['k'] == 1 else 's'}): {g['estimate']:.3g} "
        f"(95% CI {g['ci_low']:.3g} to {g['ci_high']:.3g})."
        for g in groups
    ]
    words.append(
        f"Test for a difference between regions: Q = {found.q_between:.2f} on "
        f"{found.q_between_df} df, p = {found.q_between_p:.3f}."
    )
    return {
        "groups": groups,
        "q_between": _plain(found.q_between),
        "q_between_df": found.q_between_df,
        "q_between_p": _plain(found.q_between_p),
        "findings": words,
    }


def relate(sites: Sequence[Site], method: str = "REML") -> dict[str, Any]:
    """The site effects pooled, then each moderator on its own: region as subgroups, each
    condition for success as a one-moderator meta-regression (never all six together)."""
    by_label = {s.label: s for s in sites}
    k = len(by_label)
    pooled = None
    if k >= 2:
        pooled = _pooled(
            synthesis.meta(
                [s.effect for s in sites],
                [s.se**2 for s in sites],
                method=method,  # type: ignore[arg-type]
            )
        )
    regions = {s.label: s.region for s in sites if s.region}
    found: list[dict[str, Any]] = []
    reason = _refusal(regions, k)
    entry: dict[str, Any] = {"name": REGION, "kind": "subgroups", "values": regions}
    found.append(
        {**entry, "analysed": False, "reason": reason}
        if reason
        else {**entry, "analysed": True, "reason": "", **_subgroups(regions, by_label, method)}
    )
    for condition in projects.CONDITIONS:
        ratings = {s.label: s.conditions[condition] for s in sites if condition in s.conditions}
        entry = {"name": condition, "kind": "meta-regression", "values": ratings}
        reason = _refusal(ratings, k)
        if reason is None:
            try:
                found.append(
                    {**entry, "analysed": True, "reason": "", **_regression(
                        condition, ratings, by_label, method
                    )}
                )  # fmt: skip
                continue
            except ValueError as error:  # too few sites for the coefficients, collinear...
                reason = str(error)
        found.append({**entry, "analysed": False, "reason": reason})
    return {
        "k": k,
        "method": method,
        "exploratory": k < EXPLORATORY_BELOW,
        "pooled": pooled,
        "moderators": found,
        "what_it_can_tell": what_it_can_tell(k, pooled, found),
    }


def what_it_can_tell(
    k: int, pooled: dict[str, Any] | None, moderators: Sequence[dict[str, Any]]
) -> list[str]:
    """What relating site effects to conditions can and cannot tell, in plain words."""
    lines = []
    if k < EXPLORATORY_BELOW:
        lines.append(
            f"With {k} site{'' if k == 1 else 's'} (fewer than {EXPLORATORY_BELOW}) this is "
            "exploratory: it can suggest where to look, not settle whether the effect depends "
            "on the conditions."
        )
    if pooled is not None and pooled["tau2"] is not None:
        if pooled["tau2"] == 0:
            lines.append(
                "The site effects differ no more than chance would make them (tau² = 0): "
                "nothing here suggests the model works differently from site to site, though "
                "with wide site intervals a real difference could be hidden."
            )
        else:
            lines.append(
                f"The site effects differ more than chance would make them (tau² = "
                f"{pooled['tau2']:.3g}, I² = {pooled['i2']:.0f}%): something about the sites "
                "matters, which is where the conditions might come in."
            )
    lines += [
        "A slope across sites is an association, not causation: sites differ in many ways at "
        "once (size, need, leadership, other programmes), and any of them could explain it.",
        "The conditions are rated by the sites themselves, and the latest rating may come "
        "after the results: a site that saw its figures improve may rate itself higher "
        "because of it.",
        "The model and the conditions are confounded when the sites that rate themselves "
        "highly also adopted earlier (more years of effect, the enthusiasts who chose it "
        "first, an earlier version of the model); the correlation with the first year is "
        "shown for each condition.",
        "Each site's effect compares one council with the rest, so its interval is wide; with "
        "few sites, finding no relation does not show there is none.",
    ]
    if not any(m["analysed"] for m in moderators):
        lines.append("No moderator could be analysed here: the reasons are given for each.")
    return lines


# ---- from the store ---------------------------------------------------------------------


def default_indicator(session: Session, intervention_id: str) -> str:
    """The target outcome most of the intervention's projects share, else the first in the
    catalogue."""
    counts = Counter(
        target
        for project in projects.list_projects(session, intervention_id=intervention_id)
        for target in project.target_outcomes or []
    )
    return counts.most_common(1)[0][0] if counts else catalogue()[0].id


def site_comparisons(session: Session, minimum: int = MIN_SITES) -> list[dict[str, Any]]:
    """Interventions with at least `minimum` councils with a dated project: those whose
    site effects can be related to the conditions."""
    councils: dict[str, set[str]] = {}
    for project in projects.list_projects(session):
        if project.intervention_id and project.la_code and project.start_date:
            councils.setdefault(project.intervention_id, set()).add(project.la_code)
    return [
        {
            "id": item.id,
            "name": item.name,
            "sites": len(councils[item.id]),
            "url": f"/impact/interventions/{item.id}",
        }
        for item in list_interventions(session, "")
        if len(councils.get(item.id, ())) >= minimum
    ]


def analyse_intervention(
    session: Session,
    intervention_id: str,
    indicator_id: str = "",
    *,
    source: Source = "published",
    seed: int = DEFAULT_SEED,
    method: str = "REML",
) -> dict[str, Any]:
    """Each adopting council's effect (its project's "Did it work here?" estimate, against
    councils that never adopted), related to conditions and region. Same data, same seed:
    the same digest."""
    if source not in SOURCES:
        raise WhatworksError(f"Source {source!r} is not one of {', '.join(SOURCES)}.")
    intervention = get_intervention(session, intervention_id)
    chosen = indicator(indicator_id.strip() or default_indicator(session, intervention.id))
    adoptions = adoptions_from_projects(session, intervention.id)
    rows: list[dict[str, Any]] = []
    sites: list[Site] = []
    for adoption in sorted(adoptions.dated.values(), key=lambda a: (a.first_treated, a.la_code)):
        assert adoption.project_id is not None
        project = projects.get_project(session, adoption.project_id)
        label = project.place or adoption.la_code
        latest = projects.latest_conditions(session, project.id)
        row: dict[str, Any] = {
            "project_id": project.id,
            "title": project.title,
            "label": label,
            "la_code": adoption.la_code,
            "region": region_name(session, adoption.la_code),
            "start_date": project.start_date.isoformat() if project.start_date else None,
            "first_treated": adoption.first_treated,
            "is_demo": project.is_demo,
            "conditions": {c: r.rating for c, r in latest.items()},
            "rated_on": max((r.rated_on for r in latest.values()), default=None),
            "url": f"/evidence/projects/{project.id}/impact?indicator={chosen.id}",
            "effect": None,
            "se": None,
            "ci_low": None,
            "ci_high": None,
            "ci_bounded": None,
            "p": None,
            "digest": None,
            "problem": None,
            "warning": None,
        }
        row["rated_on"] = row["rated_on"].isoformat() if row["rated_on"] else None
        try:
            result = service.analyse_project(
                session, service.Options(project.id, chosen.id, source, "all", seed)
            )
        except WhatworksError as error:
            row["problem"] = str(error)
            rows.append(row)
            continue
        did = result["did"]
        row["digest"] = result["digest"]
        if did is None:
            row["problem"] = result["did_problem"]
        elif did["se"] is None or not did["se"] > 0:
            row["problem"] = "The estimate has no standard error, so it cannot be weighted."
        else:
            row.update({k: did[k] for k in ("ci_low", "ci_high", "ci_bounded", "p")})
            row["effect"], row["se"] = did["att"], did["se"]
            if did["ci_low"] == did["ci_high"] or not did["p"]:
                row["warning"] = (
                    "The randomisation interval for this council came out with no width (its "
                    "series has gaps): only its effect and standard error are used here."
                )
            sites.append(
                Site(label, did["att"], did["se"], adoption.first_treated, row["region"],
                     row["conditions"])
            )  # fmt: skip
        rows.append(row)
    related = relate(sites, method)
    result_out: dict[str, Any] = {
        "intervention": {
            "id": intervention.id,
            "name": intervention.name,
            "is_demo": intervention.is_demo,
        },
        "indicator": {
            "id": chosen.id,
            "title": chosen.title,
            "unit": chosen.unit,
            "polarity": chosen.polarity,
        },
        "source": source,
        "source_label": SOURCES[source],
        "sites": rows,
        "undated": list(adoptions.undated),
        "notes": list(adoptions.notes),
        **related,
        "provenance": {
            "options": {
                "intervention_id": intervention.id,
                "indicator_id": chosen.id,
                "source": source,
                "seed": seed,
                "method": method,
            },
            "site_digests": {str(r["project_id"]): r["digest"] for r in rows},
            "methods": {
                "site effects": "whatworks.impact.service.analyse_project(comparison='all'): "
                "did, randomisation inference; docs/methods/difference-in-differences.md",
                "moderators": "whatworks.evidence.synthesis.meta(moderators={condition: "
                "ratings}) and synthesis.subgroups(regions); docs/methods/meta-analysis.md",
            },
            "whatworks_version": __version__,
        },
    }
    result_out["digest"] = service.digest(result_out)
    return result_out
