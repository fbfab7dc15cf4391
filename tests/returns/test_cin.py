"""Reading the CIN census: the samples against the year's XSD, hostile XML refused before
it can expand or fetch anything, and malformed input only ever raising our own error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.returns.cin import Census, read_census
from whatworks.returns.pseudonymise import pseudonym
from whatworks.returns.ssda903 import Table, read_table

SAMPLES = Path(__file__).parent / "cin"
KEY = bytes(range(32))


def test_a_sample_is_read_and_pseudonymised() -> None:
    census = read_census(SAMPLES / "CIN_Census_2024.xml", 2024, KEY)
    assert census.la == "201"
    assert len(census.children) == 2
    first = census.children[0]
    assert first["child"] == pseudonym(KEY, "child", "DfEX0000001")
    assert first["upn"] == pseudonym(KEY, "upn", "A123456789123")
    assert first["birth_date"].isoformat() == "2015-03-27"
    assert first["referrals"][0]["referral_date"] is not None


def test_schema_problems_are_listed_by_line() -> None:
    census = read_census(SAMPLES / "CIN_Census_2024.xml", 2024, KEY)
    # The sample has stray text inside ChildIdentifiers, which the DfE schema forbids.
    stray = [p for p in census.problems if p.field == "ChildIdentifiers"]
    assert stray and stray[0].row == 19 and stray[0].code == "schema"
    assert "Character content other than whitespace" in stray[0].message


def test_every_sample_gives_a_report() -> None:
    for path in sorted(SAMPLES.glob("*.xml")):
        census = read_census(path, 2024, KEY)
        assert census.children, path.name
        assert all(p.row for p in census.problems)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "census.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_external_entity_is_refused(tmp_path) -> None:
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY x SYSTEM '
        '"file:///etc/passwd">]><Message><Children>&x;</Children></Message>'
    )
    with pytest.raises(ImportProblem, match="DTD, entities or external references"):
        read_census(write(tmp_path, hostile), 2024, KEY)


def test_an_entity_expansion_bomb_is_refused_without_expanding(tmp_path) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{n} "{"&a" + str(n - 1) + ";" * 1}{"&a" + str(n - 1) + ";"}'
        f'{"&a" + str(n - 1) + ";"}{"&a" + str(n - 1) + ";"}">'
        for n in range(1, 12)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE Message [{entities}]><Message>&a11;</Message>'
    with pytest.raises(ImportProblem, match="not allowed"):
        read_census(write(tmp_path, bomb), 2024, KEY)


def test_not_xml_and_too_large_and_wrong_year(tmp_path) -> None:
    with pytest.raises(ImportProblem, match="not well-formed XML"):
        read_census(write(tmp_path, "<Message><Children>"), 2024, KEY)
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    with pytest.raises(ImportProblem, match="the limit is"):
        read_census(big, 2024, KEY)
    with pytest.raises(WhatworksError, match="no CIN census schema for 2012"):
        read_census(SAMPLES / "CIN_Census_2024.xml", 2012, KEY)


def outcome(reader: Callable[..., Any], path: Path) -> Any:
    """What a reader gives back, or the error it raised if it is one of ours; any other
    exception fails the test."""
    try:
        return reader(path, 2024, KEY)
    except WhatworksError as error:
        return error


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_our_own_error(tmp_path, content: bytes) -> None:
    for name, reader in (("x.xml", read_census), ("x.csv", read_table)):
        path = tmp_path / name
        path.write_bytes(content)
        assert isinstance(outcome(reader, path), (WhatworksError, Census, Table))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.sampled_from('<>/="&;!?[]CINMessagChldr \n'), max_size=200))
def test_xml_like_text_only_raises_our_own_error(tmp_path, text: str) -> None:
    path = tmp_path / "x.xml"
    path.write_text(text, encoding="utf-8")
    assert isinstance(outcome(read_census, path), (WhatworksError, Census))
