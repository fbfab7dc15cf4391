"""Measures on a council whose records are not tidy: episodes inside other episodes, an
episode that ends before it starts, a child who starts and ceases care three times in one
year, a placement without a code, a temporary placement at the start of the year,
referrals and plans that overlap or meet, a referral closed before it was made, an
assessment that started before the working-day calendar. The expected values are worked
out by hand below for the year to 31 March 2025 (1 April 2024 to 31 March 2025); the
measures read facts worked out when the history is stored, and must give what their
definitions give on such rows, on DuckDB and on Spark, and what the pandas baseline of
benchmarks/returns.py (which applies the definitions row by row) gives.
"""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from whatworks.returns import canonical, measures
from whatworks.returns.measures import Period
from whatworks.returns.store import ReturnsStore

D = date
LA = "E09000098"
ROOT = Path(__file__).resolve().parents[2]


def _baseline() -> ModuleType:
    path = ROOT / "benchmarks" / "returns_pandas.py"
    spec = importlib.util.spec_from_file_location("returns_pandas_for_irregular", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def episode(child, decom, rne, place, dec=None, rec=None, ls="C2"):
    return {
        "CHILD": child,
        "DECOM": decom,
        "RNE": rne,
        "LS": ls,
        "PLACE": place,
        "DEC": dec,
        "REC": rec,
    }


HEADER = [
    {"CHILD": "a1", "SEX": "1", "DOB": D(2012, 1, 1)},
    {"CHILD": "a2", "SEX": "2", "DOB": D(2014, 1, 1)},
    {"CHILD": "a3", "SEX": "1", "DOB": D(2010, 6, 1)},
    {"CHILD": "a4", "SEX": "2", "DOB": D(2015, 1, 1)},
    {"CHILD": "a5", "SEX": "1", "DOB": D(2016, 1, 1)},
    {"CHILD": "a6", "SEX": "2", "DOB": D(2013, 1, 1)},
    {"CHILD": "a7", "SEX": "1", "DOB": D(2012, 1, 1)},
    {"CHILD": "a8", "SEX": "2", "DOB": D(2005, 1, 1)},
]
EPISODES = [
    # a1: an episode open since 2023 with another inside it (June to September 2024), then
    # a third from October: the episodes overlap, so they are counted one by one.
    episode("a1", D(2023, 1, 1), "S", "U1"),
    episode("a1", D(2024, 6, 1), "P", "U2", D(2024, 9, 1), "X1"),
    episode("a1", D(2024, 10, 1), "P", "U3"),
    # a2 started and ceased twice, then started a third time: one child started, one ceased.
    episode("a2", D(2024, 5, 1), "S", "U1", D(2024, 6, 1), "E11"),
    episode("a2", D(2024, 7, 1), "S", "U1", D(2024, 8, 1), "E4A"),
    episode("a2", D(2024, 9, 1), "S", "U1"),
    # a3: in care since 2022; a holiday (T1) in May 2024, then back to the same carer.
    episode("a3", D(2022, 1, 1), "S", "U1", D(2024, 5, 1), "X1"),
    episode("a3", D(2024, 5, 1), "P", "T1", D(2024, 5, 10), "X1"),
    episode("a3", D(2024, 5, 10), "P", "U1"),
    # a4's only episode ends before it starts: it starts and ceases in the year, and is
    # never looked after on a day.
    episode("a4", D(2024, 8, 1), "S", "U1", D(2024, 7, 15), "E11"),
    # a5: short breaks only.
    episode("a5", D(2024, 7, 1), "S", "U1", D(2024, 7, 5), "E8", ls="V3"),
    # a6: a placement without a code since June 2024.
    episode("a6", D(2024, 6, 1), "S", None),
    # a7: in care since 2021, with a new carer since January 2024.
    episode("a7", D(2021, 1, 1), "S", "U1", D(2024, 1, 1), "X1"),
    episode("a7", D(2024, 1, 1), "P", "U2"),
    # a8: an episode open since 2020 with another inside it that ended in 2022, then a
    # third from June 2024: the year's episodes are the first and the third, so the third
    # follows U1 and the year has 2 placements (U1, U3), not 3.
    episode("a8", D(2020, 1, 1), "S", "U1"),
    episode("a8", D(2021, 1, 1), "P", "U2", D(2022, 1, 1), "X1"),
    episode("a8", D(2024, 6, 1), "P", "U3"),
]


def missing(child, kind, start):
    return {"CHILD": child, "MISSING": kind, "MIS_START": start, "MIS_END": start}


MISSING = [
    missing("a2", "M", D(2024, 3, 1)),  # before the year
    missing("a2", "M", D(2024, 5, 1)),
    missing("a2", "M", D(2024, 6, 1)),
    missing("a2", "A", D(2024, 7, 1)),  # away, not missing
    missing("a3", "M", D(2025, 3, 31)),
]


def sw(child, worker, start):
    return {"CHILD": child, "SW_ID": worker, "SW_DECOM": start, "SW_DEC": None}


SOCIAL_WORKERS = [
    sw("a2", "A", D(2024, 5, 1)),
    sw("a2", "B", D(2024, 9, 1)),
    sw("a3", "C", D(2022, 1, 1)),
    sw("a4", "G", D(2024, 8, 1)),
    sw("a4", "H", D(2024, 8, 15)),
    sw("a7", "D", D(2021, 1, 1)),
    sw("a7", "E", D(2024, 1, 1)),
    sw("a7", "F", D(2024, 12, 1)),
]


def referral(when, closed=None, nfa="false", assessments=(), plans=()):
    return {
        "referral_date": when,
        "closure_date": closed,
        "referral_nfa": nfa,
        "primary_need": "N1",
        "assessments": list(assessments),
        "cp_plans": list(plans),
    }


def assessment(start, authorised):
    return {"start": start, "authorised": authorised}


def plan(start, end=None, previous="0"):
    return {"start": start, "end": end, "previous_plans": previous}


def child(name, *referrals):
    return {
        "child": name,
        "upn": None,
        "birth_date": D(2015, 1, 1),
        "sex": "1",
        "referrals": list(referrals),
    }


CIN = [
    # k1: a referral still open, and another inside it; two overlapping plans.
    child(
        "k1",
        referral(
            D(2024, 5, 1),
            assessments=[assessment(D(2004, 12, 20), D(2024, 6, 3))],  # before the calendar
            plans=[plan(D(2024, 6, 1))],
        ),
        referral(D(2024, 6, 1), D(2024, 7, 1), plans=[plan(D(2024, 8, 1))]),
    ),
    # k2: a referral closed on the day the next one is made; a plan the census says is
    # not the first.
    child(
        "k2",
        referral(
            D(2024, 4, 10),
            D(2024, 10, 1),
            assessments=[assessment(D(2024, 4, 10), D(2024, 8, 1))],  # 80 working days
        ),
        referral(
            D(2024, 10, 1),
            assessments=[assessment(D(2024, 10, 1), D(2024, 10, 2))],  # 1 working day
            plans=[plan(D(2024, 11, 1), D(2025, 2, 1), previous="1")],
        ),
    ),
    # k3: closed with no further action; then a referral closed before it was made.
    child(
        "k3",
        referral(D(2024, 9, 1), D(2024, 9, 1), nfa="true"),
        referral(D(2025, 1, 1), D(2024, 12, 1)),
    ),
    # k4: two old referrals, and one in March 2025, within 12 months of March 2024.
    child(
        "k4",
        referral(D(2023, 3, 1), D(2023, 4, 1)),
        referral(D(2024, 3, 15), D(2024, 5, 1)),
        referral(
            D(2025, 3, 1),
            assessments=[assessment(None, D(2025, 3, 10))],  # no start
            plans=[plan(D(2025, 3, 1))],
        ),
    ),
]


def write_council(root: Path) -> ReturnsStore:
    store = ReturnsStore(root)
    tables = {
        "header": HEADER,
        "episodes": EPISODES,
        "missing": MISSING,
        "social_worker": SOCIAL_WORKERS,
    }
    arrow = {n: canonical.ssda903_table(n, rows, LA, 2025) for n, rows in tables.items()}
    arrow.update(canonical.cin_tables(CIN, LA, 2025))
    store.write(LA, 2025, arrow, {"ssda903": {}, "cin": {}})
    return store


EXPECTED_2025 = {
    # at 31 March 2025: a1, a2, a3, a6, a7, a8 (a4's episode is never open; a5 short
    # breaks)
    "cla_count": (6, None, 6.0),
    "cla_started": (3, None, 3.0),  # a2 (three starts, one child), a4, a6
    "cla_ceased": (2, None, 2.0),  # a2 (twice, one child), a4
    # a1: U1 (the placement at the start), U2, U3 = 3; a2: three starts = 3; a3: U1 only
    # (the holiday is temporary, coming back from it is no move) = 1; a6: no placement
    # with a code = 0; a7: U2 = 1; a8: U1, U3 = 2
    "placements_3_plus_percent": (2, 6, 33.3),
    # under 16 and looked after since 30 September 2022 or before: a3 (since 2022, in
    # the same placement since then: the holiday is no move), a7 (since 2021, new carer
    # in January 2024: less than 2 years); a8 is 20
    "long_term_stability_percent": (1, 2, 50.0),
    # k1 once (two open referrals), k2 (the referral made on the day the first closed),
    # k4; not k3 (no further action; closed before it was made)
    "cin_at_end": (3, None, 3.0),
    "referrals": (7, None, 7.0),  # k1 2, k2 2, k3 2, k4 1
    # k1's second, k2's second, k3's second (the first was closed with no further action,
    # but was a referral), k4's (1 March 2025 is within 12 months of 15 March 2024)
    "rereferral_percent": (4, 7, 57.1),
    "cpp_at_end": (2, None, 2.0),  # k1 once (two plans), k4
    # started in the year: k1's two, k2's, k4's; subsequent: k1's second (an earlier
    # plan), k2's (NumberOfPreviousCPP 1)
    "cpp_subsequent_percent": (2, 4, 50.0),
    # authorised in the year and both dates in the calendar: k2's two (80 and 1 working
    # days); not k1's (started before 2005), not k4's (no start)
    "assessments_45_days_percent": (1, 2, 50.0),
    "missing_incidents_per_child": (3, 2, 1.5),  # a2 twice (not the "away"), a3 once
    # changes in the year of children at the end: a2 (B), a7 (F); a4 is not at the end
    "social_worker_changes_per_child": (2, 6, 0.33),
}


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> ReturnsStore:
    return write_council(tmp_path_factory.mktemp("irregular"))


def as_table(results: list[measures.Result]) -> dict[str, tuple]:
    return {r.measure.id: (r.numerator, r.denominator, r.value) for r in results}


def test_untidy_records_give_what_the_definitions_give(council: ReturnsStore) -> None:
    found = as_table(measures.compute(council, [LA], Period.year(2025), "duckdb"))
    assert {m: found[m] for m in EXPECTED_2025} == EXPECTED_2025


def test_children_looked_after_on_a_day_inside_the_year(council: ReturnsStore) -> None:
    # 6 August 2023 to 5 August 2024: at 5 August 2024 a1 (two open episodes, once), a3,
    # a6, a7, a8; a2 is between episodes (1 August to 1 September)
    found = as_table(measures.compute(council, [LA], Period.as_at(D(2024, 8, 5)), "duckdb"))
    assert found["cla_count"] == (5, None, 5.0)
    assert found["cla_started"] == (3, None, 3.0)  # a2 (May, July), a4, a6
    assert found["cla_ceased"] == (2, None, 2.0)  # a2 (June, August 1), a4
    # k1 (open since May), k2 (April referral, open until October)
    assert found["cin_at_end"] == (2, None, 2.0)
    assert found["cpp_at_end"] == (1, None, 1.0)  # k1 (the June plan; August's is later)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_pandas_baseline_gives_the_same_numbers(council: ReturnsStore, year: int) -> None:
    engine = {
        (r.la, r.measure.id): (r.numerator, r.denominator)
        for r in measures.compute(council, [LA], Period.year(year), "duckdb")
    }
    assert _baseline().measures(council.root, [LA], year, "history") == engine


@pytest.mark.spark
@pytest.mark.slow
def test_spark_gives_the_same_numbers_on_untidy_records(council: ReturnsStore) -> None:
    for period in (Period.year(2025), Period.as_at(D(2024, 8, 5))):
        on_duckdb = measures.compute(council, [LA], period, "duckdb")
        on_spark = measures.compute(council, [LA], period, "spark")
        assert [r.as_dict() for r in on_spark] == [r.as_dict() for r in on_duckdb]
