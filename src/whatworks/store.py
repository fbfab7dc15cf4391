"""Open the relational store named by the settings, migrated to the latest revision."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from whatworks import migrations
from whatworks.config import Settings, load_settings
from whatworks.core.db import create_db_engine, make_session_factory


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Settings of this process, read once from the environment."""
    return load_settings()


def upgrade_store(chosen: Settings | None = None) -> str:
    """Apply any missing migrations; returns the database URL."""
    url = (chosen or settings()).database_url
    migrations.upgrade(url)
    return url


def session_factory(chosen: Settings | None = None) -> sessionmaker[Session]:
    """Sessions on the configured store."""
    return make_session_factory(create_db_engine((chosen or settings()).database_url))
