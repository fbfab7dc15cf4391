"""Seeding stores the bundled published evidence and the brief's case studies, only what
the files state, and running it twice adds nothing. Expected values are read from the
bundled CSV files and the source article, not from the code."""

from __future__ import annotations

import csv
import math

import pytest
from sqlalchemy import func, select

from whatworks.evidence import hub, seed
from whatworks.evidence.interventions import list_interventions
from whatworks.evidence.models import Intervention, Project, Study, StudyResult


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def seeded(session):
    seed.seed(session)
    return session


def test_seeding_twice_adds_nothing(seeded) -> None:
    before = {m: count(seeded, m) for m in (Intervention, Study, StudyResult, Project)}
    assert seed.seed(seeded) == {"interventions": 0, "studies": 0, "results": 0, "projects": 0}
    assert {m: count(seeded, m) for m in before} == before
    rows = list(csv.DictReader((seed.evidence_dir() / "studies.csv").open(encoding="utf-8")))
    # every CSV row is one result; the two case studies add one each
    assert before[StudyResult] == len(rows) + 2 == 66
    assert before[Intervention] == 27 + 4


def test_the_brief_innovations_exist(seeded) -> None:
    for name in (
        "Pause",
        "Mockingbird",
        "Family Valued",
        "West Berkshire",
        "Emotional Health Academy",
        "Birmingham",
        "Doncaster Children's Services Trust",
        "Family Group Conferencing",
    ):
        assert list_interventions(seeded, name), name
    academy = seeded.get(Intervention, "emotional-health-academy")
    assert "Future of care" in academy.source
    birmingham = seeded.get(Intervention, "birmingham-pause-drop-in")
    assert birmingham.core_components == "Same day access without appointment"


def test_results_are_the_published_words_with_source_and_confidence(seeded) -> None:
    rows = list(csv.DictReader((seed.evidence_dir() / "studies.csv").open(encoding="utf-8")))
    stored = {(r.outcome, r.reported): r for r in seeded.scalars(select(StudyResult))}
    for row in rows:
        result = stored[(row["outcome"], row["result_as_reported"])]
        assert result.source == row["source_url_or_title"]
        assert result.confidence == row["confidence"]
        assert result.direction == (row["direction"] or None)
    assert all(
        s.risk_of_bias is None and s.independent is None for s in seeded.scalars(select(Study))
    )


def test_only_published_intervals_become_effects(seeded) -> None:
    with_effect = seeded.scalars(select(StudyResult).where(StudyResult.yi.is_not(None))).all()
    assert sorted(r.metric for r in with_effect) == ["MD", "OR", "RR"]
    swis = next(r for r in with_effect if r.metric == "RR")
    # +5.5% (95% CI -4.5% to +16.6%) read as a rate ratio 1.055 (0.955 to 1.166)
    assert swis.yi == pytest.approx(math.log(1.055), abs=1e-12)
    se = (math.log(1.166) - math.log(0.955)) / (2 * 1.959963984540054)
    assert swis.vi == pytest.approx(se**2, abs=1e-12)
    assert swis.raw_inputs == {"estimate": 1.055, "ci_low": 0.955, "ci_high": 1.166}
    start = next(r for r in with_effect if r.metric == "OR")
    assert start.yi == pytest.approx(math.log(1.25), abs=1e-12)


def test_the_seeded_swis_trial_is_not_effective(seeded) -> None:
    evidence = hub.assess(seeded, "social-workers-in-schools")
    primary = evidence.outcome("Child protection (section 47) enquiries (primary)")
    assert primary.level.level == "NE" and primary.recommendation.wording == "do not offer"


def test_demo_seed_is_labelled_and_idempotent(seeded) -> None:
    first = seed.seed_demo(seeded)
    # the demo council's project, the five demo trials' sites and three demo adoptions of
    # family group conferencing (one with a demo review of its own)
    assert first == {"interventions": 1, "studies": 6, "projects": 9, "registrations": 3}
    assert seed.seed_demo(seeded) == {
        "interventions": 0,
        "studies": 0,
        "projects": 0,
        "registrations": 0,
    }
    demo = seeded.scalars(select(Study).where(Study.is_demo.is_(True))).all()
    assert len(demo) == 7 and all("(demo)" in s.title for s in demo)
    real = seeded.scalars(select(Study).where(Study.is_demo.is_(False))).all()
    assert all("demo" not in s.title.casefold() for s in real)
