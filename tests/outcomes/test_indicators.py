"""Indicator series read back from the store equal the DfE's published national figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.data import published_file
from whatworks.outcomes.indicators import (
    CATALOGUE,
    area_series,
    format_value,
    indicator,
    period_label,
    place_series,
)
from whatworks.outcomes.published import import_published
from whatworks.places.places import local_authority

ENGLAND = "E92000001"

# National figures, revised series, 2025 release (the DfE's own headline tables).
PUBLISHED = {
    "cla_count": {"2023": 83_750, "2024": 83_530, "2025": 81_770},
    "cla_rate_per_10000": {"2023": 70, "2024": 69, "2025": 67},
    "cla_started": {"2023": 33_090, "2024": 33_130, "2025": 32_270},
    "cin_at_31_march": {"2023": 403_090, "2024": 399_460, "2025": 402_400},
    "cpp_at_31_march": {"2023": 50_780, "2024": 49_900, "2025": 49_420},
    "rereferral_percent": {"2023": 22.4, "2024": 22.4, "2025": 22.6},
    "cpp_subsequent_percent": {"2023": 23.6, "2024": 24.7, "2025": 24.5},
    "placements_3_plus_percent": {"2023": 11, "2024": 11, "2025": 10},
    "care_leavers_eet_19_21_percent": {"2023": 56, "2024": 54, "2025": 54},
}


@pytest.fixture(scope="module")
def catalogue_files(module_database_url: str) -> Iterator[Session]:
    """A store holding every file the catalogue reads, imported once for this module."""
    engine = create_db_engine(module_database_url)
    files = sorted({f"{item.dataset}.csv" for item in CATALOGUE})
    with make_session_factory(engine)() as session:
        import_published(session, [published_file(name) for name in files])
        session.commit()
        yield session
    engine.dispose()


def test_national_series_equal_the_published_headlines(catalogue_files) -> None:
    series = area_series(catalogue_files, "National", ENGLAND)
    for key, expected in PUBLISHED.items():
        found = {p.period: p.value for p in series[key] if p.period in expected}
        assert found == expected, key


def test_barnet_series_cover_every_published_year(catalogue_files) -> None:
    barnet = local_authority(catalogue_files, "E09000003")
    series = place_series(catalogue_files, barnet)
    assert [p.period for p in series["cla_rate_per_10000"]] == [
        "2021",
        "2022",
        "2023",
        "2024",
        "2025",
    ]
    assert [p.period for p in series["rereferral_percent"]] == [str(y) for y in range(2013, 2026)]
    assert all(p.status == "value" for p in series["rereferral_percent"])


def test_series_continue_across_a_change_of_code(catalogue_files) -> None:
    north_yorkshire = local_authority(catalogue_files, "E06000065")  # E10000023 before 2023
    periods = [p.period for p in place_series(catalogue_files, north_yorkshire)["referrals"]]
    assert periods == [str(y) for y in range(2013, 2026)]


def test_catalogue_is_well_formed() -> None:
    ids = [item.id for item in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert 3 <= sum(item.headline for item in CATALOGUE) <= 5  # RBA: a few headline indicators
    assert all(
        item.polarity in {"higher is better", "lower is better", "no polarity"}
        for item in CATALOGUE
    )
    assert indicator("rereferral_percent").unit == "%"


def test_formatting() -> None:
    assert format_value(22.6, "value", "%") == "22.6%"
    assert format_value(81770.0, "value", "children") == "81,770"
    assert format_value(None, "c", "%") == "c (suppressed)"
    assert period_label("202425") == "2024/25"
    assert period_label("2025") == "2025"
