"""Synthetic returns: every file reads back clean and breaks no DfE rule, the same seed gives
the same bytes, the national measures land near the published national figures (DOMAIN.md),
and a planted fall in starts shows up."""

from __future__ import annotations

import bisect
import collections
import csv
import json
import math
import re
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

import holidays
import numpy as np
import pytest

from whatworks.returns import cin, rules, specs, ssda903
from whatworks.returns.synthetic import (
    Generated,
    Intervention,
    councils_in_england,
    generate,
    upn_check_letter,
    write_returns,
)

KEY = bytes(32)
COUNCILS = ("E09000003", "E06000001")  # Barnet (302), Hartlepool (805)
YEARS = (2023, 2024, 2025)
UPN = re.compile(r"^[A-HJ-NP-RT-Z]\d{12}$")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Generated, Path]:
    out = tmp_path_factory.mktemp("synthetic")
    generated = generate(COUNCILS, YEARS, seed=11)
    write_returns(generated, out)
    return generated, out


@pytest.fixture(scope="module")
def rows(written: tuple[Generated, Path]) -> dict[tuple[str, int], dict[str, list[dict[str, str]]]]:
    """Every council's and year's tables, built once."""
    generated, _ = written
    return {(c, y): generated.tables(c, y) for c in COUNCILS for y in YEARS}


def read_year(out: Path, council: str, year: int) -> dict[str, ssda903.Table]:
    tables = {}
    for path in sorted((out / council / str(year)).glob("*.csv")):
        table = ssda903.read_table(path, year, KEY)
        tables[table.name] = table
    return tables


def test_there_are_153_councils() -> None:
    councils = councils_in_england()
    assert len(councils) == 153
    assert "E09000003" in councils and "E10000006" not in councils  # Cumbria split in 2023


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("council", COUNCILS)
def test_every_file_reads_back_clean_and_breaks_no_rule(
    written: tuple[Generated, Path], council: str, year: int
) -> None:
    generated, out = written
    tables = read_year(out, council, year)
    assert set(tables) == set(specs.tables(year)), "every table of the year, and only those"
    for name, table in tables.items():
        assert table.source == f"{name}.csv"
        header = (out / council / str(year) / table.source).read_text().splitlines()[0]
        assert header.split(",") == [c.name for c in specs.tables(year)[name]]
        assert table.problems == [], table.problems[:3]
    assert tables["episodes"].rows and tables["header"].rows and tables["oc3"].rows
    assert rules.validate(tables, year) == []
    census = cin.read_census(out / council / str(year) / "cin_census.xml", year, KEY)
    assert census.problems == [], census.problems[:3]
    assert census.la == {"E09000003": "302", "E06000001": "805"}[council]
    assert len(census.children) == len(generated.cin_census(council, year)) > 100


def test_a_child_keeps_id_upn_and_birth_date_across_years_and_returns(
    written: tuple[Generated, Path], rows: dict[tuple[str, int], dict[str, list[dict[str, str]]]]
) -> None:
    generated, _ = written
    for council in COUNCILS:
        seen: dict[str, tuple[str, str]] = {}
        for year in YEARS:
            for row in rows[council, year]["header"]:
                assert UPN.match(row["UPN"]) and row["UPN"][0] == upn_check_letter(row["UPN"][1:])
                assert row["CHILD"].isdigit()
                known = seen.setdefault(row["CHILD"], (row["UPN"], row["DOB"]))
                assert known == (row["UPN"], row["DOB"])
            census = {c["child"]: c for c in generated.cin_census(council, year)}
            looked_after = {e["CHILD"] for e in rows[council, year]["episodes"] if not e["DEC"]}
            for child in looked_after:  # a child looked after is a child in need
                assert census[child]["upn"] == seen[child][0]
                assert census[child]["birth_date"].strftime("%d/%m/%Y") == seen[child][1]
                assert any(r["closure_date"] is None for r in census[child]["referrals"])
        both = {r["CHILD"] for r in rows[council, 2024]["episodes"]} & {
            r["CHILD"] for r in rows[council, 2023]["episodes"]
        }
        assert len(both) > 50
        for row in rows[council, 2024]["episodes"]:
            for field in ("HOME_POST", "PL_POST"):
                assert not row[field] or ssda903.POSTCODE.match(row[field])


def test_open_episodes_continue_into_the_next_year(
    rows: dict[tuple[str, int], dict[str, list[dict[str, str]]]],
) -> None:
    for council in COUNCILS:
        open_2024 = {
            (e["CHILD"], e["DECOM"], e["PLACE"])
            for e in rows[council, 2024]["episodes"]
            if not e["DEC"]
        }
        next_year = {(e["CHILD"], e["DECOM"], e["PLACE"]) for e in rows[council, 2025]["episodes"]}
        assert open_2024 and open_2024 <= next_year


