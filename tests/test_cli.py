"""The command line on a real store: import, users, db upgrade, demo, python -m whatworks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from whatworks import store
from whatworks.cli import app
from whatworks.core.auth import authenticate
from whatworks.core.models import User
from whatworks.data import published_file
from whatworks.outcomes.models import PublishedDataset, PublishedValue

runner = CliRunner()
CLA = published_file("cla_number_and_rate_per_10k_children.csv")


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    store.settings.cache_clear()
    yield tmp_path
    store.settings.cache_clear()


def test_import_published_file(cli_env, session) -> None:
    result = runner.invoke(app, ["import", "published", str(CLA)])
    assert result.exit_code == 0, result.output
    assert "cla_number_and_rate_per_10k_children" in result.output
    assert "added" in result.output
    again = runner.invoke(app, ["import", "published", str(CLA)])
    assert "unchanged" in again.output
    assert session.scalar(select(func.count()).select_from(PublishedDataset)) == 1


def test_import_of_a_broken_file_fails_clearly_and_stores_nothing(
    cli_env, session, tmp_path
) -> None:
    bad = tmp_path / "broken.csv"
    lines = CLA.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",thirty"
    bad.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(app, ["import", "published", str(CLA), str(bad)])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "row 4, column rate_per_10000: 'thirty'" in str(result.exception)
    assert session.scalar(select(func.count()).select_from(PublishedValue)) == 0


def test_import_needs_a_file(cli_env) -> None:
    result = runner.invoke(app, ["import", "published"])
    assert result.exit_code == 2
    assert "--bundled" in result.output


def test_users_create(cli_env, session) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "create",
            "ana",
            "--role",
            "analyst",
            "--organisation",
            "Leeds City Council",
            "--full-name",
            "Ana Lyst",
        ],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "ana"))
    assert user.role == "analyst" and user.organisation.name == "Leeds City Council"
    assert authenticate(session, "ana", "a long enough password", "test") is not None


def test_users_create_rejects_an_unknown_role(cli_env) -> None:
    result = runner.invoke(
        app, ["users", "create", "x", "--role", "king", "--password", "a long enough password"]
    )
    assert result.exit_code != 0
    assert "Role 'king' is not known" in str(result.exception)


def test_db_upgrade(cli_env) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


@pytest.mark.slow
def test_python_m_whatworks_demo_builds_once_then_changes_nothing(tmp_path: Path) -> None:
    env = {"WHATWORKS_DATA_DIR": str(tmp_path / "demo"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    first = subprocess.run(
        [sys.executable, "-m", "whatworks", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    assert "Demo users (passwords are shown once" in first.stdout
    assert "153" not in first.stderr
    second = subprocess.run(
        [sys.executable, "-m", "whatworks", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr
    assert "already stored" in second.stdout
    assert "Demo users already exist" in second.stdout
    assert "password" not in second.stdout.replace("passwords were shown", "")
    assert (tmp_path / "demo" / "whatworks.sqlite").exists()
    # the demo council's generated returns, imported once
    assert "2021 to 2025 generated, imported and measured" in first.stdout
    assert "E09000003 already has returns" in second.stdout
    stored = tmp_path / "demo" / "analytics" / "returns" / "E09000003"
    assert sorted(p.name for p in stored.iterdir()) == [
        *(str(y) for y in range(2021, 2026)),
        "history",  # the years stitched into one history
    ]


def test_demo_generate_writes_the_same_files_for_the_same_seed(tmp_path: Path) -> None:
    args = ["demo", "generate", "--las", "2", "--years", "2", "--seed", "5", "--scale", "0.2"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert again.exit_code == 0, again.output
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    councils = {p.parts[0] for p in files if len(p.parts) == 3}
    assert len(councils) == 2
    assert {p.parts[1] for p in files if len(p.parts) == 3} == {"2024", "2025"}
    assert Path("truth.json") in files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    refused = runner.invoke(app, ["demo", "generate", "--las", "0", "--out", str(tmp_path)])
    assert refused.exit_code != 0


def test_errors_reach_the_user_without_a_traceback(tmp_path: Path) -> None:
    env = {
        "WHATWORKS_DATA_DIR": str(tmp_path),
        "WHATWORKS_ENGINE": "oracle",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "whatworks", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "WHATWORKS_ENGINE is 'oracle'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_serve_applies_migrations_and_answers(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"WHATWORKS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        [sys.executable, "-m", "whatworks", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as answer:
                    body = answer.read().decode()
            except OSError:
                time.sleep(0.3)
        assert body is not None, "the server did not answer within 60 seconds"
        assert '"name":"whatworks"' in body
        assert (tmp_path / "whatworks.sqlite").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_outcomes_indicators_json(cli_env) -> None:
    import json

    from whatworks.outcomes.catalogue import catalogue

    result = runner.invoke(app, ["outcomes", "indicators", "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [item["id"] for item in found] == [item.id for item in catalogue()]
    assert runner.invoke(app, ["outcomes", "indicators", "--format", "xml"]).exit_code == 2


def test_outcomes_scorecard_json_and_csv(cli_env, session) -> None:
    import csv as csv_module
    import io
    import json

    c1 = published_file("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")
    assert runner.invoke(app, ["import", "published", str(c1)]).exit_code == 0
    with c1.open(encoding="utf-8-sig", newline="") as handle:
        barnet = {
            r["time_period"]: r["rereferral_percent"]
            for r in csv_module.DictReader(handle)
            if r["new_la_code"] == "E09000003"
        }
    result = runner.invoke(app, ["outcomes", "scorecard", "--la", "E09000003", "--format", "json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    row = next(r for r in card["rows"] if r["indicator"] == "rereferral_percent")
    assert row["latest"] == {"period": "2025", "value": float(barnet["2025"]), "status": "value"}
    assert row["prior"]["value"] == float(barnet["2024"])
    as_csv = runner.invoke(app, ["outcomes", "scorecard", "--la", "302", "--format", "csv"])
    rows = list(csv_module.DictReader(io.StringIO(as_csv.output)))
    assert {r["indicator"] for r in rows} >= {"rereferral_percent", "cla_rate_per_10000"}
    table = runner.invoke(app, ["outcomes", "scorecard", "--la", "302"])
    assert "Scorecard: Barnet" in table.output


def test_outcomes_curve_json(cli_env) -> None:
    import json

    c1 = published_file("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")
    assert runner.invoke(app, ["import", "published", str(c1)]).exit_code == 0
    result = runner.invoke(
        app,
        [
            "outcomes",
            "curve",
            "--la",
            "E09000003",
            "--indicator",
            "rereferral_percent",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert {"history", "forecast", "neighbours_mean", "neighbours_median", "verdict", "spc"} <= (
        set(found)
    )
    assert len(found["history"]) == 13
    assert [f["period"] for f in found["forecast"]] == ["2026", "2027", "2028"]
    assert all(f["lower"] < f["value"] < f["upper"] for f in found["forecast"])
    table = runner.invoke(
        app,
        [
            "outcomes",
            "curve",
            "--la",
            "302",
            "--indicator",
            "rereferral_percent",
            "--method",
            "damped",
        ],
    )
    assert table.exit_code == 0 and "Verdict:" in table.output
