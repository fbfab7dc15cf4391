"""An intervention's economic case and savings claims: stored, checked, audited, and the
case turned into a net present value, a benefit-cost ratio and the chance that benefits
exceed costs from the hub's pooled effect on the valued outcome.

The method (absolute change from a relative effect, its standard error by the delta
method, yearly benefits, costs in year 0) is in docs/methods/economics.md, "On the
intervention page"; the sums are `economics.benefit_cost` and
`economics.chance_benefits_exceed_costs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.db import utcnow
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access, economics, plots
from whatworks.evidence.interventions import get_intervention, pounds
from whatworks.evidence.models import ClaimedSaving, EconomicCase, Intervention
from whatworks.evidence.ratings import InvalidEvidence
from whatworks.evidence.synthesis import MetaResult

#: Which way the valued outcome should move: fewer events (care entry) or more (school
#: attendance), as the form says them.
DIRECTIONS = {
    "avoided": "avoided (fewer is better, such as entering care)",
    "gained": "gained (more is better, such as staying in school)",
}
#: The draws and seed of the Monte Carlo on the page: the same inputs give the same chance.
DRAWS, SEED = 10_000, 0
#: Metrics whose pooled effect is a log ratio, turned into an absolute change with the
#: baseline risk.
NEEDS_BASELINE = ("RR", "OR")
#: The form's fields, in the order the form shows them.
CASE_FIELDS = (
    "outcome", "direction", "value_unit", "value_per_unit", "value_source", "baseline",
    "baseline_source", "horizon_years", "cost_per_child", "cost_uncertainty",
    "discount_rate", "notes",
)  # fmt: skip


def _number(text: str, lowest: float, highest: float | None) -> float | None:
    try:
        value = float(text.replace(",", "").replace("%", "").replace("£", "").strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < lowest or (highest is not None and value > highest):
        return None
    return value


def _pounds(text: str) -> Decimal | None:
    """An amount in pounds, or None when blank or unreadable (the caller says which)."""
    try:
        return pounds(text, "The amount")
    except WhatworksError:
        return None


def check_case(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's text read into an economic case, and a GOV.UK message per bad field.

    Percentages are written as percentages (22 for 22%; 3.5 for 3.5%)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {k: str(values.get(k, "")).strip() for k in CASE_FIELDS}
    for key, message in (
        ("outcome", "Choose the outcome the case values"),
        ("value_unit", "Enter what one unit of the outcome is, like a child not entering care"),
        ("value_source", "Enter where the value comes from (who published it, where, when)"),
    ):
        if not clean[key]:
            errors[key] = message
    if clean["direction"] not in DIRECTIONS:
        errors["direction"] = "Choose whether the outcome is avoided or gained"
    clean["value_per_unit"] = _pounds(clean["value_per_unit"])
    if clean["value_per_unit"] is None:
        errors["value_per_unit"] = "Enter the value in pounds of one unit a year, like 20000"
    baseline = clean["baseline"]
    clean["baseline"] = None
    if baseline:
        percent = _number(baseline, 0, 100)
        if percent is None or percent in (0, 100):
            errors["baseline"] = "The baseline risk must be a percentage above 0 and below 100"
        else:
            clean["baseline"] = percent / 100
    years = clean["horizon_years"]
    clean["horizon_years"] = int(years) if years.isdigit() and 1 <= int(years) <= 50 else None
    if clean["horizon_years"] is None:
        errors["horizon_years"] = "The horizon must be a whole number of years from 1 to 50"
    cost = clean["cost_per_child"]
    clean["cost_per_child"] = _pounds(cost)
    if cost and clean["cost_per_child"] is None:
        errors["cost_per_child"] = "The cost per child must be an amount in pounds, like 750"
    for key, default, highest, message in (
        ("cost_uncertainty", 10.0, 99.0, "The cost uncertainty must be a percentage, 0 to 99"),
        ("discount_rate", 100 * economics.GREEN_BOOK_RATE, 99.0, "The discount rate must be "
         "a percentage from 0 to 99, like 3.5"),
    ):  # fmt: skip
        percent = _number(clean[key], 0, highest) if clean[key] else default
        clean[key] = None if percent is None else percent / 100
        if percent is None:
            errors[key] = message
    return clean, errors


def get_case(session: Session, intervention_id: str) -> EconomicCase | None:
    """The intervention's economic case, if one is recorded."""
    return session.get(EconomicCase, intervention_id)


