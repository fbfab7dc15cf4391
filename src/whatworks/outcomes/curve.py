"""Turn the curve: one indicator's history for one local authority, the baseline forecast
"where we are heading", its statistical neighbours' mean and median, SPC signals, and the
verdict against the council's frozen baseline. Methods: docs/methods/forecast.md, spc.md.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from whatworks.core.models import User
from whatworks.outcomes import forecast, plans, spc
from whatworks.outcomes.catalogue import Indicator
from whatworks.outcomes.models import CurvePlan
from whatworks.outcomes.scorecard import load_context
from whatworks.outcomes.series import LA, SeriesPoint
from whatworks.places.models import LocalAuthority
from whatworks.places.places import DEFAULT_NEIGHBOUR_MODEL, neighbours

METHODS = ("linear", "damped")


@dataclass
class Curve:
    """Everything the turn-the-curve page and its JSON show."""

    la: LocalAuthority
    indicator: Indicator
    history: list[SeriesPoint]
    baseline: forecast.Forecast | None
    neighbours_mean: list[dict[str, Any]]
    neighbours_median: list[dict[str, Any]]
    chart: spc.XmRChart
    variation: spc.Icon | None
    assurance: spc.Icon | None
    plan: CurvePlan | None  # the newest version the viewer may see
    versions: list[CurvePlan]
    verdict: forecast.Verdict
    target: float | None

    def as_dict(self) -> dict[str, Any]:
        frozen = json.loads(self.plan.forecast) if self.plan else None
        return {
            "local_authority": {"name": self.la.name, "new_la_code": self.la.new_la_code},
            "indicator": {
                "id": self.indicator.id,
                "title": self.indicator.title,
                "unit": self.indicator.unit,
                "polarity": self.indicator.polarity,
            },
            "history": [p.as_dict() for p in self.history],
            "forecast": [
                {"period": p.period, "value": p.value, "lower": p.lower, "upper": p.upper}
                for p in (self.baseline.points if self.baseline else ())
            ],
            "forecast_method": self.baseline.method if self.baseline else None,
            "forecast_warnings": list(self.baseline.warnings) if self.baseline else [],
            "frozen_baseline": frozen,
            "neighbours_mean": self.neighbours_mean,
            "neighbours_median": self.neighbours_median,
            "target": self.target,
            "verdict": {"code": self.verdict.code, "sentence": self.verdict.sentence},
            "spc": {
                "points_used": self.chart.used,
                "mean": self.chart.mean,
                "upper_limit": self.chart.upper_limit,
                "lower_limit": self.chart.lower_limit,
                "signals": [
                    {
                        "rule": s.rule,
                        "periods": list(s.periods),
                        "direction": s.direction,
                        "description": s.description,
                    }
                    for s in self.chart.signals
                ],
                "notes": list(self.chart.notes),
                "variation": self.variation.label if self.variation else None,
                "assurance": self.assurance.label if self.assurance else None,
            },
            "plan": _plan_dict(self.plan) if self.plan else None,
        }


def _plan_dict(plan: CurvePlan) -> dict[str, Any]:
    return {
        "version": plan.version,
        "status": plan.status,
        "frozen_on": plan.frozen_on,
        "method": plan.method,
        "target": plan.target,
        "story": plan.story,
        "partners": plan.partners,
        "what_works": plan.what_works,
        "actions": json.loads(plan.actions),
        "saved_by": plan.saved_by,
        "saved_at": plan.saved_at.isoformat(timespec="seconds"),
        "reason": plan.reason,
    }


def baseline(history: list[SeriesPoint], method: str = "linear") -> forecast.Forecast | None:
    """The forecast from every published figure, or None when there are too few."""
    if sum(1 for p in history if p.value is not None) < forecast.MIN_POINTS_LINEAR:
        return None
    if method == "damped":
        return forecast.damped_forecast(history)
    return forecast.linear_forecast(history)


def build(
    session: Session,
    la: LocalAuthority,
    item: Indicator,
    user: User | None,
    method: str = "linear",
    model: str = DEFAULT_NEIGHBOUR_MODEL,
    run_length: int = spc.DEFAULT_RUN_LENGTH,
) -> Curve:
    """The curve for one authority and indicator, as the viewer may see it."""
    context = load_context(session)
    history = context.points(item, LA, la.old_la_code)
    group = [n.la.old_la_code for n in neighbours(session, la.new_la_code, model)]
    means, medians = [], []
    for period in [p.period for p in history]:
        values = [
            p.value
            for code in group
            for p in context.points(item, LA, code)
            if p.period == period and p.status == "value" and p.value is not None
        ]
        if values:
            means.append(
                {"period": period, "value": round(statistics.fmean(values), 2), "used": len(values)}
            )
            medians.append(
                {
                    "period": period,
                    "value": round(statistics.median(values), 2),
                    "used": len(values),
                }
            )
    versions = plans.plans(session, la.new_la_code, item.id, user)
    plan = versions[0] if versions else None
    council = plans.council_of(session, la.new_la_code)
    target = (
        plan.target
        if plan and plan.target is not None
        else plans.targets(session, council).get(item.id)
    )
    chart = spc.xmr_chart([(p.period, p.value) for p in history], run_length=run_length)
    has_polarity = item.polarity in spc.POLARITIES
    if plan and json.loads(plan.forecast):
        judged = forecast.verdict(
            forecast.points_from_dicts(json.loads(plan.forecast)),
            item.polarity,
            [(p.period, p.value) for p in history],
        )
    else:
        judged = forecast.Verdict(
            "no verdict", "No baseline has been frozen yet, so there is nothing to judge against."
        )
    return Curve(
        la=la,
        indicator=item,
        history=history,
        baseline=baseline(history, method),
        neighbours_mean=means,
        neighbours_median=medians,
        chart=chart,
        variation=spc.variation_icon(chart, item.polarity) if has_polarity else None,
        assurance=spc.assurance_icon(chart, item.polarity, target) if has_polarity else None,
        plan=plan,
        versions=versions,
        verdict=judged,
        target=target,
    )
