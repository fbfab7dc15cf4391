"""Projects, pre-registered evaluations and the learning-from-failure tracker through the
real app on the seeded store: a registration changes only by a new version with its reason,
the tracker shows an overdue evaluation and a switched primary outcome, bad input stores
nothing, another organisation is refused, and the CLI's JSON is the page's JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from whatworks import store
from whatworks.cli import app
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.evidence import registrations, seed
from whatworks.evidence.models import ConditionRating, Project, Registration, RegistrationVersion

PASSWORD = "a long test password"
#: The demo's overdue trial and its pilot that switched its primary outcome (seed.py).
OVERDUE = "Barnet family network meetings trial (demo)"
SWITCHED = "Barnet family network meetings pilot (demo)"
AS_AT = date(2024, 6, 30)


@pytest.fixture
def seeded(sessions) -> dict[str, int]:
    """The bundled evidence and the demo; a member of the demo council, a member of Leeds
    City Council and a researcher. Returns the demo's project and registration ids."""
    with transaction(sessions) as session:
        seed.seed(session)
        seed.seed_demo(session)
        barnet = get_or_create_organisation(session, "Barnet Council (demo)", "council")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        create_user(session, "researcher", PASSWORD, "researcher")
        ids = {
            registrations.latest_version(session, r.id).title: r.id
            for r in registrations.list_registrations(session)
        }
        project = session.scalar(
            select(Project).where(Project.seed_key == "demo:barnet-family-network-meetings")
        )
        assert project is not None
        return {"project": project.id, "overdue": ids[OVERDUE], "switched": ids[SWITCHED]}


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def date_fields(name: str, value: str) -> dict[str, str]:
    day = date.fromisoformat(value)
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def plan_form(plan: dict[str, Any]) -> dict[str, str]:
    """The plan form's fields, filled in with a plan's content (as the JSON gives it)."""
    fields = {
        "title": plan["title"],
        "questions": "\n".join(plan["questions"]),
        "design": plan["design"],
        "maryland_level": str(plan["maryland_level"]),
        "planned_sample": str(plan["planned_sample"] or ""),
        "minimum_detectable_effect": plan["minimum_detectable_effect"],
        "analysis_plan": plan["analysis_plan"],
        "success_criteria": plan["success_criteria"],
        **date_fields("planned_completion", plan["planned_completion"]),
        **date_fields("planned_report", plan["planned_report"]),
    }
    for kind in ("primary_outcomes", "secondary_outcomes"):
        for n, outcome in enumerate([*plan[kind], {"name": "", "measure": ""}]):
            fields[f"{kind}-{n}-name"] = outcome["name"]
            fields[f"{kind}-{n}-measure"] = outcome["measure"]
    for n, checkpoint in enumerate(plan["checkpoints"]):
        fields.update(date_fields(f"checkpoint-{n}-on", checkpoint["on"]))
        fields[f"checkpoint-{n}-question"] = checkpoint["question"]
        fields[f"checkpoint-{n}-stop_rule"] = checkpoint["stop_rule"]
    return fields


def test_project_page_and_json(client, seeded) -> None:
    project = seeded["project"]
    page = client.get(f"/evidence/projects/{project}")
    assert page.status_code == 200
    text = page.text
    assert "Family network meetings in Barnet (demo)" in text and "Demo data" in text
    assert "Demo Foundation (demo)" in text and "£250,000" in text
    assert 'href="/indicators/cla_started_rate_per_10000"' in text
    assert "Willingness to learn" in text and "30 June 2022" in text and "30 June 2023" in text
    assert "referrals were slow" in text and "Sam Service Manager (demo)" in text
    assert f'href="/evidence/registrations/{seeded["overdue"]}"' in text
    found = client.get(f"/api/evidence/projects/{project}").json()
    # seed_demo rates "willingness to learn" 4 in June 2022 and 5 in June 2023.
    assert found["conditions"]["latest"]["willingness to learn"]["rating"] == 5
    assert len(found["conditions"]["history"]) == 12
    assert found["target_outcomes"][0]["url"] == "/indicators/cla_started_rate_per_10000"
    assert found["funding_amount"] == 250000
    assert {r["id"] for r in found["registrations"]} >= {seeded["overdue"], seeded["switched"]}
    listed = client.get("/api/evidence/projects?intervention=family-network-meetings-demo").json()
    # the demo council's project first, then the demo trials' sites (seed_demo)
    assert listed["projects"][0]["id"] == project
    assert all(p["is_demo"] for p in listed["projects"])
    leeds = client.get("/evidence/projects?la=E08000035")
    assert "Family Valued, Leeds" in leeds.text and "in Barnet (demo)" not in leeds.text
    assert client.get("/evidence/projects/999999").status_code == 404


