"""A validated council x period outcome panel with adoption dates, for impact estimates.

Built from rows or a DataFrame; every problem found is reported at once, naming the rows
(data rows counted from 1, header excluded) and what to do. The maths that uses it is in
`docs/methods/difference-in-differences.md`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from whatworks.core.errors import WhatworksError

NEVER = -1  # cohort index of a unit never treated within the panel's periods


class PanelProblem(WhatworksError, ValueError):
    """A panel cannot be used for an impact estimate; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {problem}" for problem in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"The panel cannot be used for an impact estimate.\n{shown}{more}\n"
            "Rows are data rows counted from 1 (header excluded). Correct them and try again."
        )


def _rows(positions: Iterable[int], limit: int = 8) -> str:
    """'rows 3, 7 and 9' for 0-based positions, shortened after `limit`."""
    numbers = [str(p + 1) for p in sorted(positions)]
    if len(numbers) > limit:
        numbers = [*numbers[:limit], f"... ({len(numbers) - limit} more)"]
    word = "row" if len(numbers) == 1 else "rows"
    return f"{word} {', '.join(numbers)}"


def _numeric(series: pd.Series) -> pd.Series:
    """Numbers as float; anything that is not a number becomes NaN."""
    return pd.to_numeric(series, errors="coerce").astype(float)


def _blank(series: pd.Series) -> pd.Series:
    """True where a cell is empty: missing, or only spaces."""
    as_text = series.astype("string").str.strip()
    return series.isna() | as_text.eq("").fillna(True)


@dataclass(frozen=True)
class Panel:
    """Units x periods outcomes (NaN where a unit was not observed) and each unit's cohort.

    `cohort[i]` is the index into `times` of the period unit i was first treated, or
    `NEVER`. Units first treated after the last period count as never treated here.
    """

    units: tuple[Any, ...]
    times: tuple[float, ...]
    outcome: np.ndarray
    cohort: np.ndarray
    covariates: Mapping[str, np.ndarray] = field(default_factory=dict)
    outcome_name: str = "outcome"
    notes: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.outcome)

    @property
    def is_balanced(self) -> bool:
        return bool(self.observed.all())

    @property
    def treated(self) -> np.ndarray:
        """True for units treated within the panel's periods."""
        return self.cohort != NEVER

    def cohort_sizes(self) -> dict[float, int]:
        """Number of units per adoption period, earliest first."""
        indices, counts = np.unique(self.cohort[self.treated], return_counts=True)
        return {self.times[int(i)]: int(c) for i, c in zip(indices, counts, strict=True)}

    def treatment(self) -> np.ndarray:
        """Units x periods indicator: 1 from the unit's adoption period on."""
        periods = np.arange(len(self.times))
        return (
            (self.cohort[:, None] != NEVER) & (periods[None, :] >= self.cohort[:, None])
        ).astype(float)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, Any]],
        *,
        unit: str,
        time: str,
        outcome: str,
        first_treated: str,
        covariates: Sequence[str] = (),
        treated: str | None = None,
        min_pre_periods: int = 1,
    ) -> Panel:
        """Validate rows (one per unit and period) into a panel; see `from_frame`."""
        return cls.from_frame(
            pd.DataFrame(list(rows)),
            unit=unit,
            time=time,
            outcome=outcome,
            first_treated=first_treated,
            covariates=covariates,
            treated=treated,
            min_pre_periods=min_pre_periods,
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        unit: str,
        time: str,
        outcome: str,
        first_treated: str,
        covariates: Sequence[str] = (),
        treated: str | None = None,
        min_pre_periods: int = 1,
    ) -> Panel:
        """Validate a long table into a panel, or raise `PanelProblem` listing every problem.

        `first_treated` is the period a unit adopted; 0 or empty means never treated.
        `treated`, if given, is a 0/1 column checked against `first_treated` (adoption
        cannot be undone). Each adopting cohort needs `min_pre_periods` periods before it.
        """
        frame = frame.reset_index(drop=True)
        wanted = [unit, time, outcome, first_treated, *covariates] + ([treated] if treated else [])
        missing = [name for name in wanted if name not in frame.columns]
        if missing:
            raise PanelProblem(
                [
                    f"column {name!r} is not in the panel (columns: "
                    f"{', '.join(map(str, frame.columns))})"
                    for name in missing
                ]
            )
        if frame.empty:
            raise PanelProblem(["the panel has no rows"])
        problems = _cell_problems(frame, unit, time, outcome, first_treated, covariates)
        if problems:
            raise PanelProblem(problems)

        times_col = _numeric(frame[time])
        starts = _numeric(frame[first_treated]).fillna(0.0)
        problems += _structure_problems(frame, unit, times_col, starts, treated)
        if problems:
            raise PanelProblem(problems)
        return _assemble(frame, unit, times_col, starts, outcome, covariates, min_pre_periods)


