"""Synthetic agency data: deterministic, with the truth, identifiers and the hard cases."""

from __future__ import annotations

from datetime import date

import pytest

from whatworks.core.errors import WhatworksError
from whatworks.returns.synthetic import upn_check_letter
from whatworks.sharing.synthetic import FIELDS, generate


def test_the_same_arguments_give_the_same_records() -> None:
    first = generate(300, seed=7, agencies=("council", "school"))
    again = generate(300, seed=7, agencies=("council", "school"))
    other = generate(300, seed=8, agencies=("council", "school"))
    assert first.records == again.records
    assert first.records != other.records


def test_records_carry_every_field_and_the_truth() -> None:
    data = generate(500, seed=1, agencies=("council", "health"))
    people = {p.person_id: p for p in data.people}
    assert len(people) == 500
    for row in data.rows("council") + data.rows("health"):
        assert tuple(row) == FIELDS
        assert row["person_id"] in people
    council_people = {r["person_id"] for r in data.rows("council")}
    health_people = {r["person_id"] for r in data.rows("health")}
    assert len(data.true_pairs("council", "health")) == len(council_people & health_people)


def test_identifiers_are_held_by_some_agencies_only_and_are_valid() -> None:
    data = generate(1000, seed=2, agencies=("council", "school", "health"))
    health, school, council = data.rows("health"), data.rows("school"), data.rows("council")
    assert all(r["nhs_number"] and not r["upn"] for r in health)
    assert all(r["upn"] and not r["nhs_number"] for r in school)
    share = sum(bool(r["nhs_number"]) for r in council) / len(council)
    assert 0.4 < share < 0.6
    for row in health:  # NHS number modulus 11 check digit, computed by hand
        digits = [int(d) for d in row["nhs_number"]]
        check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
        assert digits[9] == (0 if check == 11 else check)
    for row in school:
        assert row["upn"][0] == upn_check_letter(row["upn"][1:])


def test_records_hold_realistic_errors() -> None:
    data = generate(3000, seed=3, difficulty="hard", agencies=("council",))
    people = {p.person_id: p for p in data.people}
    transposed = nicknames = moved = 0
    for row in data.rows("council"):
        person = people[row["person_id"]]
        day, month, _year = (int(x) for x in row["dob"].split("/"))
        if (day, month) == (person.dob.month, person.dob.day) and day != month:
            transposed += 1
        nicknames += row["first_name"] in {"Bill", "Tom", "Jim", "Alfie", "Liv", "Beth"}
        moved += row["postcode"] not in ("", person.postcode)
    assert transposed > 10 and nicknames > 5 and moved > 300


def test_hard_cases_twins_and_siblings() -> None:
    standard = generate(3000, seed=4)
    hard = generate(3000, seed=4, difficulty="hard")
    people = {p.person_id: p for p in hard.people}
    twins = [(p, people[p.twin_of]) for p in hard.people if p.twin_of]
    assert len(twins) > sum(p.twin_of is not None for p in standard.people) > 0
    for a, b in twins:
        assert (a.dob, a.surname, a.postcode, a.family_id) == (
            b.dob,
            b.surname,
            b.postcode,
            b.family_id,
        )
        assert a.first_name != b.first_name
    assert isinstance(twins[0][0].dob, date)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(WhatworksError, match="difficulty"):
        generate(10, seed=1, difficulty="impossible")
    with pytest.raises(WhatworksError, match="agencies"):
        generate(10, seed=1, agencies=("fire service",))
