"""Did it work here? Impact estimates for a project's council, in plain words, saved as
evidence studies with their provenance.

For a project (a council's implementation of an intervention, with a start date) and one
indicator: a council x year panel from the outcomes store (`impact.panels`); staggered
difference-in-differences with the project's council as the adopter and the councils that
never adopted the intervention as comparisons (other adopters are left out); and a
synthetic control for the same council from the same non-adopters. Optionally only the
council's statistical neighbours are compared with. Methods:
docs/methods/difference-in-differences.md and docs/methods/synthetic-control.md.

A saved analysis becomes a study in the evidence hub (Maryland level 3, the effect as a
mean difference on the indicator's own scale) whose `source` holds the provenance as JSON:
the data version, the options and the seed. `reproduce` re-runs it and compares digests.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np

from whatworks import __version__
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access, studies
from whatworks.evidence.models import Project, Study
from whatworks.evidence.projects import get_project
from whatworks.impact.did import DEFAULT_SEED, staggered_did
from whatworks.impact.panel import Panel
from whatworks.impact.panels import (
    SOURCES,
    Adoption,
    Adoptions,
    OutcomePanel,
    PanelBuildError,
    Source,
    adoption_year,
    adoptions_from_projects,
    adoptions_json,
    build_panel,
    canonical,
)
from whatworks.impact.synth import synthetic_control
from whatworks.outcomes.catalogue import Indicator, catalogue, indicator
from whatworks.places.places import local_authorities, neighbours

Method = Literal["did", "synth"]
Comparison = Literal["all", "neighbours"]
METHODS: dict[str, str] = {
    "did": "difference-in-differences (staggered)",
    "synth": "synthetic control",
}
COMPARISONS: dict[str, str] = {
    "all": "councils that did not adopt it",
    "neighbours": "its statistical neighbours that did not adopt it",
}
MARYLAND_LEVEL = 3
UNITLESS = ("", "number", "count", "score")
PROVENANCE_MARK = "Provenance (JSON): "
CAVEAT = (
    "This compares one council with others using published figures; it is not a trial. It "
    "assumes that without the project the council's figures would have moved like the "
    "comparison councils' did. Anything else that changed in the council at the same time "
    "(new leaders, an inspection, other programmes, a change in how figures were recorded) "
    "could explain a difference as well, and small councils' figures move a lot by chance."
)


@dataclass(frozen=True)
class Options:
    """What an analysis was run with: enough, with the data, to reproduce it."""

    project_id: int
    indicator_id: str
    source: Source = "published"
    comparison: Comparison = "all"
    seed: int = DEFAULT_SEED

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def indicators_for(project: Project) -> list[Indicator]:
    """The project's target outcomes first, then every other indicator in the catalogue."""
    targets = [indicator(i) for i in project.target_outcomes or []]
    return targets + [item for item in catalogue() if item not in targets]


def _check_options(options: Options) -> None:
    if options.source not in SOURCES:
        raise WhatworksError(f"Source {options.source!r} is not one of {', '.join(SOURCES)}.")
    if options.comparison not in COMPARISONS:
        raise WhatworksError(
            f"Comparison {options.comparison!r} is not one of {', '.join(COMPARISONS)}."
        )


def _adoptions(session: Any, project: Project) -> tuple[Adoption, Adoptions]:
    """The project's own adoption, and every adoption of its intervention."""
    if not project.la_code:
        raise WhatworksError(
            f"Project {project.id} has no council recorded: an impact estimate compares a "
            "council's figures with other councils'. Add the council to the project."
        )
    if project.start_date is None:
        raise WhatworksError(
            f"Project {project.id} has no start date: the estimate compares the years before "
            "and after it started. Add the start date to the project."
        )
    own = Adoption(
        project.la_code,
        adoption_year(project.start_date),
        f"project {project.id} (started {project.start_date.isoformat()})",
        project.id,
    )
    if project.intervention_id is None:
        return own, Adoptions({project.la_code: own})
    every = adoptions_from_projects(session, project.intervention_id)
    dated = dict(every.dated)
    dated[project.la_code] = own
    return own, Adoptions(dated, every.undated, every.notes)


