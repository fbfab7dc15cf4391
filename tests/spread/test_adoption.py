"""Adoption and diffusion: the rule that reads a project as sustained, adapted or stopped,
the diffusion counts by hand, and an intervention's and a place's history on a store with
the demo evidence (whose Barnet project stopped one of its evaluations at a checkpoint)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.evidence import projects, seed
from whatworks.spread.adoption import (
    Adoption,
    Review,
    adoption_outcome,
    diffusion,
    diffusion_figure,
    intervention_adoption,
    place_history,
)

TODAY = date(2025, 6, 30)
ACTOR = Actor("test")
DEMO = seed.DEMO_INTERVENTION


@pytest.mark.parametrize(
    ("status", "start", "end", "decisions", "expected"),
    [
        ("stopped", date(2020, 1, 1), None, (), "stopped"),
        ("ended", date(2020, 1, 1), date(2022, 1, 1), (), "ended"),
        (None, date(2020, 1, 1), date(2022, 1, 1), (), "ended"),
        ("planned", None, None, (), "planned"),
        ("running", date(2026, 1, 1), None, (), "planned"),  # starts after today
        (None, None, None, (), "not recorded"),
        ("running", date(2023, 6, 30), None, (), "sustained"),  # two years to the day
        ("running", date(2023, 7, 1), None, (), "early"),
        ("running", date(2024, 1, 1), None, ("continue", "adapt"), "adapted"),
        ("running", date(2020, 1, 1), None, ("stop",), "adapted"),  # part stopped, goes on
        ("running", date(2020, 1, 1), None, ("continue",), "sustained"),
    ],
)
def test_what_became_of_an_adoption(
    status: str | None,
    start: date | None,
    end: date | None,
    decisions: tuple[str, ...],
    expected: str,
) -> None:
    reviews = [Review(date(2024, 1, 1), d, "") for d in decisions]
    assert adoption_outcome(status, start, end, reviews, TODAY) == expected


def _adoption(n: int, place: str, start: date | None, end: date | None, outcome: str) -> Adoption:
    return Adoption(
        n, f"P{n}", "x", "X", place, place, None, start, end, outcome, "", [], [], [], None, False
    )


def test_diffusion_counts_by_hand() -> None:
    adoptions = [
        _adoption(1, "A", date(2021, 5, 1), None, "sustained"),
        _adoption(2, "A", date(2023, 5, 1), None, "early"),  # A's second project: not new
        _adoption(3, "B", date(2022, 2, 1), date(2023, 3, 31), "stopped"),
        _adoption(4, "C", date(2023, 9, 1), None, "stopped"),  # no end date: its start year
        _adoption(5, "D", date(2024, 1, 1), None, "planned"),  # planned: not an adopter
        _adoption(6, "E", None, None, "not recorded"),  # undated: not in the chart
    ]
    years = diffusion(adoptions, TODAY)
    assert [(d.year, d.new, d.cumulative, d.active) for d in years] == [
        (2021, 1, 1, 1),
        (2022, 1, 2, 2),  # A, B
        (2023, 1, 3, 3),  # A, B (until March), C
        (2024, 0, 3, 1),  # A only
        (2025, 0, 3, 1),
    ]
    assert diffusion([], TODAY) == []
    chart = diffusion_figure("X", years)
    assert "<svg" in chart and 'aria-hidden="true"' in chart
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">3</td>' in chart


def test_an_interventions_adopters_and_a_places_history(session: Session) -> None:
    seed.seed_demo(session)
    for code, status, start in (
        ("E08000035", "running", date(2024, 9, 1)),  # Leeds
        ("E06000052", "ended", date(2021, 4, 1)),  # Cornwall
        ("E09000031", "planned", None),  # Waltham Forest
    ):
        projects.create_project(
            session,
            ACTOR,
            f"Family network meetings in {code} (test)",
            intervention_id=DEMO,
            la_code=code,
            status=status,
            start_date=start,
        )
    found = intervention_adoption(session, DEMO, today=TODAY)
    # the demo trials' sites (demo towns, ended, no dates) stay out of the chart
    towns = [a for a in found.adoptions if a.place.endswith("(demo town)")]
    assert all(a in found.undated and a.outcome == "ended" for a in towns)
    assert [(a.place, a.outcome) for a in found.adoptions if a not in towns] == [
        ("Cornwall", "ended"),
        ("Barnet", "adapted"),  # running since 2022; a checkpoint stopped the adolescents' arm
        ("Leeds", "early"),
        ("Waltham Forest", "planned"),
    ]
    assert [(d.year, d.cumulative) for d in found.diffusion] == [
        (2021, 1),
        (2022, 2),
        (2023, 2),
        (2024, 3),
        (2025, 3),
    ]
    barnet = found.adoptions[1]
    assert barnet.reviews[0].decision == "stop"
    assert barnet.evidence is not None and barnet.evidence["level"] == "3"
    assert [s["title"] for s in barnet.studies] == [
        "Barnet family network meetings pilot: results (demo)"
    ]
    data = found.as_dict()
    assert data["outcome_counts"]["adapted"] == 1 and data["outcome_counts"]["planned"] == 1
    history = place_history(session, "E09000003", today=TODAY)
    assert [a.title for a in history] == ["Family network meetings in Barnet (demo)"]