def test_codes_follow_the_year(
    written: tuple[Generated, Path], rows: dict[tuple[str, int], dict[str, list[dict[str, str]]]]
) -> None:
    generated, _ = written
    sexes = {y: {r["SEX"] for r in rows["E09000003", y]["header"]} for y in YEARS}
    assert sexes[2024] == {"1", "2"} and sexes[2025] == {"M", "F"}
    assert not {e["PLACE"] for e in rows["E09000003", 2025]["episodes"]} & {"H5", "P2"}
    assert "social_worker" not in rows["E09000003", 2023]
    assert rows["E09000003", 2024]["social_worker"]
    assert "<Sex>" in generated.cin_xml("E09000003", 2025).decode()
    assert "<GenderCurrent>" in generated.cin_xml("E09000003", 2024).decode()


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    def contents(seed: int, folder: str) -> dict[str, bytes]:
        out = tmp_path / folder
        write_returns(generate(["E06000001"], [2024], seed=seed), out)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.*"))}

    first, again, other = contents(5, "a"), contents(5, "b"), contents(6, "c")
    assert first == again
    assert first.keys() == other.keys()
    assert first["E06000001/2024/episodes.csv"] != other["E06000001/2024/episodes.csv"]
    assert first["E06000001/2024/cin_census.xml"] != other["E06000001/2024/cin_census.xml"]
    truth = json.loads(first["truth.json"])
    assert truth["seed"] == 5 and truth["years"] == [2024] and truth["scale"] == 1.0
    assert truth["parameters"]["E06000001"]["targets"]["cla_per_10k"] > 100  # Hartlepool


# --- calibration -----------------------------------------------------------------------
# A national run (every council) at a twenty-fifth of the size, measured by hand. Rates per
# 10,000 divide by the councils' real child population (ONS, mid-year before) times scale.

SCALE = 0.04
YEAR = timedelta(days=365)
BANK_HOLIDAYS = sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2020, 2027)))


def day(text: str) -> date:
    """A dd/mm/yyyy date."""
    return date(int(text[6:]), int(text[3:5]), int(text[:2]))


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def child_population(year: int) -> float:
    """Children under 18 in England, ONS mid-year estimate for the year before `year`."""
    path = files("whatworks.data").joinpath(
        "published", "ons_mid-year_population_estimates_2012_to_2024.csv"
    )
    rows = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())
    return sum(
        float(r["population_estimate"])
        for r in rows
        if r["geographic_level"] == "Local authority" and r["time_period"] == str(year - 1)
    )


def national_measures(generated: Generated, year: int) -> dict[str, float]:
    """The headline measures, DfE definitions, from the generated rows.

    Looked after at 31 March: an episode with no DEC. Starts: episodes with RNE S that began
    in the year. Placements in the year: the first episode in the table plus every episode
    that began with a new placement (RNE S, P, T, B or U). Care leavers in education,
    employment or training: OC3 rows aged 19-21 with ACTIV F1-F5 or P1-P5. SDQ: OC2 scores
    of children aged 5-16 at 31 March. Children in need and CP plans at 31 March: open on
    the census date. Re-referral: a referral in the year within 365 days after an earlier
    referral of the child (this census or last year's). Repeat plan: a plan starting in the
    year with NumberOfPreviousCPP of 1 or more. Assessments: those authorised in the year,
    within 45 working days (England and Wales bank holidays) of their start."""
    first, last = date(year - 1, 4, 1), date(year, 3, 31)
    count: collections.Counter[str] = collections.Counter()
    scores: list[int] = []
    for council in generated.councils:
        tables = generated.tables(council, year)
        episodes = collections.defaultdict(list)
        for row in tables["episodes"]:
            episodes[row["CHILD"]].append(row)
            count["starts"] += row["RNE"] == "S" and day(row["DECOM"]) >= first
        for rows in episodes.values():
            if any(not r["DEC"] for r in rows):
                count["looked_after"] += 1
                placements = sum(1 for i, r in enumerate(rows) if i == 0 or r["RNE"] in "SPTBU")
                count["three_placements"] += placements >= 3
        for row in tables["oc3"]:
            if 19 <= age_on(day(row["DOB"]), last) <= 21:
                count["leavers"] += 1
                count["leavers_eet"] += row["ACTIV"][0] in "FP"
        for row in tables["oc2"]:
            if row["SDQ_SCORE"] and 5 <= age_on(day(row["DOB"]), last) <= 16:
                scores.append(int(row["SDQ_SCORE"]))
        earlier = collections.defaultdict(set)
        for child in generated.cin_census(council, year - 1):
            earlier[child["child"]].update(r["referral_date"] for r in child["referrals"])
        starts, ends = [], []
        for child in generated.cin_census(council, year):
            dates = sorted(
                earlier[child["child"]] | {r["referral_date"] for r in child["referrals"]}
            )
            count["in_need"] += any(r["closure_date"] is None for r in child["referrals"])
            for referral in child["referrals"]:
                when = referral["referral_date"]
                if when >= first:
                    before = bisect.bisect_left(dates, when)  # the latest earlier referral
                    count["referrals"] += 1
                    count["re_referrals"] += before > 0 and when - dates[before - 1] <= YEAR
                for plan in referral["cp_plans"]:
                    count["on_plan"] += plan["end"] is None
                    if plan["start"] >= first:
                        count["plans"] += 1
                        count["repeat_plans"] += int(plan["previous_plans"]) >= 1
                for a in referral["assessments"]:
                    if a["authorised"] and a["authorised"] >= first:
                        starts.append(a["start"])
                        ends.append(a["authorised"])
        days = np.busday_count(starts, ends, holidays=BANK_HOLIDAYS)
        count["assessments"] += len(days)
        count["in_time"] += int((days <= 45).sum())
    per_10k = 1e4 / (child_population(year) * generated.scale)
    return {
        "looked_after_per_10k": count["looked_after"] * per_10k,
        "starts_per_10k": count["starts"] * per_10k,
        "starts_per_child_looked_after": count["starts"] / count["looked_after"],
        "in_need_per_10k": count["in_need"] * per_10k,
        "on_plan_per_10k": count["on_plan"] * per_10k,
        "re_referral_percent": 100 * count["re_referrals"] / count["referrals"],
        "repeat_plan_percent": 100 * count["repeat_plans"] / count["plans"],
        "three_placements_percent": 100 * count["three_placements"] / count["looked_after"],
        "leavers_eet_percent": 100 * count["leavers_eet"] / count["leavers"],
        "sdq_mean": sum(scores) / len(scores),
        "assessments_in_time_percent": 100 * count["in_time"] / count["assessments"],
    }