def analyse_project(session: Any, options: Options) -> dict[str, Any]:
    """Everything the "Did it work here?" page shows, as plain JSON, with its digest.

    The same data, options and seed give the same result, digest included, to the digit.
    """
    _check_options(options)
    project = get_project(session, options.project_id)
    item = indicator(options.indicator_id)
    own, adoptions = _adoptions(session, project)
    others = set(adoptions.dated) - {own.la_code}
    leave_out = others | set(adoptions.undated)
    councils = None
    if options.comparison == "neighbours":
        councils = {own.la_code} | {n.la.new_la_code for n in neighbours(session, own.la_code)}
    panel = build_panel(
        session,
        item.id,
        {own.la_code: own},
        source=options.source,
        leave_out=leave_out,
        councils=councils,
    )
    if own.la_code not in panel.councils:
        raise PanelBuildError(
            f"{project.place or own.la_code} has no {SOURCES[options.source]} values of "
            f"{item.title!r}: choose another indicator."
        )
    did, did_problem = _did(panel, options.seed)
    synth, synth_problem = _synth(panel, own)
    comparison_councils = sorted(
        (name for code, name in panel.councils.items() if code != own.la_code)
    )
    result: dict[str, Any] = {
        "project": {
            "id": project.id,
            "title": project.title,
            "la_code": own.la_code,
            "place": project.place or panel.councils.get(own.la_code, own.la_code),
            "start_date": project.start_date.isoformat() if project.start_date else None,
            "intervention_id": project.intervention_id,
            "organisation_id": project.organisation_id,
            "is_demo": project.is_demo,
        },
        "indicator": {
            "id": item.id,
            "title": item.title,
            "unit": item.unit,
            "polarity": item.polarity,
        },
        "source": options.source,
        "source_label": SOURCES[options.source],
        "comparison": options.comparison,
        "comparison_label": COMPARISONS[options.comparison],
        "first_treated": own.first_treated,
        "panel": {
            "councils": len(panel.councils),
            "comparison_councils": comparison_councils,
            "years": panel.years,
            "left_out": sorted(_names(session).get(c, c) for c in leave_out),
            "notes": list(panel.notes) + list(adoptions.notes),
        },
        "series": _series(panel, own.la_code),
        "did": did,
        "did_problem": did_problem,
        "synth": synth,
        "synth_problem": synth_problem,
        "provenance": {
            "options": options.as_dict(),
            "data_version": panel.data_version,
            "adoptions": adoptions_json(adoptions),
            "methods": {
                "did": "whatworks.impact.did.staggered_did(control='never', inference='auto', "
                "n_boot=999, n_perm=999, seed=seed); docs/methods/difference-in-differences.md",
                "synth": "whatworks.impact.synth.synthetic_control(every pre-period outcome, "
                "min_pre_periods=5, placebo=True); docs/methods/synthetic-control.md",
            },
            "whatworks_version": __version__,
        },
    }
    result["summary"] = in_words(result)
    result["caveats"] = [CAVEAT, *_method_caveats(result)]
    result["digest"] = digest(result)
    return result


def _names(session: Any) -> dict[str, str]:
    return {la.new_la_code: la.name for la in local_authorities(session, include_replaced=True)}


