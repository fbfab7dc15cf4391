"""Each DfE rule fires on a return written to break it, and not on one that keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from whatworks.returns.rules import RULES, age_on, messages, validate
from whatworks.returns.ssda903 import Table, read_table

KEY = bytes(32)
YEAR = 2024
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
MISSING = "CHILD,DOB,MISSING,MIS_START,MIS_END"
OC3 = "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM"
PREV_PERM = "CHILD,DOB,PREV_PERM,LA_PERM,DATE_PERM"
OC2 = (
    "CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
    "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED"
)
REVIEWS = "CHILD,DOB,REVIEW,REVIEW_CODE"
UASC = "CHILD,DOB,SEX,DUC"
SOCIAL_WORKER = "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON"
PLACED_ADOPTION = "CHILD,DOB,DATE_PLACED,DATE_PLACED_CEASED,REASON_PLACED_CEASED"
COLUMNS = {
    "header": HEADER,
    "episodes": EPISODES,
    "missing": MISSING,
    "oc2": OC2,
    "oc3": OC3,
    "prev_perm": PREV_PERM,
    "reviews": REVIEWS,
    "uasc": UASC,
    "social_worker": SOCIAL_WORKER,
    "placed_adoption": PLACED_ADOPTION,
}


def child(dob: str, ident: str = "A1") -> str:
    return f"{ident},1,{dob},WBRI,A123456789012,,"


def episode(
    decom: str,
    dec: str = "",
    rne: str = "S",
    ls: str = "C2",
    rec: str = "",
    ident: str = "A1",
    place: str = "U1",
    provider: str = "PR1",
) -> str:
    """An episode row; one that ceased has reason E13 unless `rec` says otherwise."""
    rec = rec or ("E13" if dec else "")
    return f"{ident},{decom},{rne},{ls},N1,{place},{provider},{dec},{rec},,,,"


def missing(start: str, end: str = "", kind: str = "M", dob: str = "01/01/2010") -> str:
    return f"A1,{dob},{kind},{start},{end}"


def read_return(folder: Path, rows_by_table: dict[str, list[str]]) -> dict[str, Table]:
    """Each table with rows written as a CSV file in `folder` and read back."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, rows in rows_by_table.items():
        if rows:
            path = folder / f"{name}.csv"
            path.write_text("\n".join([COLUMNS[name], *rows]) + "\n", encoding="utf-8")
            table = read_table(path, YEAR, KEY)
            assert table.name == name
            tables[name] = table
    return tables


def codes_for(
    tmp_path: Path,
    header: list[str],
    episodes: list[str],
    missing_rows: list[str] = (),
    oc3: list[str] = (),
    prev_perm: list[str] = (),
) -> dict[str, list[tuple[int, str, str]]]:
    tables = read_return(
        tmp_path,
        {
            "header": header,
            "episodes": episodes,
            "missing": list(missing_rows),
            "oc3": list(oc3),
            "prev_perm": list(prev_perm),
        },
    )
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
        [episode("10/05/2022", dec="02/01/2024", rec="E5")],
        [child("01/06/2009")],
        [episode("10/05/2022", dec="02/07/2023", rec="E6")],
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
    return episode("10/05/2023", place=place, provider=code)


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


def review(dob: str, day: str, code: str) -> str:
    return f"A1,{dob},{day},{code}"


def oc2(dob: str, score: str = "", reason: str = "") -> str:
    return f"A1,{dob},{score},{reason}" + "," * 8


def worker(start: str, end: str = "", reason: str = "") -> str:
    return f"A1,01/01/2010,SW1,{start},{end},{reason}"


