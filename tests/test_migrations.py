"""The migration chain cannot silently fork, upgrades from empty, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from whatworks import migrations
from whatworks.core.db import create_db_engine
from whatworks.schema import metadata


def test_chain_has_exactly_one_head() -> None:
    assert len(migrations.heads()) == 1


def test_upgrade_from_empty_creates_every_table(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    migrations.upgrade(url)
    engine = create_db_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_store_is_at_the_head_revision(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert [version] == migrations.heads()


def test_upgrade_twice_changes_nothing(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    migrations.upgrade(url)
    migrations.upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1


def test_sqlite_store_uses_wal(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'wal.sqlite'}")
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    engine.dispose()
    assert mode == "wal"
