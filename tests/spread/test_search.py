"""Ask a question on both stores: full-text ranking in the database (SQLite FTS5 with
porter stemming; PostgreSQL `english` tsvectors), results of every kind including null
results, why each matched, an index always in step with the rows, the command line, and
the app working with the embedding model switched off."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whatworks import store
from whatworks.cli import app
from whatworks.core.audit import Actor
from whatworks.core.db import transaction
from whatworks.evidence import studies
from whatworks.evidence.interventions import create_intervention
from whatworks.spread import communities, reviews, search, semantic

SYSTEM = Actor("test")
runner = CliRunner()


@pytest.fixture(autouse=True)
def text_search_only(monkeypatch) -> None:
    monkeypatch.setenv("WHATWORKS_SEMANTIC", "off")


@pytest.fixture
def corpus(sessions) -> None:
    """Three interventions, a trial with a null result, a review finding and an answer."""
    with transaction(sessions) as session:
        create_intervention(
            session,
            SYSTEM,
            "Pause",
            description="Support for women who have experienced repeat removals of children.",
        )
        create_intervention(
            session,
            SYSTEM,
            "Mockingbird",
            description="Foster carers in a constellation around a hub home.",
        )
        create_intervention(
            session,
            SYSTEM,
            "Social Workers in Schools",
            description="Social workers based in secondary schools.",
        )
        trial = studies.add_study(
            session,
            SYSTEM,
            intervention_id="social-workers-in-schools",
            title="The schools trial",
            design="RCT",
            maryland_level=5,
        )
        studies.add_result(
            session,
            SYSTEM,
            trial.id,
            outcome="Section 47 enquiries",
            direction="null",
            reported="No difference in enquiries between the schools.",
        )
        review = reviews.create_review(
            session,
            SYSTEM,
            "Child T",
            kind="rapid review",
            reviewed_on=date(2024, 1, 5),
            region_name="North East",
        )
        reviews.add_finding(
            session,
            SYSTEM,
            review.id,
            title="Chronologies were never shared",
            pattern="Each agency kept its own chronology of the family.",
            system_parts=["tools"],
            intervention_ids=("pause",),
        )
        communities.create_community(session, SYSTEM, "Fostering circle")
        question = communities.ask(session, SYSTEM, "fostering-circle", "How big is a hub?")
        communities.answer(session, SYSTEM, question.id, "Eight satellite households at most.")


def test_stemming_matches_other_forms_of_a_word(session, corpus) -> None:
    found = search.ask(session, "removal of a child", limit=3)
    assert found.hits[0].document.key == "intervention:pause"
    assert found.hits[0].matched == ("removals",)  # "removal" asked, "removals" stored
    assert found.engine in ("sqlite", "postgresql") and found.reranked is False


def test_every_kind_is_searched_and_null_results_are_found(session, corpus) -> None:
    kinds = {
        "enquiries": "result",
        "chronology": "finding",
        "satellite households": "answer",
        "constellation": "intervention",
        "fostering circle": "community",
        "rct": "study",
    }
    for question, kind in kinds.items():
        top = search.ask(session, question, limit=1).hits
        assert [h.kind for h in top] == [kind], question
    null = search.ask(session, "enquiries", limit=1).hits[0]
    assert null.url.startswith("/evidence/studies/") and null.url.endswith("#results")
    assert dict(null.document.fields)["direction"].startswith("null result")


def test_results_say_why_they_matched(session, corpus) -> None:
    hit = search.ask(session, "social workers in secondary schools", limit=1).hits[0]
    assert hit.document.key == "intervention:social-workers-in-schools"
    fields = dict(hit.fields)
    assert set(fields["title"]) == {"social", "workers", "schools"}
    assert set(fields["description"]) == {"social", "workers", "secondary", "schools"}
    assert "matched" in hit.why_text and "in description" in hit.why_text
    assert ("secondary", True) in hit.snippet_parts
    shown = hit.as_dict()
    assert shown["kind"] == "intervention" and shown["id"] == "social-workers-in-schools"
    assert "[secondary]" in shown["why"]["snippet"]


def test_title_matches_rank_above_body_matches(session, corpus) -> None:
    hits = search.ask(session, "mockingbird", limit=5).hits
    assert hits[0].document.key == "intervention:mockingbird"


def test_synonyms_are_searched_at_lower_weight(session, corpus) -> None:
    terms = search.terms_of("How do we help mums and babies?")
    assert [t.text for t in terms if t.asked] == ["mums", "babies"]
    assert {"mothers", "women", "infant"} <= {t.text for t in terms if not t.asked}
    hits = search.ask(session, "mums", limit=3).hits
    assert hits[0].document.key == "intervention:pause"  # found through "women"


def test_the_index_is_in_step_with_the_rows(session, sessions, corpus) -> None:
    assert search.ask(session, "lifelong links").hits == ()
    with transaction(sessions) as other:
        create_intervention(other, SYSTEM, "Lifelong Links", description="Relatives found.")
    session.rollback()  # see the other session's commit
    assert search.ask(session, "lifelong links").hits[0].document.key == (
        "intervention:lifelong-links"
    )


def test_questions_without_words_that_carry_meaning_find_nothing(session, corpus) -> None:
    assert search.ask(session, "").hits == ()
    assert search.ask(session, "what is the best way?").hits == ()
    assert search.ask(session, '"OR" NEAR( * ^ -- ;').hits == ()  # no query syntax leaks


def test_the_setting_switches_the_model_off(monkeypatch, session, corpus) -> None:
    monkeypatch.setenv("WHATWORKS_SEMANTIC", "off")
    assert semantic.available() is False
    found = search.ask(session, "foster carers", limit=3)
    assert found.reranked is False and all(h.semantic_score is None for h in found.hits)


def test_cli_ask_prints_json_and_a_table(monkeypatch, tmp_path: Path, database_url, corpus):
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    store.settings.cache_clear()
    try:
        result = runner.invoke(app, ["spread", "ask", "repeat removals", "--format", "json"])
        assert result.exit_code == 0, result.output
        found = json.loads(result.output)
        first = found["results"][0]
        assert set(first) >= {"kind", "id", "title", "url", "score", "why"}
        assert (first["kind"], first["id"], first["url"]) == (
            "intervention",
            "pause",
            "/evidence/interventions/pause",
        )
        table = runner.invoke(app, ["spread", "ask", "constellation", "--limit", "2"])
        assert table.exit_code == 0 and "Mockingbird" in table.output
        bad = runner.invoke(app, ["spread", "ask", "pause", "--format", "xml"])
        assert bad.exit_code != 0 and "--format 'xml' is not known" in str(bad.exception)
    finally:
        store.settings.cache_clear()
