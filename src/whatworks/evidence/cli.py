"""`whatworks evidence meta`: a meta-analysis of the studies in a CSV file, from the command line.

The effect sizes come from `effects.py` (or are read as given), the pooling from
`synthesis.meta`; the methods are in `docs/methods/meta-analysis.md` and the options in
`docs/cli.md`. Bad input stops with one line naming the file, row and column, and exit
status 1, as every whatworks command does.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.errors import WhatworksError
from whatworks.evidence import effects, tracker
from whatworks.evidence.plots import (
    METHOD_NAMES,
    RATIO_MEASURES,
    default_transform,
    measure_name,
    number,
    study_rows,
)
from whatworks.evidence.synthesis import METHODS, MetaResult, meta

console = Console()
evidence_app = typer.Typer(
    help="The evidence hub: meta-analysis of study results.", no_args_is_help=True
)
FORMATS = ("table", "json")
MEASURES = ("RR", "OR", "RD", "SMD", "MD")
#: The keys of `--format json`, in order (plus "moderators" when moderators are given).
JSON_KEYS = (
    "k", "method", "estimate", "se", "ci_low", "ci_high", "stat", "p", "tau2",
    "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_df", "q_p", "pi_low", "pi_high",
    "egger_p", "trimfill_k0", "trimfill_estimate",
)  # fmt: skip
BAD_INPUT = 1


class MetaInputError(WhatworksError):
    """The CSV file or the options do not describe studies that can be pooled."""


@dataclass(frozen=True)
class Studies:
    """What was read from the file: one effect size, variance and label per study."""

    labels: list[str]
    yi: list[float]
    vi: list[float]
    moderators: dict[str, list[float]]
    measure: str


# ---------------------------------------------------------------------------------------
# reading the file


def _read(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    if not path.is_file():
        raise MetaInputError(f"{path}: no such file; give the path of a CSV file of studies.")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            rows = [
                (reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in row.items()})
                for row in reader
                if any((v or "").strip() for v in row.values())
            ]
    except UnicodeDecodeError:
        raise MetaInputError(f"{path}: is not a UTF-8 text file; save it as CSV (UTF-8).") from None
    except csv.Error as error:
        raise MetaInputError(f"{path}: is not a readable CSV file ({error}).") from None
    if not header:
        raise MetaInputError(f"{path}: is empty; give a header row and one row per study.")
    return header, rows


def _number(path: Path, line: int, row: dict[str, str], column: str) -> float:
    raw = row.get(column, "")
    if raw == "":
        raise MetaInputError(f"{path}: row {line}, column {column}: is empty; give a number.")
    try:
        value = float(raw)
    except ValueError:
        raise MetaInputError(
            f"{path}: row {line}, column {column}: {raw!r} is not a number; give a number "
            "such as 0.25 (a dot for decimals, no units or thousands separators)."
        ) from None
    if not math.isfinite(value):
        raise MetaInputError(f"{path}: row {line}, column {column}: {raw!r} is not finite.")
    return value


def _columns_needed(measure: str | None, given: Mapping[str, str | None]) -> dict[str, str]:
    """Which option names which column, for the chosen input form; checks the options."""

    def chosen(*names: str) -> dict[str, str]:
        missing = [f"--{n.replace('_', '-')}" for n in names if not given.get(n)]
        if missing:
            raise MetaInputError(
                f"--measure {measure} needs the columns {', '.join(missing)}; "
                "see `whatworks evidence meta --help`."
            )
        return {n: str(given[n]) for n in names}

    if measure is None:
        if not (given.get("yi") and given.get("vi")):
            raise MetaInputError(
                "Give --yi and --vi (effect sizes and sampling variances), or --measure with "
                "the columns of raw results; see `whatworks evidence meta --help`."
            )
        return chosen("yi", "vi")
    if given.get("yi") or given.get("vi"):
        raise MetaInputError("Give --yi/--vi or --measure, not both.")
    if measure in ("SMD", "MD"):
        return chosen("m1", "sd1", "n1", "m2", "sd2", "n2")
    if any(given.get(n) for n in ("ai", "bi", "ci", "di")):
        return chosen("ai", "bi", "ci", "di")
    return chosen("events1", "n1", "events2", "n2")


def read_studies(
    path: Path,
    measure: str | None,
    columns: Mapping[str, str | None],
    moderators: list[str],
    label: str | None,
) -> Studies:
    """Each row's effect size and variance (computed from raw results for `measure`)."""
    if measure is not None and measure not in MEASURES:
        raise MetaInputError(f"--measure must be one of {', '.join(MEASURES)}, not {measure!r}.")
    needed = _columns_needed(measure, columns)
    header, rows = _read(path)
    for option, column in [
        *((f"--{o.replace('_', '-')}", c) for o, c in needed.items()),
        *(("--moderator", c) for c in moderators),
        *([("--label", label)] if label else []),
    ]:
        if column not in header:
            raise MetaInputError(
                f"{path}: has no column {column!r} (named by {option}); its columns are "
                f"{', '.join(header)}."
            )
    if not rows:
        raise MetaInputError(
            f"{path}: has no studies (no rows under the header); add one row per study."
        )
    labels: list[str] = []
    yi: list[float] = []
    vi: list[float] = []
    for line, row in rows:
        values = {o: _number(path, line, row, c) for o, c in needed.items() if o != "vi"}
        try:
            effect = _effect(measure, values)
        except ValueError as error:
            raise MetaInputError(
                f"{path}: row {line}: {error} (columns {', '.join(needed.values())})"
            ) from None
        if measure is None:
            vi_value = _number(path, line, row, needed["vi"])
            if vi_value <= 0:
                raise MetaInputError(
                    f"{path}: row {line}, column {needed['vi']}: {vi_value:g} is not a sampling "
                    "variance; it must be greater than 0 (the standard error squared)."
                )
            effect = effects.Effect(effect.yi, vi_value, "GEN")
        labels.append(row[label] if label and row.get(label) else f"Study {len(labels) + 1}")
        yi.append(effect.yi)
        vi.append(effect.vi)
    moderator_values = {
        column: [_number(path, line, row, column) for line, row in rows] for column in moderators
    }
    return Studies(labels, yi, vi, moderator_values, measure or "GEN")


