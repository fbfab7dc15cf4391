"""The economic case: reading the form, the absolute change from a pooled effect (worked
by hand here), why a case cannot be appraised, who may store one, and the region a
study's place is in (for the moderator analysis)."""

from __future__ import annotations

import math

import pytest

from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.evidence import demo_seed, economic_case, moderators
from whatworks.evidence.interventions import create_intervention
from whatworks.evidence.synthesis import meta


def test_the_form_reads_percentages_as_percentages() -> None:
    clean, errors = economic_case.check_case(demo_seed.DEMO_CASE)
    assert errors == {}
    assert clean["baseline"] == pytest.approx(0.22)
    assert clean["discount_rate"] == pytest.approx(0.035)
    assert clean["cost_uncertainty"] == pytest.approx(0.20)
    assert clean["cost_per_child"] is None and clean["horizon_years"] == 2
    blank = economic_case.check_case({**demo_seed.DEMO_CASE, "discount_rate": ""})[0]
    assert blank["discount_rate"] == pytest.approx(0.035)  # the Green Book default
    _, errors = economic_case.check_case({"direction": "sideways", "discount_rate": "120"})
    assert set(errors) >= {"outcome", "direction", "value_per_unit", "horizon_years"}
    assert "discount_rate" in errors


def test_absolute_change_by_hand() -> None:
    # RR 0.75 on a baseline of 20%: 20% - 15% = 5 fewer per 100; SE 0.2 x 0.75 x 0.1
    change, se = economic_case.absolute_change("RR", math.log(0.75), 0.1, 0.2, "avoided")
    assert change == pytest.approx(0.05) and se == pytest.approx(0.015)
    # OR 0.5 on 20%: odds 0.25 -> 0.125, risk 0.125 / 1.125 = 0.1111
    change, se = economic_case.absolute_change("OR", math.log(0.5), 0.1, 0.2, "avoided")
    assert change == pytest.approx(0.2 - 0.125 / 1.125)
    assert se == pytest.approx(0.1 * (0.125 / 1.125) * (1 - 0.125 / 1.125))
    # a risk difference of -0.04 is 4 fewer per 100; for an outcome gained it is a loss
    assert economic_case.absolute_change("RD", -0.04, 0.01, None, "avoided") == (0.04, 0.01)
    assert economic_case.absolute_change("SMD", 0.3, 0.1, None, "gained") == (0.3, 0.1)


def test_a_case_without_what_it_needs_is_not_appraised(session, people) -> None:
    intervention = create_intervention(session, people.researcher, "A test intervention")
    case = economic_case.save_case(session, people.researcher, intervention.id, demo_seed.DEMO_CASE)
    pooled = meta([-0.3, -0.2], [0.02, 0.03])
    missing = economic_case.appraise(case, intervention, None, None)
    assert not missing.computed and "no pooled effect" in missing.reasons[0]
    assert "No cost per child" in missing.reasons[1]
    case.baseline = None
    no_baseline = economic_case.appraise(case, intervention, pooled, "RR")
    assert "needs the baseline risk" in no_baseline.reasons[0]
    # a difference needs no baseline; the cost comes from the case when it gives one
    case.cost_per_child = 500
    found = economic_case.appraise(case, intervention, pooled, "RD")
    assert found.computed and found.cost_from == "the economic case"
    assert found.result is not None and found.result.costs == 500


def test_only_researchers_store_cases_and_claims(session, people) -> None:
    intervention = create_intervention(session, people.researcher, "Another test intervention")
    with pytest.raises(PermissionDenied):
        economic_case.save_case(session, people.member, intervention.id, demo_seed.DEMO_CASE)
    with pytest.raises(PermissionDenied):
        economic_case.add_savings_claim(
            session, people.member, intervention.id, demo_seed.DEMO_CLAIM
        )
    with pytest.raises(WhatworksError, match="cannot be stored"):
        economic_case.save_case(session, people.admin, intervention.id, {"outcome": "x"})
    assert economic_case.get_case(session, intervention.id) is None


def test_region_of_a_place(session) -> None:
    assert moderators.region_name(session, "E09000025") == "London"  # Newham, Inner London
    assert moderators.region_name(session, "E08000037") == "North East"  # Gateshead
    assert moderators.region_name(session, None) is None
