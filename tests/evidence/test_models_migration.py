"""Migration 0005 creates the evidence tables and removes them cleanly again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from whatworks import migrations
from whatworks.core.db import create_db_engine

EVIDENCE_TABLES = {
    "intervention",
    "project",
    "condition_rating",
    "registration",
    "registration_version",
    "checkpoint_review",
    "study",
    "study_result",
    "recommendation_override",
}


def tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    found = set(inspect(engine).get_table_names())
    engine.dispose()
    return found


def test_evidence_migration_upgrades_and_downgrades_on_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'evidence.sqlite'}"
    migrations.upgrade(url, "0004")
    before = tables(url)
    assert not EVIDENCE_TABLES & before
    migrations.upgrade(url, "0005")
    assert tables(url) >= EVIDENCE_TABLES
    command.downgrade(migrations.alembic_config(url), "0004")
    assert tables(url) == before
    migrations.upgrade(url)
    assert tables(url) >= EVIDENCE_TABLES
