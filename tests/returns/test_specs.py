"""SSDA903 specifications by year, from the 2017 base and each year's changes."""

from __future__ import annotations

import pytest

from whatworks.core.errors import WhatworksError
from whatworks.returns import specs


def codes(year: int, table: str, column: str) -> frozenset[str]:
    return next(c for c in specs.tables(year)[table] if c.name == column).codes


def test_tables_by_year() -> None:
    assert "social_worker" not in specs.tables(2023)  # added for the 2023/24 return
    assert [c.name for c in specs.tables(2024)["social_worker"]] == [
        "CHILD",
        "DOB",
        "SW_ID",
        "SW_DECOM",
        "SW_DEC",
        "SW_REASON",
    ]
    assert len(specs.tables(2017)) == 10


def test_code_lists_change_by_year() -> None:
    assert codes(2024, "header", "SEX") == {"1", "2"}
    assert codes(2025, "header", "SEX") == {"M", "F", "U"}  # DOMAIN: M/F/U from 2024/25
    assert "R5" in codes(2026, "episodes", "PLACE")
    # Special guardianship codes E45-E48 replaced E43-E44 from the 2019 return.
    assert {"E45", "E46", "E47", "E48"} <= codes(2019, "episodes", "REC")
    assert not {"E45", "E46", "E47", "E48"} & codes(2018, "episodes", "REC")
    assert {"E43", "E44"} <= codes(2018, "episodes", "REC")
    uasc = next(c for c in specs.tables(2025)["uasc"] if c.name == "SEX")
    assert dict(uasc.aliases) == {"1": "M", "2": "F"}  # old codes still read


def test_unknown_year_is_a_clear_error() -> None:
    with pytest.raises(WhatworksError, match="no SSDA903 specification for 2016"):
        specs.tables(2016)


def test_identify_a_table_from_its_header() -> None:
    assert specs.identify(2024, ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"]) == "reviews"
    assert specs.identify(2024, ["child", "dob", "review"]) == "reviews"  # one column missing
    assert specs.identify(2024, ["NAME", "ADDRESS"]) is None
