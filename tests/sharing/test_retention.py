"""The end of retention on the real store: the day after `retain_until` a dataset's matching
file is deleted, no clear identifier of it is left anywhere under the data folder, its
pseudonymised records remain, the deletion is audited, and running again changes nothing;
an agreement that ended early brings deletion forward by its retention after the end; the
notes of review decisions on the dataset's records are cleared with it."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from whatworks.cli import app
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.errors import WhatworksError
from whatworks.core.models import AuditEvent, User
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.sharing import datasets, partnerships, retention
from whatworks.sharing.models import AgencyDataset, Agreement, LinkRun, ReviewDecision
from whatworks.sharing.partnerships import NewAgreement

UPLOADED = date(2026, 6, 15)
#: Names that appear nowhere but in the uploaded file.
NAMES = ("Zephaniah", "Quillfeather")
CSV = (
    "ID,Forename,Surname,Date of Birth,Post Code,Needs\n"
    f"C1,{NAMES[0]},{NAMES[1]},2015-04-03,N12 0AB,early help\n"
    "C2,Ben,Jones,2014-01-09,N12 0AD,\n"
)
MAPPING = {"record_id": "ID", "first_name": "Forename", "surname": "Surname",
           "dob": "Date of Birth", "postcode": "Post Code", "needs": "Needs"}  # fmt: skip


@pytest.fixture
def dataset(sessions, settings, tmp_path: Path) -> int:
    """A council's dataset uploaded on 15 June 2026 under an agreement keeping identifiers
    12 months (retained until 15 June 2027)."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        lead = create_user(
            session, "barnet", "a long test password", "partnership_member", organisation=barnet
        )
        partnership = partnerships.create_partnership(session, lead, "Barnet SCP")
        agreement = partnerships.record_agreement(
            session, lead, partnership,
            NewAgreement(
                "Safeguarding", "Known to several services", partnerships.USUAL_BASIS, "",
                ("council",), tuple(MAPPING), 12,
                date(2026, 1, 1), date(2026, 12, 31), date(2027, 12, 31),
            ),
        )  # fmt: skip
        partnerships.sign(
            session, lead, agreement, barnet.id, "Chris", "Director", date(2026, 1, 1), UPLOADED
        )
        partnerships.activate(session, lead, agreement, UPLOADED)
        path = tmp_path / "upload" / "council.csv"
        path.parent.mkdir()
        path.write_text(CSV, encoding="utf-8")
        made = datasets.import_dataset(
            session, settings, lead, partnership, "council", path, MAPPING, on=UPLOADED
        )
    path.unlink()  # the person's own copy, outside whatworks
    return made.id


