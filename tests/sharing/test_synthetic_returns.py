"""Agency data from the statutory returns: the council's records are the children in need on
the day in a council's synthetic returns. What the returns say is counted here from the
returns generator's own output in memory (the CIN census as dicts, the SSDA903 tables as
rows), with the DfE's definitions at 31 March, while the agency data are built from the
files it wrote."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from whatworks.cli import app
from whatworks.core.errors import WhatworksError
from whatworks.returns.synthetic import Generated, generate, write_returns
from whatworks.sharing.linkage import evaluate, link
from whatworks.sharing.synthetic import AgencyData, from_returns, read_returns

COUNCIL = "E06000001"  # Hartlepool, a small council in the North East
YEAR = 2025
DAY = date(2025, 3, 31)
KEY = bytes(range(32))
#: The postcode areas of North East England (Royal Mail): Newcastle, Durham, Sunderland,
#: Cleveland, Darlington.
NORTH_EAST = {"NE", "DH", "SR", "TS", "DL"}


def uk_date(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Generated, Path]:
    """A fifth of Hartlepool's children (about 4,000) for one year, written as files."""
    generated = generate([COUNCIL], [YEAR], seed=4, scale=0.2)
    folder = tmp_path_factory.mktemp("returns")
    write_returns(generated, folder)
    return generated, folder


@pytest.fixture(scope="module")
def truth(written: tuple[Generated, Path]) -> dict[str, Any]:
    """The children in need at 31 March, from the generator's census and tables in memory:
    a referral not ended with no further action and without a closure date (the census
    leaves out closures after 31 March); a child protection plan without an end date; an
    SSDA903 episode without a DEC. Every child looked after is a child in need."""
    generated, _ = written
    census = generated.cin_census(COUNCIL, YEAR)
    tables = generated.tables(COUNCIL, YEAR)
    in_need = {
        c["child"]
        for c in census
        if any(r["referral_nfa"] != "1" and r["closure_date"] is None for r in c["referrals"])
    }
    plan = {
        c["child"]
        for c in census
        for r in c["referrals"]
        for p in r["cp_plans"]
        if p["end"] is None
    }
    cared = {e["CHILD"] for e in tables["episodes"] if not e["DEC"]}
    identity = {h["CHILD"]: (uk_date(h["DOB"]), h["SEX"], h["UPN"]) for h in tables["header"]}
    identity |= {c["child"]: (c["birth_date"], c["sex"], c["upn"]) for c in census}
    return {
        "children": in_need | plan | cared,
        "plan": plan,
        "cared": cared,
        "identity": identity,
    }


@pytest.fixture(scope="module")
def data(written: tuple[Generated, Path]) -> AgencyData:
    _, folder = written
    return from_returns(read_returns(folder, COUNCIL, YEAR), seed=5)


def test_the_council_records_are_the_children_in_need_on_the_day(
    data: AgencyData, truth: dict[str, Any]
) -> None:
    council = data.rows("council")
    children = truth["children"]
    assert len(children) > 150 and truth["plan"] and truth["cared"]
    assert all(truth["identity"][c][0] <= DAY for c in children)  # none unborn
    assert {r["person_id"] for r in council} == children
    assert len(council) == len(children)  # one record each


def test_the_children_keep_their_date_of_birth_sex_and_upn(
    data: AgencyData, truth: dict[str, Any]
) -> None:
    people = {p.person_id: p for p in data.people}
    council = data.rows("council")
    for child in truth["children"]:
        dob, sex, upn = truth["identity"][child]
        person = people[child]
        assert (person.dob, person.sex, person.upn) == (dob, sex, upn)
    # Records carry the injected errors: the date of birth exact, day and month transposed
    # or the day mistyped (+-1, +-10); sex as the child's, or missing or unknown.
    exact = 0
    for row in council:
        person, written_dob = people[row["person_id"]], uk_date(row["dob"])
        born = person.dob
        exact += written_dob == born
        assert written_dob in (
            born,
            date(born.year, born.day, born.month) if born.day <= 12 else born,
        ) or (
            (written_dob.year, written_dob.month) == (born.year, born.month)
            and abs(written_dob.day - born.day) in (1, 10)
        )
        assert row["sex"] in (person.sex, "", "U")
    # Standard errors: transposed 2% (of days 1-12), a day mistyped 1%: at most 3% wrong.
    assert exact / len(council) > 0.93


def test_the_council_need_codes_are_each_childs_status(
    data: AgencyData, truth: dict[str, Any]
) -> None:
    for row in data.rows("council"):
        child = row["person_id"]
        expected = ["child in need"]
        expected += ["child protection plan"] if child in truth["plan"] else []
        expected += ["looked after"] if child in truth["cared"] else []
        assert row["needs"].split(";") == expected, child
    codes = [row["needs"] for row in data.rows("council")]
    assert sum("child protection plan" in c for c in codes) == len(truth["plan"])
    assert sum("looked after" in c for c in codes) == len(truth["cared"])


