"""The evaluation plan form: a registered plan shown as lines of text, the form's values
for a new or stored plan, and what the form sends read into an `EvaluationPlan` with a
GOV.UK error for each problem (the same fields for registering and amending)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from whatworks.evidence.forms import Errors, date_parts, form_text, long_date, read_date
from whatworks.evidence.registrations import Checkpoint, EvaluationPlan, OutcomeMeasure

#: The Maryland Scientific Methods Scale, as the form explains each level.
MARYLAND = {
    1: "Correlation at one point in time, with no comparison group",
    2: "Before and after, or a comparison group without controls for differences",
    3: "A justified comparison group with controls (for example difference in differences)",
    4: "Comparison with strong controls or quasi-random variation",
    5: "Random assignment (a randomised controlled trial)",
}
PLAN_LABELS = {
    "title": "Title",
    "questions": "Questions",
    "primary_outcomes": "Primary outcomes",
    "secondary_outcomes": "Secondary outcomes",
    "design": "Design",
    "maryland_level": "Maryland level",
    "planned_sample": "Planned sample",
    "minimum_detectable_effect": "Minimum detectable effect",
    "analysis_plan": "Analysis plan",
    "success_criteria": "Success criteria",
    "checkpoints": "Review checkpoints and stop rules",
    "planned_completion": "Planned completion",
    "planned_report": "Planned report",
}
#: Text fields of the plan form.
PLAN_TEXT = (
    "title", "questions", "design", "maryland_level", "planned_sample",
    "minimum_detectable_effect", "analysis_plan", "success_criteria",
)  # fmt: skip
#: Empty rows the plan form offers for outcomes and checkpoints.
MIN_ROWS = 3


def shown(field: str, value: Any) -> list[str]:
    """A plan field's value as lines of text for a page."""
    if field in ("primary_outcomes", "secondary_outcomes"):
        return [f"{o['name']}, measured by {o['measure']}" for o in value] or ["None"]
    if field == "checkpoints":
        return [
            f"{long_date(c['on'])}: {c['question']}. Stop rule: {c['stop_rule']}" for c in value
        ] or ["None"]
    if field == "questions":
        return list(value) or ["None"]
    if field in ("planned_completion", "planned_report"):
        return [long_date(value)]
    if field == "maryland_level":
        return [f"Level {value}: {MARYLAND.get(value, '')}"]
    if value in (None, ""):
        return ["Not given"]
    return [str(value)]


