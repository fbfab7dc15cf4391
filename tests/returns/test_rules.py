"""Each DfE rule fires on a return written to break it, and not on one that keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from whatworks.returns.rules import RULES, age_on, messages, validate
from whatworks.returns.ssda903 import read_table

KEY = bytes(32)
YEAR = 2024
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
MISSING = "CHILD,DOB,MISSING,MIS_START,MIS_END"
OC3 = "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM"
PREV_PERM = "CHILD,DOB,PREV_PERM,LA_PERM,DATE_PERM"


def child(dob: str, ident: str = "A1") -> str:
    return f"{ident},1,{dob},WBRI,A123456789012,,"


def episode(
    decom: str, dec: str = "", rne: str = "S", ls: str = "C2", rec: str = "", ident: str = "A1"
) -> str:
    rec = rec or ("X1" if not dec else "E13")
    return f"{ident},{decom},{rne},{ls},N1,U1,PR1,{dec},{rec},,,,"


def missing(start: str, end: str = "", kind: str = "M", dob: str = "01/01/2010") -> str:
    return f"A1,{dob},{kind},{start},{end}"


def codes_for(
    tmp_path: Path,
    header: list[str],
    episodes: list[str],
    missing_rows: list[str] = (),
    oc3: list[str] = (),
    prev_perm: list[str] = (),
) -> dict[str, list[tuple[int, str, str]]]:
    tables = {}
    for name, columns, rows in (
        ("header", HEADER, header),
        ("episodes", EPISODES, episodes),
        ("missing", MISSING, list(missing_rows)),
        ("oc3", OC3, list(oc3)),
        ("prev_perm", PREV_PERM, list(prev_perm)),
    ):
        if rows:
            path = tmp_path / f"{name}.csv"
            path.write_text("\n".join([columns, *rows]) + "\n", encoding="utf-8")
            table = read_table(path, YEAR, KEY)
            tables[table.name] = table
    found: dict[str, list[tuple[int, str, str]]] = {}
    for problem in validate(tables, YEAR):
        found.setdefault(problem.code, []).append((problem.row, problem.child, problem.field))
    return found


CASES = {
    "352": (
        [child("01/01/2005")],
        [episode("02/01/2023")],  # 18 on 1 Jan 2023
        [child("01/01/2006")],
        [episode("02/01/2023")],
    ),
    "356": (
        [child("01/01/2010")],
        [episode("10/05/2023", dec="09/05/2023")],
        [child("01/01/2010")],
        [episode("10/05/2023", dec="10/05/2023")],
    ),
    "358": (
        [child("01/06/2014")],
        [episode("10/05/2023", ls="J2")],  # aged 8
        [child("01/06/2012")],
        [episode("10/06/2023", ls="J2")],
    ),  # aged 11
    "386": (
        [child("01/01/2005")],
        [episode("10/05/2022", dec="02/01/2023", rec="E11")],
        [child("01/01/2006")],
        [episode("10/05/2022", dec="02/01/2023", rec="E11")],
    ),
    "387": (
        [child("01/06/2010")],
        [episode("10/05/2022", dec="02/01/2024", rec="E14")],
        [child("01/06/2009")],
        [episode("10/05/2022", dec="02/07/2023", rec="E14")],
    ),
    "388": (
        [child("01/01/2010")],
        [episode("10/05/2023", dec="01/06/2023", rec="X1")],
        [child("01/01/2010")],
        [episode("10/05/2023", dec="01/06/2023", rec="X1"), episode("01/06/2023", rne="P")],
    ),
}
MISSING_CASES = {
    "564": ([missing("", end="06/06/2023")], [missing("05/06/2023", end="06/06/2023")]),
    "565": ([missing("05/06/2023", kind="")], [missing("05/06/2023")]),
    "566": (
        [missing("05/06/2023", end="06/06/2023", kind="")],
        [missing("05/06/2023", end="06/06/2023")],
    ),
    "567": ([missing("05/06/2023", end="04/06/2023")], [missing("05/06/2023", end="05/06/2023")]),
    "571": ([missing("05/06/2023", end="02/04/2024")], [missing("05/06/2023", end="30/03/2024")]),
    "586": ([missing("05/06/2009")], [missing("05/06/2023")]),
}


def mother(dob: str, flag: str, child_dob: str = "") -> str:
    return f"A1,2,{dob},WBRI,A123456789012,{flag},{child_dob}"


def provider(place: str, code: str) -> str:
    return f"A1,10/05/2023,S,C2,N1,{place},{code},,X1,,,,"


CASES.update(
    {
        "102": (
            [child("")],
            [episode("10/05/2023")],
            [child("01/01/2010")],
            [episode("10/05/2023")],
        ),
        "103": (
            ["A1,1,01/01/2010,,A123456789012,,"],
            [episode("10/05/2023")],
            [child("01/01/2010")],
            [episode("10/05/2023")],
        ),
        "530": (
            [child("01/01/2010")],
            [provider("P1", "PR4")],
            [child("01/01/2010")],
            [provider("U1", "PR4")],
        ),
        "531": (
            [child("01/01/2010")],
            [provider("P1", "PR5")],
            [child("01/01/2010")],
            [provider("U1", "PR5")],
        ),
        "550": (
            [child("01/01/2010")],
            [provider("U1", "PR0")],
            [child("01/01/2010")],
            [provider("P1", "PR0")],
        ),
        "612": (
            [mother("01/01/2005", "0", "01/02/2023")],
            [episode("10/05/2023")],
            [mother("01/01/2005", "1", "01/02/2023")],
            [episode("10/05/2023")],
        ),
        "620": (
            [mother("01/06/2013", "1")],
            [episode("10/05/2023")],  # 10 on 31 March 2024
            [mother("01/03/2013", "1")],
            [episode("10/05/2023")],
        ),
    }
)
OTHER_CASES = {  # table, firing rows, keeping rows
    "391": ("oc3", ["A1,01/06/2008,Yes,F1,B1"], ["A1,01/03/2007,Yes,F1,B1"]),
    "635": ("prev_perm", ["A1,01/01/2010,Z1,201,01/01/2015"], ["A1,01/01/2010,Z1,,"]),
}


@pytest.mark.parametrize("code", sorted(OTHER_CASES))
def test_other_table_rules_fire_and_do_not(tmp_path: Path, code: str) -> None:
    table, bad, good = OTHER_CASES[code]
    header, episodes = [child("01/01/2010")], [episode("10/05/2023")]
    fired = codes_for(tmp_path, header, episodes, **{table: bad})
    assert [row for row, _, _ in fired.get(code, [])] == [2], fired
    assert code not in codes_for(tmp_path, header, episodes, **{table: good})


@pytest.mark.parametrize("code", sorted(CASES))
def test_episode_rules_fire_and_do_not(tmp_path: Path, code: str) -> None:
    header, episodes, ok_header, ok_episodes = CASES[code]
    fired = codes_for(tmp_path, header, episodes)
    assert fired.get(code) == [(2, "A1", fired[code][0][2])], fired
    assert code not in codes_for(tmp_path, ok_header, ok_episodes)


@pytest.mark.parametrize("code", sorted(MISSING_CASES))
def test_missing_rules_fire_and_do_not(tmp_path: Path, code: str) -> None:
    header = [child("01/01/2010")]
    episodes = [episode("10/05/2023")]
    bad, good = MISSING_CASES[code]
    fired = codes_for(tmp_path, header, episodes, bad)
    assert [row for row, _, _ in fired.get(code, [])] == [2]
    assert code not in codes_for(tmp_path, header, episodes, good)


def test_every_rule_is_tested_and_has_the_dfe_message() -> None:
    assert {r.code for r in RULES} == set(CASES) | set(MISSING_CASES) | set(OTHER_CASES)
    assert len(RULES) == 21
    for item in RULES:
        assert item.message == messages()[item.code] and item.message
    assert messages()["356"] == (
        "The date the episode ceased is before the date the same episode started."
    )


def test_age_on_a_day() -> None:
    assert (
        age_on(__import__("datetime").date(2006, 1, 1), __import__("datetime").date(2024, 1, 1))
        == 18
    )
    assert (
        age_on(__import__("datetime").date(2006, 1, 2), __import__("datetime").date(2024, 1, 1))
        == 17
    )
