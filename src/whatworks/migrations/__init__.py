"""Alembic migrations of the relational store, applied by `whatworks db upgrade` and `serve`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url` that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the store at `database_url` up to `revision` (the latest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def heads(database_url: str = "sqlite://") -> list[str]:
    """The head revisions of the migration chain (there must be exactly one)."""
    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