def _cell_problems(
    frame: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    covariates: Sequence[str],
) -> list[str]:
    """Empty or non-numeric cells, each named with its rows."""
    problems: list[str] = []
    blank_unit = _blank(frame[unit])
    if blank_unit.any():
        problems.append(f"{_rows(np.flatnonzero(blank_unit))}: {unit!r} (the unit) is empty")
    for name, label, may_be_blank in [
        (time, "the period", False),
        (outcome, "the outcome", False),
        (first_treated, "the first treated period", True),
        *[(c, "a covariate", False) for c in covariates],
    ]:
        blank = _blank(frame[name])
        bad = _numeric(frame[name]).isna() & ~blank
        if blank.any() and not may_be_blank:
            what = "missing outcome" if name == outcome else f"{name!r} ({label}) is empty"
            problems.append(f"{_rows(np.flatnonzero(blank))}: {what}")
        if bad.any():
            examples = ", ".join(repr(v) for v in frame.loc[bad, name].astype(str).unique()[:3])
            problems.append(
                f"{_rows(np.flatnonzero(bad))}: {name!r} ({label}) is not a number ({examples})"
            )
    times = _numeric(frame[time])
    fractional = times.notna() & (times != np.round(times))
    if fractional.any():
        problems.append(
            f"{_rows(np.flatnonzero(fractional))}: {time!r} must be a whole period number "
            "(a year, or a month counted as year*12+month)"
        )
    return problems


def _structure_problems(
    frame: pd.DataFrame,
    unit: str,
    times: pd.Series,
    starts: pd.Series,
    treated: str | None,
) -> list[str]:
    """Duplicated unit-periods, adoption that varies or switches off, impossible dates."""
    problems: list[str] = []
    keys = pd.DataFrame({"unit": frame[unit].astype(str), "time": times})
    duplicated = keys.duplicated(keep=False)
    for (u, t), group in keys[duplicated].groupby(["unit", "time"]):
        problems.append(
            f"{_rows(group.index)}: unit {u!r} has more than one row for period {t:g} "
            "(keep one row per unit and period)"
        )
    period_set = set(times.unique())
    last = times.max()
    for u, group in starts.groupby(frame[unit].astype(str)):
        values = group.unique()
        if len(values) > 1:
            shown = ", ".join(f"{v:g}" for v in sorted(values))
            problems.append(
                f"{_rows(group.index)}: unit {u!r} has different first treated periods ({shown}); "
                "a unit adopts once and stays treated"
            )
        elif values[0] != 0 and values[0] <= last and values[0] not in period_set:
            problems.append(
                f"{_rows(group.index)}: unit {u!r} first treated in {values[0]:g}, "
                "which is not one of the panel's periods"
            )
    if treated is not None:
        problems += _switching_problems(frame, unit, times, starts, treated)
    return problems


