"""`whatworks impact did` and `whatworks impact synth` on files, through the real CLI.

The expected numbers are the published ones that tests/impact/test_did.py and
test_synth.py check (sources named there): the R did package's README for mpdta
(att_gt, aggte "group" -0.031 and "dynamic"; pre-test p = 0.16812), and Arkhangelsky et
al. (2021) Table 1 for Proposition 99 (SC -19.6; the exact optimum -19.51).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from whatworks.cli import app

runner = CliRunner()
DATA = Path(__file__).parent / "data"
MPDTA = DATA / "mpdta.csv"
MPDTA_OPTIONS = [
    "--unit", "countyreal", "--time", "year", "--outcome", "lemp",
    "--first-treated", "first.treat",
]  # fmt: skip
# did README, att_gt(est_method = "reg"): (group, time, ATT(g,t))
MPDTA_ATTGT = [
    (2004, 2004, -0.0105), (2004, 2005, -0.0704), (2004, 2006, -0.1373), (2004, 2007, -0.1008),
    (2006, 2004, 0.0065), (2006, 2005, -0.0028), (2006, 2006, -0.0046), (2006, 2007, -0.0412),
    (2007, 2004, 0.0305), (2007, 2005, -0.0027), (2007, 2006, -0.0311), (2007, 2007, -0.0261),
]  # fmt: skip
# did README, aggte(type = "dynamic"): (e, estimate)
MPDTA_DYNAMIC = [(-3, 0.0305), (-2, -0.0006), (-1, -0.0245), (0, -0.0199), (1, -0.0510),
                 (2, -0.1373), (3, -0.1008)]  # fmt: skip


def did(*args: str) -> object:
    return runner.invoke(app, ["impact", "did", *args])


def synth(*args: str) -> object:
    return runner.invoke(app, ["impact", "synth", *args])


def test_did_json_reproduces_the_published_mpdta_results() -> None:
    result = did(str(MPDTA), *MPDTA_OPTIONS, "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out)[:8] == [
        "att", "se", "ci_low", "ci_high", "p", "pretrend_p", "event_study", "group_time"
    ]  # fmt: skip
    assert round(out["att"], 3) == -0.031  # aggte(type = "group")
    assert out["se"] == pytest.approx(0.0123, rel=0.15)  # bootstrap SE, printed 0.0123
    assert out["ci_low"] < out["att"] < out["ci_high"] < 0
    assert round(out["pretrend_p"], 5) == 0.16812
    assert [(x["e"], round(x["att"], 4)) for x in out["event_study"]] == MPDTA_DYNAMIC
    assert set(out["event_study"][0]) == {"e", "att", "se"}
    assert [(x["group"], x["time"], round(x["att"], 4)) for x in out["group_time"]] == MPDTA_ATTGT
    assert set(out["group_time"][0]) == {"group", "time", "att", "se"}
    assert out["inference"] == "bootstrap"  # 191 adopting counties


def test_did_same_seed_same_digits_other_seed_other_bootstrap() -> None:
    first = json.loads(did(str(MPDTA), *MPDTA_OPTIONS, "--format", "json", "--seed", "7").stdout)
    again = json.loads(did(str(MPDTA), *MPDTA_OPTIONS, "--format", "json", "--seed", "7").stdout)
    other = json.loads(did(str(MPDTA), *MPDTA_OPTIONS, "--format", "json", "--seed", "8").stdout)
    assert first == again and first["seed"] == 7
    assert other["att"] == first["att"] and other["se"] != first["se"]


def test_did_table_and_not_yet_treated(tmp_path: Path) -> None:
    result = did(str(MPDTA), *MPDTA_OPTIONS)
    assert result.exit_code == 0, result.output
    assert "-0.0310" in result.output and "0.1681" in result.output
    assert "Two-way fixed effects, for comparison only" in result.output
    # never-treated counties written as empty rather than 0 mean the same
    frame = pd.read_csv(MPDTA)
    frame["first.treat"] = frame["first.treat"].replace(0, "")
    blank = tmp_path / "blank.csv"
    frame.to_csv(blank, index=False)
    same = json.loads(did(str(blank), *MPDTA_OPTIONS, "--format", "json").stdout)
    assert round(same["att"], 3) == -0.031
    notyet = did(str(MPDTA), *MPDTA_OPTIONS, "--control", "notyet", "--format", "json")
    assert notyet.exit_code == 0, notyet.output
    assert json.loads(notyet.stdout)["att"] != same["att"]


def small_panel(path: Path, rows: list[tuple[str, int, str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("la,year,rate,first\n")
        for row in rows:
            handle.write(",".join(map(str, row)) + "\n")
    return path


SMALL = ["--unit", "la", "--time", "year", "--outcome", "rate", "--first-treated", "first"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [("A", 2020, "1", "2021"), ("A", 2021, "2", "2021"), ("A", 2021, "3", "2021"),
             ("B", 2020, "1", "0"), ("B", 2021, "1", "0")],
            "rows 2, 3: unit 'A' has more than one row for period 2021",
        ),
        (
            [("A", 2020, "1", "2021"), ("A", 2021, "", "2021"), ("B", 2020, "1", "0"),
             ("B", 2021, "1", "0")],
            "row 2: missing outcome",
        ),
        (
            [("A", 2020, "1", "2021"), ("A", 2021, "2", "2021"), ("B", 2020, "1", "2021"),
             ("B", 2021, "1", "2021")],
            "no never-treated and no not-yet-treated units",
        ),
    ],
    ids=["duplicated rows", "missing outcome", "nothing to compare with"],
)  # fmt: skip
def test_did_bad_panels_fail_in_one_line(tmp_path: Path, rows, expected: str) -> None:
    path = small_panel(tmp_path / "panel.csv", rows)
    result = did(str(path), *SMALL)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert str(path) in result.stderr


def test_did_refusals(tmp_path: Path) -> None:
    missing = did(str(tmp_path / "nowhere.csv"), *SMALL)
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    path = small_panel(
        tmp_path / "p.csv",
        [("A", 2020, "1", "2021"), ("A", 2021, "2", "2021"), ("B", 2020, "1", "2020"),
         ("B", 2021, "1", "2020")],
    )  # fmt: skip
    column = did(str(path), *SMALL[:-1], "adopted")
    assert column.exit_code == 1 and "--first-treated 'adopted'" in column.stderr
    # B adopts in the first period (no pre-period); the panel refuses that cohort
    no_pre = did(str(path), *SMALL)
    assert no_pre.exit_code == 1 and "0 period(s) before adoption" in no_pre.stderr
    form = did(str(MPDTA), *MPDTA_OPTIONS, "--format", "xml")
    assert form.exit_code == 1 and "--format must be table or json" in form.stderr
    control = did(str(MPDTA), *MPDTA_OPTIONS, "--control", "later")
    assert control.exit_code == 1 and "--control must be never or notyet" in control.stderr


def test_did_never_control_without_never_treated(tmp_path: Path) -> None:
    rows = []
    for unit, first in (("A", 2022), ("B", 2023), ("C", 2024)):
        rows += [
            (unit, year, str(year - 2019 + ord(unit)), str(first)) for year in range(2020, 2025)
        ]
    path = small_panel(tmp_path / "p.csv", rows)
    result = did(str(path), *SMALL)
    assert result.exit_code == 1
    assert "no unit is never treated" in result.stderr and "notyet" in result.stderr
    assert did(str(path), *SMALL, "--control", "notyet").exit_code == 0


# ---- synthetic control ------------------------------------------------------------------


def factor_csv(path: Path, effect: float, seed: int = 3) -> Path:
    """20 councils, 2005-2024; C000 is a mix of three donors plus `effect` from 2020."""
    rng = np.random.default_rng(seed)
    years = np.arange(2005, 2025)
    factors = np.cumsum(rng.normal(0, 1, (len(years), 2)), axis=0)
    level = rng.normal(50, 5, 20)
    loadings = rng.uniform(0.2, 2.0, (20, 2))
    level[0] = 0.5 * level[1] + 0.3 * level[2] + 0.2 * level[3]
    loadings[0] = 0.5 * loadings[1] + 0.3 * loadings[2] + 0.2 * loadings[3]
    y = level[:, None] + loadings @ factors.T + rng.normal(0, 0.1, (20, len(years)))
    y[0, years >= 2020] += effect
    rows = [
        {"council": f"C{i:03d}", "year": int(t), "rate": y[i, j]}
        for i in range(20)
        for j, t in enumerate(years)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


SYNTH = ["--unit", "council", "--time", "year", "--outcome", "rate"]


def test_synth_json_on_a_planted_effect(tmp_path: Path) -> None:
    path = factor_csv(tmp_path / "panel.csv", effect=-8.0)
    result = synth(str(path), *SYNTH, "--treated", "C000", "--start", "2020", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out)[:5] == ["weights", "effects", "post_mean_effect", "pre_rmspe", "placebo_p"]
    assert out["post_mean_effect"] == pytest.approx(-8.0, abs=0.5)
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    assert out["effects"][0] == {"time": 2005, "effect": pytest.approx(0.0, abs=0.6)}
    assert len(out["effects"]) == 20
    assert out["placebo_p"] == pytest.approx(1 / 20)  # the smallest possible with 19 donors
    table = synth(str(path), *SYNTH, "--treated", "C000", "--start", "2020")
    assert table.exit_code == 0 and "Mean effect after the start" in table.output


def test_synth_reproduces_proposition_99(tmp_path: Path) -> None:
    datasets = pytest.importorskip("synthdid.datasets", reason="needs the synthdid-py test extra")
    path = tmp_path / "prop99.csv"
    datasets.load_california_prop99().to_csv(path, index=False)
    options = ["--unit", "State", "--time", "Year", "--outcome", "PacksPerCapita"]
    result = synth(
        str(path), *options, "--treated", "California", "--start", "1989", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["post_mean_effect"] == pytest.approx(-19.6, abs=0.15)  # AAHIW (2021) Table 1
    assert round(out["post_mean_effect"], 2) == -19.51
    assert max(out["weights"], key=out["weights"].get) == "Utah"  # ADH (2010) Table 2


def test_synth_bad_panels_fail_in_one_line(tmp_path: Path) -> None:
    path = factor_csv(tmp_path / "panel.csv", effect=0.0)
    frame = pd.read_csv(path)
    dupes = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
    dupes.to_csv(tmp_path / "dupes.csv", index=False)
    result = synth(str(tmp_path / "dupes.csv"), *SYNTH, "--treated", "C000", "--start", "2020")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "rows 4, 401: unit 'C000' has more than one row for period 2008" in result.stderr
    holes = frame.astype({"rate": object})
    holes.loc[5, "rate"] = ""
    holes.to_csv(tmp_path / "holes.csv", index=False)
    result = synth(str(tmp_path / "holes.csv"), *SYNTH, "--treated", "C000", "--start", "2020")
    assert result.exit_code == 1 and "row 6: missing outcome" in result.stderr
    unknown = synth(str(path), *SYNTH, "--treated", "C999", "--start", "2020")
    assert unknown.exit_code == 1 and "'C999' is not in the panel" in unknown.stderr
    early = synth(str(path), *SYNTH, "--treated", "C000", "--start", "2007")
    assert early.exit_code == 1 and "Only 2 period(s) before the start" in early.stderr
    assert unknown.stderr.count("\n") == early.stderr.count("\n") == 1