def plan_values(plan: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the plan form shows: empty, or a stored plan's content to amend."""
    plan = plan or {}

    def rows(items: list[dict[str, str]]) -> list[dict[str, str]]:
        return list(items) + [{}] * max(MIN_ROWS - len(items), 1)

    checkpoints = [
        {**c, "on": date_parts(date.fromisoformat(c["on"]))} for c in plan.get("checkpoints", [])
    ]
    return {
        **{k: plan.get(k, "") for k in PLAN_LABELS if k not in ("questions",)},
        "questions": "\n".join(plan.get("questions", [])),
        "planned_sample": plan.get("planned_sample") or "",
        "primary_outcomes": rows(plan.get("primary_outcomes", [])),
        "secondary_outcomes": rows(plan.get("secondary_outcomes", [])),
        "checkpoints": checkpoints
        + [{"on": date_parts(None)}] * max(MIN_ROWS - len(checkpoints), 1),
        "planned_completion": date_parts(
            date.fromisoformat(plan["planned_completion"]) if plan else None
        ),
        "planned_report": date_parts(date.fromisoformat(plan["planned_report"]) if plan else None),
    }


def _read_outcomes(form: FormData, kind: str) -> list[dict[str, str]]:
    found = []
    n = 0
    while f"{kind}-{n}-name" in form:
        found.append({p: str(form.get(f"{kind}-{n}-{p}", "")).strip() for p in ("name", "measure")})
        n += 1
    return found


def _problem_field(problem: str, checkpoint_rows: list[int]) -> str:
    """The form field a plan problem (EvaluationPlan.problems) is about."""
    text = problem.casefold()
    numbered = re.search(r"checkpoint (\d+)", text)
    if numbered:
        n = int(numbered.group(1)) - 1
        return f"checkpoint-{checkpoint_rows[n] if n < len(checkpoint_rows) else 0}-question"
    for words, field in (
        ("secondary", "secondary_outcomes-0-name"),
        ("primary", "primary_outcomes-0-name"),
        ("question", "questions"),
        ("title", "title"),
        ("design", "design"),
        ("maryland", "maryland_level"),
        ("sample", "planned_sample"),
        ("report date", "planned_report-day"),
    ):
        if words in text:
            return field
    return "title"


#: The plan form's fields, top to bottom: the error summary lists errors in this order.
FORM_ORDER = (
    "project_id", "reason", "title", "questions", "primary_outcomes", "secondary_outcomes",
    "design", "maryland_level", "planned_sample", "checkpoint", "planned_completion",
    "planned_report",
)  # fmt: skip


def _form_order(field: str) -> tuple[int, str]:
    for n, prefix in enumerate(FORM_ORDER):
        if field.startswith(prefix):
            return n, field
    return len(FORM_ORDER), field


def read_plan(form: FormData) -> tuple[dict[str, Any], EvaluationPlan | None, Errors]:
    """The plan a form describes, with what the form showed and every problem found."""
    errors: Errors = []
    values: dict[str, Any] = form_text(form, PLAN_TEXT)
    values["primary_outcomes"] = _read_outcomes(form, "primary_outcomes")
    values["secondary_outcomes"] = _read_outcomes(form, "secondary_outcomes")
    level = int(values["maryland_level"]) if values["maryland_level"].isdigit() else None
    if level not in MARYLAND:
        errors.append(("maryland_level", "Choose the design's Maryland level, from 1 to 5"))
    sample: int | None = None
    if values["planned_sample"]:
        if values["planned_sample"].replace(",", "").isdigit():
            sample = int(values["planned_sample"].replace(",", ""))
        else:
            errors.append(("planned_sample", "The planned sample must be a whole number, like 600"))
    checkpoints: list[Checkpoint] = []
    checkpoint_rows: list[int] = []
    values["checkpoints"] = []
    n = 0
    while f"checkpoint-{n}-question" in form:
        row: dict[str, Any] = {
            p: str(form.get(f"checkpoint-{n}-{p}", "")).strip() for p in ("question", "stop_rule")
        }
        blank = not any(row.values()) and not any(
            str(form.get(f"checkpoint-{n}-on-{p}", "")).strip() for p in ("day", "month", "year")
        )
        on, row["on"] = read_date(
            form, f"checkpoint-{n}-on", f"the date of checkpoint {n + 1}", errors, not blank
        )
        values["checkpoints"].append(row)
        if not blank and on is not None:
            checkpoints.append(Checkpoint(on, row["question"], row["stop_rule"]))
            checkpoint_rows.append(n)
        n += 1
    completion, values["planned_completion"] = read_date(
        form, "planned_completion", "the planned completion date", errors
    )
    report, values["planned_report"] = read_date(
        form, "planned_report", "the planned report date", errors
    )
    plan = EvaluationPlan(
        title=values["title"],
        questions=tuple(q.strip() for q in values["questions"].splitlines() if q.strip()),
        primary_outcomes=tuple(
            OutcomeMeasure(o["name"], o["measure"])
            for o in values["primary_outcomes"]
            if o["name"] or o["measure"]
        ),
        secondary_outcomes=tuple(
            OutcomeMeasure(o["name"], o["measure"])
            for o in values["secondary_outcomes"]
            if o["name"] or o["measure"]
        ),
        design=values["design"],
        maryland_level=level or 1,  # placeholders where the form could not be read,
        planned_sample=sample,
        minimum_detectable_effect=values["minimum_detectable_effect"],
        analysis_plan=values["analysis_plan"],
        success_criteria=values["success_criteria"],
        checkpoints=tuple(checkpoints),
        planned_completion=completion or report or date.min,  # so that every other
        planned_report=report or completion or date.min,  # problem is shown at once
    )
    for problem in plan.problems():
        errors.append((_problem_field(problem, checkpoint_rows), problem[0].upper() + problem[1:]))
    errors.sort(key=lambda error: _form_order(error[0]))
    return values, (None if errors else plan), errors
