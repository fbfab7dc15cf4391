"""What the evidence hub's forms send, read into the arguments of the domain functions,
with a message for each field that cannot be read (GOV.UK error messages: what is wrong
and how to put it right). Also how a result's effect is shown in words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from whatworks.evidence import studies
from whatworks.evidence.models import StudyResult
from whatworks.evidence.plots import RATIO_MEASURES, number

STUDY_FORM_FIELDS = (
    "title",
    "intervention_id",
    "design",
    "maryland_level",
    "publisher",
    "year",
    "reported_on",
    "risk_of_bias",
    "independent",
    "sample_size",
    "follow_up_months",
    "source",
    "confidence",
    "caveats",
    "cost_or_savings",
)
_STUDY_TEXT = ("title", "design", "publisher", "source", "caveats", "cost_or_savings")

#: How a result's effect may be given: (form value, words, inputs in `studies.INPUT_SETS`).
INPUT_CHOICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("direct", "An effect size and its variance", studies.INPUT_SETS["entered directly"]),
    ("counts", "A 2x2 table of counts", studies.INPUT_SETS["from a 2x2 table"]),
    ("means", "Group means, standard deviations and sizes", studies.INPUT_SETS["from group means"]),
    (
        "se",
        "An estimate and its standard error",
        studies.INPUT_SETS["from an estimate and its standard error"],
    ),
    (
        "ci",
        "An estimate and its 95% confidence interval",
        studies.INPUT_SETS["from an estimate and its 95% confidence interval"],
    ),
)
INPUT_LABELS = {
    "yi": "Effect size (yi; the log of a risk or odds ratio)",
    "vi": "Variance of the effect size (vi)",
    "ai": "Intervention group: with the outcome",
    "bi": "Intervention group: without the outcome",
    "ci": "Comparison group: with the outcome",
    "di": "Comparison group: without the outcome",
    "m1": "Intervention group: mean",
    "sd1": "Intervention group: standard deviation",
    "n1": "Intervention group: size",
    "m2": "Comparison group: mean",
    "sd2": "Comparison group: standard deviation",
    "n2": "Comparison group: size",
    "estimate": "Estimate (a ratio as published, not its log)",
    "se": "Standard error",
    "ci_low": "Lower end of the 95% confidence interval",
    "ci_high": "Upper end of the 95% confidence interval",
}
_RESULT_TEXT = (
    "outcome",
    "outcome_domain",
    "measure_text",
    "direction",
    "significant",
    "is_primary",
    "metric",
    "how",
    "reported",
    "effect_reported",
    "source",
    "confidence",
    "caveats",
)


def _whole(text: str, what: str, errors: dict[str, str], key: str) -> int | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = math.nan
    if not value.is_integer():
        errors[key] = f"{what} must be a whole number, like 120"
        return None
    return int(value)


def _decimal(text: str, what: str, errors: dict[str, str], key: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors[key] = f"{what} must be a number, like 0.25"
        return None
    return value


def study_fields(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The study form read into `studies.add_study` fields, and an error per field."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {k: values[k] for k in _STUDY_TEXT if values.get(k)}
    fields["intervention_id"] = values.get("intervention_id") or None
    level = _whole(values.get("maryland_level", ""), "The Maryland level", errors, "maryland_level")
    fields["maryland_level"] = level
    fields["year"] = _whole(values.get("year", ""), "The year", errors, "year")
    fields["sample_size"] = _whole(
        values.get("sample_size", ""), "The sample size", errors, "sample_size"
    )
    fields["follow_up_months"] = _decimal(
        values.get("follow_up_months", ""), "The follow-up", errors, "follow_up_months"
    )
    if values.get("reported_on"):
        try:
            fields["reported_on"] = date.fromisoformat(values["reported_on"])
        except ValueError:
            errors["reported_on"] = "The date must be written like 2024-06-30"
    fields["risk_of_bias"] = values.get("risk_of_bias") or None
    fields["independent"] = {"yes": True, "no": False}.get(values.get("independent", ""))
    fields["confidence"] = values.get("confidence") or "high"
    messages = {
        "title": "Enter the study's title as published",
        "design": "Enter the design as reported, like cluster RCT or pre-post",
        "maryland_level": "Choose the Maryland level of the design",
    }
    for key, text in studies.study_problems(fields).items():
        if key not in errors:
            errors[key] = messages.get(key, text[0].upper() + text[1:])
    return {k: v for k, v in fields.items() if v is not None}, errors


def result_form_fields() -> list[str]:
    """Every field the result form sends: its text fields and each input set's numbers."""
    return [*_RESULT_TEXT, *(f"{how}-{key}" for how, _, keys in INPUT_CHOICES for key in keys)]


