"""Linkage runs: accuracy against the truth on 300 synthetic children across four agencies,
refusals that write nothing (no agreement in force, no linked access, a short purpose, a
dataset that cannot be linked), a failed run with its error and no files, and Spark giving
the same links as DuckDB."""

from __future__ import annotations

import json
import stat
from datetime import date
from itertools import combinations

import pytest
from sqlalchemy import func, select

from whatworks.core.audit import Actor
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent, User
from whatworks.sharing import area, runs
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import AgencyDataset, Agreement, LinkRun, Partnership
from whatworks.sharing.synthetic import generate

PURPOSE = "Strategic needs assessment of children known to several agencies"
ON = date(2025, 6, 1)


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def count(session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def same_person_pairs(members: dict[str, set[tuple[int, str]]]) -> set[frozenset]:
    return {frozenset(pair) for group in members.values() for pair in combinations(group, 2)}


@pytest.fixture
def synthetic(session, tmp_path, builder, people):
    data = generate(300, seed=3)
    rows = {agency: data.rows(agency) for agency in ("council", "school", "health", "police")}
    return builder(session, tmp_path, rows)


@pytest.mark.slow
def test_a_run_finds_the_children_across_four_agencies(session, tmp_path, synthetic) -> None:
    partnership = session.get(Partnership, synthetic.partnership_id)
    run = runs.run_linkage(
        session, tmp_path, user(session, "linked"), partnership, [], PURPOSE, on=ON
    )
    session.commit()
    assert run.status == "done", run.error
    clusters = runs.clusters_of(tmp_path, run)
    predicted: dict[str, set[tuple[int, str]]] = {}
    truth: dict[str, set[tuple[int, str]]] = {}
    for row in clusters:
        node = (row["dataset_id"], row["record"])
        predicted.setdefault(row["person"], set()).add(node)
        truth.setdefault(synthetic.truth[node], set()).add(node)
    linked, true = same_person_pairs(predicted), same_person_pairs(truth)
    precision = len(linked & true) / len(linked)
    recall = len(linked & true) / len(true)
    assert precision >= 0.97 and recall >= 0.95, (precision, recall)
    assert abs(len(predicted) - len(truth)) <= 0.03 * len(truth), (len(predicted), len(truth))
    # The row's counts are those of the files.
    assert run.record_count == len(clusters) == len(synthetic.truth)
    assert run.cluster_count == len(predicted)
    pairs = runs.pairs(tmp_path, run)
    assert run.pair_count == len(pairs)
    assert run.link_count == sum(p["linked"] for p in pairs)
    assert run.review_count == sum(p["in_review"] for p in pairs)
    # Every pair of the four datasets was linked, and one threshold chosen over them all.
    datasets = runs.dataset_ids_of(run)
    assert len(datasets) == 4
    assert {(p["left_dataset"], p["right_dataset"]) for p in pairs} == set(
        combinations(datasets, 2)
    )
    assert all(p["probability"] >= run.threshold for p in pairs if p["linked"])
    assert 0.9 < run.estimated_precision <= 1 and 0.9 < run.estimated_recall <= 1
    # Pairs name records only by pseudonym; the files are the partnership's alone (0600).
    record_ids = {r for (_, r) in synthetic.pseudonyms}
    assert not {p["left_record"] for p in pairs} & record_ids
    folder = area.run_dir(tmp_path, partnership.id, run.id)
    for name in (runs.PAIRS_FILE, runs.CLUSTERS_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [runs.CLUSTERS_FILE, runs.PAIRS_FILE]
    explained = json.loads(pairs[0]["explanation"])
    assert pairs[0]["prior_weight"] + sum(c["weight"] for c in explained) == pytest.approx(
        pairs[0]["match_weight"]
    )
    events = list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "link agency records"))
    )
    assert [(e.target, e.purpose, e.username) for e in events] == [
        (f"sharing run:{run.id}", PURPOSE, "linked")
    ]


def test_an_ended_agreement_refuses_the_run_and_writes_nothing(
    session, tmp_path, builder, people, tiny
) -> None:
    built = builder(session, tmp_path, tiny, status="ended")
    partnership = session.get(Partnership, built.partnership_id)
    with pytest.raises(AgreementNeeded, match="it is ended, not active"):
        runs.run_linkage(session, tmp_path, user(session, "linked"), partnership, [], PURPOSE)
    assert count(session, LinkRun) == 0
    assert not session.scalars(
        select(AuditEvent).where(AuditEvent.action == "link agency records")
    ).all()
    assert not (area.partnership_area(tmp_path, partnership.id) / "runs").exists()


def test_an_agreement_past_its_end_date_refuses_the_run(
    session, tmp_path, builder, people, tiny
) -> None:
    built = builder(session, tmp_path, tiny, end_date=date(2025, 3, 31))
    partnership = session.get(Partnership, built.partnership_id)
    with pytest.raises(AgreementNeeded, match="it ended on 2025-03-31"):
        runs.run_linkage(
            session, tmp_path, user(session, "linked"), partnership, [], PURPOSE, on=ON
        )
    assert count(session, LinkRun) == 0


