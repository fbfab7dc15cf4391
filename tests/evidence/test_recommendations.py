"""Recommendations: each rule of docs/methods/recommendations.md firing and not firing,
a rigorous null weakening a recommendation, and overrides that need a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from whatworks.evidence.economics import cost_rating
from whatworks.evidence.ratings import (
    Certainty,
    Downgrade,
    EvidenceLevel,
    InvalidEvidence,
    StudyFinding,
    grade_certainty,
    rate_outcome,
)
from whatworks.evidence.recommendations import Override, apply_override, recommend

WHEN = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)


def level(value: str, *qualifications: str, outcome: str = "care entry") -> EvidenceLevel:
    return EvidenceLevel(outcome, value, "test", "stated", qualifications, ("S",), (), ())  # type: ignore[arg-type]


def certainty(grade: str, outcome: str = "care entry") -> Certainty:
    downgrades = () if grade == "high" else (Downgrade("imprecision", 1, "wide"),)
    return Certainty(outcome, grade, "high", "trial", downgrades, (), ("S",))  # type: ignore[arg-type]


def trial(study_id: str, **given: Any) -> StudyFinding:
    values: dict[str, Any] = {
        "outcome": "care entry",
        "design": "RCT",
        "maryland_level": 5,
        "direction": "positive",
        "risk_of_bias": "low",
        "independent": True,
        "sample_size": 1000,
        "follow_up_months": 12,
        "ci_low": -0.15,
        "ci_high": -0.03,
        "year": 2023,
    }
    values.update(given)
    return StudyFinding(study_id=study_id, **values)


# --- do not offer ------------------------------------------------------------------------


def test_do_not_offer_fires_on_not_effective() -> None:
    made = recommend(level("NE"), certainty("high"), cost=2)
    assert (made.wording, made.rule, made.strength) == (
        "do not offer",
        "not-effective",
        "strong, against",
    )
    assert made.statement("Social Workers in Schools") == (
        "Do not offer Social Workers in Schools (outcome: care entry)."
    )


def test_do_not_offer_does_not_fire_on_level_3() -> None:
    assert recommend(level("3"), certainty("high"), cost=2).wording == "offer"


# --- only in research --------------------------------------------------------------------


def test_only_in_research_fires_below_level_2() -> None:
    made = recommend(level("NL2"), certainty("low"), cost=1)
    assert (made.wording, made.rule) == ("only in research", "too-little-evidence")


def test_only_in_research_fires_on_very_low_certainty_even_at_level_3() -> None:
    made = recommend(level("3"), certainty("very low"), benefit_cost_ratio=3.0)
    assert (made.wording, made.rule) == ("only in research", "very-low-certainty")
    assert made.statement("Pause") == (
        "Only use Pause in the context of research (outcome: care entry)."
    )


def test_only_in_research_does_not_fire_on_level_2_with_low_certainty() -> None:
    made = recommend(level("2"), certainty("low"), cost=1)
    assert (made.wording, made.rule) == ("consider", "consider")


# --- offer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "grade", "given"),
    [
        ("3", "moderate", {"benefit_cost_ratio": 1.0}),
        ("4", "high", {"benefit_cost_ratio": 4.5}),
        ("3", "high", {"cost": 3}),
        ("3", "moderate", {"cost": cost_rating(999.99)}),
        ("4", "moderate", {"cost": 5, "benefit_cost_ratio": 1.2}),
    ],
)
def test_offer_fires_on_level_3_or_4_moderate_certainty_and_value_for_money(
    value: str, grade: str, given: dict[str, Any]
) -> None:
    made = recommend(level(value), certainty(grade), **given)
    assert (made.wording, made.rule, made.strength) == ("offer", "offer", "strong, for")


@pytest.mark.parametrize(
    ("value", "grade", "qualifications", "given", "because"),
    [
        ("3", "low", (), {"cost": 1}, "certainty is low"),
        ("3", "high", ("mixed evidence",), {"cost": 1}, "rigorous studies disagree"),
        ("3", "high", (), {"benefit_cost_ratio": 0.99}, "benefits do not cover costs (ratio 0.99)"),
        ("3", "high", (), {"cost": 2, "benefit_cost_ratio": 0.5}, "benefits do not cover costs"),
        ("3", "high", (), {"cost": 4}, "cost rating 4 with no benefit-cost ratio"),
        ("3", "high", (), {"cost": cost_rating(1000)}, "cost rating 4"),
        ("4", "high", (), {}, "neither the cost nor a benefit-cost ratio is known"),
        ("2", "high", (), {"cost": 1}, "preliminary (level 2)"),
    ],
)
def test_offer_does_not_fire_when_a_condition_fails_and_consider_says_which(
    value: str, grade: str, qualifications: tuple[str, ...], given: dict[str, Any], because: str
) -> None:
    made = recommend(level(value, *qualifications), certainty(grade), **given)
    assert (made.wording, made.rule, made.strength) == ("consider", "consider", "conditional")
    assert because in made.reasons[-1]
    assert made.reasons[-1].startswith("Not 'offer' because ")


def test_reasons_quote_the_level_and_each_downgrade() -> None:
    made = recommend(level("3"), certainty("moderate"), cost=2)
    assert made.reasons[0] == "Evidence level 3 (test): stated"
    assert made.reasons[1] == "Certainty moderate; down 1 for imprecision: wide"


def test_level_and_certainty_must_be_for_the_same_outcome() -> None:
    with pytest.raises(InvalidEvidence, match="same outcome"):
        recommend(level("3"), certainty("high", outcome="offending"), cost=1)
    with pytest.raises(InvalidEvidence, match="1 to 5"):
        recommend(level("3"), certainty("high"), cost=6)


# --- a rigorous null weakens the recommendation ------------------------------------------


def from_findings(findings: list[StudyFinding], cost: int = 2) -> tuple[str, str, str]:
    made = recommend(rate_outcome(findings), grade_certainty(findings), cost=cost)
    return made.level, made.certainty, made.wording


def test_a_rigorous_null_turns_offer_into_consider_or_do_not_offer() -> None:
    # One good trial: level 3, high certainty, cost rating 2 -> offer.
    assert from_findings([trial("FGC")]) == ("3", "high", "offer")
    # A weaker rigorous null (matched comparison) -> level 3 with mixed evidence -> consider.
    # (Certainty rests on the trial alone; the comparison study is set aside.)
    comparison = trial(
        "QED", maryland_level=3, sample_size=300, direction="null", ci_low=None, ci_high=None
    )
    assert from_findings([trial("FGC"), comparison]) == ("3", "high", "consider")
    # A bigger null trial is the best evidence -> NE -> do not offer.
    bigger = trial("BIG", direction="null", sample_size=3000, ci_low=-0.04, ci_high=0.02)
    assert from_findings([trial("FGC"), comparison, bigger]) == ("NE", "moderate", "do not offer")


# --- overrides ---------------------------------------------------------------------------


def test_an_override_replaces_the_wording_and_keeps_the_derivation() -> None:
    derived = recommend(level("3"), certainty("moderate"), cost=2)
    override = Override("consider", "Only evaluated in London boroughs", "A. Panel Chair", WHEN)
    made = apply_override(derived, override)
    assert (made.wording, made.rule) == ("consider", "override")
    assert (made.derived_wording, made.derived_rule) == ("offer", "offer")
    assert made.reasons == derived.reasons
    shown = made.as_dict()
    assert shown["override"] == {
        "wording": "consider",
        "reason": "Only evaluated in London boroughs",
        "by": "A. Panel Chair",
        "at": "2025-03-01T10:30:00+00:00",
    }
    assert shown["strength"] == "conditional"
    again = apply_override(made, Override("offer", "Panel reversed", "B. Member", WHEN))
    assert (again.wording, again.derived_rule, again.override.by) == ("offer", "offer", "B. Member")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("wording", "reason", "by", "at", "message"),
    [
        ("consider", "", "A. Chair", WHEN, "reason"),
        ("consider", "   ", "A. Chair", WHEN, "reason"),
        ("consider", "why", " ", WHEN, "name"),
        ("recommend", "why", "A. Chair", WHEN, "not one of"),
        ("consider", "why", "A. Chair", datetime(2025, 3, 1), "time zone"),
    ],
)
def test_an_override_needs_a_reason_a_person_a_wording_and_an_aware_time(
    wording: str, reason: str, by: str, at: datetime, message: str
) -> None:
    with pytest.raises(InvalidEvidence, match=message):
        Override(wording, reason, by, at)  # type: ignore[arg-type]
