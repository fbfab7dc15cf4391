"""Measures on a small hand-written council, expected values worked out by hand below, on
DuckDB and on Spark (identical to the digit).

The council has two returns: 2024 (year to 31 March 2024) and 2025. The period under test
is the year to 31 March 2025 (1 April 2024 to 31 March 2025) unless a test says otherwise.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from whatworks.returns import canonical, measures
from whatworks.returns.measures import Period
from whatworks.returns.store import ReturnsStore

D = date
LA = "E09000099"


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
    {"CHILD": "c1", "SEX": "1", "DOB": D(2012, 5, 1)},
    {"CHILD": "c2", "SEX": "2", "DOB": D(2010, 1, 1)},
    {"CHILD": "c3", "SEX": "1", "DOB": D(2008, 6, 1)},  # 16 at 31 March 2025
    {"CHILD": "c4", "SEX": "2", "DOB": D(2020, 1, 1)},
    {"CHILD": "c5", "SEX": "1", "DOB": D(2015, 1, 1)},
    {"CHILD": "c6", "SEX": "2", "DOB": D(2014, 1, 1)},
    {"CHILD": "c8", "SEX": "1", "DOB": D(2011, 1, 1)},
    {"CHILD": "c9", "SEX": "1", "DOB": D(2013, 1, 1)},
]
EPISODES_2024 = [
    # c3 open at 31 March 2024; the 2025 return repeats it with its end.
    episode("c3", D(2022, 1, 1), "S", "U1"),
    # c6's first placement ended in 2023 (kept: it ended before 1 April 2024).
    episode("c6", D(2022, 8, 1), "S", "U1", D(2023, 5, 1), "X1"),
    episode("c6", D(2023, 5, 1), "B", "U3"),  # same carer: not a new placement
    # c8 open at 31 March 2024 but absent from the 2025 return: kept up to 1 April 2024.
    episode("c8", D(2023, 9, 1), "S", "U1"),
    episode("c9", D(2021, 1, 1), "S", "U1", D(2023, 6, 1), "X1"),
    episode("c9", D(2023, 6, 1), "P", "U2"),
]
EPISODES_2025 = [
    # c1: S, P, temporary T1, return from it (P, not a move), P: 3 placements in the year.
    episode("c1", D(2024, 5, 1), "S", "U4", D(2024, 8, 1), "X1"),
    episode("c1", D(2024, 8, 1), "P", "U4", D(2024, 8, 10), "X1"),
    episode("c1", D(2024, 8, 10), "T", "T1", D(2024, 8, 20), "X1"),
    episode("c1", D(2024, 8, 20), "P", "U4", D(2024, 12, 1), "X1"),
    episode("c1", D(2024, 12, 1), "P", "R1"),
    # c2: legal status change only since 2022; the period's start is in an older return.
    episode("c2", D(2022, 1, 1), "L", "U1"),
    episode("c3", D(2022, 1, 1), "S", "U1", D(2024, 6, 1), "X1"),
    episode("c3", D(2024, 6, 1), "P", "U2"),
    # c4 started and ceased (returned home) in the year.
    episode("c4", D(2024, 10, 1), "S", "U1", D(2025, 1, 15), "E4A"),
    # c5: a short break (V3): never counted.
    episode("c5", D(2024, 7, 1), "S", "U1", D(2024, 7, 5), "E8", ls="V3"),
    episode("c6", D(2023, 5, 1), "B", "U3"),
    episode("c9", D(2023, 6, 1), "P", "U2"),
]
OC2_2025 = [
    {"CHILD": "c2", "DOB": D(2010, 1, 1), "SDQ_SCORE": 20},
    {"CHILD": "c6", "DOB": D(2014, 1, 1), "SDQ_SCORE": 9},
    {"CHILD": "c3", "DOB": D(2008, 6, 1), "SDQ_SCORE": 13},  # 16: counted
    {"CHILD": "x1", "DOB": D(2021, 1, 1), "SDQ_SCORE": 30},  # 4: not counted
    {"CHILD": "x2", "DOB": D(2012, 1, 1), "SDQ_SCORE": None},  # no score: not counted
]
OC3_2025 = [
    {"CHILD": "l1", "DOB": D(2005, 6, 1), "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
    {"CHILD": "l2", "DOB": D(2004, 1, 1), "IN_TOUCH": "YES", "ACTIV": "G4", "ACCOM": "Z2"},
    {"CHILD": "l3", "DOB": D(2006, 3, 31), "IN_TOUCH": "YES", "ACTIV": "P2", "ACCOM": "Y2"},
    {"CHILD": "l4", "DOB": D(2007, 1, 1), "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
    {"CHILD": "l5", "DOB": D(2003, 3, 31), "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
]
OC3_2024 = [  # another year's care leavers: never mixed into 2025
    {"CHILD": "l9", "DOB": D(2004, 6, 1), "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
]
MISSING_2024 = [
    {
        "CHILD": "c3",
        "DOB": D(2008, 6, 1),
        "MISSING": "M",
        "MIS_START": D(2024, 3, 30),
        "MIS_END": D(2024, 3, 31),
    },
]
MISSING_2025 = [
    {
        "CHILD": "c1",
        "DOB": D(2012, 5, 1),
        "MISSING": "M",
        "MIS_START": D(2024, 6, 1),
        "MIS_END": D(2024, 6, 2),
    },
    {
        "CHILD": "c1",
        "DOB": D(2012, 5, 1),
        "MISSING": "M",
        "MIS_START": D(2024, 7, 1),
        "MIS_END": D(2024, 7, 2),
    },
    {
        "CHILD": "c1",
        "DOB": D(2012, 5, 1),
        "MISSING": "A",
        "MIS_START": D(2024, 7, 5),
        "MIS_END": D(2024, 7, 6),
    },
    {
        "CHILD": "c2",
        "DOB": D(2010, 1, 1),
        "MISSING": "M",
        "MIS_START": D(2025, 3, 1),
        "MIS_END": D(2025, 3, 2),
    },
]


def sw(child, worker, start, end=None):
    return {"CHILD": child, "SW_ID": worker, "SW_DECOM": start, "SW_DEC": end}


SW_2024 = [sw("c2", "D", D(2023, 1, 1)), sw("c3", "E", D(2024, 1, 1))]
SW_2025 = [
    sw("c1", "A", D(2024, 5, 1), D(2024, 9, 1)),
    sw("c1", "B", D(2024, 9, 1), D(2025, 1, 1)),
    sw("c1", "C", D(2025, 1, 1)),
    sw("c2", "D", D(2023, 1, 1)),
    sw("c3", "E", D(2024, 1, 1), D(2024, 5, 1)),
    sw("c3", "F", D(2024, 5, 1)),
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


CIN_2024 = [
    child(
        "k1", referral(D(2023, 6, 1), D(2023, 8, 1), plans=[plan(D(2023, 7, 1), D(2023, 7, 30))])
    ),
    child("k3", referral(D(2024, 1, 14), D(2024, 2, 1))),
    child(
        "k4",
        referral(
            D(2024, 2, 10), D(2024, 3, 1), assessments=[assessment(D(2024, 2, 12), D(2024, 2, 20))]
        ),
    ),
]
CIN_2025 = [
    # k1: within 12 months of June 2023: a re-referral; a plan after an earlier plan.
    child(
        "k1",
        referral(
            D(2024, 5, 1),
            assessments=[assessment(D(2024, 9, 2), D(2024, 11, 4))],
            plans=[plan(D(2024, 6, 1))],
        ),
    ),
    # k2: first referral closed with no further action; the second is a re-referral.
    child(
        "k2",
        referral(D(2024, 7, 1), D(2024, 7, 2), nfa="true"),
        referral(
            D(2024, 9, 1),
            assessments=[assessment(D(2024, 9, 2), D(2024, 11, 5))],
            plans=[plan(D(2024, 10, 1), D(2025, 2, 1), previous="1")],
        ),
    ),
    # k3: 12 months and a day after 14 January 2024: not a re-referral; closed on 31 March.
    child("k3", referral(D(2025, 1, 15), D(2025, 3, 31))),
    # k4: exactly 12 months after 10 February 2024: a re-referral; a first plan.
    child(
        "k4",
        referral(
            D(2025, 2, 10),
            assessments=[assessment(D(2024, 12, 2), D(2025, 2, 6))],
            plans=[plan(D(2025, 3, 1))],
        ),
    ),
]


def write_council(root: Path) -> ReturnsStore:
    store = ReturnsStore(root)
    for year, tables, census in (
        (
            2024,
            {
                "header": HEADER,
                "episodes": EPISODES_2024,
                "oc3": OC3_2024,
                "missing": MISSING_2024,
                "social_worker": SW_2024,
            },
            CIN_2024,
        ),
        (
            2025,
            {
                "header": HEADER,
                "episodes": EPISODES_2025,
                "oc2": OC2_2025,
                "oc3": OC3_2025,
                "missing": MISSING_2025,
                "social_worker": SW_2025,
            },
            CIN_2025,
        ),
    ):
        arrow = {n: canonical.ssda903_table(n, rows, LA, year) for n, rows in tables.items()}
        arrow.update(canonical.cin_tables(census, LA, year))
        store.write(LA, year, arrow, {"ssda903": {}, "cin": {}})
    return store


# Worked out by hand from the rows above, for the year to 31 March 2025:
EXPECTED_2025 = {
    # at 31 March 2025: c1, c2, c3, c6, c9 (c4 ceased; c5 short break; c8 not carried)
    "cla_count": (5, None, 5.0),
    "cla_started": (2, None, 2.0),  # c1, c4 (c5 is a short break)
    "cla_ceased": (1, None, 1.0),  # c4 (the X1 ends are changes, not ceasing)
    # c1 has 3 placements; c2 1, c3 2 (S then P), c6 1 (B is the same carer), c9 1
    "placements_3_plus_percent": (1, 5, 20.0),
    # under 16 and looked after since 30 Sep 2022 or before: c2, c6, c9; in the same
    # placement since 31 March 2023 or before: c2 (L only), c6 (B only); not c9 (P in 2023)
    "long_term_stability_percent": (2, 3, 66.7),
    "cin_at_end": (3, None, 3.0),  # k1, k2 (second referral), k4; k3 closed on 31 March
    "referrals": (5, None, 5.0),
    "rereferral_percent": (3, 5, 60.0),  # k1, k2's second, k4
    "cpp_at_end": (2, None, 2.0),  # k1, k4 (k2's plan ended)
    "cpp_subsequent_percent": (2, 3, 66.7),  # k1 (history), k2 (NumberOfPreviousCPP)
    # 2 Sep -> 4 Nov 2024 is 45 working days (no bank holidays), to 5 Nov 46; 2 Dec 2024
    # -> 6 Feb 2025 is 45 working days once 25, 26 Dec and 1 Jan are left out (48 if not)
    "assessments_45_days_percent": (2, 3, 66.7),
    # aged 19 to 21 at 31 March 2025: l1 (F1, B1), l2 (G4, Z2), l3 (P2, Y2)
    "care_leavers_eet_19_21_percent": (2, 3, 66.7),
    "care_leavers_suitable_19_21_percent": (1, 3, 33.3),
    "sdq_average_score": (42, 3, 14.0),  # (20 + 9 + 13) / 3
    "missing_incidents_per_child": (3, 2, 1.5),  # c1 twice (not the "away"), c2 once
    # children at the end: c1 (2 changes), c2 (0), c3 (1: the 2024 return's open row is
    # replaced by the 2025 one that ends it), c6 (0), c9 (0)
    "social_worker_changes_per_child": (3, 5, 0.6),
}


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> ReturnsStore:
    return write_council(tmp_path_factory.mktemp("returns"))


def as_table(results: list[measures.Result]) -> dict[str, tuple]:
    return {r.measure.id: (r.numerator, r.denominator, r.value) for r in results}


def test_every_measure_on_duckdb_matches_the_hand_calculation(council: ReturnsStore) -> None:
    found = as_table(measures.compute(council, [LA], Period.year(2025), "duckdb"))
    assert found == EXPECTED_2025


def test_as_at_a_date_counts_the_twelve_months_to_that_date(council: ReturnsStore) -> None:
    # 1 January to 31 December 2024; at 31 December 2024 c4 is still looked after.
    results = measures.compute(council, [LA], Period.as_at(D(2024, 12, 31)), "duckdb")
    found = as_table(results)
    assert found["cla_count"] == (6, None, 6.0)  # c1, c2, c3, c4, c6, c9
    assert found["cla_started"] == (2, None, 2.0)  # c1 (May), c4 (October)
    assert found["cla_ceased"] == (0, None, 0.0)
    # referrals dated 2024: k3 (14 Jan), k4 (10 Feb), k1 (1 May), k2 (1 Jul, 1 Sep)
    assert found["referrals"] == (5, None, 5.0)
    # OC2 and OC3 are collected once a year: not applicable to an "as at" period
    status = {r.measure.id: r.status for r in results}
    assert status["sdq_average_score"] == "z"
    assert status["care_leavers_eet_19_21_percent"] == "z"


def test_the_older_return_stands_for_its_own_year(council: ReturnsStore) -> None:
    found = as_table(measures.compute(council, [LA], Period.year(2024), "duckdb"))
    # at 31 March 2024: c2 (open since 2022, from the 2025 return), c3, c6, c8 (its own
    # return's account stands up to 1 April 2024), c9
    assert found["cla_count"] == (5, None, 5.0)
    assert found["cla_ceased"] == (0, None, 0.0)  # c8's row ends only because 2025 begins
    # 2024's care leavers are its own: l9, aged 19 at 31 March 2024, in education
    assert found["care_leavers_eet_19_21_percent"] == (1, 1, 100.0)


def test_social_worker_changes_are_not_available_before_they_were_collected(
    council: ReturnsStore,
) -> None:
    results = measures.compute(council, [LA], Period.year(2023), "duckdb")
    status = {r.measure.id: r.status for r in results}
    assert status["social_worker_changes_per_child"] == "z"


def test_a_council_with_no_returns_gets_zero_counts_and_no_rates(council: ReturnsStore) -> None:
    found = as_table(measures.compute(council, ["E09000001"], Period.year(2025), "duckdb"))
    assert found["cla_count"] == (0, None, 0.0)
    assert found["rereferral_percent"] == (0, 0, None)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_gives_the_same_numbers_as_duckdb(council: ReturnsStore) -> None:
    found = as_table(measures.compute(council, [LA], Period.year(2025), "spark"))
    assert found == EXPECTED_2025


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ReturnsStore:
    """Two generated councils, three years each, read and stored as an import would."""
    from whatworks.returns import imports, synthetic

    folder = tmp_path_factory.mktemp("generated")
    councils = ["E09000003", "E06000001"]
    synthetic.write_returns(synthetic.generate(councils, range(2023, 2026), 7), folder / "files")
    store = ReturnsStore(folder / "store")
    for la in councils:
        for year in range(2023, 2026):
            report = imports.validate([folder / "files" / la / str(year)], year, b"k" * 32)
            assert not report.blocking
            tables, _, _ = imports.canonical_tables(report, la)
            store.write(la, year, tables, {})
    return store


@pytest.mark.spark
@pytest.mark.slow
def test_spark_and_duckdb_agree_on_generated_councils(generated: ReturnsStore) -> None:
    councils = ["E09000003", "E06000001"]
    on_duckdb = measures.compute(generated, councils, Period.year(2025), "duckdb")
    on_spark = measures.compute(generated, councils, Period.year(2025), "spark")
    assert [r.as_dict() for r in on_spark] == [r.as_dict() for r in on_duckdb]
    assert {r.measure.id for r in on_duckdb if r.status == "value"} == {
        m.id for m in measures.MEASURES
    }
