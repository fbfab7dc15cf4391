"""Reading SSDA903 tables: the synthetic samples, and bad input reported by table, row,
child and field, with identifiers pseudonymised as they are read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from whatworks.core.errors import ImportProblem
from whatworks.returns.pseudonymise import pseudonym
from whatworks.returns.ssda903 import read_table

SAMPLES = Path(__file__).parent / "samples"
KEY = bytes(range(32))
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
GOOD = "566910,15/02/2016,L,C2,N3,T2,PR0,14/08/2017,X1,CLOSE,EG19 7TT,WV27 9FW,4244474"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "episodes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("episodes.csv", "episodes"),
        ("header.csv", "header"),
        ("reviews.csv", "reviews"),
        ("oc2.csv", "oc2"),
        ("oc3.csv", "oc3"),
        ("ad1.csv", "ad1"),
        ("missing.csv", "missing"),
        ("uasc.csv", "uasc"),
        ("previous_permanence.csv", "prev_perm"),
        ("placed_for_adoption.csv", "placed_adoption"),
        ("sw_episodes.csv", "social_worker"),
    ],
)
def test_every_sample_table_is_read(name: str, table: str) -> None:
    with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as handle:
        raw = [r for r in csv.DictReader(handle) if any(v.strip() for v in r.values())]
    found = read_table(SAMPLES / name, 2024, KEY)
    assert found.name == table
    assert len(found.rows) == len(raw)
    children = {r["CHILD"].strip() for r in raw}
    assert not children & {row["CHILD"] for row in found.rows}  # no child id in clear
    assert found.rows[0]["CHILD"] == pseudonym(KEY, "child", raw[0]["CHILD"])


def test_sample_problems_are_reported_by_row_child_and_field() -> None:
    found = read_table(SAMPLES / "placed_for_adoption_errors.csv", 2024, KEY)
    first = found.problems[0]
    assert (first.table, first.row, first.child, first.field) == (
        "placed_adoption",
        2,
        "988635",
        "REASON_PLACED_CEASED",
    )
    assert "'XXX' is not one of the codes" in first.message


def test_values_are_typed_and_postcodes_pseudonymised(tmp_path) -> None:
    [row] = read_table(write(tmp_path, EPISODES, GOOD), 2024, KEY).rows
    assert row["DECOM"].isoformat() == "2016-02-15"
    assert row["HOME_POST"] == pseudonym(KEY, "postcode", "EG19 7TT")
    assert row["PLACE"] == "T2" and row["URN"] == "4244474"


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        ((EPISODES.replace(",LS", ""), GOOD.replace(",C2", "")), "LS", "column LS is missing"),
        (
            (EPISODES, GOOD.replace("15/02/2016", "2016-02-15")),
            "DECOM",
            "'2016-02-15' is not a date written dd/mm/yyyy",
        ),
        ((EPISODES, GOOD.replace(",T2,", ",ZZ,")), "PLACE", "'ZZ' is not one of the codes"),
        ((EPISODES, GOOD.replace(",L,", ",,")), "RNE", "RNE must not be blank"),
        ((EPISODES, GOOD.rsplit(",", 3)[0]), "", "the row has 10 values"),
    ],
)
def test_bad_rows_are_named(tmp_path, lines, field: str, message: str) -> None:
    problems = read_table(write(tmp_path, *lines), 2024, KEY).problems
    assert any(p.field == field and message in p.message for p in problems), problems


def test_a_duplicated_child_in_the_header_table(tmp_path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
        "1,1,01/01/2010,WBRI,A123456789012,,\n"
        "1,2,01/01/2011,WBRI,A123456789013,,\n",
        encoding="utf-8",
    )
    [problem] = read_table(path, 2024, KEY).problems
    assert (problem.row, problem.child, problem.field) == (3, "1", "CHILD")


def test_the_wrong_year_shows_in_the_codes(tmp_path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n1,M,01/01/2010,WBRI,A123456789012,,\n",
        encoding="utf-8",
    )
    assert read_table(path, 2025, KEY).problems == []
    [problem] = read_table(path, 2024, KEY).problems  # M/F/U codes arrived in 2024/25
    assert problem.field == "SEX"


def test_files_that_are_not_tables_are_refused(tmp_path) -> None:
    with pytest.raises(ImportProblem, match="not an SSDA903 table of 2024"):
        read_table(SAMPLES / "DoLo.csv", 2024, KEY)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ImportProblem, match="empty"):
        read_table(empty, 2024, KEY)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"CHILD,DOB\n\xff\xfe\x00")
    with pytest.raises(ImportProblem, match="not UTF-8"):
        read_table(binary, 2024, KEY)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2 * 1024**3)
    with pytest.raises(ImportProblem, match="the limit is"):
        read_table(big, 2024, KEY)
