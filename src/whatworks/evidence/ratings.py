"""Evidence levels (Foundations scale) and GRADE certainty for one outcome of an intervention.

A level says how strongly studies show that an intervention causes a better outcome; a
certainty says how far we trust the size of that effect. Both explain themselves: the rule
that gave them, the studies behind them and every reason for marking down.
Method, thresholds and references: docs/methods/evidence-ratings.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from whatworks.core.errors import WhatworksError

Direction = Literal["positive", "null", "negative", "mixed", "inconclusive"]
RiskOfBias = Literal["low", "some concerns", "high"]
Level = Literal["4", "3", "2", "NL2", "NE"]
Grade = Literal["high", "moderate", "low", "very low"]
Domain = Literal["risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias"]

GRADES: tuple[Grade, ...] = ("high", "moderate", "low", "very low")
#: A Maryland level 3 comparison study is rigorous only with at least this many participants.
MIN_RIGOROUS_COMPARISON_SAMPLE = 100
#: A follow-up of at least this many months counts as long-term.
LONG_TERM_MONTHS = 12
#: GRADE's rule-of-thumb optimal information size (participants) for imprecision.
OPTIMAL_INFORMATION_SIZE = 400
#: I² (per cent) from which inconsistency costs one, and two, steps of certainty.
I_SQUARED_SERIOUS, I_SQUARED_VERY_SERIOUS = 50.0, 75.0
#: Egger's test p-value below which publication bias costs a step.
EGGER_P_THRESHOLD = 0.10

_BIAS_ORDER: dict[str, int] = {"low": 0, "some concerns": 1, "high": 2}


class InvalidEvidence(WhatworksError, ValueError):
    """A study result, cost or recommendation input cannot be used as given."""


@dataclass(frozen=True, kw_only=True)
class StudyFinding:
    """One study's result on one outcome, with what the evidence standards need to judge it.

    `maryland_level` is the Maryland Scientific Methods Scale (5 = randomised trial,
    3 = justified comparison group). `direction` is the result as reported; `significant`
    says whether it was statistically significant (None when not reported).
    """

    study_id: str
    outcome: str
    design: str
    maryland_level: int
    direction: Direction
    risk_of_bias: RiskOfBias
    independent: bool
    significant: bool | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    sample_size: int | None = None
    follow_up_months: float | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        where = f"study {self.study_id!r}, outcome {self.outcome!r}"
        if not self.study_id.strip() or not self.outcome.strip():
            raise InvalidEvidence(f"{where}: a finding needs a study id and an outcome name.")
        if self.maryland_level not in (1, 2, 3, 4, 5):
            raise InvalidEvidence(
                f"{where}: maryland_level is {self.maryland_level!r}; give a whole number 1-5."
            )
        if self.direction not in get_args(Direction):
            raise InvalidEvidence(
                f"{where}: direction {self.direction!r} is not one of {get_args(Direction)}."
            )
        if self.risk_of_bias not in get_args(RiskOfBias):
            raise InvalidEvidence(
                f"{where}: risk_of_bias {self.risk_of_bias!r} is not one of {get_args(RiskOfBias)}."
            )
        if (self.ci_low is None) != (self.ci_high is None):
            raise InvalidEvidence(f"{where}: give both ends of the confidence interval or neither.")
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high:
            raise InvalidEvidence(
                f"{where}: ci_low {self.ci_low} is above ci_high {self.ci_high}; swap them."
            )
        if self.sample_size is not None and self.sample_size < 0:
            raise InvalidEvidence(f"{where}: sample_size {self.sample_size} is negative.")
        if self.follow_up_months is not None and self.follow_up_months < 0:
            raise InvalidEvidence(f"{where}: follow_up_months {self.follow_up_months} is negative.")

    @property
    def randomised(self) -> bool:
        """Whether the design randomised (Maryland level 5)."""
        return self.maryland_level == 5

    @property
    def rigorous(self) -> bool:
        """Whether a causal judgement can rest on this study (see the methods page)."""
        if self.maryland_level >= 4:
            return self.risk_of_bias != "high"
        return (
            self.maryland_level == 3
            and self.risk_of_bias == "low"
            and (self.sample_size or 0) >= MIN_RIGOROUS_COMPARISON_SAMPLE
        )

    @property
    def long_term(self) -> bool:
        """Whether the outcome was measured at least `LONG_TERM_MONTHS` after the start."""
        return (self.follow_up_months or 0) >= LONG_TERM_MONTHS

    @property
    def reading(self) -> Direction:
        """The direction as the rules read it: a result reported not significant is null."""
        if self.direction in ("positive", "negative") and self.significant is False:
            return "null"
        return self.direction

    def strength(self) -> tuple[int, int, int, int]:
        """Sort key for 'best evidence': design, then risk of bias, sample size, recency."""
        return (
            self.maryland_level,
            -_BIAS_ORDER[self.risk_of_bias],
            self.sample_size or 0,
            self.year or 0,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EvidenceLevel:
    """The level for one outcome, the rule that gave it and the studies on each side."""

    outcome: str
    level: Level
    rule: str
    explanation: str
    qualifications: tuple[str, ...]
    supporting: tuple[str, ...]
    contrary: tuple[str, ...]
    set_aside: tuple[str, ...]

    @property
    def mixed(self) -> bool:
        """Whether rigorous studies disagree on this outcome."""
        return "mixed evidence" in self.qualifications

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Downgrade:
    """One GRADE domain that lowered certainty, by how many steps and why."""

    domain: Domain
    steps: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Certainty:
    """GRADE certainty for one outcome: where it started, each downgrade and the result."""

    outcome: str
    grade: Grade
    start: Grade
    start_reason: str
    downgrades: tuple[Downgrade, ...]
    notes: tuple[str, ...]
    studies: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ids(findings: Iterable[StudyFinding]) -> tuple[str, ...]:
    return tuple(sorted({f.study_id for f in findings}))


def _one_outcome(findings: Iterable[StudyFinding]) -> tuple[str, list[StudyFinding]]:
    found = list(findings)
    if not found:
        raise InvalidEvidence("No study findings were given; rate an outcome with at least one.")
    outcomes = sorted({f.outcome for f in found})
    if len(outcomes) > 1:
        raise InvalidEvidence(
            f"Findings for several outcomes were given together ({', '.join(outcomes)}); "
            "rate each outcome on its own or use rate_outcomes."
        )
    return outcomes[0], found


def rate_outcome(findings: Iterable[StudyFinding]) -> EvidenceLevel:
    """The evidence level for one outcome from every study result on it (first rule wins)."""
    outcome, found = _one_outcome(findings)
    set_aside = [f for f in found if f.reading == "inconclusive"]
    used = [f for f in found if f.reading != "inconclusive"]
    rigorous = [f for f in used if f.rigorous]
    r_pos = [f for f in rigorous if f.reading == "positive"]
    r_against = [f for f in rigorous if f.reading in ("null", "negative")]
    r_mixed = [f for f in rigorous if f.reading == "mixed"]
    harm = (
        ["a rigorous study found harm"] if any(f.reading == "negative" for f in r_against) else []
    )

    def level(
        value: Level,
        rule: str,
        explanation: str,
        qualifications: Sequence[str],
        supporting: Iterable[StudyFinding],
        contrary: Iterable[StudyFinding] = (),
    ) -> EvidenceLevel:
        return EvidenceLevel(
            outcome,
            value,
            rule,
            explanation,
            tuple(qualifications),
            _ids(supporting),
            _ids(contrary),
            _ids(set_aside),
        )

    if r_against and not r_pos:
        return level(
            "NE",
            "not-effective",
            "A rigorous study found no improvement and no rigorous study found one.",
            harm,
            r_against,
            [f for f in used if f.reading == "positive"],
        )
    if r_against:
        best_against = max(r_against, key=StudyFinding.strength)
        best_for = max(r_pos, key=StudyFinding.strength)
        if best_against.strength() >= best_for.strength():
            return level(
                "NE",
                "best-evidence-null",
                f"Rigorous studies disagree and the best of them ({best_against.study_id}) "
                "found no improvement.",
                ["mixed evidence", *harm],
                r_against,
                r_pos,
            )
        return level(
            "3",
            "mixed-rigorous",
            f"Rigorous studies disagree; the best of them ({best_for.study_id}) found an "
            "improvement, so the level is held at 3.",
            ["mixed evidence", *harm],
            r_pos,
            r_against,
        )
    if r_pos:
        studies = {f.study_id for f in r_pos}
        long_term = any(f.long_term for f in r_pos)
        independent = any(f.independent for f in r_pos)
        if len(studies) >= 2 and long_term and independent and not r_mixed:
            return level(
                "4",
                "long-term-replicated",
                f"{len(studies)} rigorous studies found an improvement, at least one lasting "
                f"{LONG_TERM_MONTHS} months or more and at least one independent.",
                [],
                r_pos,
            )
        qualifications = []
        if r_mixed:
            qualifications.append("mixed evidence")
        if len(studies) == 1:
            qualifications.append("one rigorous study")
        if not long_term:
            qualifications.append("short-term only")
        if not independent:
            qualifications.append("no independent evaluation")
        return level(
            "3",
            "one-rigorous",
            "At least one rigorous study found an improvement and none found no improvement.",
            qualifications,
            r_pos,
            r_mixed,
        )
    prelim = [
        f
        for f in used
        if (f.reading == "positive" and f.maryland_level >= 2)
        or (f.rigorous and f.reading == "mixed")
    ]
    if prelim:
        weak_against = [f for f in used if f.reading in ("null", "negative")]
        qualifications = ["weaker studies also found no improvement"] if weak_against else []
        return level(
            "2",
            "preliminary",
            "A study found an improvement, but not in a design from which cause can be drawn.",
            qualifications,
            prelim,
            weak_against,
        )
    return level(
        "NL2",
        "below-level-2",
        "No study reaches preliminary evidence of an improvement.",
        [],
        [],
        [f for f in used if f.reading in ("null", "negative")],
    )


def rate_outcomes(findings: Iterable[StudyFinding]) -> tuple[EvidenceLevel, ...]:
    """A level for every outcome in an intervention's findings, in outcome order."""
    by_outcome: dict[str, list[StudyFinding]] = {}
    for finding in findings:
        by_outcome.setdefault(finding.outcome, []).append(finding)
    return tuple(rate_outcome(by_outcome[name]) for name in sorted(by_outcome))