def _effect(measure: str | None, values: dict[str, float]) -> effects.Effect:
    if measure is None:
        return effects.Effect(values["yi"], 1.0, "GEN")
    if measure in ("SMD", "MD"):
        return effects.from_means(
            values["m1"], values["sd1"], values["n1"], values["m2"], values["sd2"], values["n2"],
            measure="SMD" if measure == "SMD" else "MD",
        )  # fmt: skip
    count_measure = cast(effects.CountMeasure, measure)
    if "ai" in values:
        return effects.from_counts(
            count_measure, values["ai"], values["bi"], values["ci"], values["di"]
        )
    for events, size in (("events1", "n1"), ("events2", "n2")):
        if values[events] > values[size]:
            raise ValueError(
                f"{events} = {values[events]:g} is more than {size} = {values[size]:g}"
            )
    return effects.from_counts(
        count_measure,
        values["events1"],
        values["n1"] - values["events1"],
        values["events2"],
        values["n2"] - values["events2"],
    )


# ---------------------------------------------------------------------------------------
# output


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities (a zero standard error) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_json(result: MetaResult) -> dict[str, Any]:
    """The documented JSON keys of a result; `moderators` only with moderators."""
    everything = result.as_dict()
    shown = {key: _plain(everything[key]) for key in JSON_KEYS}
    if result.coefficients:
        shown["moderators"] = {
            "coefficients": [
                {key: _plain(value) for key, value in c.items()} for c in everything["coefficients"]
            ],
            "qm": _plain(result.qm),
            "qm_df": result.qm_df,
            "qm_df2": result.qm_df2,
            "qm_p": _plain(result.qm_p),
            "r2": _plain(result.r2),
        }
    return shown


def in_words(result: MetaResult, measure: str) -> str:
    """The pooled estimate as a sentence, back-transformed for ratio measures."""
    level = f"{100 * result.level:g}%"
    transform = default_transform(measure)
    estimate, low, high = (transform(v) for v in (result.estimate, result.ci_low, result.ci_high))
    null = 1.0 if measure in RATIO_MEASURES else 0.0
    span = f"({level} CI {number(low)} to {number(high)})"
    if measure in RATIO_MEASURES:
        what = "risk" if measure == "RR" else "odds"
        change = abs(1 - estimate) * 100
        direction = "lower" if estimate < 1 else "higher"
        sentence = (
            f"Pooled {measure_name(measure).lower()} {number(estimate)} {span}: the {what} of "
            f"the outcome was {change:.0f}% {direction} in group 1 than in group 2."
        )
    elif measure == "RD":
        sentence = (
            f"Pooled risk difference {number(estimate, 3)} {span}: "
            f"{abs(estimate) * 100:.1f} percentage points {'lower' if estimate < 0 else 'higher'}"
            " in group 1 than in group 2."
        )
    elif measure == "SMD":
        sentence = (
            f"Pooled standardised mean difference (Hedges' g) {number(estimate)} {span}: group 1 "
            f"was {abs(estimate):.2f} standard deviations {'below' if estimate < 0 else 'above'} "
            "group 2."
        )
    else:
        sentence = f"Pooled {measure_name(measure).lower()} {number(estimate)} {span}."
    if low <= null <= high:
        sentence += f" The interval includes no effect ({null:g})."
    return sentence


