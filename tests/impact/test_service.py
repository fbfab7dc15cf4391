"""Impact panels from the outcomes store, a project's analysis, and its study in the evidence
hub, on a real store holding the bundled places and the DfE's published re-referral figures
(c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv).

Expected values come from the bundled CSV read here directly, and the difference-in-
differences estimate for one adopting council is worked out by hand from it (the 2x2
comparisons of docs/methods/difference-in-differences.md).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.data import published_file
from whatworks.evidence import projects, studies
from whatworks.evidence.interventions import create_intervention
from whatworks.impact import service
from whatworks.impact.panels import (
    PanelBuildError,
    adoption_year,
    adoptions_from_csv,
    adoptions_from_projects,
    build_panel,
    period_year,
)
from whatworks.outcomes.models import ComputedValue
from whatworks.outcomes.published import import_published
from whatworks.places.places import local_authorities

C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025"
INDICATOR = "rereferral_percent"
BARNET, LEEDS, CAMDEN = "E09000003", "E08000035", "E09000007"
PASSWORD = "a long test password"
TESTER = Actor("impact tests")


@pytest.fixture(scope="module")
def store(module_database_url: str) -> Iterator[SimpleNamespace]:
    """Published re-referrals; an intervention adopted by Barnet (from June 2019, so first
    treated in the year to March 2020), Leeds (February 2018: 2018) and Camden (no date)."""
    engine = create_db_engine(module_database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        import_published(session, [published_file(f"{C1}.csv")])
        create_intervention(session, TESTER, "Impact test model", slug="impact-test-model")
        barnet = get_or_create_organisation(session, "Barnet Council", "council", BARNET)
        other = get_or_create_organisation(session, "Leeds City Council", "council", LEEDS)
        ids = {}
        for key, la, start, org in (
            ("barnet", BARNET, date(2019, 6, 1), barnet),
            ("leeds", LEEDS, date(2018, 2, 1), other),
            ("camden", CAMDEN, None, None),
        ):
            project = projects.create_project(
                session,
                TESTER,
                f"Impact test model in {key.title()}",
                organisation_id=org.id if org else None,
                intervention_id="impact-test-model",
                la_code=la,
                start_date=start,
                target_outcomes=[INDICATOR],
            )
            ids[key] = project.id
        create_user(session, "researcher", PASSWORD, "researcher", "Rowan Researcher")
        create_user(session, "barnet", PASSWORD, "member", "Bo Barnet", barnet)
        create_user(session, "leeds", PASSWORD, "member", "Lee Leeds", other)
        session.commit()
        yield SimpleNamespace(factory=factory, projects=ids)
    engine.dispose()


@pytest.fixture
def session(store: SimpleNamespace) -> Iterator[Session]:
    with store.factory() as one:
        yield one
        one.rollback()


def published_by_hand(session: Session) -> dict[str, dict[int, float]]:
    """{new LA code: {year: re-referral %}} read straight from the bundled CSV, for current
    councils (matched on the old three-digit code, as the outcomes pages do)."""
    current = {la.old_la_code: la.new_la_code for la in local_authorities(session)}
    out: dict[str, dict[int, float]] = {}
    with published_file(f"{C1}.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = current.get(row["old_la_code"])
            if row["geographic_level"] != "Local authority" or code is None:
                continue
            try:
                value = float(row["rereferral_percent"])
            except ValueError:
                continue  # c, x, z: suppressed or not available
            out.setdefault(code, {})[int(row["time_period"])] = value
    return out


def test_periods_and_adoption_years() -> None:
    assert period_year("2025") == 2025 and period_year("202425") == 2025
    assert period_year("2025-03") is None
    # the year to 31 March that contains the start
    assert adoption_year(date(2022, 4, 1)) == 2023
    assert adoption_year(date(2022, 3, 31)) == 2022
    assert adoption_year(date(2019, 6, 1)) == 2020


def test_adoptions_come_from_the_projects(session, store) -> None:
    found = adoptions_from_projects(session, "impact-test-model")
    assert {c: a.first_treated for c, a in found.dated.items()} == {BARNET: 2020, LEEDS: 2018}
    assert found.dated[BARNET].project_id == store.projects["barnet"]
    assert found.undated == (CAMDEN,)


def test_adoptions_from_a_csv(session, tmp_path: Path) -> None:
    good = tmp_path / "adoptions.csv"
    good.write_text("la_code,first_treated\nE09000003,2020\n383,2018\nE09000007,0\n")
    found = adoptions_from_csv(session, good)
    assert {c: a.first_treated for c, a in found.dated.items()} == {BARNET: 2020, LEEDS: 2018}
    assert found.dated[LEEDS].origin == "adoptions.csv row 3"
    bad = tmp_path / "bad.csv"
    bad.write_text("la_code,first_treated\nE99999999,2020\nE09000003,twenty\n")
    with pytest.raises(PanelBuildError) as caught:
        adoptions_from_csv(session, bad)
    assert "row 2, la_code: 'E99999999' is not a council's code" in str(caught.value)
    assert "row 3, first_treated: 'twenty' is not a year" in str(caught.value)
    (tmp_path / "cols.csv").write_text("council,year\nE09000003,2020\n")
    with pytest.raises(PanelBuildError, match="no column la_code, first_treated"):
        adoptions_from_csv(session, tmp_path / "cols.csv")


def test_panel_holds_the_published_values(session) -> None:
    adoptions = adoptions_from_projects(session, "impact-test-model")
    panel = build_panel(session, INDICATOR, adoptions.dated, leave_out=adoptions.undated)
    expected = published_by_hand(session)
    frame = panel.frame
    assert CAMDEN not in set(frame["la_code"])
    got = {
        (c, y): v for c, y, v in zip(frame["la_code"], frame["year"], frame["outcome"], strict=True)
    }
    assert got == {
        (c, y): v for c, years in expected.items() if c != CAMDEN for y, v in years.items()
    }
    first = dict(zip(frame["la_code"], frame["first_treated"], strict=True))
    assert first[BARNET] == 2020 and first[LEEDS] == 2018 and first["E08000025"] == 0
    assert panel.years == list(range(2013, 2026))
    assert panel.source == "published"
    version = panel.data_version
    assert version["source"] == "published statistics (DfE)"
    assert [d["dataset"] for d in version["datasets"]] == [C1]
    assert len(version["datasets"][0]["sha256"]) == 64 and len(version["values_sha256"]) == 64


def test_panel_from_values_computed_from_returns(session) -> None:
    with pytest.raises(PanelBuildError, match="No computed from councils' returns values"):
        build_panel(session, INDICATOR, {}, source="computed")
    for la, values in ((BARNET, (20.0, 21.5)), (LEEDS, (18.0, 17.0))):
        for year, value in zip((2024, 2025), values, strict=True):
            session.add(
                ComputedValue(
                    la_code=la,
                    indicator_id=INDICATOR,
                    period=str(year),
                    value=value,
                    status="value",
                    provenance="{}",
                )
            )
    session.flush()
    panel = build_panel(session, INDICATOR, {}, source="computed")
    frame = panel.frame
    assert sorted(zip(frame["la_code"], frame["year"], frame["outcome"], strict=True)) == [
        (LEEDS, 2024, 18.0), (LEEDS, 2025, 17.0), (BARNET, 2024, 20.0), (BARNET, 2025, 21.5)
    ]  # fmt: skip
    assert panel.data_version["source"] == "computed from councils' returns"
    assert panel.data_version["computed"][0]["values"] == 4


def barnet_att_by_hand(session: Session) -> tuple[float, list[tuple[int, float]]]:
    """ATT(2020, t) = Barnet's change since 2019 less the mean change of the councils that
    never adopted (Leeds and undated Camden left out), each observed in t and 2019; the
    headline (did's "group") is their mean over t = 2020..2025."""
    values = published_by_hand(session)
    own = values.pop(BARNET)
    values.pop(LEEDS)
    values.pop(CAMDEN)
    cells = []
    for t in range(2020, 2026):
        changes = [v[t] - v[2019] for v in values.values() if t in v and 2019 in v]
        cells.append((t, (own[t] - own[2019]) - float(np.mean(changes))))
    return float(np.mean([att for _, att in cells])), cells


def test_project_analysis_matches_the_hand_calculation(session, store) -> None:
    options = service.Options(store.projects["barnet"], INDICATOR)
    result = service.analyse_project(session, options)
    att, cells = barnet_att_by_hand(session)
    assert result["did"]["att"] == pytest.approx(att, abs=1e-12)
    post = [x for x in result["did"]["group_time"] if x["time"] >= 2020]
    assert [(x["time"], x["att"]) for x in post] == [
        (t, pytest.approx(v, abs=1e-12)) for t, v in cells
    ]
    assert result["did"]["method"]["inference_kind"] == "randomisation"
    assert result["did"]["method"]["n_treated_units"] == 1
    assert result["first_treated"] == 2020
    assert "Barnet" not in result["panel"]["comparison_councils"]
    assert "Leeds" not in result["panel"]["comparison_councils"]
    assert result["panel"]["left_out"] == ["Camden", "Leeds"]
    # synthetic control: weights of non-adopters summing to one, 7 pre-periods (2013-2019)
    synth = result["synth"]
    assert synth["pre_periods"] == 7 and synth["post_periods"] == 6
    assert sum(w["weight"] for w in synth["weights"]) == pytest.approx(1.0, abs=1e-3)
    assert not {w["council"] for w in synth["weights"]} & {"Barnet", "Leeds", "Camden"}
    words = " ".join(result["summary"])
    assert "95% interval" in words and "Barnet" in words
    assert any("not a trial" in c for c in result["caveats"])


def test_same_data_and_seed_give_the_same_digits(session, store) -> None:
    options = service.Options(store.projects["barnet"], INDICATOR, seed=11)
    first = service.analyse_project(session, options)
    again = service.analyse_project(session, options)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert first["digest"] == again["digest"] == service.digest(again)
    other = service.analyse_project(
        session, service.Options(store.projects["barnet"], INDICATOR, seed=12)
    )
    assert other["did"]["att"] == first["did"]["att"]  # the point estimate is not random
    assert other["digest"] != first["digest"]  # its randomisation inference is


def test_saved_study_reproduces_to_the_digit(session, store) -> None:
    options = service.Options(store.projects["barnet"], INDICATOR, seed=5)
    study = service.save_study(session, TESTER, options, "did")
    assert study.design == "difference-in-differences (staggered)"
    assert study.maryland_level == 3 and study.project_id == store.projects["barnet"]
    assert study.intervention_id == "impact-test-model"
    result = study.results[0]
    analysis = service.analyse_project(session, options)
    assert result.metric == "MD"
    assert result.yi == analysis["did"]["att"]
    assert result.vi == pytest.approx(analysis["did"]["se"] ** 2, rel=1e-15)
    low, high = analysis["did"]["ci_low"], analysis["did"]["ci_high"]
    assert result.direction == ("null" if low <= 0 <= high else result.direction)
    provenance = service.provenance_of(study)
    assert provenance["options"]["seed"] == 5 and provenance["method"] == "did"
    assert provenance["data_version"]["datasets"][0]["dataset"] == C1
    check = service.reproduce(session, study.id)
    assert check["same_data"] and check["same_digest"] and check["same_effect"]
    synth = service.save_study(session, TESTER, options, "synth")
    assert synth.design == "synthetic control"
    assert synth.results[0].yi == analysis["synth"]["post_mean_effect"]
    assert service.reproduce(session, synth.id)["same_digest"]


def test_who_may_save(session, store) -> None:
    options = service.Options(store.projects["barnet"], INDICATOR)

    def user(name: str) -> User:
        return session.scalars(select(User).where(User.username == name)).one()

    with pytest.raises(PermissionDenied):
        service.save_study(session, None, options, "did")
    with pytest.raises(PermissionDenied):
        service.save_study(session, user("leeds"), options, "did")
    saved = service.save_study(session, user("barnet"), options, "did")
    assert saved.entered_by == "barnet"
    assert service.save_study(session, user("researcher"), options, "synth").entered_by == (
        "researcher"
    )


def test_clear_refusals(session, store) -> None:
    undated = service.Options(store.projects["camden"], INDICATOR)
    with pytest.raises(WhatworksError, match="has no start date"):
        service.analyse_project(session, undated)
    with pytest.raises(WhatworksError, match="not one of"):
        service.analyse_project(
            session,
            service.Options(store.projects["barnet"], INDICATOR, source="guessed"),  # type: ignore[arg-type]
        )
    # no published values of this indicator in the store
    with pytest.raises(PanelBuildError, match="import the published statistics"):
        service.analyse_project(
            session, service.Options(store.projects["barnet"], "cla_rate_per_10000")
        )
    leeds = service.analyse_project(session, service.Options(store.projects["leeds"], INDICATOR))
    assert leeds["first_treated"] == 2018 and leeds["synth"]["pre_periods"] == 5
    with pytest.raises(WhatworksError, match="not one of did, synth"):
        service.save_study(
            session, TESTER, service.Options(store.projects["barnet"], INDICATOR), "rct"
        )  # type: ignore[arg-type]


def test_statistical_neighbours_only(session, store) -> None:
    result = service.analyse_project(
        session, service.Options(store.projects["barnet"], INDICATOR, comparison="neighbours")
    )
    assert result["panel"]["councils"] <= 11
    # one adopter among at most 11 councils: every reassignment is tried, p >= 1/11
    assert result["did"]["ci_bounded"] is False
    assert result["did"]["p"] >= 1 / result["panel"]["councils"] - 1e-12
    assert "no useful bounds" in " ".join(result["summary"])
    assert studies.METRICS  # the evidence hub's metrics include MD