def test_other_agencies_see_the_children_in_need_at_their_coverage(
    data: AgencyData, truth: dict[str, Any]
) -> None:
    """Each agency sees each child independently with its coverage (health 0.95, police
    0.3, school 0.9 of children aged 4 or over), so the share of the children in need it
    sees is binomial: allowed 4 standard errors, sqrt(p(1 - p) / n), which a generator that
    works fails with another seed about once in 15,000 times."""
    children = truth["children"]
    people = {p.person_id: p for p in data.people}

    def age(child: str) -> int:
        born = people[child].dob
        return DAY.year - born.year - ((DAY.month, DAY.day) < (born.month, born.day))

    for agency, coverage, among in (
        ("health", 0.95, children),
        ("police", 0.3, children),
        ("school", 0.9, {c for c in children if age(c) >= 5}),  # clear of the 4th birthday
    ):
        seen = [r["person_id"] for r in data.rows(agency)]
        assert len(seen) == len(set(seen))  # one record per child
        share = len(among & set(seen)) / len(among)
        assert abs(share - coverage) <= 4 * math.sqrt(coverage * (1 - coverage) / len(among))
    school = {r["person_id"] for r in data.rows("school")}
    assert not any(age(c) < 3 for c in school)
    # The rest of the area's children: health sees about 95% of about 4,000.
    assert len(data.rows("health")) > 10 * len(children)


def test_families_live_in_the_councils_area_and_some_siblings_are_in_need_together(
    data: AgencyData, truth: dict[str, Any]
) -> None:
    families: dict[int, list[Any]] = {}
    for person in data.people:
        families.setdefault(person.family_id, []).append(person)
    for members in families.values():
        assert len({(p.surname, p.postcode, p.address) for p in members}) == 1
    together = [
        f for f in families.values() if sum(p.person_id in truth["children"] for p in f) >= 2
    ]
    assert len(together) > 10
    areas = {p.postcode.split()[0].rstrip("0123456789") for p in data.people}
    assert areas <= NORTH_EAST


@pytest.mark.slow
def test_council_and_health_records_link_with_precision_and_recall_of_095(
    data: AgencyData,
) -> None:
    council, health = data.rows("council"), data.rows("health")
    result = link(council, health, KEY, names=("council", "health"))
    scores = evaluate(
        {(p.left_id, p.right_id) for p in result.links()}, data.true_pairs("council", "health")
    )
    assert scores.precision >= 0.95 and scores.recall >= 0.95, scores


def test_the_same_returns_and_seed_give_the_same_records(written: tuple[Generated, Path]) -> None:
    _, folder = written
    returns = read_returns(folder)  # one council, its latest year, 31 March
    assert (returns.la, returns.year, returns.on) == (COUNCIL, YEAR, DAY)
    first, again = from_returns(returns, seed=5), from_returns(returns, seed=5)
    assert first.records == again.records
    assert from_returns(returns, seed=6).records["council"] != first.records["council"]


def test_a_day_in_the_year_and_bad_folders(written: tuple[Generated, Path], tmp_path: Path) -> None:
    generated, folder = written
    autumn = date(2024, 10, 1)
    census = generated.cin_census(COUNCIL, YEAR)
    on_plan = {
        c["child"]
        for c in census
        for r in c["referrals"]
        for p in r["cp_plans"]
        if p["start"] <= autumn and (p["end"] is None or p["end"] > autumn)
    }
    returns = read_returns(folder, COUNCIL, YEAR, autumn)
    assert {c.child_id for c in returns.children if c.protection_plan} == on_plan
    with pytest.raises(WhatworksError, match="not in the collection year 2024-25"):
        read_returns(folder, COUNCIL, YEAR, date(2025, 4, 1))
    with pytest.raises(WhatworksError, match="no returns for 2019"):
        read_returns(folder, COUNCIL, 2019)
    broken = tmp_path / COUNCIL / str(YEAR)
    broken.mkdir(parents=True)
    (broken / "cin_census.xml").write_bytes(
        (folder / COUNCIL / str(YEAR) / "cin_census.xml").read_bytes()
    )
    (broken / "header.csv").write_text("CHILD,SEX,DOB\n1,M,01/01/2015\n", encoding="utf-8")
    (broken / "episodes.csv").write_text("CHILD,DECOM,DEC,HOME_POST\n", encoding="utf-8")
    with pytest.raises(WhatworksError, match=r"header\.csv has no column UPN"):
        read_returns(tmp_path)
    (broken / "header.csv").write_text("CHILD,SEX,DOB,UPN\n1,M,2015-01-01,\n", encoding="utf-8")
    with pytest.raises(WhatworksError, match=r"header\.csv, row 2, DOB: '2015-01-01' is not"):
        read_returns(tmp_path)


def test_the_demo_data_command_builds_the_agencies_from_returns(
    written: tuple[Generated, Path], truth: dict[str, Any], tmp_path: Path
) -> None:
    _, folder = written
    command = ["sharing", "demo-data", "--out", str(tmp_path), "--from-returns", str(folder)]
    done = CliRunner().invoke(app, [*command, "--la", COUNCIL, "--year", str(YEAR), "--seed", "2"])
    assert done.exit_code == 0, done.output
    with (tmp_path / "council.csv").open(encoding="utf-8") as handle:
        council = list(csv.DictReader(handle))
    assert {r["person_id"] for r in council} == truth["children"]
    refused = CliRunner().invoke(app, ["sharing", "demo-data", "--out", str(tmp_path), "--la", "X"])
    assert refused.exit_code != 0
    assert "only with --from-returns" in str(refused.exception)