def _value(value: float | int | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def print_result(result: MetaResult, studies: Studies) -> None:
    """A summary table, the studies table and the estimate in words."""
    method = METHOD_NAMES.get(result.method, result.method)
    if result.knha:
        method += ", Knapp-Hartung"
    scale = f"log {measure_name(studies.measure).lower()}"
    scale = scale if studies.measure in RATIO_MEASURES else measure_name(studies.measure).lower()
    transform = default_transform(studies.measure)
    rows_of = study_rows(studies.labels, studies.yi, studies.vi, result, transform)
    level = f"{100 * result.level:g}%"
    table = Table(title=f"Studies ({measure_name(studies.measure).lower()})")
    for column in ("study", "estimate", f"{level} CI", "weight"):
        table.add_column(column, justify="left" if column == "study" else "right")
    for row in rows_of:
        table.add_row(
            row.label,
            number(row.estimate),
            f"{number(row.ci_low)} to {number(row.ci_high)}",
            f"{row.weight:.1f}%",
        )
    if not result.coefficients:
        table.add_row(
            "Pooled",
            number(transform(result.estimate)),
            f"{number(transform(result.ci_low))} to {number(transform(result.ci_high))}",
            "100%",
            style="bold",
        )
    console.print(table)

    summary = Table(title=f"Meta-analysis of {result.k} studies ({method}; {scale} scale)")
    summary.add_column("quantity")
    summary.add_column("value", justify="right")
    stat_name = f"t ({result.df} df)" if result.df is not None else "z"
    first = "intercept" if result.coefficients else "estimate"
    lines = [
        (first, _value(result.estimate)),
        ("standard error", _value(result.se)),
        (f"{level} CI", f"{_value(result.ci_low)} to {_value(result.ci_high)}"),
        (stat_name, _value(result.stat)),
        ("p", _p(result.p)),
        ("tau²", _value(result.tau2)),
        ("tau² CI", f"{_value(result.tau2_ci_low)} to {_value(result.tau2_ci_high)}"),
        ("I² (%)", _value(result.i2, 2)),
        ("H²", _value(result.h2, 2)),
        (f"Q ({_value(result.q_df)} df)", _value(result.q)),
        ("p (Q)", _p(result.q_p)),
        ("prediction interval", f"{_value(result.pi_low)} to {_value(result.pi_high)}"),
        ("Egger's test p", _p(result.egger_p)),
        ("trim and fill: missing studies", _value(result.trimfill_k0)),
        ("trim and fill: estimate", _value(result.trimfill_estimate)),
    ]
    for name, shown in lines:
        summary.add_row(name, shown)
    console.print(summary)
    if result.coefficients:
        coefficients = Table(title="Moderators (meta-regression)")
        for column in ("coefficient", "estimate", "se", stat_name, "p", f"{level} CI"):
            coefficients.add_column(column, justify="left" if column == "coefficient" else "right")
        for c in result.coefficients:
            coefficients.add_row(
                c.name,
                _value(c.estimate),
                _value(c.se),
                _value(c.stat),
                _p(c.p),
                f"{_value(c.ci_low)} to {_value(c.ci_high)}",
            )
        console.print(coefficients)
        console.print(
            f"Test of moderators: {_value(result.qm)} on {result.qm_df} df, p {_p(result.qm_p)}."
            " The intercept is the predicted effect when every moderator is 0."
        )
    else:
        console.print(in_words(result, studies.measure))


# ---------------------------------------------------------------------------------------
# commands


@evidence_app.command("meta")
def meta_command(
    path: Path = typer.Argument(..., help="CSV file: a header row, then one row per study."),
    yi: str | None = typer.Option(None, "--yi", help="Column of effect sizes (with --vi)."),
    vi: str | None = typer.Option(None, "--vi", help="Column of sampling variances (SE squared)."),
    measure: str | None = typer.Option(
        None, "--measure", help="Compute effect sizes from raw columns: RR, OR, RD, SMD or MD."
    ),
    ai: str | None = typer.Option(None, "--ai", help="2x2: column of events in group 1."),
    bi: str | None = typer.Option(None, "--bi", help="2x2: column of non-events in group 1."),
    ci: str | None = typer.Option(None, "--ci", help="2x2: column of events in group 2."),
    di: str | None = typer.Option(None, "--di", help="2x2: column of non-events in group 2."),
    events1: str | None = typer.Option(None, "--events1", help="Column of events in group 1."),
    events2: str | None = typer.Option(None, "--events2", help="Column of events in group 2."),
    n1: str | None = typer.Option(None, "--n1", help="Column of group 1's size."),
    n2: str | None = typer.Option(None, "--n2", help="Column of group 2's size."),
    m1: str | None = typer.Option(None, "--m1", help="SMD/MD: column of group 1's mean."),
    sd1: str | None = typer.Option(None, "--sd1", help="SMD/MD: column of group 1's SD."),
    m2: str | None = typer.Option(None, "--m2", help="SMD/MD: column of group 2's mean."),
    sd2: str | None = typer.Option(None, "--sd2", help="SMD/MD: column of group 2's SD."),
    method: str = typer.Option("REML", "--method", help="FE, DL, HE, PM or REML."),
    knha: bool = typer.Option(False, "--knha", help="Knapp-Hartung tests and intervals."),
    moderator: list[str] = typer.Option(
        [], "--moderator", help="Column of a numeric moderator (repeat for more)."
    ),
    label: str | None = typer.Option(None, "--label", help="Column of study names."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Pool the studies in a CSV file (random effects by REML unless --method says)."""
    try:
        if output not in FORMATS:
            raise MetaInputError(f"--format must be table or json, not {output!r}.")
        chosen_method = method.upper()
        if chosen_method not in METHODS:
            raise MetaInputError(f"--method must be one of {', '.join(METHODS)}, not {method!r}.")
        columns = {
            "yi": yi, "vi": vi, "ai": ai, "bi": bi, "ci": ci, "di": di, "events1": events1,
            "events2": events2, "n1": n1, "n2": n2, "m1": m1, "sd1": sd1, "m2": m2, "sd2": sd2,
        }  # fmt: skip
        studies = read_studies(
            path, measure.upper() if measure else None, columns, moderator, label
        )
        try:
            result = meta(
                studies.yi,
                studies.vi,
                method=chosen_method,  # type: ignore[arg-type]
                knha=knha,
                moderators=studies.moderators or None,
            )
        except (ValueError, ArithmeticError) as error:
            raise MetaInputError(f"{path}: {error}") from None
    except MetaInputError as error:
        typer.secho("Error: ", fg=typer.colors.RED, err=True, nl=False)
        typer.echo(str(error), err=True)
        raise typer.Exit(BAD_INPUT) from None
    if output == "json":
        typer.echo(json.dumps(result_json(result), indent=2))
    else:
        print_result(result, studies)


def _outcome_flags(outcomes: dict[str, Any] | None) -> str:
    if not outcomes:
        return "-"
    flags = ["switched"] if outcomes["switched"] else []
    flags += [f"dropped {n}" for n in outcomes["dropped"]]
    flags += [f"added {n}" for n in outcomes["added"]]
    return "; ".join(flags) or "as registered"


@evidence_app.command("tracker")
def tracker_command(
    as_at: str | None = typer.Option(
        None, "--as-at", help="Where each registration stood on this date (YYYY-MM-DD)."
    ),
    status: str | None = typer.Option(
        None, "--status", help="Only: ongoing, overdue, reported or 'reported late'."
    ),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """The learning-from-failure tracker: each registered evaluation's status, outcome
    switching, and reporting rates by organisation and funder (from the store)."""
    from whatworks.store import session_factory, settings, upgrade_store

    try:
        if output not in FORMATS:
            raise WhatworksError(f"--format must be table or json, not {output!r}.")
        if status is not None and status not in tracker.STATUSES:
            raise WhatworksError(
                f"--status must be one of {', '.join(tracker.STATUSES)}, not {status!r}."
            )
        try:
            day = date.fromisoformat(as_at) if as_at else date.today()
        except ValueError:
            raise WhatworksError(f"--as-at {as_at!r} is not a date written YYYY-MM-DD.") from None
    except WhatworksError as error:
        typer.secho("Error: ", fg=typer.colors.RED, err=True, nl=False)
        typer.echo(str(error), err=True)
        raise typer.Exit(BAD_INPUT) from None
    chosen = settings()
    upgrade_store(chosen)
    with session_factory(chosen)() as session:
        report = tracker.report(session, day, cast(tracker.Status | None, status))
    if output == "json":
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"Registered evaluations as at {day.isoformat()}")
    for column in ("id", "evaluation", "organisation", "results due", "status", "outcomes"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for item in report["registrations"]:
        shown = item["status"]
        if item["days_overdue"]:
            shown += f" ({item['days_overdue']} days)"
        table.add_row(
            str(item["registration_id"]),
            item["title"],
            item["organisation"] or "-",
            item["due"],
            shown,
            _outcome_flags(item["outcomes"]),
        )
    console.print(table)
    for by, rates in report["reporting_rates"].items():
        summary = Table(title=f"Reporting rates by {by}")
        for column in (by, "registrations", "due", "reported", "on time", "overdue", "rate"):
            summary.add_column(column, justify="left" if column == by else "right")
        for rate in rates:
            summary.add_row(
                rate["group"],
                str(rate["registrations"]),
                str(rate["due"]),
                str(rate["reported"]),
                str(rate["reported_on_time"]),
                str(rate["overdue"]),
                "-" if rate["rate"] is None else f"{100 * rate['rate']:.0f}%",
            )
        console.print(summary)