def save_case(
    session: Session,
    author: access.Author,
    intervention_id: str,
    values: Mapping[str, str],
    *,
    is_demo: bool = False,
) -> EconomicCase:
    """Record or correct the economic case (researchers only); what changed is audited."""
    actor = access.require_researcher(author, "record an economic case")
    get_intervention(session, intervention_id)
    clean, errors = check_case(values)
    if errors:
        raise WhatworksError("The economic case cannot be stored: " + "; ".join(errors.values()))
    case = get_case(session, intervention_id)
    if case is None:
        case = EconomicCase(intervention_id=intervention_id, is_demo=is_demo)
        session.add(case)
    changed = {}
    for key, value in clean.items():
        old = getattr(case, key, None)
        if old != value:
            changed[key] = {"from": _plain(old), "to": _plain(value)}
            setattr(case, key, value)
    case.updated_by = actor.username
    case.updated_at = utcnow()
    session.flush()
    access.record(session, actor, "set economic case", f"intervention:{intervention_id}", **changed)
    return case


def _plain(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def case_values(case: EconomicCase | None) -> dict[str, str]:
    """What the form shows for a stored case (percentages as percentages), or defaults."""
    if case is None:
        return {"direction": "avoided", "cost_uncertainty": "10", "discount_rate": "3.5"}

    def percent(value: float | None) -> str:
        return "" if value is None else f"{100 * value:g}"

    return {
        **{key: str(getattr(case, key) or "") for key in CASE_FIELDS},
        "value_per_unit": f"{case.value_per_unit:f}",
        "cost_per_child": "" if case.cost_per_child is None else f"{case.cost_per_child:f}",
        "baseline": percent(case.baseline),
        "cost_uncertainty": percent(case.cost_uncertainty),
        "discount_rate": percent(case.discount_rate),
    }


# ---------------------------------------------------------------------------------------
# savings claims


def savings_claims(session: Session, intervention_id: str) -> list[ClaimedSaving]:
    """The intervention's savings claims, in the order they were entered."""
    return list(
        session.scalars(
            select(ClaimedSaving)
            .where(ClaimedSaving.intervention_id == intervention_id)
            .order_by(ClaimedSaving.id)
        )
    )


def add_savings_claim(
    session: Session,
    author: access.Author,
    intervention_id: str,
    claim: economics.SavingsClaim,
    *,
    is_demo: bool = False,
) -> ClaimedSaving:
    """Record a savings claim as reported, with its basis and source (researchers only)."""
    actor = access.require_researcher(author, "record a savings claim")
    get_intervention(session, intervention_id)
    row = ClaimedSaving(
        intervention_id=intervention_id,
        amount=Decimal(str(claim.amount)).quantize(Decimal("0.01")),
        basis=claim.basis.strip(),
        source=claim.source.strip(),
        year=claim.year,
        is_demo=is_demo,
        entered_by=actor.username,
    )
    session.add(row)
    session.flush()
    access.record(
        session, actor, "add savings claim", f"intervention:{intervention_id}", **claim.as_dict()
    )
    return row


def remove_savings_claim(
    session: Session, author: access.Author, intervention_id: str, claim_id: int
) -> None:
    """Remove a savings claim entered in error (researchers only); the audit log keeps it."""
    actor = access.require_researcher(author, "remove a savings claim")
    row = session.get(ClaimedSaving, claim_id)
    if row is None or row.intervention_id != intervention_id:
        raise NotFound(f"{intervention_id} has no savings claim {claim_id}.")
    access.record(
        session,
        actor,
        "remove savings claim",
        f"intervention:{intervention_id}",
        amount=float(row.amount),
        basis=row.basis,
        source=row.source,
        year=row.year,
    )
    session.delete(row)
    session.flush()


# ---------------------------------------------------------------------------------------
# appraisal


@dataclass(frozen=True)
class Appraisal:
    """The benefit-cost of an economic case, or why it cannot be computed.

    `absolute_change` is units of the outcome avoided (or gained) per child, with its
    standard error; benefits are `absolute_change` x value in each year 1 ... horizon;
    the cost per child falls in year 0."""

    outcome: str
    computed: bool
    reasons: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    metric: str | None = None
    pooled_estimate: float | None = None
    pooled_se: float | None = None
    studies: int | None = None
    absolute_change: float | None = None
    absolute_change_se: float | None = None
    cost_per_child: float | None = None
    cost_from: str = ""
    yearly_benefits: tuple[float, ...] = ()
    result: economics.BenefitCost | None = None
    risk: economics.BenefitRisk | None = None
    is_demo: bool = False
    case: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        found = {k: getattr(self, k) for k in self.__dataclass_fields__}
        found["reasons"], found["inputs"] = list(self.reasons), list(self.inputs)
        found["yearly_benefits"] = list(self.yearly_benefits)
        found["result"] = self.result.as_dict() if self.result else None
        found["risk"] = self.risk.as_dict() if self.risk else None
        return found


def absolute_change(
    metric: str, estimate: float, se: float, baseline: float | None, direction: str
) -> tuple[float, float]:
    """Units of the outcome avoided (or gained) per child, and its standard error, from a
    pooled effect: a log risk or odds ratio with the baseline risk, or a difference."""
    if metric == "RR":
        assert baseline is not None
        change, change_se = baseline * (1 - math.exp(estimate)), baseline * math.exp(estimate) * se
    elif metric == "OR":
        assert baseline is not None
        odds = baseline / (1 - baseline) * math.exp(estimate)
        treated = odds / (1 + odds)
        change, change_se = baseline - treated, treated * (1 - treated) * se
    else:  # RD, SMD, MD, GEN: the effect is already a difference in the outcome's units
        change, change_se = -estimate, se
    return (change if direction == "avoided" else -change), change_se


def _cost(case: EconomicCase, intervention: Intervention) -> tuple[float | None, str]:
    if case.cost_per_child is not None:
        return float(case.cost_per_child), "the economic case"
    if intervention.unit_cost is not None:
        return float(intervention.unit_cost), "the unit cost"
    if intervention.cost_components:
        return sum(float(c["amount"]) for c in intervention.cost_components), "the cost components"
    return None, ""


def appraise(
    case: EconomicCase, intervention: Intervention, meta: MetaResult | None, metric: str | None
) -> Appraisal:
    """The net present value, benefit-cost ratio and Monte Carlo chance that benefits
    exceed costs of the case, from the pooled effect `meta` on `metric`; or the reasons
    it cannot be computed."""
    cost, cost_from = _cost(case, intervention)
    reasons = []
    if meta is None or metric is None:
        reasons.append(
            f"There is no pooled effect on {case.outcome}: pooling needs at least two studies "
            "that give an effect with its variance on the same scale."
        )
    elif metric in NEEDS_BASELINE and case.baseline is None:
        reasons.append(
            f"The pooled effect is a ratio ({metric}); turning it into children per 100 needs "
            "the baseline risk in the target population, which the case does not give."
        )
    if cost is None:
        reasons.append("No cost per child is recorded (neither in the case nor as a unit cost).")
    stored = {k: _plain(getattr(case, k)) for k in CASE_FIELDS}
    if reasons or meta is None or metric is None or cost is None:
        return Appraisal(case.outcome, False, tuple(reasons), is_demo=case.is_demo, case=stored)
    change, change_se = absolute_change(
        metric, meta.estimate, meta.se, case.baseline, case.direction
    )
    value = float(case.value_per_unit)
    values = [0.0] + [value] * case.horizon_years
    benefits = tuple(change * v for v in values)
    result = economics.benefit_cost(benefits, [cost], discount_rate=case.discount_rate)
    risk = economics.chance_benefits_exceed_costs(
        change,
        change_se,
        values,
        [cost],
        discount_rate=case.discount_rate,
        cost_uncertainty=case.cost_uncertainty,
        draws=DRAWS,
        seed=SEED,
    )
    return Appraisal(
        outcome=case.outcome,
        computed=True,
        inputs=_inputs(case, meta, metric, change, change_se, cost, cost_from),
        metric=metric,
        pooled_estimate=meta.estimate,
        pooled_se=meta.se,
        studies=meta.k,
        absolute_change=change,
        absolute_change_se=change_se,
        cost_per_child=cost,
        cost_from=cost_from,
        yearly_benefits=benefits,
        result=result,
        risk=risk,
        is_demo=case.is_demo,
        case=stored,
    )


def _inputs(
    case: EconomicCase,
    meta: MetaResult,
    metric: str,
    change: float,
    change_se: float,
    cost: float,
    cost_from: str,
) -> tuple[str, ...]:
    """What goes into the appraisal, in plain words, in the order it is used."""
    shown = plots.default_transform(metric)
    lines = [
        f"The pooled effect on {case.outcome} over {meta.k} studies: {metric} "
        f"{plots.number(shown(meta.estimate))} (95% CI {plots.number(shown(meta.ci_low))} to "
        f"{plots.number(shown(meta.ci_high))})."
    ]
    if metric in NEEDS_BASELINE and case.baseline is not None:
        lines.append(
            f"Without the intervention, {100 * case.baseline:.1f}% of children would have the "
            f"outcome ({case.baseline_source or 'source not given'})."
        )
    fewer = "fewer" if case.direction == "avoided" else "more"
    if metric in (*NEEDS_BASELINE, "RD"):
        lines.append(
            f"So {100 * change:.1f} {fewer} {case.value_unit} per 100 children (standard error "
            f"{100 * change_se:.1f})."
        )
    else:
        lines.append(
            f"So {change:.3f} {fewer} {case.value_unit} per child (standard error "
            f"{change_se:.3f}), in the units of the effect."
        )
    years = "year" if case.horizon_years == 1 else f"year for {case.horizon_years} years"
    lines.append(
        f"Each one {case.direction} is worth £{float(case.value_per_unit):,.0f} a {years}, "
        "from year 1 "
        f"({case.value_source})."
    )
    lines.append(
        f"The cost is £{cost:,.0f} per child in year 0 (from {cost_from}), uncertain by "
        f"±{100 * case.cost_uncertainty:g}%."
    )
    lines.append(f"Later years are discounted at {100 * case.discount_rate:g}% a year.")
    return tuple(lines)


def claim_of(values: Mapping[str, str]) -> tuple[economics.SavingsClaim | None, dict[str, str]]:
    """The savings claim form read into a `SavingsClaim`, and a message per bad field."""
    errors: dict[str, str] = {}
    amount = _pounds(values.get("amount", ""))
    if amount is None:
        errors["amount"] = "Enter the amount claimed in pounds, like 1200000"
    for key, message in (
        ("basis", "Enter the basis: what was counted, over what period, against what"),
        ("source", "Enter the source: who published the claim, and where"),
    ):
        if not values.get(key, "").strip():
            errors[key] = message
    year = values.get("year", "").strip()
    if not (year.isdigit() and 1990 <= int(year) <= 2100):
        errors["year"] = "Enter the year of the claim as four digits, like 2019"
    if errors or amount is None:
        return None, errors
    try:
        return economics.SavingsClaim(
            float(amount), values["basis"].strip(), values["source"].strip(), int(year)
        ), {}
    except InvalidEvidence as error:
        return None, {"basis": str(error)}
