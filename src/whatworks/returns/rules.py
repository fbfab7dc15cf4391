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
from datetime import date, timedelta
from functools import lru_cache
from importlib.resources import files
from itertools import pairwise
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


def _after_birthday(birth: date, years: int, day: date) -> bool:
    """Whether `day` is after (not on) the birthday on which the child turns `years`."""
    return age_on(birth, day - timedelta(days=1)) >= years


def _by_child(rows: Rows, start: str) -> dict[str, Rows]:
    """Each child's rows that have a `start` date, earliest first (ties in file order)."""
    children: dict[str, Rows] = {}
    for row in rows:
        if row.get("CHILD") and isinstance(row.get(start), date):
            children.setdefault(row["CHILD"], []).append(row)
    for chain in children.values():
        chain.sort(key=lambda r: r[start])
    return children


def _pairs(rows: Rows, start: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Each of a child's rows (by `start`) with the one just before it."""
    for chain in _by_child(rows, start).values():
        yield from pairwise(chain)


def _children(tables: Tables, name: str) -> set[str]:
    return {r["CHILD"] for r in _rows(tables, name) if r.get("CHILD")}


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
        if row.get("REC") in ("E5", "E6") and birth and end and age_on(birth, end) < 14:
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


# Episodes: dates, and each episode against the one before it.


@rule("142")
def earlier_episode_not_ended(tables: Tables, year: int) -> Iterator[Finding]:
    for before, _ in _pairs(_rows(tables, "episodes"), "DECOM"):
        if not before.get("DEC") or not before.get("REC"):
            yield "episodes", before, "DEC" if not before.get("DEC") else "REC"


@rule("148")
def ceased_date_and_reason_not_both(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "episodes"):
        if (row.get("DEC") is None) != (row.get("REC") is None):
            yield "episodes", row, "DEC" if row.get("DEC") is None else "REC"


@rule("302")
def first_episode_before_birth(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for child, chain in _by_child(_rows(tables, "episodes"), "DECOM").items():
        if child in births and chain[0]["DECOM"] < births[child]:
            yield "episodes", chain[0], "DECOM"


@rule("357")
def first_episode_not_started_care(tables: Tables, year: int) -> Iterator[Finding]:
    first, _ = year_bounds(year)
    for chain in _by_child(_rows(tables, "episodes"), "DECOM").values():
        if chain[0]["DECOM"] >= first and chain[0].get("RNE") != "S":
            yield "episodes", chain[0], "RNE"


@rule("385")
def ceased_after_year_end(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    for row in _rows(tables, "episodes"):
        if row.get("DEC") and row["DEC"] > last:
            yield "episodes", row, "DEC"


@rule("431")
def started_care_before_previous_ended(tables: Tables, year: int) -> Iterator[Finding]:
    for before, row in _pairs(_rows(tables, "episodes"), "DECOM"):
        if row.get("RNE") == "S" and before.get("DEC") and row["DECOM"] <= before["DEC"]:
            yield "episodes", row, "RNE"


@rule("432")
def care_ceased_but_new_episode_continues(tables: Tables, year: int) -> Iterator[Finding]:
    for before, row in _pairs(_rows(tables, "episodes"), "DECOM"):
        if before.get("REC") not in (None, "X1") and row.get("RNE") != "S":
            yield "episodes", row, "RNE"


@rule("433")
def continuation_not_starting_when_previous_ended(tables: Tables, year: int) -> Iterator[Finding]:
    for before, row in _pairs(_rows(tables, "episodes"), "DECOM"):
        if row.get("RNE") in ("P", "L", "T", "U", "B") and before.get("DEC") != row["DECOM"]:
            yield "episodes", row, "DECOM"


@rule("437")
def died_or_18_but_further_episodes(tables: Tables, year: int) -> Iterator[Finding]:
    for before, _ in _pairs(_rows(tables, "episodes"), "DECOM"):
        if before.get("REC") in ("E2", "E15"):
            yield "episodes", before, "REC"


@rule("501")
def started_before_previous_ended(tables: Tables, year: int) -> Iterator[Finding]:
    for before, row in _pairs(_rows(tables, "episodes"), "DECOM"):
        if before.get("DEC") and row["DECOM"] < before["DEC"]:
            yield "episodes", row, "DECOM"


# Episodes: reasons for ceasing against the child's age.


@rule("359")
def looked_after_past_18_not_v2_in_k2(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth = births.get(row.get("CHILD") or "")
        s20_community_home = (row.get("LS"), row.get("PLACE")) == ("V2", "K2")
        open_past_18 = row.get("DEC") is None and birth and _after_birthday(birth, 18, last)
        if open_past_18 and not s20_community_home:
            yield "episodes", row, "LS"


@rule("389")
def adult_social_care_under_16(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, end = births.get(row.get("CHILD") or ""), row.get("DEC")
        if row.get("REC") == "E7" and birth and end and age_on(birth, end) < 16:
            yield "episodes", row, "REC"


@rule("407")
def special_guardianship_aged_18(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, end = births.get(row.get("CHILD") or ""), row.get("DEC")
        special_guardianship = row.get("REC") in ("E45", "E46", "E47", "E48")
        if special_guardianship and birth and end and age_on(birth, end) >= 18:
            yield "episodes", row, "REC"


@rule("460")
def stayed_with_carers_under_18(tables: Tables, year: int) -> Iterator[Finding]:
    births = _births(tables)
    for row in _rows(tables, "episodes"):
        birth, end = births.get(row.get("CHILD") or ""), row.get("DEC")
        if row.get("REC") == "E17" and birth and end and age_on(birth, end) < 18:
            yield "episodes", row, "REC"


# Episodes: legal status, placement and provider together.

TEMPORARY = ("T0", "T1", "T2", "T3", "T4")


@rule("217")
def adoption_with_foster_carers_wrong_reason(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "episodes"):
        start = row.get("DECOM") or date.min
        with_foster_carers = row.get("PLACE") in ("A3", "A5") and start >= date(2015, 4, 1)
        if with_foster_carers and row.get("RNE") not in ("S", "T", "U"):
            yield "episodes", row, "RNE"


@rule("378")
def placed_with_parents_under_section_20(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "episodes"):
        if row.get("PLACE") == "P1" and row.get("LS") == "V2":
            yield "episodes", row, "LS"


@rule("380")
def care_starts_in_temporary_placement(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "episodes"):
        if row.get("PLACE") in TEMPORARY and row.get("RNE") not in ("P", "B"):
            yield "episodes", row, "RNE"


@rule("381")
def care_ends_in_temporary_placement(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "episodes"):
        if row.get("PLACE") in TEMPORARY and row.get("REC") not in (None, "X1"):
            yield "episodes", row, "REC"


@rule("551")
def placed_for_adoption_without_decision(tables: Tables, year: int) -> Iterator[Finding]:
    if "placed_adoption" not in tables:  # as the DfE's tool: only when the table is loaded
        return
    decided = {r["CHILD"] for r in _rows(tables, "placed_adoption") if r.get("DATE_PLACED")}
    for row in _rows(tables, "episodes"):
        if row.get("PLACE") in ("A3", "A4", "A5", "A6") and row.get("CHILD") not in decided:
            yield "episodes", row, "PLACE"


def _provider_not_with(code: str, provider: str, places: tuple[str, ...]) -> None:
    """Placement provider `provider` must not go with any of the placements `places`."""

    def check(tables: Tables, year: int) -> Iterator[Finding]:
        for row in _rows(tables, "episodes"):
            if row.get("PLACE_PROVIDER") == provider and row.get("PLACE") in places:
                yield "episodes", row, "PLACE_PROVIDER"

    check.__name__ = f"provider_{provider}_not_with_{'_'.join(places)}"
    rule(code)(check)


_provider_not_with("527", "PR1", ("P1", "R2", "R5"))
_provider_not_with("528", "PR2", ("P1", "R2", "R5"))
_provider_not_with(
    "529",
    "PR3",
    ("P1", "A3", "A4", "A5", "A6", "K1", "K2", "U1", "U2", "U3", "U4", "U5", "U6"),
)


# Children in one table and not another.


@rule("INT03")
def episodes_child_not_in_header(tables: Tables, year: int) -> Iterator[Finding]:
    if "header" not in tables:
        return
    known = _children(tables, "header")
    for row in _rows(tables, "episodes"):
        if row.get("CHILD") and row["CHILD"] not in known:
            yield "episodes", row, "CHILD"


@rule("EPI")
def header_child_without_episodes(tables: Tables, year: int) -> Iterator[Finding]:
    known = _children(tables, "episodes") | _children(tables, "oc3")
    for row in _rows(tables, "header"):
        if row.get("CHILD") and row["CHILD"] not in known:
            yield "header", row, "CHILD"


# Header and UASC.


@rule("174")
def mother_but_male(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "header"):
        if row.get("MC_DOB") and row.get("SEX") in ("1", "M"):  # "1" before 2024-25
            yield "header", row, "SEX"


@rule("301")
def born_after_year_end(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    for row in _rows(tables, "header"):
        if isinstance(row.get("DOB"), date) and row["DOB"] > last:
            yield "header", row, "DOB"


@rule("611")
def mother_without_child_birth_date(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "header"):
        if row.get("MOTHER") == "1" and not row.get("MC_DOB"):
            yield "header", row, "MC_DOB"


@rule("621")
def mother_younger_than_child(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "header"):
        birth, child_birth = row.get("DOB"), row.get("MC_DOB")
        if isinstance(birth, date) and child_birth and child_birth <= birth:
            yield "header", row, "MC_DOB"


@rule("304")
def uasc_ceased_after_18th_birthday(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "uasc"):
        birth, ceased = row.get("DOB"), row.get("DUC")
        if isinstance(birth, date) and ceased and _after_birthday(birth, 18, ceased):
            yield "uasc", row, "DUC"


# Reviews, OC2 and OC3.


@rule("440")
def review_code_under_4_but_4_or_over(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "reviews"):
        birth, review = row.get("DOB"), row.get("REVIEW")
        if not (isinstance(birth, date) and isinstance(review, date)):
            continue
        if row.get("REVIEW_CODE") == "PN0" and _after_birthday(birth, 4, review):
            yield "reviews", row, "REVIEW_CODE"


@rule("441")
def review_code_4_or_over_but_under_4(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "reviews"):
        birth, review = row.get("DOB"), row.get("REVIEW")
        if not (isinstance(birth, date) and isinstance(review, date)):
            continue
        if row.get("REVIEW_CODE") not in (None, "PN0") and age_on(birth, review) < 4:
            yield "reviews", row, "REVIEW_CODE"


def _sdq_given(row: dict[str, Any]) -> str | None:
    """The SDQ field completed (score first; a score of 0 counts), or None."""
    if row.get("SDQ_SCORE") is not None:
        return "SDQ_SCORE"
    return "SDQ_REASON" if row.get("SDQ_REASON") else None


@rule("188")
def sdq_under_4(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    for row in _rows(tables, "oc2"):
        birth, given = row.get("DOB"), _sdq_given(row)
        if isinstance(birth, date) and given and age_on(birth, last) < 4:
            yield "oc2", row, given


@rule("189")
def sdq_17_or_over(tables: Tables, year: int) -> Iterator[Finding]:
    first, _ = year_bounds(year)
    for row in _rows(tables, "oc2"):
        birth, given = row.get("DOB"), _sdq_given(row)
        if isinstance(birth, date) and given and age_on(birth, first) >= 17:
            yield "oc2", row, given


@rule("197a")
def sdq_reason_with_score(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "oc2"):
        if row.get("SDQ_SCORE") is not None and row.get("SDQ_REASON"):
            yield "oc2", row, "SDQ_REASON"


@rule("344")
def died_or_home_with_activity_or_accommodation(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "oc3"):
        if row.get("IN_TOUCH") in ("DIED", "RHOM"):
            completed = [f for f in ("ACTIV", "ACCOM") if row.get(f) not in (None, "0")]
            if completed:
                yield "oc3", row, completed[0]


@rule("345")
def in_touch_with_zero_activity_or_accommodation(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "oc3"):
        if row.get("IN_TOUCH") == "YES":
            zero = [f for f in ("ACTIV", "ACCOM") if row.get(f) == "0"]
            if zero:
                yield "oc3", row, zero[0]


# Missing periods, against each other and the child's episodes.


def _care_spans(tables: Tables) -> dict[str, list[tuple[date, date | None]]]:
    """Each child's episodes as (start, end or None while open), earliest first."""
    return {
        child: [(r["DECOM"], r.get("DEC")) for r in chain]
        for child, chain in _by_child(_rows(tables, "episodes"), "DECOM").items()
    }


def _looked_after_on(spans: list[tuple[date, date | None]], day: date) -> bool:
    return any(start <= day and (end is None or day <= end) for start, end in spans)


@rule("570")
def missing_start_after_year_end(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    for row in _rows(tables, "missing"):
        if row.get("MIS_START") and row["MIS_START"] > last:
            yield "missing", row, "MIS_START"


@rule("574")
def missing_periods_overlap(tables: Tables, year: int) -> Iterator[Finding]:
    for before, row in _pairs(_rows(tables, "missing"), "MIS_START"):
        if before.get("MIS_END") is None or row["MIS_START"] < before["MIS_END"]:
            yield "missing", row, "MIS_START"


@rule("577")
def missing_open_after_care_ceased(tables: Tables, year: int) -> Iterator[Finding]:
    spans = _care_spans(tables)
    for row in _rows(tables, "missing"):
        child_spans = spans.get(row.get("CHILD") or "")
        if child_spans and child_spans[-1][1] and row.get("MIS_START") and not row.get("MIS_END"):
            yield "missing", row, "MIS_END"


@rule("578")
def missing_after_care_ceased(tables: Tables, year: int) -> Iterator[Finding]:
    spans = _care_spans(tables)
    for row in _rows(tables, "missing"):
        child_spans, start = spans.get(row.get("CHILD") or ""), row.get("MIS_START")
        if not (child_spans and start) or start < child_spans[0][0]:
            continue  # no episodes, no start, or before care began (rule 581)
        if not _looked_after_on(child_spans, start):
            yield "missing", row, "MIS_START"


@rule("581")
def missing_before_care_started(tables: Tables, year: int) -> Iterator[Finding]:
    spans = _care_spans(tables)
    for row in _rows(tables, "missing"):
        child_spans, start = spans.get(row.get("CHILD") or ""), row.get("MIS_START")
        if child_spans and start and start < child_spans[0][0]:
            yield "missing", row, "MIS_START"


# Social worker episodes.


@rule("SW06STG2")
def social_worker_started_after_year_end(tables: Tables, year: int) -> Iterator[Finding]:
    _, last = year_bounds(year)
    for row in _rows(tables, "social_worker"):
        if row.get("SW_DECOM") and row["SW_DECOM"] > last:
            yield "social_worker", row, "SW_DECOM"


@rule("SW09STG2")
def social_worker_under_a_day(tables: Tables, year: int) -> Iterator[Finding]:
    for row in _rows(tables, "social_worker"):
        if row.get("SW_DEC") and row["SW_DEC"] == row.get("SW_DECOM"):
            yield "social_worker", row, "SW_DEC"


@rule("SW108STG2")
def earlier_social_worker_not_ended(tables: Tables, year: int) -> Iterator[Finding]:
    for before, _ in _pairs(_rows(tables, "social_worker"), "SW_DECOM"):
        if before.get("SW_DEC") is None:
            yield "social_worker", before, "SW_DEC"


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