@pytest.mark.parametrize("who", ["outsider", "plain"])
def test_only_partnership_members_with_linked_access_may_run(
    session, tmp_path, builder, people, tiny, who
) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    with pytest.raises(PermissionDenied):
        runs.run_linkage(session, tmp_path, user(session, who), partnership, [], PURPOSE)
    assert count(session, LinkRun) == 0


def test_a_purpose_and_linkable_datasets_are_needed(
    session, tmp_path, builder, people, tiny
) -> None:
    built = builder(session, tmp_path, tiny)
    other = builder(session, tmp_path, tiny, name="Another partnership")
    partnership = session.get(Partnership, built.partnership_id)
    linked = user(session, "linked")
    with pytest.raises(runs.PurposeNeeded, match="at least 10 characters"):
        runs.run_linkage(session, tmp_path, linked, partnership, [], "  because ")
    with pytest.raises(WhatworksError, match=f"Dataset {other.datasets['health']} is not one"):
        runs.run_linkage(
            session, tmp_path, linked, partnership,
            [built.datasets["council"], other.datasets["health"]], PURPOSE,
        )  # fmt: skip
    with pytest.raises(WhatworksError, match="at least two datasets"):
        runs.run_linkage(
            session, tmp_path, linked, partnership, [built.datasets["council"]], PURPOSE
        )
    health = session.get(AgencyDataset, built.datasets["health"])
    health.status = "identifiers deleted"
    with pytest.raises(WhatworksError, match="identifiers were deleted"):
        runs.run_linkage(
            session, tmp_path, linked, partnership, list(built.datasets.values()), PURPOSE
        )
    assert count(session, LinkRun) == 0


def test_a_run_that_fails_is_recorded_with_its_error_and_no_files(
    session, tmp_path, builder, people, tiny, caplog
) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    missing = area.matching_path(tmp_path, partnership.id, built.datasets["health"])
    missing.unlink()
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    session.commit()
    assert run.status == "failed"
    # The error's text can quote what it was reading: the run keeps only its type and a
    # fixed message; the log has where it happened, not the text.
    assert run.error == (
        "WhatworksError: the linkage failed; the log on the server has the details"
    )
    assert str(missing) not in caplog.text and "WhatworksError" in caplog.text
    assert run.finished_at is not None and run.cluster_count == 0
    assert list(area.run_dir(tmp_path, partnership.id, run.id).iterdir()) == []
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "link agency records"))
    assert event is not None and json.loads(event.detail)["status"] == "failed"


def test_tiny_run_links_the_same_children(session, tmp_path, builder, people, tiny) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert run.status == "done", run.error
    person = {(r["dataset_id"], r["record"]): r["person"] for r in runs.clusters_of(tmp_path, run)}

    def of(agency: str, record_id: str) -> str:
        return person[built.datasets[agency], built.record(agency, record_id)]

    assert of("council", "C1") == of("health", "H1")
    assert of("council", "C2") == of("health", "H2")
    assert len({of("health", "H1"), of("health", "H2"), of("health", "H3")}) == 3
    assert (run.record_count, run.cluster_count, run.link_count) == (5, 3, 2)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_gives_the_same_links_as_duckdb(session, tmp_path, builder, people) -> None:
    data = generate(120, seed=8, agencies=("council", "health"))
    built = builder(session, tmp_path, {a: data.rows(a) for a in ("council", "health")})
    partnership = session.get(Partnership, built.partnership_id)
    found = {}
    for engine in ("duckdb", "spark"):
        run = runs.run_linkage(
            session, tmp_path, Actor("cli"), partnership, [], PURPOSE, engine=engine
        )
        assert run.status == "done", run.error
        assert run.engine == engine
        found[engine] = (run, runs.pairs(tmp_path, run), runs.clusters_of(tmp_path, run))
    (duck, duck_pairs, duck_clusters), (spark, spark_pairs, spark_clusters) = (
        found["duckdb"],
        found["spark"],
    )

    def keyed(rows):
        return {(p["left_record"], p["right_record"]): p for p in rows}

    a, b = keyed(duck_pairs), keyed(spark_pairs)
    assert set(a) == set(b)
    assert {k for k, p in a.items() if p["linked"]} == {k for k, p in b.items() if p["linked"]}
    assert {k for k, p in a.items() if p["in_review"]} == {
        k for k, p in b.items() if p["in_review"]
    }
    assert max(abs(a[k]["probability"] - b[k]["probability"]) for k in a) < 1e-6
    assert duck.threshold == pytest.approx(spark.threshold, abs=1e-6)
    assert [(r["dataset_id"], r["record"], r["person"]) for r in duck_clusters] == [
        (r["dataset_id"], r["record"], r["person"]) for r in spark_clusters
    ]


