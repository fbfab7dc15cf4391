"""The "Did it work here?" pages and their JSON twins on a store with the demo project
(family network meetings in Barnet, started 1 April 2022, target outcome: children who
started to be looked after per 10,000) and the DfE's published figures it reads.

The page's numbers are checked against its JSON twin, and the twin against an estimate
worked out by hand from the bundled CSV (the first year after the start, a 2x2 comparison).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent
from whatworks.data import published_file
from whatworks.evidence import seed
from whatworks.evidence.models import Project, Study
from whatworks.impact import service
from whatworks.outcomes.published import import_published
from whatworks.places.places import local_authorities

PASSWORD = "a long test password"
CLA = "cla_number_and_rate_per_10k_children"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025"
BARNET = "E09000003"


@pytest.fixture
def demo(sessions) -> int:
    """The published files, the bundled evidence and the demo; a member of the demo council,
    a member of Leeds City Council and a researcher. Returns the demo project's id."""
    with transaction(sessions) as session:
        import_published(session, [published_file(f"{n}.csv") for n in (CLA, C1)])
        seed.seed(session)
        seed.seed_demo(session)
        barnet = get_or_create_organisation(session, "Barnet Council (demo)", "council")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        create_user(session, "researcher", PASSWORD, "researcher")
        project = session.scalar(
            select(Project).where(Project.seed_key == "demo:barnet-family-network-meetings")
        )
        assert project is not None
        return project.id


def started_in_care_2023_by_hand(sessions) -> float:
    """ATT(2023, 2023): Barnet's change from 2022 to 2023 in children starting care per
    10,000, less the mean change of every council with both years that has no project of
    the demo intervention (the other adopters are left out)."""
    with sessions() as session:
        current = {la.old_la_code: la.new_la_code for la in local_authorities(session)}
        adopters = set(
            session.scalars(
                select(Project.la_code).where(Project.intervention_id == seed.DEMO_INTERVENTION)
            )
        )
    values: dict[str, dict[int, float]] = {}
    with published_file(f"{CLA}.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = current.get(row["old_la_code"])
            wanted = row["population_type"] == "Children starting to be looked after each year"
            if row["geographic_level"] == "Local authority" and code and wanted:
                try:
                    values.setdefault(code, {})[int(row["time_period"])] = float(
                        row["rate_per_10000"]
                    )
                except ValueError:
                    continue
    own = values.pop(BARNET)
    for code in adopters:
        values.pop(code, None)
    changes = [v[2023] - v[2022] for v in values.values() if 2023 in v and 2022 in v]
    return (own[2023] - own[2022]) - float(np.mean(changes))


def test_impact_lists_projects_ready_for_an_estimate(client, demo) -> None:
    page = client.get("/impact")
    assert page.status_code == 200
    assert "Did it work here?" in page.text
    assert f'href="/evidence/projects/{demo}/impact"' in page.text
    listed = client.get("/api/impact").json()
    ready = {p["id"]: p for p in listed["projects"]}
    assert ready[demo]["first_treated"] == 2023 and ready[demo]["start_date"] == "2022-04-01"
    # the article's projects have councils but no start dates: listed as needing one
    assert any(p["missing"] == "no start date recorded" for p in listed["not_ready"])
    only = client.get("/api/impact?intervention=family-network-meetings-demo").json()
    assert [p["id"] for p in only["projects"]] == [demo]


def test_project_page_and_its_json_twin(client, demo, sessions) -> None:
    twin = client.get(f"/api/impact/projects/{demo}").json()
    assert twin["indicator"]["id"] == "cla_started_rate_per_10000"  # the target outcome
    did = twin["did"]
    cell = next(x for x in did["group_time"] if x["group"] == 2023 and x["time"] == 2023)
    assert cell["att"] == pytest.approx(started_in_care_2023_by_hand(sessions), abs=1e-9)
    # 2021-2025 only: too few years before 2023 for a synthetic control, said plainly
    assert twin["synth"] is None
    assert "Only 2 period(s) before the start 2023" in twin["synth_problem"]
    page = client.get(f"/evidence/projects/{demo}/impact")
    assert page.status_code == 200
    text = page.text
    assert f"{did['att']:.2f}" in text
    assert f"{did['ci_low']:.2f} to {did['ci_high']:.2f}" in text
    assert "95% interval" in text and "not a trial" in text
    assert "Event study" in text and "<svg" in text
    assert "Only 2 period(s) before the start 2023" in text
    assert "Save as a study" not in text and "sign in" in text


def test_both_methods_on_a_longer_series(client, demo) -> None:
    twin = client.get(f"/api/impact/projects/{demo}?indicator=rereferral_percent").json()
    assert twin["synth"] is not None and twin["synth"]["pre_periods"] == 10
    page = client.get(f"/evidence/projects/{demo}/impact?indicator=rereferral_percent")
    assert "Comparison councils in the synthetic control" in page.text
    top = twin["synth"]["weights"][0]
    assert top["council"] in page.text and f"{top['weight']:.3f}" in page.text
    if twin["did"]["twfe"] and not twin["did"]["twfe"]["agrees"]:
        assert "shown only for comparison" in page.text
    neighbours = client.get(
        f"/api/impact/projects/{demo}?indicator=rereferral_percent&comparison=neighbours"
    ).json()
    assert neighbours["panel"]["councils"] <= 11


def test_refusals(client, demo) -> None:
    assert client.get(f"/evidence/projects/{demo}/impact?indicator=nothing").status_code == 404
    assert client.get("/evidence/projects/99999/impact").status_code == 404
    assert client.get(f"/api/impact/projects/{demo}?comparison=everyone").status_code == 400
    computed = client.get(f"/api/impact/projects/{demo}?source=computed")
    assert computed.status_code == 403 and "researchers" in computed.json()["detail"]


def save(client, demo, csrf_from, method: str = "did"):
    page = client.get("/evidence/projects/new")  # any form carries the session's token
    return client.post(
        f"/evidence/projects/{demo}/impact/studies",
        data={
            "csrf_token": csrf_from(page.text),
            "indicator": "rereferral_percent",
            "comparison": "all",
            "source": "published",
            "seed": "20240601",
            "method": method,
        },
        follow_redirects=False,
    )


def test_saving_as_a_study(client, demo, sessions, sign_in, csrf_from) -> None:
    anonymous = client.post(f"/evidence/projects/{demo}/impact/studies", data={})
    assert anonymous.status_code == 403  # no CSRF token from a page: refused first
    sign_in(client, "leeds")
    page = client.get(f"/evidence/projects/{demo}/impact?indicator=rereferral_percent")
    assert "Save as a study" not in page.text
    refused = save(client, demo, csrf_from)
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, "barnet")
    saved = save(client, demo, csrf_from)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/evidence/studies/")
    study_id = int(saved.headers["location"].rsplit("/", 1)[1])
    twin = client.get(f"/api/impact/projects/{demo}?indicator=rereferral_percent").json()
    with sessions() as session:
        study = session.get(Study, study_id)
        assert study.design == "difference-in-differences (staggered)"
        assert study.maryland_level == 3 and study.entered_by == "barnet"
        assert study.results[0].yi == twin["did"]["att"]
        assert service.provenance_of(study)["digest"] == twin["digest"]
        assert service.reproduce(session, study_id)["same_digest"]
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "save impact analysis")
        )
        assert events == 1
    shown = client.get(f"/evidence/projects/{demo}/impact?indicator=rereferral_percent")
    assert f"/evidence/studies/{study_id}" in shown.text
    synth = save(client, demo, csrf_from, "synth")
    assert synth.status_code == 303
    bad = save(client, demo, csrf_from, "rct")
    assert bad.status_code == 400


