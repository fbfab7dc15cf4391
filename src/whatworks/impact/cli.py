"""`whatworks impact did` and `whatworks impact synth`: impact estimates from a panel CSV.

The estimators are `did.staggered_did` and `synth.synthetic_control` (methods in
`docs/methods/difference-in-differences.md` and `docs/methods/synthetic-control.md`); the
options are in `docs/cli.md`. A bad panel (duplicated unit-period rows, a missing outcome,
nothing to compare with) stops with one line naming the rows (data rows counted from 1,
header excluded) and exit status 1, as every whatworks command does.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from whatworks.core.errors import WhatworksError
from whatworks.impact.did import DEFAULT_SEED, DidResult, staggered_did
from whatworks.impact.panel import Panel, PanelProblem
from whatworks.impact.synth import SyntheticControlResult, synthetic_control

console = Console()
impact_app = typer.Typer(
    help="Impact estimates: staggered difference-in-differences and synthetic control.",
    no_args_is_help=True,
)
FORMATS = ("table", "json")
CONTROLS = ("never", "notyet")
BAD_INPUT = 1
#: The keys of `impact did --format json`, in order.
DID_KEYS = (
    "att", "se", "ci_low", "ci_high", "p", "pretrend_p", "event_study", "group_time",
    "inference", "seed", "warnings",
)  # fmt: skip
#: The keys of `impact synth --format json`, in order.
SYNTH_KEYS = ("weights", "effects", "post_mean_effect", "pre_rmspe", "placebo_p", "warnings")


class PanelFileError(WhatworksError):
    """The panel file or the options cannot give an estimate; the message is one line."""


def read_panel(path: Path) -> pd.DataFrame:
    """Every cell of a CSV panel as text (blank cells as ""), or PanelFileError."""
    if not path.is_file():
        raise PanelFileError(f"{path}: no such file; give the path of a CSV panel.")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PanelFileError(f"{path}: is not a UTF-8 text file; save it as CSV (UTF-8).") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise PanelFileError(f"{path}: is not a readable CSV file ({error}).") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def one_line(error: Exception) -> str:
    """A panel's problems joined on one line (PanelProblem lists them one per line)."""
    if isinstance(error, PanelProblem):
        return (
            "the panel cannot be used: "
            + "; ".join(error.problems[:10])
            + (f"; ... and {len(error.problems) - 10} more" if len(error.problems) > 10 else "")
            + " (rows are data rows counted from 1, header excluded)"
        )
    return " ".join(str(error).split())


