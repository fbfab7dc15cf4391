"""A store holding every file the indicator catalogue reads, shared by a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.data import published_file
from whatworks.outcomes.catalogue import catalogue
from whatworks.outcomes.published import import_published


@pytest.fixture(scope="module")
def catalogue_store(module_database_url: str) -> Iterator[Session]:
    """Every file the catalogue reads, imported once for the module, on each database."""
    engine = create_db_engine(module_database_url)
    names = sorted({name for item in catalogue() for name in item.datasets})
    with make_session_factory(engine)() as session:
        import_published(session, [published_file(f"{name}.csv") for name in names])
        session.commit()
        yield session
    engine.dispose()