def names_under(folder: Path) -> list[str]:
    """Where either name is found under the folder: in any Parquet file's cells, or in the
    bytes of any other file (the SQLite store among them)."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            cells = str(pq.read_table(path).to_pylist())
            found += [f"{path}: {n}" for n in NAMES if n in cells]
        else:
            content = path.read_bytes()
            found += [f"{path}: {n}" for n in NAMES if n.encode() in content]
    return found


def deletions(sessions) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "delete identifiers")
            )
            or 0
        )


def apply(sessions, settings, on: date) -> list[retention.Deletion]:
    with transaction(sessions) as session:
        return retention.apply_retention(session, settings.data_dir, on)


def test_identifiers_are_deleted_the_day_after_retention(sessions, settings, dataset) -> None:
    with sessions() as session:
        found = session.get(AgencyDataset, dataset)
        assert found is not None and found.retain_until == date(2027, 6, 15)
        matching = datasets.matching_rows(settings.data_dir, found)
        path = settings.data_dir / "partnerships" / f"p{found.partnership_id}" / "matching"
    assert [r["first_name"] for r in matching] == [NAMES[0], "Ben"]
    assert names_under(settings.data_dir) == [f"{path / f'd{dataset}.parquet'}: {n}" for n in NAMES]
    assert apply(sessions, settings, date(2027, 6, 15)) == []  # the last day it is kept
    assert (path / f"d{dataset}.parquet").exists()
    done = apply(sessions, settings, date(2027, 6, 16))
    assert [(d.dataset_id, d.due, d.reason) for d in done] == [
        (dataset, date(2027, 6, 15), "its retention ended")
    ]
    assert not (path / f"d{dataset}.parquet").exists()
    assert names_under(settings.data_dir) == []
    with sessions() as session:
        found = session.get(AgencyDataset, dataset)
        assert found.status == "identifiers deleted" and found.identifiers_deleted_at is not None
        records = datasets.records_table(settings.analytics_dir, found).to_pylist()
        with pytest.raises(WhatworksError, match="were deleted at the end of their retention"):
            datasets.matching_rows(settings.data_dir, found)
    assert [(r["birth_month"], r["district"], r["needs"]) for r in records] == [
        ("2015-04", "N12", "early help"),
        ("2014-01", "N12", ""),
    ]
    assert deletions(sessions) == 1
    # again: nothing more deleted, nothing more audited
    assert apply(sessions, settings, date(2027, 7, 1)) == []
    assert deletions(sessions) == 1


def test_an_ended_agreement_brings_deletion_forward(sessions, settings, dataset) -> None:
    with transaction(sessions) as session:
        agreement = session.scalar(select(Agreement))
        lead = User(username="barnet", role="admin", full_name="", password_hash="")
        partnerships.end(session, lead, agreement, date(2026, 7, 1), "Replaced")
        # the partnership agreed to keep identifiers 3 months after an agreement ends
        agreement.retention_months = 3
    # 1 July 2026 + 3 months = 1 October 2026, before 15 June 2027
    assert apply(sessions, settings, date(2026, 10, 1)) == []
    done = apply(sessions, settings, date(2026, 10, 2))
    assert [(d.due, d.reason) for d in done] == [
        (date(2026, 10, 1), "its agreement ended and the retention after it passed")
    ]
    assert names_under(settings.data_dir) == []


def test_the_retention_command(sessions, settings, dataset, monkeypatch) -> None:
    from whatworks import store

    monkeypatch.setattr(store, "settings", lambda: settings)
    monkeypatch.setattr("whatworks.sharing.cli.settings", lambda: settings)
    runner = CliRunner()
    early = runner.invoke(app, ["sharing", "retention", "--as-at", "2027-06-15"])
    assert early.exit_code == 0, early.output
    assert "No dataset's retention has passed on 2027-06-15" in early.output
    late = runner.invoke(app, ["sharing", "retention", "--as-at", "2027-06-16"])
    assert late.exit_code == 0, late.output
    assert f"Dataset {dataset}" in late.output and "identifiers deleted" in late.output
    bad = runner.invoke(app, ["sharing", "retention", "--as-at", "16/06/2027"])
    assert bad.exit_code != 0
    assert deletions(sessions) == 1


def test_review_notes_on_the_dataset_s_records_are_cleared_with_its_identifiers(
    sessions, settings, dataset
) -> None:
    key = load_or_create_key(settings.data_dir)
    with transaction(sessions) as session:
        found = session.get(AgencyDataset, dataset)
        assert found is not None
        pid = found.partnership_id
        # the records' pseudonyms, worked out from the key as docs/sharing.md describes
        ours = {
            rid: hmac.new(
                key, f"sharing record\x1f{pid}\x1f{found.organisation_id}\x1f{rid}".encode(),
                hashlib.sha256,
            ).hexdigest()[:20]
            for rid in ("C1", "C2")
        }  # fmt: skip
        run = LinkRun(partnership_id=pid, agreement_id=found.agreement_id, purpose="Review",
                      dataset_ids="[]", run_by="barnet")  # fmt: skip
        session.add(run)
        session.flush()
        other, another = "0" * 20, "f" * 20  # records of no dataset here
        for left, right, note in (
            (ours["C1"], other, "Same school as the boy at number 4"),
            (other, ours["C2"], "Mother confirmed by phone"),
            (another, ours["C1"], ""),
            (other, another, "Twins; keep apart"),
        ):
            session.add(ReviewDecision(
                partnership_id=pid, run_id=run.id, left_record=min(left, right),
                right_record=max(left, right), decision="match", probability=0.9, note=note,
                decided_by="barnet",
            ))  # fmt: skip
    done = apply(sessions, settings, date(2027, 6, 16))
    assert [d.notes_cleared for d in done] == [2]
    with sessions() as session:
        notes = sorted(session.scalars(select(ReviewDecision.note)))
        detail = session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "clear review notes")
        )
        decisions = session.scalar(select(func.count()).select_from(ReviewDecision))
    assert notes == ["", "", "", "Twins; keep apart"] and decisions == 4
    assert json.loads(detail)["notes_cleared"] == 2
    assert apply(sessions, settings, date(2027, 7, 1)) == []