def plain(value: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become null, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def did_json(result: DidResult) -> dict[str, Any]:
    """The `impact did --format json` shape (see `DID_KEYS`)."""
    full = result.as_dict()
    out = {key: full[key] for key in DID_KEYS if key in full}
    out["inference"] = result.method["inference_kind"]
    return {key: plain(out[key]) for key in DID_KEYS}


def synth_json(result: SyntheticControlResult) -> dict[str, Any]:
    """The `impact synth --format json` shape (see `SYNTH_KEYS`)."""
    full = result.as_dict()
    return {key: plain(full[key]) for key in SYNTH_KEYS}


def _check_columns(frame: pd.DataFrame, path: Path, **columns: str) -> None:
    missing = [f"--{k.replace('_', '-')} {v!r}" for k, v in columns.items() if v not in frame]
    if missing:
        raise PanelFileError(
            f"{path}: no column {', '.join(missing)}; the columns are "
            f"{', '.join(map(str, frame.columns)) or 'none'}."
        )


def _rows(positions: list[int]) -> str:
    shown = [str(p + 1) for p in positions[:8]]
    more = f" ... ({len(positions) - 8} more)" if len(positions) > 8 else ""
    return ("row " if len(positions) == 1 else "rows ") + ", ".join(shown) + more


def synth_frame(
    frame: pd.DataFrame, path: Path, unit: str, time: str, outcome: str
) -> pd.DataFrame:
    """The panel with numeric times and outcomes; problems name the rows, on one line."""
    _check_columns(frame, path, unit=unit, time=time, outcome=outcome)
    if frame.empty:
        raise PanelFileError(f"{path}: the panel has no rows; give one row per unit and period.")
    problems = []
    units = frame[unit].str.strip()
    times = pd.to_numeric(frame[time], errors="coerce")
    values = pd.to_numeric(frame[outcome], errors="coerce")
    for label, bad in (
        (f"{unit!r} (the unit) is empty", units.eq("")),
        (f"{time!r} (the period) is not a number", times.isna()),
        ("missing outcome", frame[outcome].str.strip().eq("")),
        (f"{outcome!r} (the outcome) is not a number", values.isna() & frame[outcome].ne("")),
    ):
        if bad.any():
            problems.append(f"{_rows(list(np.flatnonzero(bad)))}: {label}")
    keys = pd.DataFrame({"unit": units, "time": times})
    for (u, t), group in keys[keys.duplicated(keep=False)].groupby(["unit", "time"]):
        problems.append(
            f"{_rows(list(group.index))}: unit {u!r} has more than one row for period {t:g} "
            "(keep one row per unit and period)"
        )
    if problems:
        raise PanelFileError(
            f"{path}: the panel cannot be used: {'; '.join(problems)} "
            "(rows are data rows counted from 1, header excluded)"
        )
    whole = bool((times == np.round(times)).all())
    return pd.DataFrame(
        {
            unit: units,
            time: times.astype(int) if whole else times,
            outcome: values,
        }
    )


def _fail(error: Exception, path: Path) -> typer.Exit:
    typer.secho("Error: ", fg=typer.colors.RED, err=True, nl=False)
    text = one_line(error)
    typer.echo(text if text.startswith(str(path)) else f"{path}: {text}", err=True)
    return typer.Exit(BAD_INPUT)


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


@impact_app.command("did")
def did_command(
    path: Path = typer.Argument(
        ..., help="CSV panel: a header row, then one row per unit and period."
    ),
    unit: str = typer.Option(..., "--unit", help="Column naming the unit (council)."),
    time: str = typer.Option(
        ..., "--time", help="Column of the period (a whole number, e.g. the year)."
    ),
    outcome: str = typer.Option(..., "--outcome", help="Column of the outcome."),
    first_treated: str = typer.Option(
        ..., "--first-treated", help="Column of the period each unit adopted; 0 or empty: never."
    ),
    control: str = typer.Option("never", "--control", help="Comparison units: never or notyet."),
    output: str = typer.Option("table", "--format", help="table or json."),
    seed: int = typer.Option(
        DEFAULT_SEED, "--seed", help="Seed of the bootstrap and permutations."
    ),
) -> None:
    """Staggered difference-in-differences (Callaway & Sant'Anna) on a panel CSV."""
    try:
        if output not in FORMATS:
            raise PanelFileError(f"--format must be table or json, not {output!r}.")
        if control not in CONTROLS:
            raise PanelFileError(f"--control must be never or notyet, not {control!r}.")
        frame = read_panel(path)
        _check_columns(
            frame, path, unit=unit, time=time, outcome=outcome, first_treated=first_treated
        )
        panel = Panel.from_frame(
            frame, unit=unit, time=time, outcome=outcome, first_treated=first_treated
        )
        result = staggered_did(panel, control=control, seed=seed)  # type: ignore[arg-type]
    except (WhatworksError, ValueError) as error:
        raise _fail(error, path) from None
    if output == "json":
        typer.echo(json.dumps(did_json(result), indent=2))
        return
    print_did(result)


def print_did(result: DidResult) -> None:
    """The headline, the event study and the warnings as tables."""
    method = result.method
    summary = Table(title="Staggered difference-in-differences (Callaway & Sant'Anna)")
    summary.add_column("")
    summary.add_column("value", justify="right")
    for label, value in (
        ("average effect on adopters (ATT)", _number(result.att)),
        ("standard error", _number(result.se)),
        ("95% interval", f"{_number(result.ci_low)} to {_number(result.ci_high)}"),
        ("p", _number(result.p)),
        ("pre-trend test p", _number(result.pretrend_p)),
        ("units (adopting)", f"{method['n_units']} ({method['n_treated_units']})"),
        ("comparison", method["control"]),
        ("inference", method["inference_kind"]),
        ("seed", str(result.seed)),
    ):
        summary.add_row(label, value)
    console.print(summary)
    events = Table(title="By periods since adoption (event study)")
    for column in ("e", "ATT", "SE"):
        events.add_column(column, justify="right")
    for item in result.event_study:
        events.add_row(str(item.e), _number(item.att), _number(item.se))
    console.print(events)
    if result.twfe is not None:
        console.print(
            f"Two-way fixed effects, for comparison only: {_number(result.twfe.att)} "
            f"(SE {_number(result.twfe.se)})."
        )
    for warning in result.warnings:
        console.print(f"Warning: {warning}")


@impact_app.command("synth")
def synth_command(
    path: Path = typer.Argument(
        ..., help="CSV panel: a header row, then one row per unit and period."
    ),
    unit: str = typer.Option(..., "--unit", help="Column naming the unit (council)."),
    time: str = typer.Option(..., "--time", help="Column of the period (e.g. the year)."),
    outcome: str = typer.Option(..., "--outcome", help="Column of the outcome."),
    treated: str = typer.Option(..., "--treated", help="The adopting unit, as in the unit column."),
    start: float = typer.Option(..., "--start", help="The first period of the adoption."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Synthetic control for one adopting unit, with placebo-in-space inference."""
    try:
        if output not in FORMATS:
            raise PanelFileError(f"--format must be table or json, not {output!r}.")
        frame = synth_frame(read_panel(path), path, unit, time, outcome)
        begin: float | int = int(start) if float(start).is_integer() else start
        result = synthetic_control(
            frame, treated=treated.strip(), start=begin, unit=unit, time=time, outcome=outcome
        )
    except (WhatworksError, ValueError) as error:
        raise _fail(error, path) from None
    if output == "json":
        typer.echo(json.dumps(synth_json(result), indent=2))
        return
    print_synth(result)


def print_synth(result: SyntheticControlResult) -> None:
    """Weights, the effect path, fit and placebo p as tables."""
    weights = Table(title=f"Synthetic {result.treated}: donor weights")
    weights.add_column("donor")
    weights.add_column("weight", justify="right")
    for donor, weight in sorted(result.weights.items(), key=lambda kv: -kv[1]):
        if weight >= 0.001:
            weights.add_row(str(donor), f"{weight:.3f}")
    console.print(weights)
    path = Table(title="Effect (adopter minus synthetic control)")
    path.add_column("period", justify="right")
    path.add_column("effect", justify="right")
    path.add_column("", justify="left")
    for item in result.effects:
        after = item["time"] >= result.start
        path.add_row(str(item["time"]), _number(item["effect"]), "after" if after else "before")
    console.print(path)
    console.print(
        f"Mean effect after the start: {_number(result.post_mean_effect)}; pre-period RMSPE "
        f"{_number(result.pre_rmspe)}; placebo p {_number(result.placebo_p, 3)} "
        f"(rank {result.placebo_rank} of {result.placebo_count + 1})."
    )
    for warning in result.warnings:
        console.print(f"Warning: {warning}")
