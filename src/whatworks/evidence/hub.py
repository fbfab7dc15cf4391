"""The evidence on one intervention, outcome by outcome: the stored study results read as
findings, the evidence level and GRADE certainty (`ratings`), a meta-analysis where
studies give an effect with its variance (`synthesis`), the cost rating (`economics`) and
the NICE-style recommendation (`recommendations`) with any researcher's override applied.

Results are grouped by outcome domain when one is given, otherwise by outcome name. Where
a field the rules need was not assessed, the hub reads it cautiously and says so in the
notes: risk of bias not assessed counts as "some concerns", independence not known as not
independent, a direction the source did not state as set aside. Rules: docs/methods/
evidence-ratings.md and recommendations.md; pooling: meta-analysis.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access, economic_case, moderators, synthesis
from whatworks.evidence.economics import CostRating, cost_rating
from whatworks.evidence.interventions import get_intervention
from whatworks.evidence.models import Intervention, RecommendationOverride, Study, StudyResult
from whatworks.evidence.ratings import (
    Certainty,
    EvidenceLevel,
    StudyFinding,
    grade_certainty,
    rate_outcome,
)
from whatworks.evidence.recommendations import (
    WORDINGS,
    Override,
    Recommendation,
    apply_override,
    recommend,
)
from whatworks.evidence.studies import RATIO_METRICS, Z_95

#: Egger's test is passed to GRADE only with at least this many studies (Cochrane Handbook
#: 13.3.5.4: tests for funnel plot asymmetry need 10 or more studies to have power).
EGGER_MIN_STUDIES = 10
#: Order of levels from strongest evidence of benefit, for choosing a headline outcome.
LEVEL_ORDER = ("4", "3", "2", "NL2", "NE")


@dataclass(frozen=True)
class EffectRow:
    """One study's effect on one outcome, for a forest plot and its table."""

    result_id: int
    study: str
    label: str
    metric: str
    yi: float
    vi: float
    ci_low: float
    ci_high: float
    is_demo: bool
    pooled: bool

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class OutcomeEvidence:
    """Everything the hub concludes about one outcome of one intervention."""

    outcome: str
    level: EvidenceLevel
    certainty: Certainty
    recommendation: Recommendation
    findings: tuple[StudyFinding, ...]
    effects: tuple[EffectRow, ...]
    synthesis: synthesis.MetaResult | None
    metric: str | None
    studies: dict[str, str]  # study label -> title
    demo_studies: tuple[str, ...]
    notes: tuple[str, ...]
    moderators: moderators.ModeratorAnalysis | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "level": self.level.as_dict(),
            "certainty": self.certainty.as_dict(),
            "recommendation": self.recommendation.as_dict(),
            "findings": [f.as_dict() for f in self.findings],
            "effects": [e.as_dict() for e in self.effects],
            "synthesis": self.synthesis.as_dict() if self.synthesis else None,
            "metric": self.metric,
            "studies": self.studies,
            "demo_studies": list(self.demo_studies),
            "notes": list(self.notes),
            "moderators": self.moderators.as_dict() if self.moderators else None,
        }


@dataclass(frozen=True)
class InterventionEvidence:
    """The evidence on an intervention: its cost and each outcome's assessment."""

    intervention_id: str
    name: str
    cost: CostRating | None
    benefit_cost_ratio: float | None
    outcomes: tuple[OutcomeEvidence, ...] = field(default=())
    economics: economic_case.Appraisal | None = None

    def outcome(self, name: str) -> OutcomeEvidence:
        for found in self.outcomes:
            if found.outcome == name:
                return found
        raise NotFound(f"{self.name} has no results on the outcome {name!r}.")

    def headline(self) -> OutcomeEvidence | None:
        """The outcome with the strongest evidence of benefit (Foundations rates a
        programme, broadly, by its best outcome); None when there are no results."""
        if not self.outcomes:
            return None
        return min(self.outcomes, key=lambda o: LEVEL_ORDER.index(o.level.level))

    def as_dict(self) -> dict[str, Any]:
        return {
            "intervention_id": self.intervention_id,
            "name": self.name,
            "cost": self.cost.as_dict() if self.cost else None,
            "benefit_cost_ratio": self.benefit_cost_ratio,
            "outcomes": [o.as_dict() for o in self.outcomes],
            "economics": self.economics.as_dict() if self.economics else None,
        }


