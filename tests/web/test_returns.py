"""An analyst uploads a year's return, reads the validation report (page, CSV, JSON),
imports it and sees the measures; other councils, members and visitors cannot; every read
is audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent

PASSWORD = "a long test password"


@pytest.fixture
def councils(sessions) -> None:
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        create_user(session, "barnet", PASSWORD, "analyst", organisation=barnet)
        create_user(session, "barnet-member", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "analyst", organisation=leeds)


def upload(client, csrf_from, action: str, files: list[tuple[str, bytes]], query: str = ""):
    token = csrf_from(client.get("/returns").text)
    return client.post(
        f"/returns/upload{query}",
        data={"csrf_token": token, "year": "2025", "action": action},
        files=[("files", (name, content, "text/csv")) for name, content in files],
        follow_redirects=False,
    )


@pytest.fixture
def good(return_files, tmp_path: Path) -> list[tuple[str, bytes]]:
    """A sound return: A100 looked after at 31 March 2025, A200 since 2022, A300 went
    home in January."""
    folder = return_files.write(tmp_path / "good")
    return [(name, (folder / name).read_bytes()) for name in ("header.csv", "episodes.csv")]


def test_check_import_and_see_measures(
    client, councils, sign_in, csrf_from, sessions, good
) -> None:
    assert client.get("/returns").status_code == 401
    sign_in(client, "barnet", PASSWORD)
    page = client.get("/returns")
    assert page.status_code == 200 and "Upload a year" in page.text
    checked = upload(client, csrf_from, "validate", good)
    assert checked.status_code == 200
    assert "The files can be imported" in checked.text and "episodes.csv" in checked.text
    imported = upload(client, csrf_from, "import", good)
    assert imported.status_code == 303
    assert imported.headers["location"] == "/returns/measures?year=2025"
    measures = client.get("/returns/measures?year=2025")
    assert measures.status_code == 200
    assert "Children looked after at the end of the period" in measures.text
    api = client.get("/api/returns/measures?year=2025").json()
    values = {v["indicator_id"]: v for v in api["values"]}
    assert values["cla_count"]["value"] == 2  # A100, A200; A300 went home in January
    assert values["cla_ceased"]["value"] == 1
    assert api["source"] == "computed from returns"
    as_csv = client.get("/api/returns/measures?year=2025&format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["indicator_id"]: r["value"] for r in rows}["cla_count"] == "2.0"
    in_year = client.get("/api/returns/measures?as_at=2024-12-31").json()
    assert {v["indicator_id"]: v["value"] for v in in_year["values"]}["cla_count"] == 3
    listed = client.get("/api/returns").json()
    assert [y["year"] for y in listed["years"]] == [2025]
    with sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent))]
    assert actions.count("returns.import") == 1
    assert actions.count("returns.measures") >= 4  # after import, page, JSON, CSV, as-at
    assert "returns.read" in actions


def test_a_bad_file_is_reported_by_row_child_and_field_and_nothing_is_stored(
    client, councils, sign_in, csrf_from, return_files, tmp_path
) -> None:
    sign_in(client, "barnet", PASSWORD)
    bad = [dict(return_files.episodes[0], DECOM="2024-05-01"), *return_files.episodes[1:]]
    folder = return_files.write(tmp_path / "bad", header=return_files.header, episodes=bad)
    files = [(name, (folder / name).read_bytes()) for name in ("header.csv", "episodes.csv")]
    refused = upload(client, csrf_from, "import", files)
    assert refused.status_code == 400
    assert "The return was not imported" in refused.text
    assert "A100" in refused.text and "DECOM" in refused.text
    assert client.get("/api/returns").json()["years"] == []
    as_json = upload(client, csrf_from, "validate", files, query="?format=json").json()
    assert as_json["importable"] is False
    failure = as_json["failures"][0]
    assert (failure["file"], failure["table"], failure["row"], failure["child"]) == (
        "episodes.csv",
        "episodes",
        2,
        "A100",
    )
    assert failure["field"] == "DECOM"
    as_csv = upload(client, csrf_from, "validate", files, query="?format=csv")
    assert as_csv.text.splitlines()[0] == "file,table,row,child,field,code,message"


def test_only_the_councils_own_analysts_see_its_returns(
    client, councils, sign_in, csrf_from, good
) -> None:
    sign_in(client, "barnet", PASSWORD)
    assert upload(client, csrf_from, "import", good).status_code == 303
    client.cookies.clear()
    sign_in(client, "leeds", PASSWORD)
    assert client.get("/returns?la=E09000003").status_code == 403
    assert client.get("/api/returns/measures?la=E09000003").status_code == 403
    assert client.get("/api/returns?la=E09000003").status_code == 403
    assert client.get("/api/returns").json()["years"] == []  # Leeds's own: none
    client.cookies.clear()
    sign_in(client, "barnet-member", PASSWORD)
    assert client.get("/returns").status_code == 403
    assert client.get("/api/returns/measures").status_code == 403


def test_an_upload_without_files_or_with_a_huge_one_is_refused(
    client, councils, sign_in, csrf_from, monkeypatch
) -> None:
    sign_in(client, "barnet", PASSWORD)
    token = csrf_from(client.get("/returns").text)
    empty = client.post("/returns/upload", data={"csrf_token": token, "year": "2025"})
    assert empty.status_code == 400 and "Choose the return" in empty.text
    monkeypatch.setattr("whatworks.returns.routes.MAX_BYTES", 1000)
    big = upload(client, csrf_from, "validate", [("episodes.csv", b"x" * 5000)])
    assert big.status_code == 400 and "larger than" in big.text


def test_upload_needs_a_csrf_token(client, councils, sign_in, good) -> None:
    sign_in(client, "barnet", PASSWORD)
    response = client.post(
        "/returns/upload",
        data={"year": "2025"},
        files=[("files", ("header.csv", good[0][1], "text/csv"))],
    )
    assert response.status_code == 403
