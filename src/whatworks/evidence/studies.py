"""Studies and their results: positive, null, negative, mixed or inconclusive, each with the
text exactly as published and, where honest, an effect size with its variance.

An effect is entered directly (`yi`, `vi` on a stated metric) or converted from what the
study reports with `evidence.effects`: a 2x2 table (ai, bi, ci, di), group means (m1, sd1,
n1, m2, sd2, n2), an estimate with its standard error (estimate, se), or an estimate with
its 95% confidence interval (estimate, ci_low, ci_high; ratios as published, not logged).
The raw inputs are stored beside the effect, with how it was converted. Conventions:
docs/methods/effect-sizes.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.db import utcnow
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access, effects
from whatworks.evidence.interventions import get_intervention
from whatworks.evidence.models import Registration, Study, StudyResult
from whatworks.evidence.projects import get_project

DIRECTIONS = ("positive", "null", "negative", "mixed", "inconclusive")
RISKS_OF_BIAS = ("low", "some concerns", "high")
CONFIDENCES = ("high", "medium", "low")
#: Metrics an effect may be stored on: log risk ratio, log odds ratio, risk difference,
#: standardised mean difference (Hedges' g), raw mean difference.
METRICS = ("RR", "OR", "RD", "SMD", "MD")
RATIO_METRICS = ("RR", "OR")
#: Normal quantile for a 95% interval.
Z_95 = 1.959963984540054

STUDY_FIELDS = (
    "title",
    "design",
    "maryland_level",
    "intervention_id",
    "registration_id",
    "project_id",
    "publisher",
    "year",
    "year_reported",
    "reported_on",
    "risk_of_bias",
    "independent",
    "sample_size",
    "sample_reported",
    "follow_up_months",
    "source",
    "confidence",
    "caveats",
    "cost_or_savings",
)
INPUT_SETS: dict[str, tuple[str, ...]] = {
    "entered directly": ("yi", "vi"),
    "from a 2x2 table": ("ai", "bi", "ci", "di"),
    "from group means": ("m1", "sd1", "n1", "m2", "sd2", "n2"),
    "from an estimate and its standard error": ("estimate", "se"),
    "from an estimate and its 95% confidence interval": ("estimate", "ci_low", "ci_high"),
}


def study_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a study's fields: {field: what to do}. Empty when usable."""
    found: dict[str, str] = {}
    if not str(values.get("title") or "").strip():
        found["title"] = "give the study's title as published"
    if not str(values.get("design") or "").strip():
        found["design"] = "describe the design as reported (e.g. cluster RCT, pre-post)"
    level = values.get("maryland_level")
    if isinstance(level, bool) or level not in (1, 2, 3, 4, 5):
        found["maryland_level"] = f"{level!r} is not a Maryland level; give a whole number 1-5"
    risk = values.get("risk_of_bias")
    if risk is not None and risk not in RISKS_OF_BIAS:
        found["risk_of_bias"] = f"{risk!r} is not one of {', '.join(RISKS_OF_BIAS)} (or blank)"
    confidence = values.get("confidence", "high")
    if confidence not in CONFIDENCES:
        found["confidence"] = f"{confidence!r} is not one of {', '.join(CONFIDENCES)}"
    year = values.get("year")
    if year is not None and (isinstance(year, bool) or not 1900 <= year <= 2100):
        found["year"] = f"{year!r} is not a year such as 2023"
    sample = values.get("sample_size")
    if sample is not None and (isinstance(sample, bool) or sample < 1):
        found["sample_size"] = f"{sample!r} is not a number of participants (1 or more)"
    months = values.get("follow_up_months")
    if months is not None and (not math.isfinite(months) or months < 0):
        found["follow_up_months"] = f"{months!r} is not a number of months (0 or more)"
    reported_on = values.get("reported_on")
    if reported_on is not None and not isinstance(reported_on, date):
        found["reported_on"] = "give the date the results were published, like 2024-06-30"
    return found


