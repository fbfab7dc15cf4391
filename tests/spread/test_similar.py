"""Places like mine: the distance and its explanation by hand on three made-up councils, and
the acceptance test of issue 7 on the demo data: "places like mine" for Barnet returns its
statistical neighbours that adopted a chosen intervention, with their results.

The demo (`evidence.demo_seed.NEIGHBOUR_ADOPTIONS`) puts family group conferencing in two
of Barnet's statistical neighbours (Waltham Forest, with a review of its own, and Harrow,
stopped) and in Cornwall, which is not one.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.data import published_file
from whatworks.demo.demo import DEMO_COUNCIL, seed_demo_evidence
from whatworks.outcomes.catalogue import indicator
from whatworks.outcomes.published import bundled_files, import_published
from whatworks.places.models import LocalAuthority
from whatworks.spread.similar import (
    WEIGHTS,
    Match,
    Ofsted,
    Profile,
    distance,
    features,
    places_like_mine,
)

FGC = "family-group-conferencing-at-pre-proceedings"
WALTHAM_FOREST, HARROW, CORNWALL = "E09000031", "E09000015", "E06000052"
TODAY = date(2025, 6, 30)


def _la(code: str) -> LocalAuthority:
    return LocalAuthority(new_la_code=code, old_la_code=code[-3:], name=code, region_code="R")


def _profile() -> Profile:
    codes = ("M", "P", "Q")
    return Profile(
        places={c: _la(c) for c in codes},
        region_of={"M": "R1", "P": "R1", "Q": "R2"},
        region_names={"R1": "North", "R2": "South"},
        children={"M": 50_000, "P": 55_000, "Q": 200_000},
        children_year="2024",
        size_z={"M": 0.0, "P": 0.4, "Q": 2.0},
        ofsted={"M": Ofsted("Good", "2024-01-01"), "P": Ofsted("Good", "2023-05-01")},
        ofsted_sd=1.0,
        indicators=[],
        outcome_z={"i1": {"M": 0.0, "P": 0.3, "Q": 1.0}, "i2": {"M": 0.0, "P": -0.4}},
        outcome_values={},
    )


def test_distance_and_explanation_by_hand() -> None:
    profile = _profile()
    near = features(profile, "M", "P")
    # size |0 - 0.4|; same region; same Ofsted grade; outcomes sqrt((0.3^2 + 0.4^2) / 2)
    assert [f.distance for f in near] == pytest.approx([0.4, 0.0, 0.0, math.sqrt(0.125)])
    assert distance(near) == pytest.approx(0.3 * 0.4 + 0.4 * math.sqrt(0.125))
    far = features(profile, "M", "Q")
    # Q's Ofsted judgement is not known: the other weights are renormalised (0.9)
    assert far[2].distance is None and far[2].verdict == "not known"
    assert distance(far) == pytest.approx((0.3 * 2.0 + 0.2 * 1.0 + 0.4 * 1.0) / 0.9)
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    assert Match(_la("P"), "North", 0.26, 1, near).explanation == (
        "Close on size, region, Ofsted judgement and outcome profile."
    )
    neighbour = Match(_la("Q"), "South", 1.33, 2, far, neighbour_rank=3, closeness="Close")
    assert neighbour.explanation == (
        "DfE statistical neighbour 3 (close); differs on size, region and outcome profile."
    )


# ---------------------------------------------------------------------------------------
# the demo data


@pytest.fixture(scope="module")
def demo_store(module_database_url: str) -> Iterator[Session]:
    """The store `whatworks demo` builds (places, every bundled published file, the
    published evidence and the demo evidence, with its demo adoptions of family group
    conferencing in places like Barnet; not the generated returns, which places like mine
    does not read)."""
    engine = create_db_engine(module_database_url)
    with make_session_factory(engine)() as session:
        import_published(session, bundled_files())
        seed_demo_evidence(session)
        session.commit()
        yield session
    engine.dispose()


def _neighbours_from_file(old_code: str) -> list[str]:
    """The DfE 2025 model's neighbours of an authority (old codes), read from the file."""
    with published_file("sn_model_2025_wide.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.reader(handle):
            if row and row[0].strip() == old_code:
                return [row[4 + 2 * k].strip() for k in range(10)]
    raise AssertionError(f"{old_code} is not in the file")


@pytest.mark.slow
def test_neighbours_in_dfe_order_and_a_ranking_that_explains_itself(
    demo_store: Session,
) -> None:
    found = places_like_mine(demo_store, DEMO_COUNCIL, today=TODAY)
    assert found.la.name == "Barnet"
    assert [m.la.old_la_code for m in found.neighbours] == _neighbours_from_file("302")
    assert [m.neighbour_rank for m in found.neighbours] == list(range(1, 11))
    assert [i.id for i, _ in found.indicators] == [
        "cla_rate_per_10000",
        "rereferral_percent",
        "placements_3_plus_percent",
        "care_leavers_eet_19_21_percent",
    ]
    others = found.also_similar
    assert len(others) == 10
    assert not {m.la.new_la_code for m in others} & {m.la.new_la_code for m in found.neighbours}
    assert [m.distance for m in others] == sorted(m.distance for m in others)
    for match in found.neighbours + others:
        assert match.distance == pytest.approx(distance(match.features))
        assert [f.key for f in match.features] == ["size", "region", "ofsted", "outcomes"]
        assert match.explanation.endswith(".")
    # the size feature reads the ONS estimate: Barnet's children aged 0 to 17 in mid-2024
    size = found.neighbours[0].features[0]
    assert size.mine == f"{_children('302', '2024'):,.0f} children"
    # Barnet's own project (the demo seed's) is its own adoption history, not a neighbour's
    assert found.mine and found.mine[0].title == "Family network meetings in Barnet (demo)"
    assert indicator("rereferral_percent").polarity == "lower is better"


def _children(old_code: str, year: str) -> float:
    path = published_file("ons_mid-year_population_estimates_2012_to_2024.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["old_la_code"] == old_code and row["time_period"] == year:
                return float(row["population_estimate"])
    raise AssertionError("no estimate")


@pytest.mark.slow
def test_places_like_mine_that_adopted_an_intervention_with_their_results(
    demo_store: Session,
) -> None:
    """Issue 7's acceptance test."""
    found = places_like_mine(demo_store, DEMO_COUNCIL, intervention=FGC, today=TODAY)
    assert found.intervention == (
        FGC,
        "Family Group Conferencing at pre-proceedings (Daybreak model)",
    )
    # neighbours that adopted it first, in the DfE's order; then other adopters by similarity
    assert [(m.la.name, m.neighbour_rank) for m in found.adopters] == [
        ("Waltham Forest", 1),
        ("Harrow", 3),
        ("Cornwall", None),
    ]
    waltham, harrow, _ = found.adopters
    (adoption,) = waltham.adoptions
    assert adoption.intervention_id == FGC and adoption.start_date == date(2021, 9, 1)
    assert adoption.outcome == "sustained"  # running for more than two years by mid-2025
    assert adoption.lessons == "Demo: what Waltham Forest Council (demo) learned."
    assert adoption.contacts == [
        {"name": "FGC lead, Waltham Forest Council (demo)", "role": "Service manager"}
    ]
    (study,) = adoption.studies
    assert study["results"] == [
        {
            "outcome": "Care proceedings issued",
            "direction": "positive",
            "reported": "Fewer families went on to care proceedings (demo)",
        }
    ]
    # the intervention's evidence from the hub: the Daybreak trial (level 3, "consider")
    assert adoption.evidence is not None
    assert adoption.evidence["level"] == "3" and adoption.evidence["recommendation"] == "consider"
    assert harrow.adoptions[0].outcome == "stopped"
    assert harrow.adoptions[0].end_date == date(2023, 7, 31)
    # the JSON twin carries the same
    data = found.as_dict()
    assert [a["name"] for a in data["adopters"]] == ["Waltham Forest", "Harrow", "Cornwall"]
    assert data["adopters"][0]["tried"][0]["studies"][0]["results"][0]["direction"] == "positive"
    # without the filter, each neighbour still lists what it tried
    every = places_like_mine(demo_store, DEMO_COUNCIL, today=TODAY)
    tried = {m.la.name: [a.intervention_id for a in m.adoptions] for m in every.neighbours}
    assert tried["Waltham Forest"] == [FGC] and tried["Harrow"] == [FGC]
    assert tried["Reading"] == []


@pytest.mark.slow
def test_the_commands(
    demo_store: Session, module_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """`whatworks spread similar` and `whatworks spread centres` on the demo store."""
    from typer.testing import CliRunner

    from whatworks.cli import app

    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", module_database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    found = runner.invoke(
        app, ["spread", "similar", "--la", "302", "--intervention", FGC, "--format", "json"]
    )
    assert found.exit_code == 0, found.output
    data = json.loads(found.output)
    assert [a["name"] for a in data["adopters"]] == ["Waltham Forest", "Harrow", "Cornwall"]
    table = runner.invoke(app, ["spread", "similar", "--la", DEMO_COUNCIL])
    assert table.exit_code == 0 and "Statistical neighbours: places like Barnet" in table.output
    centres = runner.invoke(
        app,
        ["spread", "centres", "--indicator", "care_leavers_eet_19_21_percent", "--format", "json"],
    )
    assert centres.exit_code == 0, centres.output
    assert json.loads(centres.output)
    wrong = runner.invoke(app, ["spread", "centres", "--format", "xml"])
    assert wrong.exit_code != 0
