"""Recommendations in NICE wording from the evidence level, its certainty and the cost.

"Offer" and "do not offer" are strong; "consider" is weaker; "only in research" says the
intervention should be used only where it is being evaluated. A rule derives the wording
and says why; a named person may override it with a recorded reason.
Method and the rule as a table: docs/methods/recommendations.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal, get_args

from whatworks.evidence.economics import CostRating
from whatworks.evidence.ratings import Certainty, EvidenceLevel, Grade, InvalidEvidence, Level

Wording = Literal["offer", "consider", "only in research", "do not offer"]
WORDINGS: tuple[Wording, ...] = get_args(Wording)
STRENGTH: dict[Wording, str] = {
    "offer": "strong, for",
    "consider": "conditional",
    "only in research": "research only",
    "do not offer": "strong, against",
}
#: Highest cost rating that stands in for value for money when no benefit-cost ratio exists.
AFFORDABLE_COST_RATING = 3


@dataclass(frozen=True)
class Override:
    """A person's decision to replace the derived wording, with the reason, who and when."""

    wording: Wording
    reason: str
    by: str
    at: datetime

    def __post_init__(self) -> None:
        if self.wording not in WORDINGS:
            raise InvalidEvidence(
                f"Override wording {self.wording!r} is not one of {', '.join(WORDINGS)}."
            )
        if not self.reason.strip():
            raise InvalidEvidence(
                "An override needs a reason; say why the derived recommendation is replaced."
            )
        if not self.by.strip():
            raise InvalidEvidence("An override needs the name of the person who made it.")
        if self.at.tzinfo is None:
            raise InvalidEvidence(
                f"Override time {self.at.isoformat()} has no time zone; give an aware time."
            )

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["at"] = self.at.isoformat()
        return found


@dataclass(frozen=True)
class Recommendation:
    """The wording for one outcome, the rule that fired and the reasons behind it."""

    outcome: str
    wording: Wording
    rule: str
    reasons: tuple[str, ...]
    level: Level
    certainty: Grade
    cost_rating: int | None
    benefit_cost_ratio: float | None
    derived_wording: Wording
    derived_rule: str
    override: Override | None = None

    @property
    def strength(self) -> str:
        return STRENGTH[self.wording]

    def statement(self, intervention: str) -> str:
        """The recommendation as a sentence, e.g. "Consider Family Group Conferencing."."""
        sentences: dict[Wording, str] = {
            "offer": f"Offer {intervention}",
            "consider": f"Consider {intervention}",
            "only in research": f"Only use {intervention} in the context of research",
            "do not offer": f"Do not offer {intervention}",
        }
        return f"{sentences[self.wording]} (outcome: {self.outcome})."

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["strength"] = self.strength
        found["override"] = self.override.as_dict() if self.override else None
        return found


def recommend(
    level: EvidenceLevel,
    certainty: Certainty,
    *,
    cost: CostRating | int | None = None,
    benefit_cost_ratio: float | None = None,
) -> Recommendation:
    """Derive the wording for one outcome; the first rule in the table that holds fires."""
    if level.outcome != certainty.outcome:
        raise InvalidEvidence(
            f"The level is for {level.outcome!r} but the certainty for {certainty.outcome!r}; "
            "recommend from a level and a certainty for the same outcome."
        )
    rating = cost.rating if isinstance(cost, CostRating) else cost
    if rating is not None and rating not in (1, 2, 3, 4, 5):
        raise InvalidEvidence(f"Cost rating {rating!r} is not 1 to 5.")
    evidence = f"Evidence level {level.level} ({level.rule}): {level.explanation}"
    grade = f"Certainty {certainty.grade}" + "".join(
        f"; down {d.steps} for {d.domain}: {d.reason}" for d in certainty.downgrades
    )

    def made(wording: Wording, rule: str, *reasons: str) -> Recommendation:
        return Recommendation(
            level.outcome,
            wording,
            rule,
            (evidence, grade, *reasons),
            level.level,
            certainty.grade,
            rating,
            benefit_cost_ratio,
            wording,
            rule,
        )

    if level.level == "NE":
        contrary = ", ".join(level.supporting)
        return made(
            "do not offer", "not-effective", f"Rigorous studies with no improvement: {contrary}."
        )
    if level.level == "NL2":
        return made("only in research", "too-little-evidence", "Below preliminary evidence.")
    if certainty.grade == "very low":
        return made(
            "only in research", "very-low-certainty", "Too uncertain to act on outside research."
        )
    short = []
    if level.level == "2":
        short.append("the evidence is preliminary (level 2)")
    if certainty.grade == "low":
        short.append("certainty is low")
    if level.mixed:
        short.append("rigorous studies disagree (mixed evidence)")
    if benefit_cost_ratio is not None:
        if benefit_cost_ratio < 1:
            short.append(f"benefits do not cover costs (ratio {benefit_cost_ratio:.2f})")
        value = f"Benefit-cost ratio {benefit_cost_ratio:.2f}."
    elif rating is None:
        short.append("neither the cost nor a benefit-cost ratio is known")
        value = "Cost not known."
    elif rating > AFFORDABLE_COST_RATING:
        short.append(f"cost rating {rating} with no benefit-cost ratio to justify it")
        value = f"Cost rating {rating}."
    else:
        value = f"Cost rating {rating}, no benefit-cost ratio."
    if not short:
        return made("offer", "offer", value)
    return made("consider", "consider", value, "Not 'offer' because " + "; ".join(short) + ".")


def apply_override(recommendation: Recommendation, override: Override) -> Recommendation:
    """The recommendation with a person's wording in place of the derived one.

    The rule becomes "override"; the derived wording, its rule and its reasons are kept, so
    the page can show both. An override without a reason is refused.
    """
    if not override.reason.strip():
        raise InvalidEvidence("An override needs a reason; say why the recommendation changes.")
    return replace(recommendation, wording=override.wording, rule="override", override=override)