def outcome_key(result: StudyResult) -> str:
    """The outcome a result counts towards: its domain if given, else its outcome name."""
    return result.outcome_domain.strip() or result.outcome.strip()


def study_label(study: Study) -> str:
    """The short name of a study in explanations: S<number>."""
    return f"S{study.id}"


def _finding(study: Study, result: StudyResult, outcome: str, notes: list[str]) -> StudyFinding:
    label = study_label(study)
    if study.risk_of_bias is None:
        notes.append(f"{label}: risk of bias not assessed; read as 'some concerns'.")
    if study.independent is None:
        notes.append(
            f"{label}: independence of the evaluator not recorded; read as not independent."
        )
    if result.direction is None:
        notes.append(f"{label}: the source states no direction; the result is set aside.")
    ci_low = ci_high = estimate = None
    if result.yi is not None and result.vi is not None:
        half = Z_95 * math.sqrt(result.vi)
        estimate, ci_low, ci_high = result.yi, result.yi - half, result.yi + half
    return StudyFinding(
        study_id=label,
        outcome=outcome,
        design=study.design,
        maryland_level=study.maryland_level,
        direction=result.direction or "inconclusive",  # type: ignore[arg-type]
        risk_of_bias=study.risk_of_bias or "some concerns",  # type: ignore[arg-type]
        independent=bool(study.independent),
        significant=result.significant,
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        sample_size=study.sample_size,
        follow_up_months=study.follow_up_months,
        year=study.year,
    )


def _results(
    session: Session, intervention_id: str, include_demo: bool
) -> list[tuple[Study, StudyResult]]:
    query = (
        select(Study, StudyResult)
        .join(StudyResult, StudyResult.study_id == Study.id)
        .where(Study.intervention_id == intervention_id)
        .order_by(Study.id, StudyResult.id)
    )
    if not include_demo:
        query = query.where(Study.is_demo.is_(False))
    return [(study, result) for study, result in session.execute(query).all()]


def _one_per_study(pairs: Iterable[tuple[Study, StudyResult]]) -> list[tuple[Study, StudyResult]]:
    """A study counts once per outcome: its primary result, else its most precise one."""
    chosen: dict[int, tuple[Study, StudyResult]] = {}
    for study, result in pairs:
        held = chosen.get(study.id)
        if held is None or (result.is_primary, -(result.vi or math.inf)) > (
            held[1].is_primary,
            -(held[1].vi or math.inf),
        ):
            chosen[study.id] = (study, result)
    return list(chosen.values())


