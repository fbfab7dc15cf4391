"""`whatworks sharing link` on generated agency files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whatworks.cli import app
from whatworks.sharing.synthetic import generate

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path / "data"))
    generate(500, seed=21, agencies=("council", "school")).write(tmp_path)
    return tmp_path


def _rename(path: Path, old: str, new: str) -> None:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [new if c == old else c for c in rows[0]])
        writer.writeheader()
        writer.writerows([{(new if k == old else k): v for k, v in r.items()} for r in rows])


@pytest.mark.slow
def test_link_reports_counts_and_accuracy_as_json(files: Path) -> None:
    for name in ("council.csv", "school.csv"):
        _rename(files / name, "dob", "DateOfBirth")
    out = files / "pairs.csv"
    result = runner.invoke(
        app,
        [
            "sharing", "link", str(files / "council.csv"), str(files / "school.csv"),
            "--map", "dob=DateOfBirth", "--truth-left", "person_id",
            "--truth-right", "person_id", "--out", str(out), "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["left_records"] == sum(1 for _ in (files / "council.csv").open()) - 1
    assert report["pairs_linked"] > 0 and report["clusters"] > 0 and report["seconds"] > 0
    assert report["evaluation"]["precision"] >= 0.95
    assert report["evaluation"]["recall"] >= 0.95
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == report["pairs_scored"]
    assert sum(int(r["linked"]) for r in rows) == report["pairs_linked"]
    assert all(r["left_person"] == r["right_person"] for r in rows if r["linked"] == "1")


def _whatworks(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WHATWORKS_DATA_DIR": str(data), "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-m", "whatworks", *args], capture_output=True, text=True, env=env
    )


def test_a_missing_mapped_column_is_one_clear_error(files: Path) -> None:
    done = _whatworks(
        "sharing", "link", str(files / "council.csv"), str(files / "school.csv"),
        "--map", "dob=Birthday", data=files / "data",
    )  # fmt: skip
    assert done.returncode == 1
    assert "has no column 'Birthday' for dob" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_file_is_one_clear_error(files: Path) -> None:
    (files / "empty.csv").write_text("", encoding="utf-8")
    done = _whatworks(
        "sharing", "link", str(files / "council.csv"), str(files / "empty.csv"),
        data=files / "data",
    )  # fmt: skip
    assert done.returncode == 1
    assert "empty.csv is empty" in done.stderr
    assert "Traceback" not in done.stderr