def digest(result: dict[str, Any]) -> str:
    """SHA-256 of the result without its digest: equal digests, equal numbers."""
    body = {k: v for k, v in result.items() if k != "digest"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """NaN and infinities as None, numpy scalars as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _series(panel: OutcomePanel, la_code: str) -> list[dict[str, Any]]:
    """The council's own values and the comparison councils' average, year by year."""
    frame = panel.frame
    own = frame[frame["la_code"] == la_code].set_index("year")["outcome"]
    rest = frame[frame["la_code"] != la_code].groupby("year")["outcome"].mean()
    return [
        {
            "year": int(year),
            "council": float(own[year]) if year in own.index else None,
            "comparison_mean": float(rest[year]) if year in rest.index else None,
        }
        for year in panel.years
    ]


def _did(panel: OutcomePanel, seed: int) -> tuple[dict[str, Any] | None, str | None]:
    try:
        built = Panel.from_frame(
            panel.frame,
            unit="la_code",
            time="year",
            outcome="outcome",
            first_treated="first_treated",
        )
        result = staggered_did(built, control="never", seed=seed)
    except ValueError as problem:  # PanelProblem is a ValueError
        return None, " ".join(str(problem).split())
    full = _plain(result.as_dict())
    keep = (
        "att", "se", "ci_low", "ci_high", "ci_bounded", "p", "pretrend_p", "event_study",
        "group_time", "sensitivity", "breakdown_m", "twfe", "warnings", "method", "seed",
    )  # fmt: skip
    return {k: full[k] for k in keep}, None


def _synth(panel: OutcomePanel, own: Adoption) -> tuple[dict[str, Any] | None, str | None]:
    frame = panel.frame
    years = panel.years
    complete = frame.groupby("la_code")["year"].nunique() == len(years)
    gaps = sorted(set(complete.index[~complete]) - {own.la_code})
    usable = frame[~frame["la_code"].isin(gaps)]
    try:
        result = synthetic_control(
            usable[["la_code", "year", "outcome"]],
            treated=own.la_code,
            start=own.first_treated,
            unit="la_code",
            time="year",
            outcome="outcome",
        )
    except ValueError as problem:  # SyntheticControlError is a ValueError
        return None, " ".join(str(problem).split())
    names = panel.councils
    post = [p for p in result.placebos if p.included]
    gaps_after = [
        float(np.mean([e["effect"] for e in p.effects if e["time"] >= own.first_treated]))
        for p in post
    ]
    placebo_se = float(np.std(gaps_after, ddof=1)) if len(gaps_after) > 1 else None
    weights = [
        {"la_code": code, "council": names.get(str(code), str(code)), "weight": weight}
        for code, weight in sorted(result.weights.items(), key=lambda kv: (-kv[1], str(kv[0])))
        if weight >= 0.001
    ]
    out = {
        "weights": weights,
        "effects": list(result.effects),
        "post_mean_effect": result.post_mean_effect,
        "pre_rmspe": result.pre_rmspe,
        "post_rmspe": result.post_rmspe,
        "placebo_p": result.placebo_p,
        "placebo_rank": result.placebo_rank,
        "placebo_count": result.placebo_count,
        "placebo_se": placebo_se,
        "pre_periods": result.pre_periods,
        "post_periods": result.post_periods,
        "donors": len(result.weights),
        "left_out_with_gaps": [names.get(c, c) for c in gaps],
        "warnings": list(result.warnings),
    }
    return _plain(out), None


# ---- plain words ------------------------------------------------------------------------


def amount(value: float, unit: str) -> str:
    """A size of change in the indicator's unit: '3.2 per 10,000', '1.5 percentage points'."""
    text = _number(abs(value))
    if unit == "%":
        return f"{text} percentage points"
    return text if unit in UNITLESS else f"{text} {unit}"


def _verb(value: float) -> str:
    return "rose" if value > 0 else "fell"


def _better(value: float, polarity: str) -> str:
    if polarity == "higher is better":
        return " (higher is better)" if value > 0 else " (lower is worse)"
    if polarity == "lower is better":
        return " (lower is better)" if value < 0 else " (higher is worse)"
    return ""


def in_words(result: dict[str, Any]) -> list[str]:
    """What the estimates say, in plain words with their uncertainty; never causal alone."""
    place = result["project"]["place"]
    title = result["indicator"]["title"]
    unit = result["indicator"]["unit"]
    polarity = result["indicator"]["polarity"]
    year = result["first_treated"]
    against = result["comparison_label"]
    words: list[str] = []
    did = result["did"]
    if did is not None:
        att, low, high = did["att"], did["ci_low"], did["ci_high"]
        shown = (
            f"95% interval {interval(low, high, unit)}"
            if did.get("ci_bounded", True)
            else "no 95% interval can be given"
        )
        sentence = (
            f"Compared with {against}, {title.lower()} in {place} {_verb(att)} by "
            f"{amount(att, unit)}{_better(att, polarity)} from {year} on "
            f"({shown}; difference-in-differences)."
        )
        if _unbounded(result):
            sentence += (
                f" With {result['panel']['councils']} councils in all, chance alone could give "
                "a gap like this one, so the interval has no useful bounds: compare with all "
                "councils for a firmer answer."
            )
        elif low <= 0 <= high:
            sentence += (
                " The interval includes no change, so these figures cannot tell whether the "
                "project made a difference."
            )
        else:
            sentence += (
                f" The interval excludes no change (p = {did['p']:.3f}), but that is not proof "
                "the project caused it: see the caveats."
            )
        words.append(sentence)
    synth = result["synth"]
    if synth is not None:
        effect = synth["post_mean_effect"]
        words.append(
            f"Against a synthetic {place} (a weighted average of {len(synth['weights'])} "
            f"comparison councils that tracked it before {year}), {title.lower()} was on "
            f"average {amount(effect, unit)} {'higher' if effect > 0 else 'lower'} from {year} "
            f"on. {synth['placebo_rank']} of {synth['placebo_count'] + 1} councils, treated "
            f"as if they had started in {year}, showed a gap at least as unusual "
            f"(placebo p = {synth['placebo_p']:.2f})."
        )
    if (
        did is not None
        and synth is not None
        and np.sign(did["att"]) != np.sign(synth["post_mean_effect"])
    ):
        words.append(
            "The two methods point in opposite directions: the figures do not show a clear "
            "effect either way."
        )
    if not words:
        words.append(
            "No estimate could be made from these figures: see the reasons below, or choose "
            "another indicator."
        )
    return words


def _number(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2g}"


def interval(low: float, high: float, unit: str) -> str:
    """'-3.1 to 0.4 per 10,000': an interval's bounds, signed, in the indicator's unit."""
    suffix = " percentage points" if unit == "%" else "" if unit in UNITLESS else f" {unit}"
    return f"{_number(low)} to {_number(high)}{suffix}"


def _unbounded(result: dict[str, Any]) -> bool:
    """Randomisation rejected no effect size (few councils): the interval has no ends."""
    did = result["did"]
    return did is not None and not did.get("ci_bounded", True)


def _method_caveats(result: dict[str, Any]) -> list[str]:
    out = []
    did = result["did"]
    if did is not None and did["method"]["n_treated_units"] == 1:
        out.append(
            "With one adopting council, the test of whether it was on the same path as the "
            "comparison councils before it started rests on that council alone (it is a "
            "randomisation test, so it is not too eager, but it has little power): look at the "
            "years before the start in the chart."
        )
    if did is not None and did["twfe"] is not None and not did["twfe"]["agrees"]:
        out.append(
            "A simpler two-way fixed effects regression gives a different answer "
            f"({did['twfe']['att']:.3g}); it is shown only for comparison."
        )
    if result["synth"] is not None and result["synth"]["placebo_count"] < 19:
        out.append("With fewer than 20 comparison councils the placebo test cannot reach p = 0.05.")
    return out


# ---- saving as an evidence study --------------------------------------------------------


def _direction(significant: bool, value: float, polarity: str) -> str | None:
    """positive (better), negative (worse), null; None when the indicator has no polarity."""
    if not significant:
        return "null"
    if polarity == "higher is better":
        return "positive" if value > 0 else "negative"
    if polarity == "lower is better":
        return "positive" if value < 0 else "negative"
    return None


def _estimate(result: dict[str, Any], method: Method) -> tuple[float, float, bool, str]:
    """(effect, standard error, significant, how) for the chosen method."""
    if method == "did":
        did = result["did"]
        if did is None:
            raise WhatworksError(
                f"The difference-in-differences estimate could not be made: {result['did_problem']}"
            )
        low, high = did["ci_low"], did["ci_high"]
        how = (
            f"ATT {did['att']:.6g} (95% interval {low:.6g} to {high:.6g}, p = {did['p']:.4g}; "
            f"{did['method']['inference_kind']} inference)"
        )
        return did["att"], did["se"], not (low <= 0 <= high), how
    synth = result["synth"]
    if synth is None:
        raise WhatworksError(f"The synthetic control could not be made: {result['synth_problem']}")
    if synth["placebo_se"] is None:
        raise WhatworksError("Too few placebo councils to give the estimate an uncertainty.")
    how = (
        f"mean gap after the start {synth['post_mean_effect']:.6g}; placebo p = "
        f"{synth['placebo_p']:.4g} ({synth['placebo_rank']} of {synth['placebo_count'] + 1}); "
        f"standard error = SD of the {synth['placebo_count']} placebo councils' mean gaps"
    )
    return synth["post_mean_effect"], synth["placebo_se"], synth["placebo_p"] <= 0.05, how


def save_study(session: Any, author: access.Author, options: Options, method: Method) -> Study:
    """Run the analysis and enter it as a study with one result. Researchers, or members
    of the project's organisation, may save; both the study and the save are audited."""
    if method not in METHODS:
        raise WhatworksError(f"Method {method!r} is not one of {', '.join(METHODS)}.")
    project = get_project(session, options.project_id)
    actor = access.require_member(
        author, project.organisation_id, "save this project's impact estimate as a study"
    )
    result = analyse_project(session, options)
    effect, se, significant, how = _estimate(result, method)
    item = result["indicator"]
    provenance = {
        "method": method,
        **result["provenance"],
        "digest": result["digest"],
    }
    warnings = (
        (result["did"] or {}).get("warnings", [])
        if method == "did"
        else ((result["synth"] or {}).get("warnings", []))
    )
    place = result["project"]["place"]
    years = result["panel"]["years"]
    comparisons = len(result["panel"]["comparison_councils"])
    study = studies.add_study(
        session,
        actor,
        title=f"Did it work here? {project.title}: {item['title']} ({METHODS[method]})",
        design=METHODS[method],
        maryland_level=MARYLAND_LEVEL,
        intervention_id=project.intervention_id,
        project_id=project.id,
        publisher="whatworks impact analysis",
        year=date.today().year,
        reported_on=date.today(),
        sample_size=comparisons + 1,
        sample_reported=(
            f"{place} against {comparisons} {result['comparison_label']}, "
            f"{years[0]} to {years[-1]} ({result['source_label']})"
        ),
        source=f"/evidence/projects/{project.id}/impact?indicator={item['id']}. "
        + PROVENANCE_MARK
        + canonical(provenance),
        confidence="medium",
        caveats=" ".join([CAVEAT, *warnings]),
    )
    studies.add_result(
        session,
        actor,
        study.id,
        outcome=item["title"],
        direction=_direction(significant, effect, item["polarity"]),
        significant=significant,
        is_primary=True,
        measure_text=f"{item['title']} ({item['unit']}), {result['source_label']}",
        metric="MD",
        inputs={"estimate": effect, "se": se},
        reported=" ".join(result["summary"]),
        effect_reported=how,
        source=f"whatworks impact analysis, digest {result['digest']}",
        confidence="medium",
        caveats=" ".join(warnings),
    )
    access.record(
        session,
        actor,
        "save impact analysis",
        f"study:{study.id}",
        project=project.id,
        indicator=item["id"],
        method=method,
        seed=options.seed,
        digest=result["digest"],
    )
    return study


def provenance_of(study: Study) -> dict[str, Any]:
    """The provenance JSON stored in an impact study's source, or NotFound."""
    text = study.source or ""
    if PROVENANCE_MARK not in text:
        raise NotFound(f"Study {study.id} is not a whatworks impact analysis.")
    found: dict[str, Any] = json.loads(text.split(PROVENANCE_MARK, 1)[1])
    return found


def reproduce(session: Any, study_id: int) -> dict[str, Any]:
    """Re-run a saved impact study with its stored options and seed on the data now in the
    store: whether the data version, the digest and the effect are the same."""
    study = studies.get_study(session, study_id)
    stored = provenance_of(study)
    options = Options(**stored["options"])
    again = analyse_project(session, options)
    effect, se, _, _ = _estimate(again, stored["method"])
    saved = study.results[0] if study.results else None
    return {
        "study_id": study.id,
        "same_data": again["provenance"]["data_version"] == stored["data_version"],
        "same_digest": again["digest"] == stored["digest"],
        "same_effect": saved is not None and saved.yi == effect and saved.vi == se**2,
        "digest": again["digest"],
        "stored_digest": stored["digest"],
    }
