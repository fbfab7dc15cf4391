"""`whatworks evidence meta` on CSV files written here, against values published in R
metafor's documentation (the pages are cited in tests/evidence/test_synthesis.py):

- [rma.uni], [dat.bcg]: rma(yi, vi, data=dat) for dat.bcg with measure="RR" (REML)
- [confint]: confint(res): tau^2 0.3132 [0.1197, 1.1115]
- [dat.bcg]: predict(res, transf=exp): pi 0.1546 to 1.5490
- [trimfill]: 1 missing study on the right, estimate -0.6571
- [README]: test="knha": se 0.1808, t -3.9522, df 12, p 0.0019, CI -1.1084 -0.3206,
  regtest p 0.4512; with mods = ~ ablat: ablat -0.0291 (se 0.0082), QM F 12.5905 p 0.0046
- [metan test]: method="DL": -0.7141 [-1.0644, -0.3638], tau^2 0.3088, I^2 92.1173
- [normand]: rma(measure="SMD", ...) for dat.normand1999: -0.5371 (se 0.3087), tau^2 0.7908
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from whatworks.cli import app
from whatworks.evidence.effects import from_counts

runner = CliRunner()

# dat.bcg: trial, author, tpos, tneg, cpos, cneg, ablat (dat.bcg.html)
BCG = [
    (1, "Aronson", 4, 119, 11, 128, 44),
    (2, "Ferguson & Simes", 6, 300, 29, 274, 55),
    (3, "Rosenthal et al", 3, 228, 11, 209, 42),
    (4, "Hart & Sutherland", 62, 13536, 248, 12619, 52),
    (5, "Frimodt-Moller et al", 33, 5036, 47, 5761, 13),
    (6, "Stein & Aronson", 180, 1361, 372, 1079, 44),
    (7, "Vandiviere et al", 8, 2537, 10, 619, 19),
    (8, "TPT Madras", 505, 87886, 499, 87892, 13),
    (9, "Coetzee & Berjak", 29, 7470, 45, 7232, 27),
    (10, "Rosenthal et al", 17, 1699, 65, 1600, 42),
    (11, "Comstock et al", 186, 50448, 141, 27197, 18),
    (12, "Comstock & Webster", 5, 2493, 3, 2338, 33),
    (13, "Comstock et al", 27, 16886, 29, 17825, 33),
]
# dat.normand1999: n1i, m1i, sd1i, n2i, m2i, sd2i (dat.normand1999.html)
NORMAND = [
    (155, 55, 47, 156, 75, 64), (31, 27, 7, 32, 29, 4), (75, 64, 17, 71, 119, 29),
    (18, 66, 20, 18, 137, 48), (8, 14, 8, 13, 18, 11), (57, 19, 7, 52, 18, 4),
    (34, 52, 45, 33, 41, 34), (110, 21, 16, 183, 31, 27), (60, 30, 27, 52, 23, 20),
]  # fmt: skip
COUNTS = ["--measure", "RR", "--ai", "tpos", "--bi", "tneg", "--ci", "cpos", "--di", "cneg"]
KEYS = [
    "k", "method", "estimate", "se", "ci_low", "ci_high", "stat", "p", "tau2",
    "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_df", "q_p", "pi_low", "pi_high",
    "egger_p", "trimfill_k0", "trimfill_estimate",
]  # fmt: skip


def write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def bcg(tmp_path: Path) -> Path:
    header = ["trial", "author", "tpos", "tneg", "cpos", "cneg", "ablat"]
    return write(tmp_path / "bcg.csv", header, [list(row) for row in BCG])


def run_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["evidence", "meta", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def r4(value: float) -> float:
    return round(value, 4)


def test_bcg_risk_ratios_by_reml_match_metafor(bcg: Path) -> None:
    out = run_json(str(bcg), *COUNTS, "--method", "REML")
    assert list(out) == KEYS
    assert (out["k"], out["method"], out["q_df"]) == (13, "REML", 12)
    assert (r4(out["estimate"]), r4(out["se"]), r4(out["stat"])) == (-0.7145, 0.1798, -3.9744)
    assert (r4(out["ci_low"]), r4(out["ci_high"])) == (-1.0669, -0.3622)
    assert out["p"] < 0.0001 and out["q_p"] < 0.0001
    assert (r4(out["tau2"]), round(out["i2"], 2), round(out["h2"], 2)) == (0.3132, 92.22, 12.86)
    assert r4(out["q"]) == 152.2330
    assert (r4(out["tau2_ci_low"]), r4(out["tau2_ci_high"])) == (0.1197, 1.1115)
    assert (r4(math.exp(out["pi_low"])), r4(math.exp(out["pi_high"]))) == (0.1546, 1.5490)
    assert (out["trimfill_k0"], r4(out["trimfill_estimate"])) == (1, -0.6571)
    assert 0 < out["egger_p"] < 1


def test_events_and_group_sizes_give_the_same_as_the_four_cells(tmp_path: Path) -> None:
    rows = [[a, a + b, c, c + d] for _, _, a, b, c, d, _ in BCG]
    path = write(tmp_path / "sizes.csv", ["e1", "size1", "e2", "size2"], rows)
    out = run_json(
        str(path), "--measure", "RR", "--events1", "e1", "--n1", "size1",
        "--events2", "e2", "--n2", "size2",
    )  # fmt: skip
    assert (r4(out["estimate"]), r4(out["tau2"])) == (-0.7145, 0.3132)


def test_knapp_hartung_matches_metafor_readme(bcg: Path) -> None:
    out = run_json(str(bcg), *COUNTS, "--knha")
    assert (r4(out["estimate"]), r4(out["se"]), r4(out["stat"]), r4(out["p"])) == (
        -0.7145,
        0.1808,
        -3.9522,
        0.0019,
    )
    assert (r4(out["ci_low"]), r4(out["ci_high"])) == (-1.1084, -0.3206)
    assert (round(math.exp(out["pi_low"]), 2), round(math.exp(out["pi_high"]), 2)) == (0.14, 1.76)
    assert r4(out["egger_p"]) == 0.4512


def test_effect_sizes_given_as_columns_with_dersimonian_laird(tmp_path: Path) -> None:
    # yi and vi as escalc computes them (checked against metafor in test_effects.py)
    effects = [from_counts("RR", a, b, c, d) for _, _, a, b, c, d, _ in BCG]
    rows = [[f"{e.yi!r}", f"{e.vi!r}"] for e in effects]
    path = write(tmp_path / "effects.csv", ["logrr", "var"], rows)
    out = run_json(str(path), "--yi", "logrr", "--vi", "var", "--method", "DL")
    assert (r4(out["estimate"]), r4(out["ci_low"]), r4(out["ci_high"])) == (
        -0.7141,
        -1.0644,
        -0.3638,
    )
    assert (r4(out["tau2"]), r4(out["i2"])) == (0.3088, 92.1173)


def test_moderator_with_knapp_hartung(bcg: Path) -> None:
    out = run_json(str(bcg), *COUNTS, "--knha", "--moderator", "ablat")
    assert list(out) == [*KEYS, "moderators"]
    intercept, ablat = out["moderators"]["coefficients"]
    assert (intercept["name"], r4(intercept["estimate"])) == ("intercept", 0.2515)
    assert (ablat["name"], r4(ablat["estimate"]), r4(ablat["se"])) == ("ablat", -0.0291, 0.0082)
    assert (r4(out["moderators"]["qm"]), r4(out["moderators"]["qm_p"])) == (12.5905, 0.0046)
    assert r4(out["tau2"]) == 0.0764


def test_standardised_mean_differences(tmp_path: Path) -> None:
    header = ["n1", "m1", "sd1", "n2", "m2", "sd2"]
    path = write(tmp_path / "normand.csv", header, [list(row) for row in NORMAND])
    out = run_json(
        str(path), "--measure", "SMD", "--m1", "m1", "--sd1", "sd1", "--n1", "n1",
        "--m2", "m2", "--sd2", "sd2", "--n2", "n2",
    )  # fmt: skip
    assert (r4(out["estimate"]), r4(out["se"]), r4(out["tau2"])) == (-0.5371, 0.3087, 0.7908)


def test_table_format_says_the_estimate_in_words(bcg: Path) -> None:
    result = runner.invoke(
        app, ["evidence", "meta", str(bcg), *COUNTS, "--label", "author"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Stein & Aronson" in result.output
    # exp(-0.7145) = 0.4894 and [0.3441, 0.6962] ([dat.bcg] predict(res, transf=exp))
    assert "Pooled risk ratio 0.49 (95% CI 0.34 to 0.70)" in result.output
    assert "51% lower" in result.output
    assert "-0.7145" in result.output and "0.3132" in result.output


# --- bad input: one line naming the file, row and column; exit status 1 -----------------


def fails(*args: str) -> str:
    result = runner.invoke(app, ["evidence", "meta", *args])
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message, message
    assert "Traceback" not in result.output
    return message


def test_missing_file(tmp_path: Path) -> None:
    message = fails(str(tmp_path / "nowhere.csv"), "--yi", "yi", "--vi", "vi")
    assert "nowhere.csv: no such file" in message


def test_missing_column(bcg: Path) -> None:
    message = fails(str(bcg), *COUNTS[:-1], "cnegative")
    assert f"{bcg}: has no column 'cnegative' (named by --di)" in message
    assert "tpos, tneg, cpos, cneg" in message


def test_a_non_number_names_its_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ["yi", "vi"], [[0.1, 0.01], [0.2, "twelve"], [0.3, 0.02]])
    message = fails(str(path), "--yi", "yi", "--vi", "vi")
    # the header is row 1, so the second study is row 3
    assert f"{path}: row 3, column vi: 'twelve' is not a number" in message


def test_a_negative_variance(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ["yi", "vi"], [[0.1, 0.01], [0.2, -0.04]])
    message = fails(str(path), "--yi", "yi", "--vi", "vi")
    assert f"{path}: row 3, column vi: -0.04 is not a sampling variance" in message
    assert "greater than 0" in message


def test_a_file_with_no_studies(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ["yi", "vi"], [])
    assert f"{path}: has no studies" in fails(str(path), "--yi", "yi", "--vi", "vi")


def test_impossible_counts_name_the_row(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ["a", "b", "c", "d"], [[1, 9, 2, 8], [0, 0, 2, 8]])
    message = fails(str(path), *COUNTS[:2], "--ai", "a", "--bi", "b", "--ci", "c", "--di", "d")
    assert f"{path}: row 3:" in message and "intervention group is empty" in message


def test_options_must_say_what_the_columns_are(bcg: Path) -> None:
    assert "Give --yi and --vi" in fails(str(bcg))
    assert "--measure RR needs the columns --n1, --events2, --n2" in fails(
        str(bcg), "--measure", "RR", "--events1", "tpos"
    )
    assert "--method must be one of" in fails(str(bcg), *COUNTS, "--method", "ML")


def test_one_study_is_its_own_result(tmp_path: Path) -> None:
    path = write(tmp_path / "one.csv", ["yi", "vi"], [[0.5, 0.04]])
    out = run_json(str(path), "--yi", "yi", "--vi", "vi")
    # by hand: 0.5 -/+ 1.959964 * 0.2
    assert (out["k"], out["estimate"], out["tau2"], out["i2"]) == (1, 0.5, 0.0, None)
    assert out["ci_low"] == pytest.approx(0.5 - 1.959964 * 0.2, abs=1e-6)