@pytest.fixture
def command_line(settings, monkeypatch):
    """The CLI on the test store and data folder."""
    from whatworks import store

    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", settings.database_url)
    store.settings.cache_clear()
    yield
    store.settings.cache_clear()


def test_the_run_command(session, settings, builder, people, tiny, command_line) -> None:
    from typer.testing import CliRunner

    from whatworks.cli import app

    built = builder(session, settings.data_dir, tiny)
    ids = ",".join(map(str, built.datasets.values()))
    args = ["sharing", "run", "--partnership", str(built.partnership_id), "--purpose", PURPOSE]
    answer = CliRunner().invoke(app, [*args, "--datasets", ids])
    assert answer.exit_code == 0, answer.output
    assert "5 records, 3 children, 2 links" in answer.output
    session.expire_all()
    run = session.scalar(select(LinkRun))
    assert run is not None and run.status == "done" and run.run_by.endswith("(command line)")
    refused = CliRunner().invoke(app, [*args, "--datasets", "1,x"])
    assert refused.exit_code != 0 and "dataset numbers separated by commas" in str(
        refused.exception
    )


def test_each_dataset_needs_its_own_agreement_in_force(
    session, tmp_path, builder, people, tiny, another_agreement
) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    # A newer agreement in force for both agencies, while the one the datasets were
    # uploaded under has ended: it does not cover them.
    newer = another_agreement(session, built, ["council", "health"])
    session.get(Agreement, built.agreement_id).status = "ended"
    council = session.get(AgencyDataset, built.datasets["council"])
    health = session.get(AgencyDataset, built.datasets["health"])
    with pytest.raises(AgreementNeeded, match=f"dataset {council.id} .*dataset {health.id}"):
        runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    council.agreement_id = newer.id
    with pytest.raises(AgreementNeeded) as refused:
        runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert f"dataset {health.id} (" in str(refused.value)
    assert f"dataset {council.id} (" not in str(refused.value)
    assert "it is ended, not active" in str(refused.value)
    # An agreement that does not name the dataset's agency does not cover it either.
    narrow = another_agreement(session, built, ["council"], title="Council only")
    health.agreement_id = narrow.id
    with pytest.raises(AgreementNeeded, match="it does not cover health data"):
        runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert count(session, LinkRun) == 0
    health.agreement_id = newer.id
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert run.status == "done" and run.agreement_id == newer.id


def test_a_run_rolled_back_leaves_no_files(session, tmp_path, builder, people, tiny) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    folder = area.run_dir(tmp_path, partnership.id, run.id)
    assert sorted(p.name for p in folder.iterdir()) == [runs.CLUSTERS_FILE, runs.PAIRS_FILE]
    session.rollback()
    assert count(session, LinkRun) == 0
    assert list(folder.iterdir()) == []
    # Committed, they stay.
    kept = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    session.commit()
    folder = area.run_dir(tmp_path, partnership.id, kept.id)
    assert sorted(p.name for p in folder.iterdir()) == [runs.CLUSTERS_FILE, runs.PAIRS_FILE]


def test_duckdb_spills_inside_the_partnerships_area_and_cleans_up(
    session, tmp_path, builder, people, tiny, monkeypatch
) -> None:
    import tempfile

    from whatworks.sharing import linkage

    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert run.status == "done"
    assert not (area.partnership_area(tmp_path, partnership.id) / "spill").exists()
    assert list(system_tmp.iterdir()) == []
    # link itself, with the default folder or one given, leaves none behind.
    left, right = (
        [{k: v for k, v in r.items() if k in linkage.STANDARD_FIELDS} for r in tiny[agency]]
        for agency in ("council", "health")
    )
    key = b"k" * 32
    assert len(linkage.link(left, right, key).links()) == 2
    assert list(system_tmp.iterdir()) == []
    given = tmp_path / "given-spill"
    assert len(linkage.link(left, right, key, spill_dir=given).links()) == 2
    assert not given.exists()


def test_spark_on_a_cluster_is_refused_unless_allowed(
    session, tmp_path, builder, people, tiny, monkeypatch
) -> None:
    from whatworks.core.errors import ConfigurationError

    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    monkeypatch.setenv("WHATWORKS_SPARK_MASTER", "spark://cluster.example:7077")
    monkeypatch.delenv("WHATWORKS_SHARING_REMOTE_SPARK", raising=False)
    with pytest.raises(ConfigurationError, match="off this machine"):
        runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE, engine="spark")
    assert count(session, LinkRun) == 0
    monkeypatch.setenv("WHATWORKS_SHARING_REMOTE_SPARK", "allow")
    runs.check_spark_master()  # allowed: no error
    monkeypatch.delenv("WHATWORKS_SHARING_REMOTE_SPARK")
    for local in ("local[2]", "local", "local[*]"):
        monkeypatch.setenv("WHATWORKS_SPARK_MASTER", local)
        runs.check_spark_master()
