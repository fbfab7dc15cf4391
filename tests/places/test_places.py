"""Local authorities, regions and statistical neighbours from the bundled DfE files."""

from __future__ import annotations

import csv

import pytest

from whatworks.core.errors import NotFound
from whatworks.data import published_file
from whatworks.places.places import (
    CLOSENESS_ORDER,
    load_bundled,
    local_authorities,
    local_authority,
    neighbours,
    regions,
)


def read(name: str) -> list[dict[str, str]]:
    with published_file(name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_all_153_current_local_authorities(session) -> None:
    current = local_authorities(session)
    assert len(current) == 153  # DOMAIN: 153 since Cumbria split in April 2023
    # The DfE's 2025 statistical neighbour model lists every current authority by old code.
    in_2025_model = {r["old_la_code"] for r in read("sn_model_2025_wide.csv")}
    assert {la.old_la_code for la in current} == in_2025_model


def test_replaced_authorities_are_kept_and_linked(session) -> None:
    cumbria = local_authority(session, "E10000006")
    assert (cumbria.name, cumbria.current, cumbria.last_period) == ("Cumbria", False, "2023")
    old_north_yorkshire = local_authority(session, "E10000023")
    assert not old_north_yorkshire.current
    assert old_north_yorkshire.replaced_by == "E06000065"
    assert local_authority(session, "815").new_la_code == "E06000065"  # old code -> current


def test_lookup_by_new_or_old_code(session) -> None:
    barnet = local_authority(session, "e09000003")
    assert (barnet.name, barnet.old_la_code) == ("Barnet", "302")
    assert local_authority(session, "302").new_la_code == "E09000003"
    with pytest.raises(NotFound, match="No local authority has the code 'E99999999'"):
        local_authority(session, "E99999999")


def test_filters_by_name_and_region(session) -> None:
    assert [la.name for la in local_authorities(session, name="barn")] == ["Barnet", "Barnsley"]
    london = local_authorities(session, region_code="E12000007")  # includes inner and outer
    assert len(london) == 33
    assert "City of London" in {la.name for la in london}
    assert len(local_authorities(session, region_code="E13000001")) == 14  # Inner London


def test_regions(session) -> None:
    names = [r.name for r in regions(session)]
    assert len(names) == 9 and "London" in names and "Inner London" not in names


def test_barnet_neighbours_match_the_2025_model(session) -> None:
    by_old = {la.old_la_code: la.new_la_code for la in local_authorities(session)}
    row = next(r for r in read("sn_model_2025_wide.csv") if r["la_name"] == "Barnet")
    expected = [by_old[row[f"SN_{rank}"]] for rank in range(1, 11)]
    found = neighbours(session, "E09000003")
    assert [n.la.new_la_code for n in found] == expected
    assert [n.rank for n in found] == list(range(1, 11))
    assert found[0].la.name == "Waltham Forest"
    assert {n.closeness for n in found} == {"Close"}


def test_every_current_authority_has_ten_neighbours_in_2025(session) -> None:
    for la in local_authorities(session):
        found = neighbours(session, la.new_la_code, "2025")
        assert len(found) == 10, la.name
        assert all(n.closeness in CLOSENESS_ORDER for n in found)
        assert la.new_la_code not in {n.la.new_la_code for n in found}


def test_2021_model_uses_the_authorities_of_its_time(session) -> None:
    cumbria = neighbours(session, "E10000006", "2021")
    assert len(cumbria) == 10
    row = next(
        r
        for r in read("New_Statistical_Neighbour_Groupings_April_2021.csv")
        if r["LA Name"] == "Cumbria"
    )
    first = local_authority(session, row["SN1"])
    assert cumbria[0].la.new_la_code == first.new_la_code
    assert neighbours(session, "E06000063", "2021") == []  # Cumberland did not exist in 2021
    with pytest.raises(NotFound):
        neighbours(session, "E09000003", "2019")


def test_loading_again_adds_nothing(session) -> None:
    added = load_bundled(session)
    assert added == {"regions": 0, "local authorities": 0, "statistical neighbours": 0}