#: A clean return that breaks no rule; each case below replaces some of its tables.
RETURN = {"header": [child("01/01/2010")], "episodes": [episode("10/05/2023")]}
CEASED = [episode("10/05/2023", dec="01/08/2023")]  # looked after 10 May to 1 August 2023
Tables = dict[str, list[str]]
#: code: (tables that break the rule, where it fires as (table, row), tables that keep it)
RULE_CASES: dict[str, tuple[Tables, list[tuple[str, int]], Tables]] = {
    "142": (
        {"episodes": [episode("10/05/2023"), episode("01/06/2023", rne="P")]},
        [("episodes", 2)],
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", rne="P"),
            ]
        },
    ),
    "148": (
        {"episodes": [episode("10/05/2023", rec="X1")]},  # open, yet a reason it ceased
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", dec="01/06/2023", rec="E4A")]},
    ),
    "217": (
        {"episodes": [episode("10/05/2023", rne="P", place="A3")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", rne="S", place="A3")]},
    ),
    "302": (
        {"header": [child("11/05/2023")]},
        [("episodes", 2)],
        {"header": [child("10/05/2023")]},
    ),
    "357": (
        {"episodes": [episode("10/05/2023", rne="P")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2022", rne="P")]},  # began before the year: may continue
    ),
    "359": (  # 18 on 1 January 2023, still looked after on 31 March 2024
        {"header": [child("01/01/2005")], "episodes": [episode("10/05/2022")]},
        [("episodes", 2)],
        {"header": [child("01/01/2005")], "episodes": [episode("10/05/2022", ls="V2", place="K2")]},
    ),
    "378": (
        {"episodes": [episode("10/05/2023", ls="V2", place="P1", provider="PR0")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", ls="C2", place="P1", provider="PR0")]},
    ),
    "380": (
        {"episodes": [episode("10/05/2023", place="T1")]},
        [("episodes", 2)],
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", rne="P", place="T1"),
            ]
        },
    ),
    "381": (
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", "09/06/2023", rne="P", place="T1"),
            ]
        },
        [("episodes", 3)],
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", rne="P", place="T1"),
            ]
        },
    ),
    "385": (
        {"episodes": [episode("10/05/2023", dec="01/04/2024")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", dec="31/03/2024")]},
    ),
    "389": (
        {
            "header": [child("01/06/2010")],
            "episodes": [episode("10/05/2022", "02/01/2024", rec="E7")],
        },
        [("episodes", 2)],
        {
            "header": [child("01/06/2007")],
            "episodes": [episode("10/05/2022", "02/01/2024", rec="E7")],
        },
    ),
    "407": (  # 18 on 1 June 2023
        {
            "header": [child("01/06/2005")],
            "episodes": [episode("10/05/2022", "01/06/2023", rec="E45")],
        },
        [("episodes", 2)],
        {
            "header": [child("01/06/2005")],
            "episodes": [episode("10/05/2022", "31/05/2023", rec="E45")],
        },
    ),
    "460": (
        {
            "header": [child("01/06/2005")],
            "episodes": [episode("10/05/2022", "31/05/2023", rec="E17")],
        },
        [("episodes", 2)],
        {
            "header": [child("01/06/2005")],
            "episodes": [episode("10/05/2022", "01/06/2023", rec="E17")],
        },
    ),
    "431": (
        {"episodes": [episode("10/05/2023", "01/06/2023", rec="E4A"), episode("01/06/2023")]},
        [("episodes", 3)],
        {"episodes": [episode("10/05/2023", "01/06/2023", rec="E4A"), episode("02/06/2023")]},
    ),
    "432": (
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="E4A"),
                episode("05/06/2023", rne="P"),
            ]
        },
        [("episodes", 3)],
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", rne="P"),
            ]
        },
    ),
    "433": (
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("02/06/2023", rne="P"),
            ]
        },
        [("episodes", 3)],
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", rne="P"),
            ]
        },
    ),
    "437": (
        {"episodes": [episode("10/05/2023", "01/06/2023", rec="E2"), episode("05/06/2023")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", "01/06/2023", rec="E2")]},
    ),
    "501": (
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("20/05/2023", rne="P"),
            ]
        },
        [("episodes", 3)],
        {
            "episodes": [
                episode("10/05/2023", "01/06/2023", rec="X1"),
                episode("01/06/2023", rne="P"),
            ]
        },
    ),
    "527": (
        {"episodes": [episode("10/05/2023", place="R2", provider="PR1")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", place="R1", provider="PR1")]},
    ),
    "528": (
        {"episodes": [episode("10/05/2023", place="R5", provider="PR2")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", place="R1", provider="PR2")]},
    ),
    "529": (
        {"episodes": [episode("10/05/2023", place="U3", provider="PR3")]},
        [("episodes", 2)],
        {"episodes": [episode("10/05/2023", place="R1", provider="PR3")]},
    ),
    "551": (  # the decision to place for adoption recorded is another child's
        {
            "episodes": [episode("10/05/2023", place="A5")],
            "placed_adoption": ["B2,01/01/2012,01/02/2023,,"],
        },
        [("episodes", 2)],
        {
            "episodes": [episode("10/05/2023", place="A5")],
            "placed_adoption": ["A1,01/01/2010,01/02/2023,,"],
        },
    ),
    "INT03": (
        {"episodes": [episode("10/05/2023"), episode("10/05/2023", ident="B2")]},
        [("episodes", 3)],
        {
            "header": [child("01/01/2010"), child("01/01/2011", "B2")],
            "episodes": [episode("10/05/2023"), episode("10/05/2023", ident="B2")],
        },
    ),
    "EPI": (
        {"header": [child("01/01/2010"), child("01/01/2005", "B2")]},
        [("header", 3)],
        {
            "header": [child("01/01/2010"), child("01/01/2005", "B2")],
            "oc3": ["B2,01/01/2005,YES,F1,B1"],
        },
    ),
    "174": (
        {"header": ["A1,1,01/01/2005,WBRI,A123456789012,1,01/02/2023"]},
        [("header", 2)],
        {"header": [mother("01/01/2005", "1", "01/02/2023")]},
    ),
    "301": (
        {"header": [child("01/04/2024")]},
        [("header", 2)],
        {"header": [child("31/03/2024")]},
    ),
    "611": (
        {"header": [mother("01/01/2005", "1")]},
        [("header", 2)],
        {"header": [mother("01/01/2005", "1", "01/02/2023")]},
    ),
    "621": (
        {"header": [mother("01/01/2005", "1", "01/01/2005")]},
        [("header", 2)],
        {"header": [mother("01/01/2005", "1", "02/01/2005")]},
    ),
    "304": (  # 18 on 1 January 2023
        {"uasc": ["A1,01/01/2005,1,02/01/2023"]},
        [("uasc", 2)],
        {"uasc": ["A1,01/01/2005,1,01/01/2023"]},
    ),
    "440": (  # 4 on 1 January 2023
        {"reviews": [review("01/01/2019", "02/01/2023", "PN0")]},
        [("reviews", 2)],
        {"reviews": [review("01/01/2019", "01/01/2023", "PN0")]},
    ),
    "441": (
        {"reviews": [review("01/01/2020", "31/12/2023", "PN1")]},
        [("reviews", 2)],
        {"reviews": [review("01/01/2020", "01/01/2024", "PN1")]},
    ),
    "188": (  # 4 on 1 April 2024, after the year; a score of 0 is a score
        {"oc2": [oc2("01/04/2020", score="0")]},
        [("oc2", 2)],
        {"oc2": [oc2("31/03/2020", score="0")]},
    ),
    "189": (  # 17 on 1 April 2023, the first day of the year
        {"oc2": [oc2("01/04/2006", reason="SDQ1")]},
        [("oc2", 2)],
        {"oc2": [oc2("02/04/2006", reason="SDQ1")]},
    ),
    "197a": (
        {"oc2": [oc2("01/01/2015", score="12", reason="SDQ4")]},
        [("oc2", 2)],
        {"oc2": [oc2("01/01/2015", score="12")]},
    ),
    "344": (
        {"oc3": ["A1,01/06/2005,DIED,F1,0"]},
        [("oc3", 2)],
        {"oc3": ["A1,01/06/2005,DIED,0,0"]},
    ),
    "345": (
        {"oc3": ["A1,01/06/2005,YES,F1,0"]},
        [("oc3", 2)],
        {"oc3": ["A1,01/06/2005,YES,F1,B1"]},
    ),
    "570": (
        {"missing": [missing("01/04/2024")]},
        [("missing", 2)],
        {"missing": [missing("31/03/2024")]},
    ),
    "574": (
        {"missing": [missing("05/06/2023"), missing("10/06/2023", end="12/06/2023")]},
        [("missing", 3)],
        {
            "missing": [
                missing("05/06/2023", end="10/06/2023"),
                missing("10/06/2023", end="12/06/2023"),
            ]
        },
    ),
    "577": (
        {"episodes": CEASED, "missing": [missing("05/06/2023")]},
        [("missing", 2)],
        {"episodes": CEASED, "missing": [missing("05/06/2023", end="06/06/2023")]},
    ),
    "578": (
        {"episodes": CEASED, "missing": [missing("02/08/2023", end="03/08/2023")]},
        [("missing", 2)],
        {"episodes": CEASED, "missing": [missing("01/08/2023", end="02/08/2023")]},
    ),
    "581": (
        {"missing": [missing("09/05/2023", end="10/05/2023")]},
        [("missing", 2)],
        {"missing": [missing("10/05/2023", end="11/05/2023")]},
    ),
    "SW06STG2": (
        {"social_worker": [worker("01/04/2024")]},
        [("social_worker", 2)],
        {"social_worker": [worker("31/03/2024")]},
    ),
    "SW09STG2": (
        {"social_worker": [worker("01/06/2023", "01/06/2023", "CHCHAN")]},
        [("social_worker", 2)],
        {"social_worker": [worker("01/06/2023", "02/06/2023", "CHCHAN")]},
    ),
    "SW108STG2": (
        {"social_worker": [worker("01/06/2023"), worker("01/07/2023")]},
        [("social_worker", 2)],
        {"social_worker": [worker("01/06/2023", "01/07/2023", "CHCHAN"), worker("01/07/2023")]},
    ),
}


def found_in(folder: Path, rows_by_table: Tables) -> dict[str, list[tuple[str, int | None]]]:
    """Each rule that fires on a return with no structure problems: (table, row) for each."""
    tables = read_return(folder, rows_by_table)
    assert not [p for t in tables.values() for p in t.problems]
    fired: dict[str, list[tuple[str, int | None]]] = {}
    for problem in validate(tables, YEAR):
        fired.setdefault(problem.code, []).append((problem.table, problem.row))
    return fired


def test_a_clean_return_breaks_no_rule(tmp_path: Path) -> None:
    assert found_in(tmp_path, RETURN) == {}


@pytest.mark.parametrize("code", sorted(RULE_CASES))
def test_rules_fire_where_broken_and_not_where_kept(tmp_path: Path, code: str) -> None:
    broken, where, kept = RULE_CASES[code]
    fired = found_in(tmp_path / "broken", {**RETURN, **broken})
    assert fired.get(code) == where, fired
    assert code not in found_in(tmp_path / "kept", {**RETURN, **kept})


def test_placed_for_adoption_needs_the_table_loaded(tmp_path: Path) -> None:
    assert "551" not in found_in(
        tmp_path, {**RETURN, "episodes": [episode("10/05/2023", place="A5")]}
    )


def test_every_rule_is_tested_and_has_the_dfe_message() -> None:
    cases = [set(CASES), set(MISSING_CASES), set(OTHER_CASES), set(RULE_CASES)]
    assert sum(len(c) for c in cases) == len(set().union(*cases))  # no rule tested twice
    assert [r.code for r in RULES] == list(dict.fromkeys(r.code for r in RULES))  # none twice
    assert {r.code for r in RULES} == set().union(*cases)
    assert len(RULES) >= 45
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
