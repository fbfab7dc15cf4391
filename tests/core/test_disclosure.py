"""Disclosure control: hand-worked counts, percentages and rates, and published DfE figures
that show the rounding convention."""

from __future__ import annotations

import pytest

from whatworks.core.disclosure import (
    DFE_ROUND_TO,
    MIN_DENOMINATOR,
    Controlled,
    control_count,
    control_percentage,
    control_rate,
    control_rows,
    round_half_up,
    round_to_multiple,
)
from whatworks.outcomes.published import SYMBOLS


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, (0, "value")),  # a true zero is shown: it discloses nothing about a child
        (1, (None, "c")),
        (5, (None, "c")),  # 1 to 5 inclusive are suppressed
        (6, (10, "value")),  # 6 is 0.6 tens: rounds to 1 ten
        (14, (10, "value")),  # 1.4 tens -> 1
        (15, (20, "value")),  # 1.5 tens: a half, rounded up -> 2
        (25, (30, "value")),  # 2.5 tens: up to 3 (round-half-even would give 20)
        (24, (20, "value")),
        (None, (None, "x")),
    ],
)
def test_counts(count: int | None, expected: tuple[float | None, str]) -> None:
    assert control_count(count) == expected


def test_counts_unrounded_as_dfe_local_authority_tables() -> None:
    # The DfE leaves local authority counts unrounded (Hartlepool: 332 looked after at
    # 31 March 2025) and rounds national and regional ones to 10 (England: 81,770).
    assert control_count(332, DFE_ROUND_TO["Local authority"]) == (332, "value")
    assert control_count(81_767, DFE_ROUND_TO["National"]) == (81_770, "value")
    assert control_count(4, DFE_ROUND_TO["Local authority"]) == (None, "c")
    with pytest.raises(ValueError):
        control_count(-1)


def test_rounding_halves_up() -> None:
    assert round_half_up(2.5) == 3 and round(2.5) == 2  # Python's round is half-to-even
    assert round_half_up(31.25, 1) == 31.3 and round(31.25, 1) == 31.2
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(-2.5) == -3
    assert round_to_multiple(285, 10) == 290  # dfeR::round_five_up(285, -1)
    assert round_to_multiple(1_234, 100) == 1_200


def test_percentages_match_published_dfe_figures() -> None:
    # Repeat child protection plans, as published (d3 file): Sandwell 2023 115 of 368 =
    # 31.25% -> 31.3; Westminster 2014 7 of 112 = 6.25% -> 6.3; Rutland 2015 14 of 32 =
    # 43.75% -> 43.8. Halves go up.
    assert control_percentage(115, 368) == (31.3, "value")
    assert control_percentage(7, 112) == (6.3, "value")
    assert control_percentage(14, 32) == (43.8, "value")


def test_percentages_with_small_numbers() -> None:
    assert MIN_DENOMINATOR == 11
    assert control_percentage(0, 0) == (None, "z")  # no children: not applicable
    assert control_percentage(3, 40) == (None, "c")  # numerator 1-5
    assert control_percentage(1, 8) == (None, "c")  # both small: the numerator rules
    assert control_percentage(6, 10) == (None, "low")  # 10 is under 11
    assert control_percentage(0, 6) == (None, "low")
    assert control_percentage(0, 11) == (0, "value")
    assert control_percentage(6, 11) == (54.5, "value")  # 54.545...
    assert control_percentage(6, 48, decimals=0) == (13, "value")  # 12.5 -> 13
    assert control_percentage(6, 10_000) == (0.1, "value")  # 0.06 -> 0.1
    assert control_percentage(6, 20_000) == (None, "k")  # 0.03 rounds to 0 but is not 0
    assert control_percentage(6, 10, min_denominator=6) == (60, "value")
    assert control_percentage(None, 40) == (None, "x")


def test_rates_from_unrounded_figures() -> None:
    # Hartlepool, children looked after at 31 March 2025: 332 / 21,090 × 10,000 = 157.42,
    # published as 157 (whole numbers in the children looked after release).
    assert control_rate(332, 21_090, decimals=0) == (157, "value")
    assert control_rate(332, 21_090) == (157.4, "value")
    assert control_rate(3, 847) == (None, "c")  # City of London's count and rate are c
    assert control_rate(0, 21_090) == (0, "value")
    assert control_rate(6, 2_000_000) == (None, "k")  # 0.03 per 10,000
    assert control_rate(6, 0) == (None, "z")
    assert control_rate(None, 100) == (None, "x")


def test_statuses_are_dfe_symbols() -> None:
    statuses = {
        control_count(3).status,
        control_percentage(6, 8).status,
        control_percentage(6, 20_000).status,
        control_percentage(0, 0).status,
        control_rate(None, 1).status,
    }
    assert statuses == {"c", "low", "k", "z", "x"}
    assert statuses <= set(SYMBOLS)
    assert isinstance(control_count(20), Controlled) and control_count(20).value == 20


def test_rows_for_export() -> None:
    rows = [
        {"la": "A", "cla": 343, "moves": 36, "pop": 93_851, "note": "kept"},
        {"la": "B", "cla": 9, "moves": 4, "pop": 20_000},
        {"la": "C", "cla": "c", "moves": 0, "pop": 850},
    ]
    out = control_rows(
        rows,
        counts=["cla", "moves"],
        percentages={"moves_percent": ("moves", "cla")},
        rates={"rate": ("cla", "pop")},
    )
    # A: 343 -> 340, 36 -> 40; 36/343 = 10.496% -> 10.5; 343/93,851 × 10,000 = 36.55 -> 36.5
    # (computed from the unrounded 343, not the rounded 340, which would give 36.2).
    assert out[0] == {
        "la": "A",
        "cla": 340,
        "moves": 40,
        "pop": 93_851,
        "note": "kept",
        "moves_percent": 10.5,
        "rate": 36.5,
    }
    # B: 9 -> 10; 4 -> c, so its percentage is c; the base 9 is under 11 anyway.
    assert out[1]["cla"] == 10 and out[1]["moves"] == "c" and out[1]["moves_percent"] == "c"
    assert out[1]["rate"] == 4.5  # 9 / 20,000 × 10,000
    # C: a symbol in the input stays, and carries into what is made from it.
    assert out[2]["cla"] == "c" and out[2]["moves"] == 0
    assert out[2]["moves_percent"] == "c" and out[2]["rate"] == "c"
    assert rows[0]["cla"] == 343  # the input is not changed
