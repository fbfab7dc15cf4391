"""The hub reads stored studies into levels, certainty, a synthesis, cost and a
recommendation. Expected values follow docs/methods/evidence-ratings.md and
recommendations.md ("What a rigorous null does to a recommendation"), worked by hand."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent
from whatworks.evidence import hub, studies
from whatworks.evidence.interventions import create_intervention

OUTCOME = "care entry"


def trial(session, author, title, *, level=5, direction="positive", sample=1000, **result):
    study = studies.add_study(
        session,
        author,
        intervention_id="fgc",
        title=title,
        design="RCT" if level == 5 else "QED with comparison",
        maryland_level=level,
        risk_of_bias="low",
        independent=True,
        sample_size=sample,
        follow_up_months=12,
        year=2023,
    )
    studies.add_result(session, author, study.id, outcome=OUTCOME, direction=direction, **result)
    return study


@pytest.fixture
def fgc(session, people):
    return create_intervention(
        session, people.researcher, "Family Group Conferencing", slug="fgc", unit_cost="300"
    )


def test_a_rigorous_null_lowers_the_rating_and_the_recommendation(session, people, fgc) -> None:
    # one good trial: an improvement, interval excluding no effect, 1,000 children
    trial(
        session,
        people.researcher,
        "First trial",
        significant=True,
        metric="RD",
        inputs={"estimate": -0.086, "ci_low": -0.14, "ci_high": -0.03},
    )
    first = hub.assess(session, "fgc").outcome(OUTCOME)
    assert first.level.level == "3" and first.certainty.grade == "high"
    assert first.recommendation.wording == "offer"
    assert hub.assess(session, "fgc").cost.rating == 2  # £300: £100 to £499

    # + a weaker rigorous comparison study finding nothing: held at 3, mixed, "consider"
    trial(session, people.researcher, "Comparison study", level=3, direction="null", sample=400)
    second = hub.assess(session, "fgc").outcome(OUTCOME)
    assert second.level.level == "3" and second.level.rule == "mixed-rigorous"
    assert "mixed evidence" in second.level.qualifications
    assert second.certainty.grade == "high"  # trials only
    assert second.recommendation.wording == "consider"

    # + a larger trial finding nothing: NE, do not offer
    trial(session, people.researcher, "Larger trial", direction="null", sample=3000)
    third = hub.assess(session, "fgc").outcome(OUTCOME)
    assert third.level.level == "NE" and third.level.rule == "best-evidence-null"
    assert third.certainty.grade == "moderate"
    assert [d.domain for d in third.certainty.downgrades] == ["inconsistency"]
    assert third.recommendation.wording == "do not offer"
    assert third.recommendation.statement("Family Group Conferencing").startswith("Do not offer")


def test_not_assessed_fields_are_read_cautiously_and_said(session, people, fgc) -> None:
    study = studies.add_study(
        session,
        people.researcher,
        intervention_id="fgc",
        title="Unassessed trial",
        design="RCT",
        maryland_level=5,
    )
    studies.add_result(session, people.researcher, study.id, outcome=OUTCOME, direction="positive")
    assessed = hub.assess(session, "fgc").outcome(OUTCOME)
    finding = assessed.findings[0]
    assert finding.risk_of_bias == "some concerns" and finding.independent is False
    assert any("risk of bias not assessed" in n for n in assessed.notes)
    # a trial starts high; down 1 for risk of bias (all at some concerns) and 1 for
    # imprecision (no interval reported; no sample size, so only a note) -> 'low'
    assert assessed.certainty.grade == "low"
    assert assessed.recommendation.wording == "consider"


def test_studies_with_effects_are_pooled_as_by_hand(session, people, fgc) -> None:
    # two 2x2 tables; log risk ratio and variance 1/a - 1/n1 + 1/c - 1/n2 worked by hand
    tables = [(30, 200, 45, 200), (52, 310, 66, 305)]
    for n, (a, n1, c, n2) in enumerate(tables):
        trial(
            session,
            people.researcher,
            f"Trial {n}",
            significant=True,
            metric="RR",
            inputs={"ai": a, "bi": n1 - a, "ci": c, "di": n2 - c},
        )
    yi = [math.log((a / n1) / (c / n2)) for a, n1, c, n2 in tables]
    vi = [1 / a - 1 / n1 + 1 / c - 1 / n2 for a, n1, c, n2 in tables]
    weights = [1 / v for v in vi]
    pooled = sum(w * y for w, y in zip(weights, yi, strict=True)) / sum(weights)
    se = math.sqrt(1 / sum(weights))
    assessed = hub.assess(session, "fgc", method="FE").outcome(OUTCOME)
    assert assessed.synthesis is not None and assessed.synthesis.k == 2
    assert assessed.metric == "RR"
    assert assessed.synthesis.estimate == pytest.approx(pooled, abs=1e-10)
    assert assessed.synthesis.se == pytest.approx(se, abs=1e-10)
    assert [e.pooled for e in assessed.effects] == [True, True]
    assert [e.yi for e in assessed.effects] == pytest.approx(yi, abs=1e-12)


def test_an_override_replaces_the_wording_with_its_reason_and_is_audited(
    session, people, fgc
) -> None:
    trial(session, people.researcher, "Trial", direction="null")
    assert hub.assess(session, "fgc").outcome(OUTCOME).recommendation.wording == "do not offer"
    with pytest.raises(PermissionDenied):
        hub.override_recommendation(session, people.member, "fgc", OUTCOME, "consider", "why")
    with pytest.raises(WhatworksError, match="needs a reason"):
        hub.override_recommendation(session, people.researcher, "fgc", OUTCOME, "consider", "")
    hub.override_recommendation(
        session,
        people.researcher,
        "fgc",
        OUTCOME,
        "only in research",
        "The trial tested a version without independent coordinators.",
    )
    overridden = hub.assess(session, "fgc").outcome(OUTCOME).recommendation
    assert overridden.wording == "only in research" and overridden.rule == "override"
    assert overridden.derived_wording == "do not offer"
    assert overridden.override.by == "r"
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "override recommendation")
    ).all()
    assert len(events) == 1 and "independent coordinators" in events[0].detail

    hub.override_recommendation(session, people.admin, "fgc", OUTCOME, None, "Panel withdrew it")
    assert hub.assess(session, "fgc").outcome(OUTCOME).recommendation.wording == "do not offer"
    assert [o.wording for o in hub.override_history(session, "fgc")] == ["only in research", None]


def test_an_intervention_without_results_has_no_outcomes(session, people, fgc) -> None:
    evidence = hub.assess(session, "fgc")
    assert evidence.outcomes == () and evidence.headline() is None
    assert evidence.as_dict()["cost"]["rating"] == 2