def effect_from_inputs(metric: str, inputs: Mapping[str, float]) -> tuple[effects.Effect, str]:
    """The effect on `metric` and how it was obtained, from one of `INPUT_SETS`.

    Raises WhatworksError saying which inputs are missing or unusable.
    """
    if metric not in METRICS:
        raise WhatworksError(f"Metric {metric!r} is not one of {', '.join(METRICS)}.")
    given = {k for k, v in inputs.items() if v is not None}
    matches = [name for name, keys in INPUT_SETS.items() if set(keys) <= given]
    if "from an estimate and its standard error" in matches and "ci_low" in given:
        matches.remove("from an estimate and its standard error")
    if len(matches) != 1:
        sets = "; ".join(f"{name}: {', '.join(keys)}" for name, keys in INPUT_SETS.items())
        raise WhatworksError(
            f"Give exactly one set of effect inputs ({sets}); got {', '.join(sorted(given))}."
        )
    how = matches[0]
    values = {k: float(v) for k, v in inputs.items() if v is not None}
    try:
        if how == "entered directly":
            effect = effects.Effect(values["yi"], values["vi"], metric)
            if not (math.isfinite(effect.yi) and math.isfinite(effect.vi)) or effect.vi <= 0:
                raise ValueError(f"yi {effect.yi} with variance {effect.vi} cannot be pooled")
        elif how == "from a 2x2 table":
            if metric not in ("RR", "OR", "RD"):
                raise ValueError(f"a 2x2 table gives RR, OR or RD, not {metric}")
            effect = effects.from_counts(
                metric,  # type: ignore[arg-type]
                values["ai"],
                values["bi"],
                values["ci"],
                values["di"],
            )
        elif how == "from group means":
            if metric not in ("SMD", "MD"):
                raise ValueError(f"group means give SMD or MD, not {metric}")
            effect = effects.from_means(
                values["m1"],
                values["sd1"],
                values["n1"],
                values["m2"],
                values["sd2"],
                values["n2"],
                measure=metric,  # type: ignore[arg-type]
            )
        elif how == "from an estimate and its standard error":
            effect = effects.from_estimate(values["estimate"], values["se"], metric)
        else:
            effect = _from_interval(metric, values["estimate"], values["ci_low"], values["ci_high"])
            how += " (se = interval width / 3.92" + (
                ", on the log scale)" if metric in RATIO_METRICS else ")"
            )
    except ValueError as problem:
        raise WhatworksError(f"The effect could not be worked out: {problem}.") from None
    return effect, how


def _from_interval(metric: str, estimate: float, low: float, high: float) -> effects.Effect:
    if not low <= estimate <= high:
        raise ValueError(f"the estimate {estimate} is outside its interval {low} to {high}")
    if metric in RATIO_METRICS:
        if low <= 0:
            raise ValueError(f"a ratio's interval must be above 0 (it starts at {low})")
        yi, se = math.log(estimate), (math.log(high) - math.log(low)) / (2 * Z_95)
    else:
        yi, se = estimate, (high - low) / (2 * Z_95)
    return effects.from_estimate(yi, se, metric)


def _registration(session: Session, registration_id: int) -> Registration:
    found = session.get(Registration, registration_id)
    if found is None:
        raise NotFound(f"No registered evaluation has the number {registration_id}.")
    return found


def add_study(
    session: Session,
    author: access.Author,
    *,
    is_demo: bool = False,
    seed_key: str | None = None,
    **values: Any,
) -> Study:
    """Enter a study. Researchers may enter any; an organisation may report the results of
    its own registered evaluation (`registration_id`)."""
    unknown = sorted(set(values) - set(STUDY_FIELDS))
    if unknown:
        raise WhatworksError(f"{', '.join(unknown)} is not a field of a study.")
    registration = None
    if values.get("registration_id") is not None:
        registration = _registration(session, values["registration_id"])
        values.setdefault("intervention_id", registration.intervention_id)
        values.setdefault("project_id", registration.project_id)
        actor = access.require_member(
            author, registration.organisation_id, "report this evaluation's results"
        )
    else:
        actor = access.require_researcher(author, "enter studies")
    if values.get("intervention_id"):
        get_intervention(session, values["intervention_id"])
    if values.get("project_id") is not None:
        get_project(session, values["project_id"])
    problems = study_problems(values)
    if problems:
        raise WhatworksError(
            "The study was not saved: "
            + "; ".join(f"{key}: {text}" for key, text in problems.items())
            + "."
        )
    text_fields = ("title", "design", "publisher", "year_reported", "sample_reported", "source")
    clean = {
        k: (v.strip() if k in text_fields and isinstance(v, str) else v) for k, v in values.items()
    }
    study = Study(is_demo=is_demo, seed_key=seed_key, entered_by=actor.username, **clean)
    session.add(study)
    session.flush()
    access.record(
        session,
        actor,
        "enter study",
        f"study:{study.id}",
        title=study.title,
        registration=registration.id if registration else None,
    )
    return study