FGC = "family-group-conferencing-at-pre-proceedings"


def test_conditions_or_model_page_and_its_json_twin(client, demo) -> None:
    """The three demo adoptions of family group conferencing (Waltham Forest, Harrow,
    Cornwall: all dated, none rated): a site effect each, region analysed (London against
    the South West), the conditions refused with their reason."""
    start = client.get("/impact")
    assert f'href="/impact/interventions/{FGC}"' in start.text
    twin = client.get(f"/api/impact/interventions/{FGC}?indicator=rereferral_percent").json()
    assert {s["label"] for s in twin["sites"]} >= {"Waltham Forest", "Harrow", "Cornwall"}
    assert twin["k"] == 3 and twin["exploratory"]
    region = twin["moderators"][0]
    assert region["name"] == "region" and region["analysed"]
    assert {g["name"] for g in region["groups"]} == {"London", "South West"}
    refused = twin["moderators"][1]
    assert refused["reason"] == "Only 0 of the 3 sites have a value; at least 3 sites are needed."
    page = client.get(f"/impact/interventions/{FGC}?indicator=rereferral_percent")
    assert page.status_code == 200
    text = page.text
    assert "Conditions or model?" in text
    for site in twin["sites"]:
        assert f"{site['effect']:.2f}" in text and f"{site['se']:.2f}" in text
    assert f"p = {region['q_between_p']:.3f}" in text
    assert refused["reason"] in text
    assert "association, not causation" in text
    assert "rated by the sites themselves" in text
    # the demo model has one dated site (Barnet); its five demo trial sites have no dates
    one = client.get("/api/impact/interventions/family-network-meetings-demo").json()
    assert one["k"] == 1
    assert one["moderators"][1]["reason"] == (
        "Only 1 of the 1 sites has a value; at least 3 sites are needed."
    )
    assert client.get("/impact/interventions/no-such-model").status_code == 404
    assert client.get(f"/api/impact/interventions/{FGC}?indicator=nothing").status_code == 404
    assert client.get(f"/api/impact/interventions/{FGC}?source=computed").status_code == 403
