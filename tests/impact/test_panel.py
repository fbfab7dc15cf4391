"""The impact panel: bad panels get clear errors naming the problem and the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from whatworks.core.errors import WhatworksError
from whatworks.impact.panel import NEVER, Panel, PanelProblem

COLUMNS = {"unit": "la", "time": "year", "outcome": "rate", "first_treated": "adopted"}


def rows(adoptions: dict[str, int | None], years: range = range(2018, 2023)) -> list[dict]:
    """One row per council and year; the outcome is a made-up number."""
    return [
        {"la": la, "year": year, "rate": 10.0 + i + 0.5 * j, "adopted": adopted}
        for i, (la, adopted) in enumerate(adoptions.items())
        for j, year in enumerate(years)
    ]


GOOD = {"E06000001": 2020, "E06000002": 2021, "E06000003": 0, "E06000004": None}


def problems(table: list[dict] | pd.DataFrame, **options: object) -> str:
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    with pytest.raises(PanelProblem) as caught:
        Panel.from_frame(frame, **COLUMNS, **options)  # type: ignore[arg-type]
    assert isinstance(caught.value, WhatworksError) and isinstance(caught.value, ValueError)
    return str(caught.value)


def test_a_good_panel_from_rows() -> None:
    panel = Panel.from_rows(rows(GOOD), **COLUMNS)
    assert panel.units == ("E06000001", "E06000002", "E06000003", "E06000004")
    assert panel.times == (2018, 2019, 2020, 2021, 2022)
    assert panel.outcome.shape == (4, 5) and panel.is_balanced
    # 0 and empty both mean never treated
    assert panel.cohort.tolist() == [2, 3, NEVER, NEVER]
    assert panel.cohort_sizes() == {2020: 1, 2021: 1}
    assert panel.treatment()[0].tolist() == [0, 0, 1, 1, 1]


def test_duplicated_unit_period_rows_are_named() -> None:
    table = rows(GOOD)
    table.append(dict(table[3]))
    message = problems(table)
    assert "rows 4, 21" in message and "more than one row for period 2021" in message


def test_missing_outcome_names_its_rows() -> None:
    table = rows(GOOD)
    table[6]["rate"] = None
    table[7]["rate"] = " "
    assert "rows 7, 8: missing outcome" in problems(table)


def test_non_numeric_values_are_named() -> None:
    table = rows(GOOD)
    table[0]["rate"] = "n/a"
    table[1]["year"] = "2019/20"
    table[2]["adopted"] = "soon"
    message = problems(table)
    assert "row 1: 'rate' (the outcome) is not a number ('n/a')" in message
    assert "row 2: 'year' (the period) is not a number ('2019/20')" in message
    assert "row 3: 'adopted' (the first treated period) is not a number ('soon')" in message


def test_no_never_treated_and_no_not_yet_treated_units() -> None:
    message = problems(rows({"A": 2020, "B": 2020, "C": 2020}))
    assert "no never-treated and no not-yet-treated units" in message


def test_no_adopters() -> None:
    assert "no unit adopts" in problems(rows({"A": 0, "B": None}))


def test_a_cohort_with_too_few_pre_periods() -> None:
    message = problems(rows({"A": 2018, "B": 2021, "C": 0}))
    assert "first treated in 2018 (A) have 0 period(s) before adoption" in message
    message = problems(rows(GOOD), min_pre_periods=3)
    assert "first treated in 2020 (E06000001) have 2 period(s)" in message
    assert "2021" not in message.split("\n")[1]


def test_treatment_that_switches_off() -> None:
    table = rows(GOOD)
    for row in table:
        row["on"] = int(row["adopted"] not in (None, 0) and row["year"] >= row["adopted"])
    table[4]["on"] = 0  # E06000001 stops in 2022
    message = problems(table, treated="on")
    assert "row 5: treatment switches off for unit 'E06000001' in 2022" in message


def test_first_treated_must_not_vary_within_a_unit() -> None:
    table = rows(GOOD)
    table[2]["adopted"] = 2021
    assert "unit 'E06000001' has different first treated periods (2020, 2021)" in problems(table)


def test_first_treated_must_be_a_period_and_columns_must_exist() -> None:
    table = rows(GOOD, years=range(2018, 2023, 2))
    assert "first treated in 2021, which is not one of the panel's periods" in problems(table)
    with pytest.raises(PanelProblem, match="column 'rate' is not in the panel"):
        Panel.from_frame(pd.DataFrame(rows(GOOD)).drop(columns="rate"), **COLUMNS)


def test_unbalanced_panels_and_late_adopters() -> None:
    table = [r for r in rows({**GOOD, "E06000005": 2030}) if (r["la"], r["year"]) != ("A", 0)]
    table.pop(1)
    panel = Panel.from_rows(table, **COLUMNS)
    assert not panel.is_balanced and np.isnan(panel.outcome[0, 1])
    assert panel.cohort[-1] == NEVER
    assert "first treated after the last period" in panel.notes[0]