def grade_certainty(
    findings: Iterable[StudyFinding],
    *,
    i_squared_percent: float | None = None,
    pooled_ci: tuple[float, float] | None = None,
    no_effect: float = 0.0,
    indirectness: Sequence[str] = (),
    publication_bias: str | None = None,
    egger_p: float | None = None,
    optimal_information_size: int = OPTIMAL_INFORMATION_SIZE,
) -> Certainty:
    """GRADE certainty for one outcome, each downgrade recorded with its reason.

    `i_squared_percent` and `pooled_ci` come from a synthesis when there is one;
    `no_effect` is 0 for differences and 1 for ratios. `indirectness` holds the reviewer's
    reasons why the studies answer a different question (one reason one step, two or more
    two steps); `publication_bias` a reviewer's reason to suspect missing studies.
    """
    outcome, found = _one_outcome(findings)
    if i_squared_percent is not None and not 0 <= i_squared_percent <= 100:
        raise InvalidEvidence(
            f"{outcome}: I² is {i_squared_percent}; give it as a percentage from 0 to 100."
        )
    if pooled_ci is not None and pooled_ci[0] > pooled_ci[1]:
        raise InvalidEvidence(f"{outcome}: the pooled interval {pooled_ci} is the wrong way round.")
    notes: list[str] = []
    used = [f for f in found if f.reading != "inconclusive"]
    if not used:
        return Certainty(
            outcome, "very low", "very low", "No study gave an impact estimate.", (), (), ()
        )
    if any(f.randomised for f in used):
        body = [f for f in used if f.randomised]
        start: Grade = "high"
        start_reason = "Randomised trials start at high."
        if len(body) < len(used):
            notes.append(
                "Non-randomised studies set aside in favour of the randomised ones: "
                + ", ".join(_ids(f for f in used if not f.randomised))
            )
    else:
        body, start = used, "low"
        start_reason = "Without a randomised trial, the evidence starts at low."
    downgrades = [
        *_risk_of_bias(body),
        *_inconsistency(body, i_squared_percent, notes),
        *_indirectness(indirectness),
        *_imprecision(body, pooled_ci, no_effect, optimal_information_size, notes),
        *_publication_bias(publication_bias, egger_p),
    ]
    steps = GRADES.index(start) + sum(d.steps for d in downgrades)
    grade = GRADES[min(steps, len(GRADES) - 1)]
    return Certainty(
        outcome, grade, start, start_reason, tuple(downgrades), tuple(notes), _ids(body)
    )


