"""DfE SSDA903 validation rules, one small function each, with the DfE's code and message.

Each rule takes the return's tables (by name: rows as read by `ssda903.read_table`, with
their file line in `_row`) and the collection year, and yields the rows that break it.
Messages are the DfE's own (`specs/903_2024_25_rule_info.csv`, from the DfE's 903
validator via data-to-insight/csc-validator-be-903, MIT).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib.resources import files
from typing import Any

from whatworks.returns.ssda903 import Problem, Table

Rows = list[dict[str, Any]]
Tables = dict[str, Table]
Finding = tuple[str, dict[str, Any], str]  # table, row, field
RuleCheck = Callable[[Tables, int], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """A DfE validation rule: its code, the DfE's message, and the check."""

    code: str
    check: RuleCheck

    @property
    def message(self) -> str:
        return messages()[self.code]


@lru_cache(maxsize=1)
def messages() -> dict[str, str]:
    """The DfE's message for every rule code."""
    text = files("whatworks.returns").joinpath("specs", "903_2024_25_rule_info.csv")
    with text.open(encoding="utf-8") as handle:
        return {row["Rule code"]: row["Rule message"] for row in csv.DictReader(handle)}


RULES: list[Rule] = []


def rule(code: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a check under its DfE rule code."""

    def register(check: RuleCheck) -> RuleCheck:
        RULES.append(Rule(code, check))
        return check

    return register


def _rows(tables: Tables, name: str) -> Rows:
    return tables[name].rows if name in tables else []


def _births(tables: Tables) -> dict[str, date]:
    return {
        r["CHILD"]: r["DOB"]
        for r in _rows(tables, "header")
        if r.get("CHILD") and isinstance(r.get("DOB"), date)
    }


def age_on(birth: date, day: date) -> int:
    """Age in whole years on a day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def year_bounds(year: int) -> tuple[date, date]:
    """The collection year ending 31 March `year`: 1 April of the year before to 31 March."""
    return date(year - 1, 4, 1), date(year, 3, 31)


@rule("352")
def started_aged_18_or_over(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, start = births.get(row.get("CHILD") or ""), row.get("DECOM")
        if row.get("RNE") == "S" and birth and start and age_on(birth, start) >= 18:
            yield "episodes", row, "DECOM"


@rule("356")
def ceased_before_started(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "episodes"):
        if row.get("DEC") and row.get("DECOM") and row["DEC"] < row["DECOM"]:
            yield "episodes", row, "DEC"


@rule("358")
def legal_status_j_under_10(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, start = births.get(row.get("CHILD") or ""), row.get("DECOM")
        if row.get("LS") in ("J1", "J2", "J3") and birth and start and age_on(birth, start) < 10:
            yield "episodes", row, "LS"


@rule("386")
def adopted_aged_18(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, end = births.get(row.get("CHILD") or ""), row.get("DEC")
        if row.get("REC") in ("E11", "E12") and birth and end and age_on(birth, end) >= 18:
            yield "episodes", row, "REC"


@rule("387")
def independent_living_under_14(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, end = births.get(row.get("CHILD") or ""), row.get("DEC")
        if row.get("REC") == "E14" and birth and end and age_on(birth, end) < 14:
            yield "episodes", row, "REC"


@rule("388")
def new_episode_without_continuation(tables: Tables, year: int) -> Iterator[Finding]:
    starts: dict[str, set[date]] = {}
    for row in _rows(tables, "episodes"):
        if row.get("CHILD") and row.get("DECOM"):
            starts.setdefault(row["CHILD"], set()).add(row["DECOM"])
    for row in _rows(tables, "episodes"):
        end = row.get("DEC")
        if row.get("REC") == "X1" and end and end not in starts.get(row.get("CHILD") or "", set()):
            yield "episodes", row, "REC"


@rule("565")
def missing_start_without_type(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "missing"):
        if row.get("MIS_START") and not row.get("MISSING"):
            yield "missing", row, "MISSING"


@rule("571")
def missing_end_outside_year(tables: Tables, year: int) -> Iterator[Finding]:
    first, last = year_bounds(year)
    for row in _rows(tables, "missing"):
        end = row.get("MIS_END")
        if end and not first <= end <= last:
            yield "missing", row, "MIS_END"


@rule("586")
def missing_before_birth(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "missing"):
        birth, start = births.get(row.get("CHILD") or ""), row.get("MIS_START")
        if birth and start and start < birth:
            yield "missing", row, "MIS_START"


@rule("102")
def birth_date_not_valid(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "header"):
        if not isinstance(row.get("DOB"), date):
            yield "header", row, "DOB"


@rule("103")
def ethnicity_not_valid(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "header"):
        if not row.get("ETHNIC"):
            yield "header", row, "ETHNIC"


@rule("391")
def care_leaver_not_17_to_21(tables: Tables, year: int) -> Iterator[Finding]:
    first, last = year_bounds(year)
    for row in _rows(tables, "oc3"):
        birth = row.get("DOB")
        if isinstance(birth, date) and (age_on(birth, last) < 17 or age_on(birth, first) > 21):
            yield "oc3", row, "DOB"


def _provider_rule(code: str, provider: str, wanted: bool) -> None:
    """Placement provider `provider` must (wanted) or must not go with placement P1."""

    def check(tables: Tables, year: int) -> Iterator[Finding]:
        for row in _rows(tables, "episodes"):
            if row.get("PLACE_PROVIDER") == provider and (row.get("PLACE") == "P1") != wanted:
                yield "episodes", row, "PLACE_PROVIDER"

    check.__name__ = f"provider_{provider}_with_p1_{'only' if wanted else 'never'}"
    rule(code)(check)


_provider_rule("530", "PR4", wanted=False)
_provider_rule("531", "PR5", wanted=False)
_provider_rule("550", "PR0", wanted=True)


@rule("564")
def missing_without_start(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "missing"):
        if row.get("MISSING") and not row.get("MIS_START"):
            yield "missing", row, "MIS_START"


@rule("566")
def missing_end_without_type(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "missing"):
        if row.get("MIS_END") and not row.get("MISSING"):
            yield "missing", row, "MISSING"


@rule("567")
def missing_end_before_start(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "missing"):
        start, end = row.get("MIS_START"), row.get("MIS_END")
        if start and end and end < start:
            yield "missing", row, "MIS_END"


@rule("612")
def mother_birth_date_but_not_a_mother(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "header"):
        if row.get("MC_DOB") and row.get("MOTHER") != "1":
            yield "header", row, "MC_DOB"


@rule("620")
def mother_under_11(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    for row in _rows(tables, "header"):
        birth = row.get("DOB")
        if row.get("MOTHER") == "1" and isinstance(birth, date) and age_on(birth, last) < 11:
            yield "header", row, "MOTHER"


@rule("635")
def previous_permanence_z1_with_details(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "prev_perm"):
        if row.get("PREV_PERM") == "Z1" and (row.get("DATE_PERM") or row.get("LA_PERM")):
            yield "prev_perm", row, "PREV_PERM"


def validate(tables: Tables, year: int) -> list[Problem]:
    """Every rule's failures, named by table, row, child (as the council wrote it) and field."""
    found = []
    for item in RULES:
        for table_name, row, column in item.check(tables, year):
            table = tables[table_name]
            child = table.children.get(row.get("CHILD") or "", "")
            found.append(
                Problem(table_name, row.get("_row"), child, column, item.message, code=item.code)
            )
    return found
