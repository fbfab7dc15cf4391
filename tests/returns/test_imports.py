"""Importing returns: all or nothing, pseudonymised, recorded and audited; the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from whatworks import store as app_store
from whatworks.cli import app
from whatworks.core.audit import Actor
from whatworks.core.models import AuditEvent
from whatworks.data import published_file
from whatworks.outcomes.models import ComputedValue
from whatworks.places.places import local_authority
from whatworks.returns import imports
from whatworks.returns.models import ReturnImport
from whatworks.returns.store import ReturnsStore

KEY = b"k" * 32
ACTOR = Actor("analyst")
runner = CliRunner()
POPULATION = "ons_mid-year_population_estimates_2012_to_2024.csv"


def test_an_import_stores_pseudonymised_tables_records_and_audits(
    session, tmp_path, return_files
) -> None:
    folder = return_files.write(tmp_path / "files")
    store = ReturnsStore(tmp_path / "store")
    barnet = local_authority(session, "E09000003")
    done = imports.import_return(session, store, KEY, barnet, 2025, [folder], ACTOR)
    session.commit()
    assert done.families == {"ssda903": 7} and done.children == 3
    assert store.years("E09000003") == [2025]
    episodes = pq.read_table(store.files("episodes", ["E09000003"])[0]).to_pylist()
    assert len(episodes) == 4
    stored_text = json.dumps(
        [*episodes, *pq.read_table(store.files("header")[0]).to_pylist()], default=str
    )
    for identifying in ("A100", "A200", "A123456789012", "N3 1AB", "N31AB"):
        assert identifying not in stored_text
    assert {row["sex"] for row in pq.read_table(store.files("header")[0]).to_pylist()} == {
        "M",
        "F",
    }
    record = session.scalar(select(ReturnImport))
    assert (record.la_code, record.year, record.family, record.rows) == (
        "E09000003",
        2025,
        "ssda903",
        7,
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "returns.import"))
    assert event.target == "E09000003/2025"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"DECOM": "31/02/2024"}, "is not a date written dd/mm/yyyy"),
        ({"PLACE": "Q9"}, "is not one of the codes for this year"),
        ({"CHILD": ""}, "CHILD must not be blank"),
    ],
)
def test_a_bad_value_stops_the_import_and_nothing_is_stored(
    session, tmp_path, return_files, change, expected
) -> None:
    episodes = return_files.episodes
    bad = [dict(episodes[0], **change), *episodes[1:]]
    folder = return_files.write(tmp_path / "files", header=return_files.header, episodes=bad)
    store = ReturnsStore(tmp_path / "store")
    barnet = local_authority(session, "E09000003")
    with pytest.raises(imports.ReturnRejected) as rejected:
        imports.import_return(session, store, KEY, barnet, 2025, [folder], ACTOR)
    session.rollback()
    assert expected in str(rejected.value)
    problem = rejected.value.report.blocking[0][1]
    assert (problem.table, problem.row) == ("episodes", 2)
    assert store.years("E09000003") == []
    assert session.scalar(select(func.count()).select_from(ReturnImport)) == 0
    assert not (tmp_path / "store" / ".staging").exists() or not any(
        (tmp_path / "store" / ".staging").iterdir()
    )


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    app_store.settings.cache_clear()
    yield tmp_path / "data"
    app_store.settings.cache_clear()


def _published(name: str, column: str, **where: str) -> str:
    with published_file(name).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if all(row[k] == v for k, v in where.items()):
                return row[column]
    raise AssertionError(f"no row {where} in {name}")


def test_the_command_line_validates_imports_and_measures(
    cli_env, session, tmp_path, return_files
) -> None:
    folder = return_files.write(tmp_path / "files")
    checked = runner.invoke(
        app, ["returns", "validate", str(folder), "--year", "2025", "--format", "json"]
    )
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    assert report["importable"] and {f["table"] for f in report["files"]} == {
        "header",
        "episodes",
    }
    for name in ("cla_number_and_rate_per_10k_children.csv", POPULATION):
        assert runner.invoke(app, ["import", "published", str(published_file(name))]).exit_code == 0
    imported = runner.invoke(
        app, ["returns", "import", "--la", "E09000003", "--year", "2025", str(folder)]
    )
    assert imported.exit_code == 0, imported.output
    assert "Imported Barnet's 2025 return" in imported.output
    shown = runner.invoke(app, ["returns", "measures", "--la", "E09000003", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    values = {v["indicator_id"]: v for v in json.loads(shown.output)["values"]}
    # at 31 March 2025: A100 (placed since August) and A200; A300 went home in January
    assert values["cla_count"]["value"] == 2
    assert values["cla_started"]["value"] == 2  # A100, A300
    assert values["cla_ceased"]["value"] == 1
    # the rate uses the ONS estimate for mid-2024, as the DfE does
    children = float(
        _published(POPULATION, "population_estimate", time_period="2024", new_la_code="E09000003")
    )
    assert values["cla_rate_per_10000"]["value"] == round(2 / children * 10_000, 1)
    assert values["cla_rate_per_10000"]["denominator"] == round(children)
    stored = session.scalars(select(ComputedValue).where(ComputedValue.la_code == "E09000003"))
    by_id = {row.indicator_id: row for row in stored}
    assert by_id["cla_count"].value == 2 and by_id["cla_count"].period == "2025"
    provenance = json.loads(by_id["cla_count"].provenance)
    assert provenance["source"] == "computed from returns" and provenance["engine"] == "duckdb"
    assert provenance["returns"][0]["parts"]["ssda903"]["files"][0]["name"] == "episodes.csv"
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "returns.measures")
        )
        == 2
    )  # after the import, and on asking


def test_reconciliation_sets_computed_beside_published(
    cli_env, session, tmp_path, return_files
) -> None:
    from whatworks.returns import results
    from whatworks.returns.measures import Period
    from whatworks.returns.service import compute_and_save

    runner.invoke(
        app,
        ["import", "published", str(published_file("cla_number_and_rate_per_10k_children.csv"))],
    )
    folder = return_files.write(tmp_path / "files")
    assert (
        runner.invoke(
            app, ["returns", "import", "--la", "E09000003", "--year", "2025", str(folder)]
        ).exit_code
        == 0
    )
    barnet = local_authority(session, "E09000003")
    values = compute_and_save(app_store.settings(), barnet, Period.year(2025), ACTOR)
    found = {r.indicator_id: r for r in results.reconcile(session, barnet, values)}
    published = float(
        _published(
            "cla_number_and_rate_per_10k_children.csv",
            "children_count",
            time_period="2025",
            new_la_code="E09000003",
            population_type="Children looked after on 31 March each year",
        )
    )
    assert found["cla_count"].published == published
    assert found["cla_count"].computed == 2
    assert found["cla_count"].difference == round(2 - published, 1)


def test_validate_exits_with_1_when_the_import_would_be_refused(
    cli_env, tmp_path, return_files
) -> None:
    bad = [dict(return_files.episodes[0], DECOM="2024-05-01"), *return_files.episodes[1:]]
    folder = return_files.write(tmp_path / "files", header=return_files.header, episodes=bad)
    result = runner.invoke(
        app, ["returns", "validate", str(folder), "--year", "2025", "--format", "csv"]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "file,table,row,child,field,code,message"
    assert lines[1].startswith("episodes.csv,episodes,2,A100,DECOM,structure,")


SAMPLES = Path(__file__).parent / "samples"
CIN_SAMPLES = Path(__file__).parent / "cin"


def test_the_shared_samples_are_read_into_validation_reports() -> None:
    tables = [p for p in sorted(SAMPLES.glob("*.csv")) if p.name != "sw_episodes.csv"]
    report = imports.validate(tables, 2022, KEY)
    read = {f.name: f.table for f in report.files}
    assert read["episodes.csv"] == "episodes" and read["header.csv"] == "header"
    assert all(f.rows > 0 for f in report.files if f.table)
    # two files are the placed-for-adoption table: the report says so, naming both
    assert any("two files are the placed_adoption table" in p.message for _, p in report.problems)
    rows = report.rows()
    assert rows and set(rows[0]) == set(imports.COLUMNS)
    assert report.csv_text().splitlines()[0] == ",".join(imports.COLUMNS)
    census = imports.validate([CIN_SAMPLES / "CIN_Census_2021.xml"], 2021, KEY)
    assert census.files[0].table == "cin census" and census.files[0].rows > 0
    assert json.loads(json.dumps(census.as_dict()))["files"][0]["name"] == "CIN_Census_2021.xml"