def _switching_problems(
    frame: pd.DataFrame, unit: str, times: pd.Series, starts: pd.Series, treated: str
) -> list[str]:
    """A 0/1 treatment column must switch on at first_treated and never switch off."""
    problems: list[str] = []
    flag = _numeric(frame[treated])
    bad = ~flag.isin([0.0, 1.0])
    if bad.any():
        return [f"{_rows(np.flatnonzero(bad))}: {treated!r} must be 0 or 1"]
    ordered = pd.DataFrame({"unit": frame[unit].astype(str), "time": times, "flag": flag})
    ordered = ordered.sort_values(["unit", "time"])
    for u, group in ordered.groupby("unit"):
        off = group["flag"].diff().eq(-1)
        if off.any():
            at = group.loc[off, "time"].iloc[0]
            problems.append(
                f"{_rows(group.index[off])}: treatment switches off for unit {u!r} in {at:g}; "
                "these methods need adoption that, once made, stays (staggered adoption)"
            )
            continue
        expected = (starts[group.index] > 0) & (group["time"] >= starts[group.index])
        wrong = expected.astype(float) != group["flag"]
        if wrong.any():
            problems.append(
                f"{_rows(group.index[wrong])}: unit {u!r} has {treated!r} that disagrees with "
                "its first treated period"
            )
    return problems


def _assemble(
    frame: pd.DataFrame,
    unit: str,
    times: pd.Series,
    starts: pd.Series,
    outcome: str,
    covariates: Sequence[str],
    min_pre_periods: int,
) -> Panel:
    """Pivot to units x periods and apply the guard rails that need the whole panel."""
    unit_key = frame[unit].astype(str)
    units = sorted(unit_key.unique(), key=_natural)
    periods = sorted(float(t) for t in times.unique())
    row_of = {u: i for i, u in enumerate(units)}
    col_of = {t: j for j, t in enumerate(periods)}
    rows = unit_key.map(row_of).to_numpy()
    cols = times.map(col_of).to_numpy()

    def matrix(column: str) -> np.ndarray:
        values = np.full((len(units), len(periods)), np.nan)
        values[rows, cols] = _numeric(frame[column]).to_numpy()
        return values

    first = starts.groupby(unit_key).first()
    notes: list[str] = []
    cohort = np.full(len(units), NEVER, dtype=int)
    for u, start in first.items():
        if start > 0 and start <= periods[-1]:
            cohort[row_of[str(u)]] = col_of[float(start)]
    late = [str(u) for u, s in first.items() if s > periods[-1]]
    if late:
        notes.append(
            f"{len(late)} unit(s) first treated after the last period ({periods[-1]:g}) "
            "count as not treated in this panel"
        )
    problems = _cohort_problems(units, periods, cohort, min_pre_periods, unit_key, first)
    if problems:
        raise PanelProblem(problems)
    return Panel(
        units=tuple(units),
        times=tuple(periods),
        outcome=matrix(outcome),
        cohort=cohort,
        covariates={name: matrix(name) for name in covariates},
        outcome_name=outcome,
        notes=tuple(notes),
    )


def _cohort_problems(
    units: list[str],
    periods: list[float],
    cohort: np.ndarray,
    min_pre_periods: int,
    unit_key: pd.Series,
    first: pd.Series,
) -> list[str]:
    """No adopters, nothing to compare with, or a cohort with too few periods before it."""
    treated = cohort != NEVER
    if not treated.any():
        return ["no unit adopts within the panel's periods: there is no effect to estimate"]
    problems: list[str] = []
    for index in sorted(set(cohort[treated].tolist())):
        if index < min_pre_periods:
            members = [units[i] for i in np.flatnonzero(cohort == index)]
            shown = ", ".join(members[:5]) + (" ..." if len(members) > 5 else "")
            problems.append(
                f"the {len(members)} unit(s) first treated in {periods[index]:g} ({shown}) have "
                f"{index} period(s) before adoption; at least {min_pre_periods} are needed to "
                "compare their trend with others'. Drop these units or add earlier periods"
            )
    if (~treated).sum() == 0 and len(set(cohort.tolist())) == 1:
        problems.append(
            f"every unit adopts in {periods[int(cohort[0])]:g}: there are no never-treated and "
            "no not-yet-treated units to compare with. Add units that did not adopt"
        )
    return problems


def _natural(key: str) -> tuple[int, float | str]:
    """Sort unit keys numerically when they are numbers, else as text."""
    try:
        return (0, float(key))
    except ValueError:
        return (1, key)
