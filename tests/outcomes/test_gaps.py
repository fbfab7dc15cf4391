"""Gaps by hand, and group gaps recomputed from the bundled CSVs."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.data import published_file
from whatworks.outcomes import gaps
from whatworks.outcomes.published import SYMBOLS, import_published
from whatworks.outcomes.series import LA


def test_gap_narrowing_and_widening_by_hand() -> None:
    narrowing = gaps.gap_between(
        "x",
        "A",
        "B",
        "%",
        {"2023": 30, "2024": 25, "2025": 24},
        {"2023": 20, "2024": 20, "2025": 21},
    )
    assert [p.gap for p in narrowing.points] == [10, 5, 3]
    assert narrowing.narrowing is True
    assert narrowing.sentence == "The gap narrowed from 5 to 3 between 2024 and 2025."
    # Either way round: -6 is a wider gap than +5.
    widening = gaps.gap_between(
        "x", "A", "B", "%", {"2024": 25, "2025": 14}, {"2024": 20, "2025": 20}
    )
    assert widening.narrowing is False
    same = gaps.gap_between("x", "A", "B", "%", {"2024": 25, "2025": 26}, {"2024": 20, "2025": 21})
    assert same.narrowing is None and "same size" in same.sentence
    # Years with only one figure are left out.
    short = gaps.gap_between("x", "A", "B", "%", {"2024": 1, "2025": 2}, {"2025": 1})
    assert len(short.points) == 1 and short.narrowing is None


@pytest.fixture(scope="module")
def store(module_database_url: str) -> Iterator[Session]:
    engine = create_db_engine(module_database_url)
    with make_session_factory(engine)() as session:
        import_published(session, [published_file("ks4_la.csv")])
        session.commit()
        yield session
    engine.dispose()


def test_group_gap_equals_the_csv(store) -> None:
    group = next(g for g in gaps.GROUP_GAPS if g.source == "ks4_la")
    with published_file("ks4_la.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["geographic_level"] == LA and r["old_la_code"] == "302"
        ]
    by_group = {
        name: {
            r["time_period"]: float(r["avg_att8"])
            for r in rows
            if r["social_care_group"] == name and r["avg_att8"] not in SYMBOLS
        }
        for name in (group.first_group, group.second_group)
    }
    both = sorted(set(by_group[group.first_group]) & set(by_group[group.second_group]))
    found = gaps.between_groups(store, group, LA, "302")
    assert [p.period for p in found.points] == both
    for point in found.points:
        assert point.gap == round(
            by_group[group.first_group][point.period] - by_group[group.second_group][point.period],
            4,
        )