def _risk_of_bias(body: Sequence[StudyFinding]) -> list[Downgrade]:
    sizes = [f.sample_size or 0 for f in body]
    by_participants = all(sizes)
    weights = [float(s) for s in sizes] if by_participants else [1.0] * len(body)
    total = sum(weights)
    high = sum(w for f, w in zip(body, weights, strict=True) if f.risk_of_bias == "high") / total
    concern = sum(w for f, w in zip(body, weights, strict=True) if f.risk_of_bias != "low") / total
    basis = "of participants" if by_participants else "of studies"
    if high > 0.5:
        return [Downgrade("risk of bias", 2, f"{high:.0%} {basis} at high risk of bias.")]
    if concern > 0.5:
        return [
            Downgrade("risk of bias", 1, f"{concern:.0%} {basis} at some or high risk of bias.")
        ]
    return []


def _inconsistency(
    body: Sequence[StudyFinding], i_squared: float | None, notes: list[str]
) -> list[Downgrade]:
    if i_squared is not None:
        if i_squared >= I_SQUARED_VERY_SERIOUS:
            return [Downgrade("inconsistency", 2, f"I² = {i_squared:g}% (considerable).")]
        if i_squared >= I_SQUARED_SERIOUS:
            return [Downgrade("inconsistency", 1, f"I² = {i_squared:g}% (substantial).")]
        return []
    if len({f.study_id for f in body}) < 2:
        notes.append("Inconsistency not judged: one study.")
        return []
    readings = {f.reading for f in body}
    if "positive" in readings and readings & {"null", "negative"}:
        return [Downgrade("inconsistency", 1, "Studies disagree on the direction of the result.")]
    return []


