"""The store every outcomes benchmark measures: places and every file the catalogue reads."""

from __future__ import annotations

import time

from whatworks import migrations
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.data import published_file
from whatworks.outcomes.catalogue import catalogue
from whatworks.outcomes.published import import_published
from whatworks.places.places import load_bundled


def build_store(url: str) -> tuple[float, int]:
    """Migrate `url` and load it; returns the seconds taken and the values imported."""
    start = time.perf_counter()
    migrations.upgrade(url)
    engine = create_db_engine(url)
    names = sorted({name for item in catalogue() for name in item.datasets})
    with transaction(make_session_factory(engine)) as session:
        load_bundled(session)
        results = import_published(session, [published_file(f"{n}.csv") for n in names])
    engine.dispose()
    return time.perf_counter() - start, sum(r.values for r in results)