def test_amending_through_the_web_makes_a_new_version(
    client, seeded, sign_in, csrf_from, sessions
) -> None:
    registration = seeded["overdue"]
    before = client.get(f"/api/evidence/registrations/{registration}").json()
    assert [v["version"] for v in before["versions"]] == [1]
    original = before["versions"][0]
    sign_in(client, "barnet", PASSWORD)
    form = client.get(f"/evidence/registrations/{registration}/amend")
    assert form.status_code == 200
    assert f'value="{original["plan"]["title"]}"' in form.text  # pre-filled
    changed = plan_form(original["plan"]) | date_fields("planned_completion", "2023-09-30")
    changed |= date_fields("planned_report", "2024-09-30")
    reason = "Recruitment was slower than planned; completion moves six months."
    # Without a reason nothing is stored.
    refused = client.post(
        f"/evidence/registrations/{registration}/amend",
        data=changed | {"reason": "", "csrf_token": csrf_from(form.text)},
    )
    assert refused.status_code == 400 and "Say why the plan changes" in refused.text
    assert count(sessions, RegistrationVersion) == 3
    amended = client.post(
        f"/evidence/registrations/{registration}/amend",
        data=changed | {"reason": reason, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert amended.status_code == 303
    assert amended.headers["location"] == f"/evidence/registrations/{registration}/versions/2"
    after = client.get(f"/api/evidence/registrations/{registration}").json()
    assert [v["version"] for v in after["versions"]] == [1, 2]
    assert after["versions"][0] == original  # version 1 unchanged, hash and all
    second = after["versions"][1]
    assert second["reason"] == reason and second["registered_by"] == "barnet"
    assert second["changed"] == {
        "planned_completion": {"from": "2023-03-31", "to": "2023-09-30"},
        "planned_report": {"from": "2024-03-31", "to": "2024-09-30"},
    }
    assert after["hash_problems"] == []
    page = client.get(f"/evidence/registrations/{registration}").text
    assert "Version 1" in page and "Version 2" in page and reason in page
    assert "Registered on" in page and "by demo" in page and second["sha256"] in page
    v1 = client.get(f"/evidence/registrations/{registration}/versions/1")
    assert v1.status_code == 200 and "31 March 2023" in v1.text and original["sha256"] in v1.text
    v2 = client.get(f"/evidence/registrations/{registration}/versions/2").text
    assert reason in v2 and "What changed from the version before" in v2
    assert "30 September 2023" in v2 and "31 March 2023" in v2
    # The tracker now counts 12 months from the new planned completion.
    tracked = client.get("/api/evidence/tracker?as_at=2024-06-30").json()
    row = next(t for t in tracked["registrations"] if t["registration_id"] == registration)
    assert row["status"] == "ongoing" and row["completion_moved_from"] == ["2023-03-31"]


def test_no_route_edits_a_version_in_place(client, seeded, sign_in, csrf_from) -> None:
    registration = seeded["overdue"]
    sign_in(client, "barnet", PASSWORD)
    token = csrf_from(client.get(f"/evidence/registrations/{registration}/amend").text)
    data = {"title": "Quietly changed", "csrf_token": token}
    for path in (
        f"/evidence/registrations/{registration}/versions/1",
        f"/evidence/registrations/{registration}",
        f"/api/evidence/registrations/{registration}",
    ):
        assert client.post(path, data=data).status_code == 405, path
        assert client.put(path, data=data).status_code == 405, path
        assert client.patch(path, data=data).status_code == 405, path
        assert client.delete(path).status_code == 405, path
    found = client.get(f"/api/evidence/registrations/{registration}").json()
    assert [v["plan"]["title"] for v in found["versions"]] == [OVERDUE]


def due_date_by_hand(planned_completion: date) -> date:
    """Results are due 12 months after planned completion (same day, a year later)."""
    return planned_completion.replace(year=planned_completion.year + 1)


def test_tracker_shows_overdue_and_switched_outcomes(client, seeded) -> None:
    overdue, switched = seeded["overdue"], seeded["switched"]
    registered = client.get(f"/api/evidence/registrations/{overdue}").json()
    completion = date.fromisoformat(registered["versions"][-1]["plan"]["planned_completion"])
    due = due_date_by_hand(completion)
    assert due == date(2024, 3, 31)
    found = client.get(f"/api/evidence/tracker?as_at={AS_AT.isoformat()}").json()
    assert found["as_at"] == "2024-06-30"
    rows = {t["registration_id"]: t for t in found["registrations"]}
    assert rows[overdue]["status"] == "overdue"
    assert rows[overdue]["due"] == due.isoformat()
    assert rows[overdue]["days_overdue"] == (AS_AT - due).days == 91
    assert found["registrations"][0]["registration_id"] == overdue  # overdue first
    outcomes = rows[switched]["outcomes"]
    assert rows[switched]["status"] == "reported"  # reported 30 June 2023, due 30 Sept 2023
    assert outcomes["switched"] is True
    assert outcomes["dropped"] == ["Care entry"] and outcomes["added"] == ["Family satisfaction"]
    assert outcomes["reported_as_secondary"] == ["Care entry"]
    by_funder = {r["group"]: r for r in found["reporting_rates"]["funder"]}
    demo = by_funder["Demo Foundation (demo)"]
    assert (demo["due"], demo["reported"], demo["overdue"], demo["rate"]) == (2, 1, 1, 0.5)
    # On the day results are due the trial is not yet overdue.
    day_before = client.get(f"/api/evidence/tracker?as_at={due.isoformat()}").json()
    assert {t["registration_id"]: t["status"] for t in day_before["registrations"]}[
        overdue
    ] == "ongoing"
    page = client.get(f"/evidence/tracker?as_at={AS_AT.isoformat()}")
    assert page.status_code == 200
    assert OVERDUE in page.text and "91 days overdue" in page.text and "31 March 2024" in page.text
    assert "Switched" in page.text and "Added: Family satisfaction" in page.text
    assert "Dropped: Care entry (reported as secondary)" in page.text
    only = client.get(f"/api/evidence/tracker?as_at={AS_AT.isoformat()}&status=overdue").json()
    assert [t["registration_id"] for t in only["registrations"]] == [overdue]
    filtered = client.get(f"/evidence/tracker?as_at={AS_AT.isoformat()}&status=overdue").text
    assert OVERDUE in filtered and SWITCHED not in filtered
    as_csv = client.get(f"/evidence/tracker.csv?as_at={AS_AT.isoformat()}")
    assert as_csv.headers["content-type"].startswith("text/csv")
    csv_rows = {r["registration_id"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert csv_rows[str(overdue)]["status"] == "overdue"
    assert csv_rows[str(switched)]["outcomes_switched"] == "True"
    assert client.get("/evidence/tracker?as_at=30/06/2024").status_code == 400
    assert client.get("/api/evidence/tracker?status=lost").status_code == 400


def test_register_review_and_rate_through_the_web(
    client, seeded, sign_in, csrf_from, sessions
) -> None:
    project = seeded["project"]
    assert client.get("/evidence/registrations/new").status_code == 401
    sign_in(client, "barnet", PASSWORD)
    form = client.get(f"/evidence/registrations/new?project={project}")
    assert form.status_code == 200 and "Register the plan" in form.text
    plan = {
        "title": "Family network meetings for under-fives (demo)",
        "questions": ["Do meetings keep under-fives with their family network?"],
        "primary_outcomes": [{"name": "Care entry", "measure": "SSDA903 episodes"}],
        "secondary_outcomes": [],
        "design": "Difference in differences against matched councils",
        "maryland_level": 3,
        "planned_sample": 300,
        "minimum_detectable_effect": "6 percentage points",
        "analysis_plan": "Difference in differences",
        "success_criteria": "Care entry 6 points lower",
        "checkpoints": [
            {"on": "2026-09-30", "question": "Referrals", "stop_rule": "Stop under 10 referrals"}
        ],
        "planned_completion": "2027-03-31",
        "planned_report": "2027-09-30",
    }
    data = plan_form(plan) | {"project_id": str(project), "csrf_token": csrf_from(form.text)}
    made = client.post("/evidence/registrations/new", data=data, follow_redirects=False)
    assert made.status_code == 303
    new_id = int(made.headers["location"].rsplit("/", 1)[1])
    found = client.get(f"/api/evidence/registrations/{new_id}").json()
    assert found["versions"][0]["plan"] == plan
    assert found["organisation"] == "Barnet Council (demo)"
    page = client.get(f"/evidence/registrations/{new_id}")
    reviewed = client.post(
        f"/evidence/registrations/{new_id}/reviews",
        data={
            **date_fields("reviewed_on", "2026-09-30"),
            "decision": "stop",
            "learned": "Only 6 referrals: under-fives' networks were already convened.",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert reviewed.status_code == 303
    assert "Only 6 referrals" in client.get(f"/evidence/registrations/{new_id}").text
    assert client.get(f"/api/evidence/registrations/{new_id}").json()["reviews"][0]["decision"] == (
        "stop"
    )
    rating_form = client.get(f"/evidence/projects/{project}/conditions")
    before = count(sessions, ConditionRating)
    rated = client.post(
        f"/evidence/projects/{project}/conditions",
        data={
            **date_fields("rated_on", "2024-06-30"),
            "condition-5": "3",
            "note-5": "Learning slowed after the stop",
            "csrf_token": csrf_from(rating_form.text),
        },
        follow_redirects=False,
    )
    assert rated.status_code == 303 and count(sessions, ConditionRating) == before + 1
    latest = client.get(f"/api/evidence/projects/{project}").json()["conditions"]["latest"]
    assert latest["willingness to learn"]["rating"] == 3


def test_bad_input_shows_errors_and_stores_nothing(
    client, seeded, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "barnet", PASSWORD)
    form = client.get("/evidence/registrations/new")
    registrations_before = count(sessions, Registration)
    versions_before = count(sessions, RegistrationVersion)
    bad = {
        "project_id": str(seeded["project"]),
        "title": "",
        "questions": "",
        "primary_outcomes-0-name": "Care entry",
        "primary_outcomes-0-measure": "",
        "design": "Trial",
        "planned_sample": "about 600",
        **date_fields("planned_completion", "2027-03-31"),
        "planned_report-day": "31",
        "planned_report-month": "2",
        "planned_report-year": "2027",
        "csrf_token": csrf_from(form.text),
    }
    shown = client.post("/evidence/registrations/new", data=bad)
    assert shown.status_code == 400
    assert "There is a problem" in shown.text and "<title>Error:" in shown.text
    assert "Choose the design&#39;s Maryland level" in shown.text
    assert "The planned sample must be a whole number" in shown.text
    assert "The planned report date must be a real date" in shown.text
    assert 'href="#planned_report-day"' in shown.text
    assert 'value="Care entry"' in shown.text  # what was typed is kept
    # Every problem is listed at once, in the form's order.
    summary = shown.text.split("govuk-error-summary__list")[1].split("</ul>")[0]
    expected = [
        "Give the evaluation a title",
        "State at least one question",
        "Every primary outcome needs a name and a measure",
        "Choose the design&#39;s Maryland level",
        "The planned sample must be a whole number",
        "The planned report date must be a real date",
    ]
    positions = [summary.index(message) for message in expected]
    assert positions == sorted(positions)
    # With those fixed, the plan's own checks still refuse it.
    fixed = bad | {"maryland_level": "5", "planned_sample": "600"}
    fixed |= date_fields("planned_report", "2026-03-31")
    again = client.post("/evidence/registrations/new", data=fixed)
    assert again.status_code == 400
    assert "Give the evaluation a title" in again.text
    assert "State at least one question" in again.text
    assert "Every primary outcome needs a name and a measure" in again.text
    assert "The report date 2026-03-31 is before completion 2027-03-31" in again.text
    assert count(sessions, Registration) == registrations_before
    assert count(sessions, RegistrationVersion) == versions_before
    projects_before = count(sessions, Project)
    project_form = client.get("/evidence/projects/new")
    no_project = client.post(
        "/evidence/projects/new",
        data={
            "title": "",
            "funding_amount": "lots",
            "contact-0-name": "",
            "contact-0-role": "Lead",
            "contact-0-email": "",
            "start_date-day": "40",
            "start_date-month": "1",
            "start_date-year": "2024",
            "csrf_token": csrf_from(project_form.text),
        },
    )
    assert no_project.status_code == 400
    assert "Enter the project&#39;s title" in no_project.text
    assert "The start date must be a real date" in no_project.text
    assert "Enter the name of person 1 to talk to" in no_project.text
    assert count(sessions, Project) == projects_before


def test_another_organisation_is_refused(client, seeded, sign_in, csrf_from, sessions) -> None:
    registration, project = seeded["overdue"], seeded["project"]
    assert client.get(f"/evidence/registrations/{registration}/amend").status_code == 401
    sign_in(client, "leeds", PASSWORD)
    token = csrf_from(client.get("/sign-out").text)
    assert client.get(f"/evidence/registrations/{registration}/amend").status_code == 403
    assert client.get(f"/evidence/projects/{project}/conditions").status_code == 403
    assert client.get(f"/evidence/registrations/new?project={project}").status_code == 403
    original = client.get(f"/api/evidence/registrations/{registration}").json()
    plan = plan_form(original["versions"][0]["plan"]) | {"title": "Changed by Leeds"}
    for path, data in (
        (f"/evidence/registrations/{registration}/amend", plan | {"reason": "Leeds says so"}),
        (
            f"/evidence/registrations/{registration}/reviews",
            {**date_fields("reviewed_on", "2024-06-30"), "decision": "stop", "learned": "x"},
        ),
        (
            f"/evidence/projects/{project}/conditions",
            {**date_fields("rated_on", "2024-06-30"), "condition-0": "1"},
        ),
        ("/evidence/registrations/new", plan | {"project_id": str(project)}),
    ):
        answer = client.post(path, data=data | {"csrf_token": token})
        assert answer.status_code == 403, path
        assert "Only members of the organisation that owns it" in answer.text
    assert client.get(f"/api/evidence/registrations/{registration}").json() == original
    # the demo council's project keeps its 12 ratings (seed_demo), none added
    history = client.get(f"/api/evidence/projects/{project}").json()["conditions"]["history"]
    assert len(history) == 12
    # Its own project, Family Valued in Leeds, it may rate; a researcher may rate any.
    with sessions() as session:
        leeds_project = session.scalar(
            select(Project.id).where(Project.title == "Family Valued, Leeds")
        )
    assert client.get(f"/evidence/projects/{leeds_project}/conditions").status_code == 200
    sign_in(client, "researcher", PASSWORD)
    assert client.get(f"/evidence/registrations/{registration}/amend").status_code == 200


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, database_url: str):
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    store.settings.cache_clear()
    yield tmp_path
    store.settings.cache_clear()


def test_cli_tracker_json_is_the_pages_json(client, seeded, cli_env) -> None:
    runner = CliRunner()
    for query, options in (
        ("as_at=2024-06-30", ["--as-at", "2024-06-30"]),
        ("as_at=2024-06-30&status=overdue", ["--as-at", "2024-06-30", "--status", "overdue"]),
    ):
        result = runner.invoke(app, ["evidence", "tracker", *options, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == client.get(f"/api/evidence/tracker?{query}").json()
    table = runner.invoke(app, ["evidence", "tracker", "--as-at", "2024-06-30"])
    assert table.exit_code == 0, table.output
    assert "overdue (91 days)" in table.stdout and "switched" in table.stdout
    assert "Reporting rates by funder" in table.stdout
    bad = runner.invoke(app, ["evidence", "tracker", "--status", "lost"])
    assert bad.exit_code == 1 and "--status must be one of" in bad.stderr
    bad_date = runner.invoke(app, ["evidence", "tracker", "--as-at", "30/06/2024"])
    assert bad_date.exit_code == 1 and "YYYY-MM-DD" in bad_date.stderr