def _assess_outcome(
    session: Session,
    intervention_id: str,
    outcome: str,
    pairs: list[tuple[Study, StudyResult]],
    cost: CostRating | None,
    benefit_cost_ratio: float | None,
    method: synthesis.Method,
    knha: bool,
) -> OutcomeEvidence:
    notes: list[str] = []
    chosen = _one_per_study(pairs)
    if len(chosen) < len(pairs):
        notes.append("Studies with several results on this outcome count once (the primary).")
    findings = tuple(_finding(study, result, outcome, notes) for study, result in chosen)
    level = rate_outcome(findings)

    with_effect = [(s, r) for s, r in chosen if r.yi is not None and r.vi is not None and r.metric]
    randomised = [(s, r) for s, r in chosen if s.maryland_level == 5 and r.direction]
    body_ids = {s.id for s, _ in (randomised or chosen)}
    poolable = [(s, r) for s, r in with_effect if s.id in body_ids]
    metric = None
    result_meta = None
    if poolable:
        counts = Counter(r.metric for _, r in poolable)
        metric = sorted(counts, key=lambda m: (-counts[m], m or ""))[0]
        dropped = [study_label(s) for s, r in poolable if r.metric != metric]
        poolable = [(s, r) for s, r in poolable if r.metric == metric]
        if dropped:
            notes.append(
                f"Not pooled (effect on another metric than {metric}): {', '.join(dropped)}."
            )
        if len(poolable) >= 2:
            result_meta = synthesis.meta(
                [float(r.yi or 0) for _, r in poolable],
                [float(r.vi or 0) for _, r in poolable],
                method=method,
                knha=knha,
            )
            shown = "log " + metric if metric in RATIO_METRICS else metric
            notes.append(
                f"Pooled {len(poolable)} studies ({method}{', Knapp-Hartung' if knha else ''}) "
                f"on the {shown} scale."
            )
    pooled_ids = {r.id for _, r in poolable} if result_meta else set()
    egger = None
    if result_meta is not None and result_meta.egger_p is not None:
        if result_meta.k >= EGGER_MIN_STUDIES:
            egger = result_meta.egger_p
        else:
            notes.append(
                f"Egger's test not used for publication bias: {result_meta.k} studies, fewer "
                f"than {EGGER_MIN_STUDIES}."
            )
    certainty = grade_certainty(
        findings,
        i_squared_percent=result_meta.i2 if result_meta and result_meta.i2 is not None else None,
        pooled_ci=(result_meta.ci_low, result_meta.ci_high) if result_meta else None,
        egger_p=egger,
    )
    recommendation = recommend(level, certainty, cost=cost, benefit_cost_ratio=benefit_cost_ratio)
    override = current_override(session, intervention_id, outcome)
    if override is not None:
        recommendation = apply_override(recommendation, override)
    rows = tuple(
        EffectRow(
            result_id=r.id,
            study=study_label(s),
            label=f"{s.title[:80]}{' (demo)' if s.is_demo else ''}"
            + (f", {s.year}" if s.year else ""),
            metric=r.metric or "",
            yi=float(r.yi or 0),
            vi=float(r.vi or 0),
            ci_low=float(r.yi or 0) - Z_95 * math.sqrt(float(r.vi or 0)),
            ci_high=float(r.yi or 0) + Z_95 * math.sqrt(float(r.vi or 0)),
            is_demo=s.is_demo,
            pooled=r.id in pooled_ids,
        )
        for s, r in with_effect
    )
    return OutcomeEvidence(
        outcome=outcome,
        level=level,
        certainty=certainty,
        recommendation=recommendation,
        findings=findings,
        effects=rows,
        synthesis=result_meta,
        metric=metric,
        studies={study_label(s): s.title for s, _ in chosen},
        demo_studies=tuple(sorted({study_label(s) for s, _ in chosen if s.is_demo})),
        notes=tuple(dict.fromkeys(notes)),
        moderators=(
            moderators.analyse(
                session,
                outcome,
                poolable,
                metric or "GEN",
                {s.id: study_label(s) for s, _ in poolable},
                method,
            )
            if result_meta is not None
            else None
        ),
    )


def assess(
    session: Session,
    intervention_id: str,
    *,
    method: synthesis.Method = "REML",
    knha: bool = False,
    include_demo: bool = True,
) -> InterventionEvidence:
    """Rate, pool, cost and recommend every outcome of an intervention with results."""
    intervention = get_intervention(session, intervention_id)
    cost = (
        cost_rating(float(intervention.unit_cost)) if intervention.unit_cost is not None else None
    )
    by_outcome: dict[str, list[tuple[Study, StudyResult]]] = {}
    for study, result in _results(session, intervention_id, include_demo):
        by_outcome.setdefault(outcome_key(result), []).append((study, result))
    outcomes = tuple(
        _assess_outcome(
            session,
            intervention_id,
            outcome,
            pairs,
            cost,
            intervention.benefit_cost_ratio,
            method,
            knha,
        )
        for outcome, pairs in sorted(by_outcome.items())
    )
    return InterventionEvidence(
        intervention.id,
        intervention.name,
        cost,
        intervention.benefit_cost_ratio,
        outcomes,
        _appraisal(session, intervention, outcomes),
    )