def add_result(
    session: Session,
    author: access.Author,
    study_id: int,
    *,
    outcome: str,
    direction: str | None,
    significant: bool | None = None,
    is_primary: bool = False,
    outcome_domain: str = "",
    measure_text: str = "",
    metric: str | None = None,
    inputs: Mapping[str, float | None] | None = None,
    reported: str = "",
    effect_reported: str = "",
    source: str = "",
    confidence: str | None = None,
    caveats: str = "",
) -> StudyResult:
    """Add one outcome's result to a study. `direction` None means the source did not say
    (the result is then set aside by the ratings, like an inconclusive one)."""
    study = get_study(session, study_id)
    actor = _may_report(session, author, study)
    if not outcome.strip():
        raise WhatworksError("A result needs the outcome it is about.")
    if direction is not None and direction not in DIRECTIONS:
        raise WhatworksError(
            f"Direction {direction!r} is not one of {', '.join(DIRECTIONS)}; leave it blank only "
            "when the source does not say."
        )
    if significant is True and direction in ("null", "inconclusive"):
        raise WhatworksError(
            f"A {direction} result cannot be statistically significant; check both fields."
        )
    if confidence is not None and confidence not in CONFIDENCES:
        raise WhatworksError(f"Confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}.")
    effect: effects.Effect | None = None
    how = ""
    raw: dict[str, float] = {}
    if inputs and any(v is not None for v in inputs.values()):
        if metric is None:
            raise WhatworksError(f"Say which metric the effect for {outcome!r} is on.")
        effect, how = effect_from_inputs(metric, {k: v for k, v in inputs.items() if v is not None})
        raw = {k: float(v) for k, v in inputs.items() if v is not None}
    elif metric is not None and metric not in METRICS:
        raise WhatworksError(f"Metric {metric!r} is not one of {', '.join(METRICS)}.")
    result = StudyResult(
        study_id=study.id,
        outcome=outcome.strip(),
        outcome_domain=outcome_domain.strip(),
        measure_text=measure_text.strip(),
        direction=direction,
        significant=significant,
        is_primary=is_primary,
        metric=effect.measure if effect else metric,
        yi=effect.yi if effect else None,
        vi=effect.vi if effect else None,
        conversion=how,
        raw_inputs=raw,
        reported=reported.strip(),
        effect_reported=effect_reported.strip(),
        source=source.strip(),
        confidence=confidence,
        caveats=caveats.strip(),
    )
    session.add(result)
    study.updated_at = utcnow()
    session.flush()
    access.record(
        session,
        actor,
        "enter study result",
        f"study:{study.id}:result:{result.id}",
        outcome=result.outcome,
        direction=direction,
        yi=result.yi,
        vi=result.vi,
    )
    return result


def _may_report(session: Session, author: access.Author, study: Study) -> Any:
    if study.registration_id is not None:
        registration = _registration(session, study.registration_id)
        return access.require_member(
            author, registration.organisation_id, "report this evaluation's results"
        )
    return access.require_researcher(author, "enter study results")


def correct_study(
    session: Session, author: access.Author, study_id: int, reason: str, **values: Any
) -> Study:
    """A researcher's correction of a study record; old and new values and the reason are
    written to the audit log."""
    actor = access.require_researcher(author, "correct studies")
    if not reason.strip():
        raise WhatworksError("Say why the study record is corrected (the reason is audited).")
    study = get_study(session, study_id)
    unknown = sorted(set(values) - set(STUDY_FIELDS))
    if unknown:
        raise WhatworksError(f"{', '.join(unknown)} is not a field of a study.")
    merged = {key: getattr(study, key) for key in STUDY_FIELDS} | values
    problems = study_problems(merged)
    if problems:
        raise WhatworksError(
            "The correction was not saved: "
            + "; ".join(f"{key}: {text}" for key, text in problems.items())
            + "."
        )
    changed = {}
    for key, value in values.items():
        if getattr(study, key) != value:
            changed[key] = {"from": getattr(study, key), "to": value}
            setattr(study, key, value)
    if changed:
        study.updated_at = utcnow()
        session.flush()
        access.record(
            session, actor, "correct study", f"study:{study.id}", reason=reason, **changed
        )
    return study


def get_study(session: Session, study_id: int) -> Study:
    """The study with `study_id`, or NotFound."""
    found = session.get(Study, study_id)
    if found is None:
        raise NotFound(f"No study has the number {study_id}.")
    return found


def list_studies(
    session: Session,
    *,
    intervention_id: str | None = None,
    registration_id: int | None = None,
    include_demo: bool = True,
) -> list[Study]:
    """Studies, newest first, optionally of one intervention or registration."""
    query = select(Study).order_by(Study.year.desc().nulls_last(), Study.id)
    if intervention_id is not None:
        query = query.where(Study.intervention_id == intervention_id)
    if registration_id is not None:
        query = query.where(Study.registration_id == registration_id)
    if not include_demo:
        query = query.where(Study.is_demo.is_(False))
    return list(session.scalars(query))