# National figures (DOMAIN.md, 2023-2025; England had 12.2 million children under 18):
# 83,750 looked after (69 per 10,000), 33,000 starts (27 per 10,000, 0.4 per child looked
# after), 400,000 children in need (331 per 10,000), 50,000 on CP plans (41 per 10,000),
# re-referrals 22.5%, repeat plans 24%, 3+ placements 10-11%, care leavers 19-21 in EET
# 54-56%, SDQ 14.4-14.9; assessments within 45 working days about 80% (DfE 2024: 82%).
# Tolerances: at this scale about 3,300 children are looked after and 1,300 start; the
# rates allow about 8% (roughly three standard errors of the count plus the published
# years' spread); percentages allow 3-4 points (binomial standard errors of 0.5-1.2
# points on 1,000-30,000 cases), 5 for care leavers (1,400 of them, and councils differ:
# across seeds the measure's standard deviation at this scale is about 1.9 points); the
# SDQ mean allows 0.6 (its standard error is 0.1).
EXPECTED = {
    "looked_after_per_10k": (69.0, 0.08),
    "starts_per_10k": (27.0, 0.08),
    "starts_per_child_looked_after": (0.39, 0.08),
    "in_need_per_10k": (331.0, 0.08),
    "on_plan_per_10k": (41.0, 0.08),
    "re_referral_percent": (22.5, 3.0),
    "repeat_plan_percent": (24.3, 3.5),
    "three_placements_percent": (10.5, 2.5),
    "leavers_eet_percent": (55.0, 5.0),
    "sdq_mean": (14.6, 0.6),
    "assessments_in_time_percent": (80.0, 3.0),
}


@pytest.mark.slow
def test_national_measures_land_near_the_published_figures() -> None:
    generated = generate(councils_in_england(), [2024, 2025], seed=2025, scale=SCALE)
    measured = national_measures(generated, 2025)
    for measure, (target, tolerance) in EXPECTED.items():
        if measure.endswith(("_per_10k", "_looked_after")):
            assert math.isclose(measured[measure], target, rel_tol=tolerance), (measure, measured)
        else:
            assert abs(measured[measure] - target) <= tolerance, (measure, measured)


@pytest.mark.slow
def test_a_planted_fall_in_starts_shows() -> None:
    treated, control = ["E10000016", "E10000017"], ["E10000012", "E10000030"]  # Kent, Lancs
    planted = Intervention("starts", treated, from_year=2025, change=-0.2)
    generated = generate(
        treated + control, [2023, 2024, 2025, 2026], seed=3, interventions=[planted]
    )

    def starts(councils: list[str], years: tuple[int, ...]) -> int:
        return sum(
            1
            for council in councils
            for year in years
            for row in generated.tables(council, year)["episodes"]
            if row["RNE"] == "S" and day(row["DECOM"]) >= date(year - 1, 4, 1)
        )

    before, after = starts(treated, (2023, 2024)), starts(treated, (2025, 2026))
    control_before, control_after = starts(control, (2023, 2024)), starts(control, (2025, 2026))
    ratio = (after / before) / (control_after / control_before)
    # About 5,200 starts in two years in the treated councils and 1,700 in the controls: the
    # log of the ratio has a standard error of about sqrt(2/5200 + 2/1700) = 0.04, 0.032 on
    # the ratio, so a planted 0.8 should come out within 0.12 (nearly four standard errors;
    # the controls take out the change in population between the years).
    assert before > 4000 and control_before > 1200
    assert abs(ratio - 0.8) < 0.12, (before, after, control_before, control_after)
    truth = generated.truth()
    assert truth["interventions"][0]["change"] == -0.2
    assert truth["interventions"][0]["councils"] == treated