def _appraisal(
    session: Session, intervention: Intervention, outcomes: tuple[OutcomeEvidence, ...]
) -> economic_case.Appraisal | None:
    """The benefit-cost of the intervention's economic case from the pooled effect on the
    outcome it values (docs/methods/economics.md); None when no case is recorded."""
    case = economic_case.get_case(session, intervention.id)
    if case is None:
        return None
    valued = next((o for o in outcomes if o.outcome == case.outcome), None)
    meta = valued.synthesis if valued else None
    return economic_case.appraise(case, intervention, meta, valued.metric if valued else None)


def assess_outcome(
    session: Session,
    intervention_id: str,
    outcome: str,
    *,
    method: synthesis.Method = "REML",
    knha: bool = False,
    include_demo: bool = True,
) -> OutcomeEvidence:
    """The assessment of one outcome of an intervention (see `assess`)."""
    return assess(
        session, intervention_id, method=method, knha=knha, include_demo=include_demo
    ).outcome(outcome)


def current_override(session: Session, intervention_id: str, outcome: str) -> Override | None:
    """The override in force for an outcome, if any (the newest row, unless it withdrew)."""
    row = session.scalar(
        select(RecommendationOverride)
        .where(
            RecommendationOverride.intervention_id == intervention_id,
            RecommendationOverride.outcome == outcome,
        )
        .order_by(RecommendationOverride.id.desc())
        .limit(1)
    )
    if row is None or row.wording is None:
        return None
    return Override(
        wording=row.wording,  # type: ignore[arg-type]
        reason=row.reason,
        by=row.decided_by,
        at=row.decided_at.replace(tzinfo=UTC),
    )


def override_recommendation(
    session: Session,
    author: access.Author,
    intervention_id: str,
    outcome: str,
    wording: str | None,
    reason: str,
) -> RecommendationOverride:
    """Replace the derived recommendation for one outcome (researchers only), or with
    `wording` None withdraw the override in force. The reason is required and audited."""
    actor = access.require_researcher(author, "override a recommendation")
    get_intervention(session, intervention_id)
    if wording is not None and wording not in WORDINGS:
        raise WhatworksError(f"The wording must be one of {', '.join(WORDINGS)}, not {wording!r}.")
    if not reason.strip():
        raise WhatworksError("An override needs a reason; say why the recommendation changes.")
    if not outcome.strip():
        raise WhatworksError("Say which outcome the override is for.")
    if wording is None and current_override(session, intervention_id, outcome) is None:
        raise WhatworksError(f"There is no override in force for {outcome!r} to withdraw.")
    row = RecommendationOverride(
        intervention_id=intervention_id,
        outcome=outcome.strip(),
        wording=wording,
        reason=reason.strip(),
        decided_by=actor.username,
    )
    session.add(row)
    session.flush()
    access.record(
        session,
        actor,
        "override recommendation" if wording else "withdraw recommendation override",
        f"intervention:{intervention_id}:{outcome.strip()}",
        wording=wording,
        reason=reason.strip(),
    )
    return row


def override_history(
    session: Session, intervention_id: str, outcome: str | None = None
) -> list[RecommendationOverride]:
    """Every override (and withdrawal) of an intervention's recommendations, oldest first."""
    query = (
        select(RecommendationOverride)
        .where(RecommendationOverride.intervention_id == intervention_id)
        .order_by(RecommendationOverride.id)
    )
    if outcome is not None:
        query = query.where(RecommendationOverride.outcome == outcome)
    return list(session.scalars(query))
