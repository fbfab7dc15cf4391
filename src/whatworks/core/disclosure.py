"""Disclosure control for figures whatworks exports, after the DfE's children's social care
statistics: small counts suppressed, counts rounded, percentages and rates computed from
unrounded figures and withheld when they would reveal a small number.

Each function returns a `Controlled` (value or None, status) where status is "value" or a
DfE symbol, the convention of `whatworks.outcomes.published.SYMBOLS`: "c" (suppressed),
"low" (too small a base to show), "k" (rounds to zero but is not zero), "z" (not
applicable), "x" (not available). The rules and their sources are in
docs/methods/disclosure.md. Pure functions: no database, web or CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

#: Counts from 1 to this are suppressed as "c" (DfE: "any number between 1 and 5").
SUPPRESS_UP_TO = 5
#: Counts are rounded to the nearest multiple of this, halves up.
ROUND_TO = 10
#: What the DfE itself does by geographic level: national and regional counts rounded to
#: the nearest 10, local authority counts left unrounded (1 = unrounded).
DFE_ROUND_TO = {"National": 10, "Regional": 10, "Local authority": 1}
#: Percentages whose denominator is below this are withheld as "low".
MIN_DENOMINATOR = 11
PERCENT_DECIMALS = 1
RATE_DECIMALS = 1
RATE_PER = 10_000


class Controlled(NamedTuple):
    """A figure after disclosure control: a number with status "value", or None and a symbol."""

    value: float | None
    status: str


def round_half_up(x: float, decimals: int = 0) -> float:
    """Round halves away from zero (2.5 -> 3, 0.25 -> 0.3), as the DfE's `round_five_up`
    does, rather than Python's round-half-to-even."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(x)).quantize(step, rounding=ROUND_HALF_UP))


def round_to_multiple(x: float, multiple: int) -> int:
    """Round to the nearest multiple, halves up: 15 -> 20, 25 -> 30, 14 -> 10."""
    if multiple < 1:
        raise ValueError("multiple must be at least 1")
    quotient = Decimal(repr(x)) / multiple
    return int(quotient.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * multiple


def _is_small(count: float) -> bool:
    return 0 < count <= SUPPRESS_UP_TO


def control_count(count: float | None, round_to: int = ROUND_TO) -> Controlled:
    """A count for export: 0 stays 0, 1 to 5 become "c", the rest are rounded to the
    nearest `round_to` (10 by default; pass 1, or DFE_ROUND_TO[level], to leave as is)."""
    if count is None:
        return Controlled(None, "x")
    if count < 0:
        raise ValueError("a count cannot be negative")
    if _is_small(count):
        return Controlled(None, "c")
    return Controlled(float(round_to_multiple(count, round_to)), "value")


def control_percentage(
    numerator: float | None,
    denominator: float | None,
    decimals: int = PERCENT_DECIMALS,
    min_denominator: int = MIN_DENOMINATOR,
) -> Controlled:
    """numerator / denominator × 100 from the unrounded counts, rounded half up.

    "x" if either count is missing, "z" if the denominator is 0, "c" if the numerator is
    from 1 to 5, "low" if the denominator is under `min_denominator`, "k" if a non-zero
    percentage rounds to 0.
    """
    if numerator is None or denominator is None:
        return Controlled(None, "x")
    if numerator < 0 or denominator < 0:
        raise ValueError("counts cannot be negative")
    if denominator == 0:
        return Controlled(None, "z")
    if _is_small(numerator):
        return Controlled(None, "c")
    if denominator < min_denominator:
        return Controlled(None, "low")
    percent = round_half_up(numerator / denominator * 100, decimals)
    if percent == 0 and numerator > 0:
        return Controlled(None, "k")
    return Controlled(percent, "value")


def control_rate(
    count: float | None,
    population: float | None,
    decimals: int = RATE_DECIMALS,
    per: int = RATE_PER,
) -> Controlled:
    """A rate per 10,000 from the unrounded count and population, rounded half up.

    "x" if either is missing, "z" if the population is 0, "c" if the count is from 1 to 5
    (as the DfE suppresses City of London's rate with its count), "k" if a non-zero rate
    rounds to 0.
    """
    if count is None or population is None:
        return Controlled(None, "x")
    if count < 0 or population < 0:
        raise ValueError("counts cannot be negative")
    if population == 0:
        return Controlled(None, "z")
    if _is_small(count):
        return Controlled(None, "c")
    rate = round_half_up(count / population * per, decimals)
    if rate == 0 and count > 0:
        return Controlled(None, "k")
    return Controlled(rate, "value")


def _number(cell: Any) -> float | None:
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        return float(cell)
    try:
        return float(str(cell).replace(",", ""))
    except ValueError:
        return None


def _symbol(cell: Any) -> str | None:
    """The symbol in a cell that holds one instead of a number, else None."""
    if isinstance(cell, str) and cell.strip() and _number(cell) is None:
        return cell.strip()
    return None


def _cell(result: Controlled) -> Any:
    if result.value is None:
        return result.status
    return int(result.value) if result.value.is_integer() else result.value


def control_rows(
    rows: Iterable[Mapping[str, Any]],
    counts: Sequence[str] = (),
    percentages: Mapping[str, tuple[str, str]] | None = None,
    rates: Mapping[str, tuple[str, str]] | None = None,
    round_to: int = ROUND_TO,
    percent_decimals: int = PERCENT_DECIMALS,
    rate_decimals: int = RATE_DECIMALS,
) -> list[dict[str, Any]]:
    """Rows ready for CSV or JSON export, with disclosure control applied.

    `counts` names count columns; `percentages` maps a percentage column to its (numerator,
    denominator) columns and `rates` a rate column to its (count, population) columns; they
    are computed afresh from the unrounded input. A controlled cell holds a number or, as
    in the DfE's open data files, the symbol in its place. A symbol already in an input
    cell (such as "c") is kept, and carried into the percentages and rates made from it.
    Other columns pass through unchanged.
    """
    percentages = percentages or {}
    rates = rates or {}
    found = []
    for row in rows:
        out = dict(row)
        for column in counts:
            given = _symbol(row.get(column))
            out[column] = given or _cell(control_count(_number(row.get(column)), round_to))
        for column, (num, den) in percentages.items():
            given = _symbol(row.get(num)) or _symbol(row.get(den))
            result = control_percentage(
                _number(row.get(num)), _number(row.get(den)), percent_decimals
            )
            out[column] = given or _cell(result)
        for column, (num, pop) in rates.items():
            given = _symbol(row.get(num)) or _symbol(row.get(pop))
            result = control_rate(_number(row.get(num)), _number(row.get(pop)), rate_decimals)
            out[column] = given or _cell(result)
        found.append(out)
    return found