def result_arguments(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The result form read into `studies.add_result` arguments, and an error per field."""
    errors: dict[str, str] = {}
    if not values.get("outcome"):
        errors["outcome"] = "Enter the outcome the result is about"
    direction = values.get("direction") or None
    if direction is not None and direction not in studies.DIRECTIONS:
        errors["direction"] = "Choose the direction of the result as reported"
    metric = values.get("metric") or None
    how = values.get("how") or "none"
    inputs: dict[str, float | None] = {}
    chosen = next((c for c in INPUT_CHOICES if c[0] == how), None)
    if how != "none" and chosen is None:
        errors["how"] = "Choose how the effect is given"
    if chosen is not None:
        for key in chosen[2]:
            field = f"{how}-{key}"
            label = INPUT_LABELS[key]
            if not values.get(field):
                errors[field] = f"Enter the {label[0].lower()}{label[1:]}"
                continue
            inputs[key] = _decimal(values[field], label, errors, field)
        if metric is None:
            errors["metric"] = "Choose the metric the effect is on"
    arguments = {
        "outcome": values.get("outcome", ""),
        "outcome_domain": values.get("outcome_domain", ""),
        "measure_text": values.get("measure_text", ""),
        "direction": direction,
        "significant": {"yes": True, "no": False}.get(values.get("significant", "")),
        "is_primary": values.get("is_primary") == "yes",
        "metric": metric,
        "inputs": inputs or None,
        "reported": values.get("reported", ""),
        "effect_reported": values.get("effect_reported", ""),
        "source": values.get("source", ""),
        "confidence": values.get("confidence") or None,
        "caveats": values.get("caveats", ""),
    }
    return arguments, errors


def where_result_error(message: str, values: dict[str, str]) -> str:
    """The field a domain error about a result belongs to, for the error summary's link."""
    if "significant" in message:
        return "significant"
    if message.startswith("Direction"):
        return "direction"
    if message.startswith("Confidence"):
        return "confidence"
    how = values.get("how") or "none"
    chosen = next((c for c in INPUT_CHOICES if c[0] == how), None)
    if chosen is not None and "metric" not in message.split(":")[0].casefold():
        return f"{how}-{chosen[2][0]}"
    return "metric" if "etric" in message else "outcome"


def override_errors(values: dict[str, str], wordings: Sequence[str]) -> dict[str, str]:
    """What is missing from an override: the wording and the reason."""
    errors = {}
    if values.get("wording") not in (*wordings, "withdraw"):
        errors["wording"] = "Choose the recommendation, or withdraw the override in force"
    if not values.get("reason", "").strip():
        errors["reason"] = "Enter the reason for the override: it is shown with it and audited"
    return errors


def effect_text(metric: str | None, yi: float | None, vi: float | None) -> str:
    """An effect in words: "RR 0.67 (95% CI 0.49 to 0.90)"; ratios back from the log."""
    if yi is None or vi is None or not metric:
        return ""
    half = studies.Z_95 * math.sqrt(vi)
    low, high = yi - half, yi + half
    if metric in RATIO_MEASURES:
        yi, low, high = math.exp(yi), math.exp(low), math.exp(high)
    return f"{metric} {number(yi)} (95% CI {number(low)} to {number(high)})"


def result_dict(result: StudyResult) -> dict[str, Any]:
    """A result as stored, with its 95% confidence interval on the analysis scale."""
    ci_low = ci_high = None
    if result.yi is not None and result.vi is not None:
        half = studies.Z_95 * math.sqrt(result.vi)
        ci_low, ci_high = result.yi - half, result.yi + half
    return {
        "id": result.id,
        "outcome": result.outcome,
        "outcome_domain": result.outcome_domain,
        "measure_text": result.measure_text,
        "direction": result.direction,
        "significant": result.significant,
        "is_primary": result.is_primary,
        "metric": result.metric,
        "yi": result.yi,
        "vi": result.vi,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "effect": effect_text(result.metric, result.yi, result.vi),
        "conversion": result.conversion,
        "raw_inputs": result.raw_inputs,
        "reported": result.reported,
        "effect_reported": result.effect_reported,
        "source": result.source,
        "confidence": result.confidence,
        "caveats": result.caveats,
    }


_PROBLEM = re.compile(
    r"^(?P<file>.*?), row (?P<row>\d+)(?:, (?:column|columns) (?P<column>.+?))?: (?P<text>.*)$"
)


def problem(text: str, file_name: str = "") -> dict[str, str]:
    """An import problem split into row, column and what to do (as `studies_csv` writes
    them: "FILE, row N, column 'C': what to do")."""
    found = _PROBLEM.match(text)
    if found is None:
        bare = text.removeprefix(f"{file_name}: ") if file_name else text
        return {"row": "", "column": "", "problem": bare[0].upper() + bare[1:]}
    column = (found.group("column") or "").strip("'")
    what = found.group("text")
    return {"row": found.group("row"), "column": column, "problem": what[0].upper() + what[1:]}