def _indirectness(reasons: Sequence[str]) -> list[Downgrade]:
    given = [r.strip() for r in reasons if r.strip()]
    if not given:
        return []
    return [Downgrade("indirectness", min(len(given), 2), "; ".join(given))]


def _imprecision(
    body: Sequence[StudyFinding],
    pooled_ci: tuple[float, float] | None,
    no_effect: float,
    information_size: int,
    notes: list[str],
) -> list[Downgrade]:
    reasons = []
    if pooled_ci is not None:
        intervals = [pooled_ci]
    else:
        intervals = [
            (f.ci_low, f.ci_high) for f in body if f.ci_low is not None and f.ci_high is not None
        ]
    if not intervals:
        reasons.append("no confidence interval was reported")
    elif all(low <= no_effect <= high for low, high in intervals):
        shown = ", ".join(f"{low:g} to {high:g}" for low, high in intervals)
        reasons.append(f"the interval ({shown}) includes no effect ({no_effect:g})")
    sizes: dict[str, int] = {}
    for f in body:
        if f.sample_size is not None:
            sizes[f.study_id] = max(sizes.get(f.study_id, 0), f.sample_size)
    if not sizes:
        notes.append("Sample size not reported: imprecision judged on the interval only.")
    elif sum(sizes.values()) < information_size:
        reasons.append(f"{sum(sizes.values())} participants, fewer than {information_size}")
    if not reasons:
        return []
    text = "; ".join(reasons)
    return [Downgrade("imprecision", len(reasons), text[0].upper() + text[1:] + ".")]


def _publication_bias(reason: str | None, egger_p: float | None) -> list[Downgrade]:
    given = []
    if reason and reason.strip():
        given.append(reason.strip())
    if egger_p is not None and egger_p < EGGER_P_THRESHOLD:
        given.append(f"Egger's test p = {egger_p:g} (below {EGGER_P_THRESHOLD:g})")
    if not given:
        return []
    return [Downgrade("publication bias", 1, "; ".join(given))]
