"""Cost rating, discounting, NPV, BCR and the Monte Carlo, against hand calculations.

Every expected number is written out here; the Monte Carlo is checked against the normal
distribution from Python's standard library (statistics.NormalDist), not against numpy.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from whatworks.evidence.economics import (
    GREEN_BOOK_RATE,
    SavingsClaim,
    benefit_cost,
    chance_benefits_exceed_costs,
    cost_rating,
    present_value,
)
from whatworks.evidence.ratings import InvalidEvidence

# --- cost rating -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "rating"),
    [
        (0, 1),
        (99.99, 1),
        (100, 2),
        (499.99, 2),
        (500, 3),
        (999.99, 3),
        (1000, 4),
        (2000, 4),
        (2000.01, 5),
        (25_000, 5),
    ],
)
def test_cost_bands_at_their_boundaries(cost: float, rating: int) -> None:
    assert cost_rating(cost).rating == rating


def test_cost_rating_names_its_band() -> None:
    assert cost_rating(2000).as_dict() == {
        "rating": 4,
        "unit_cost": 2000.0,
        "band": "£1,000 to £2,000",
    }


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_unusable_costs_are_refused(bad: float) -> None:
    with pytest.raises(InvalidEvidence):
        cost_rating(bad)


# --- discounting, NPV and BCR ------------------------------------------------------------

# Three years of £1,000 at 3.5%, year 0 undiscounted:
#   1000 + 1000/1.035 + 1000/1.035^2
#   = 1000 + 966.183575 + 933.510700 = 2899.694275
THREE_YEARS = 1000 + 1000 / 1.035 + 1000 / 1.035**2


def test_present_value_matches_the_hand_calculation() -> None:
    assert pytest.approx(2899.694275, abs=1e-6) == THREE_YEARS
    assert present_value([1000, 1000, 1000]) == pytest.approx(2899.694275, abs=1e-6)
    assert GREEN_BOOK_RATE == 0.035


def test_the_discount_rate_is_configurable() -> None:
    # At 10%: 1000 + 909.090909 + 826.446281 = 2735.537190; at 0% a plain sum.
    assert present_value([1000, 1000, 1000], 0.10) == pytest.approx(2735.537190, abs=1e-6)
    assert present_value([1000, 1000, 1000], 0.0) == 3000
    with pytest.raises(InvalidEvidence, match="fraction"):
        present_value([1000], 3.5)


def test_net_present_value_and_ratio_match_the_hand_calculation() -> None:
    # Costs of £2,000 all in year 0 are not discounted:
    #   NPV = 2899.694275 - 2000 = 899.694275; BCR = 2899.694275 / 2000 = 1.449847
    result = benefit_cost([1000, 1000, 1000], [2000])
    assert result.benefits == pytest.approx(2899.694275, abs=1e-6)
    assert result.costs == 2000
    assert result.net_present_value == pytest.approx(899.694275, abs=1e-6)
    assert result.benefit_cost_ratio == pytest.approx(1.4498471, abs=1e-6)
    assert result.years == 3


def test_costs_spread_over_years_are_discounted_too() -> None:
    # Costs 1000 in year 0 and 1000 in year 1: 1000 + 966.183575 = 1966.183575
    # BCR = 2899.694275 / 1966.183575 = 1.474782
    result = benefit_cost([1000, 1000, 1000], [1000, 1000])
    assert result.costs == pytest.approx(1966.183575, abs=1e-6)
    assert result.benefit_cost_ratio == pytest.approx(2899.694275 / 1966.183575, rel=1e-9)


def test_benefits_by_who_gains_add_up() -> None:
    result = benefit_cost({"council": [500, 500, 500], "child": [500, 500, 500]}, [2000])
    assert result.benefits_by_gainer == {
        "council": pytest.approx(THREE_YEARS / 2),
        "child": pytest.approx(THREE_YEARS / 2),
    }
    assert result.benefits == pytest.approx(THREE_YEARS)


def test_no_ratio_without_costs() -> None:
    result = benefit_cost([1000], [0])
    assert result.benefit_cost_ratio is None
    assert result.net_present_value == 1000


# --- Monte Carlo -------------------------------------------------------------------------


def test_chance_matches_the_closed_form_with_fixed_costs() -> None:
    # Benefits = effect x value with effect ~ Normal(0.1, 0.05), value £20,000 in year 0,
    # costs £1,500 fixed: P(benefits > costs) = Phi((0.1*20000 - 1500) / (0.05*20000))
    # = Phi(0.5) = 0.691462.
    expected = NormalDist().cdf((0.1 * 20000 - 1500) / (0.05 * 20000))
    assert expected == pytest.approx(0.691462, abs=1e-6)
    result = chance_benefits_exceed_costs(
        0.1, 0.05, [20000], [1500], cost_uncertainty=0.0, draws=200_000, seed=11
    )
    # Monte Carlo error sqrt(p(1-p)/n) = sqrt(0.691*0.309/200000) = 0.00103; allow 4 of it.
    assert result.monte_carlo_error == pytest.approx(0.00103, abs=0.00002)
    assert abs(result.chance_benefits_exceed_costs - expected) < 4 * result.monte_carlo_error
    # The mean net value is close to 0.1*20000 - 1500 = 500 (sd of the mean 1000/sqrt(2e5)).
    assert result.mean_net_present_value == pytest.approx(500, abs=4 * 1000 / math.sqrt(200_000))


def test_chance_matches_the_closed_form_over_discounted_years() -> None:
    # Value £10,000 a year for two years: V = 10000 + 10000/1.035 = 19661.835749
    # Costs £1,000 then £500: C = 1000 + 500/1.035 = 1483.091787
    # P = Phi((0.08*V - C) / (0.06*V))
    value = 10000 + 10000 / 1.035
    cost = 1000 + 500 / 1.035
    expected = NormalDist().cdf((0.08 * value - cost) / (0.06 * value))
    result = chance_benefits_exceed_costs(
        0.08, 0.06, [10000, 10000], [1000, 500], cost_uncertainty=0.0, draws=200_000, seed=3
    )
    assert abs(result.chance_benefits_exceed_costs - expected) < 4 * result.monte_carlo_error


def test_cost_uncertainty_is_uniform_around_the_cost() -> None:
    # A certain effect (SE 0) worth £1,000; costs £950 x U(0.9, 1.1).
    # P(1000 > 950 m) = P(m < 1.052632) = (1.052632 - 0.9) / 0.2 = 0.763158
    expected = (1000 / 950 - 0.9) / 0.2
    result = chance_benefits_exceed_costs(
        1.0, 0.0, [1000], [950], cost_uncertainty=0.10, draws=200_000, seed=5
    )
    assert abs(result.chance_benefits_exceed_costs - expected) < 4 * result.monte_carlo_error


def test_the_same_seed_gives_the_same_answer() -> None:
    first = chance_benefits_exceed_costs(0.1, 0.08, [5000, 5000], [700], seed=42, draws=5000)
    again = chance_benefits_exceed_costs(0.1, 0.08, [5000, 5000], [700], seed=42, draws=5000)
    other = chance_benefits_exceed_costs(0.1, 0.08, [5000, 5000], [700], seed=43, draws=5000)
    assert first == again
    assert first.as_dict() != other.as_dict()
    assert (first.seed, first.draws, first.cost_uncertainty) == (42, 5000, 0.10)


@pytest.mark.parametrize(
    "bad",
    [{"effect_se": -0.1}, {"cost_uncertainty": 1.0}, {"cost_uncertainty": -0.1}, {"draws": 0}],
)
def test_unusable_simulation_settings_are_refused(bad: dict[str, float]) -> None:
    settings: dict[str, float] = {"effect_se": 0.05, "cost_uncertainty": 0.1, "draws": 100}
    settings.update(bad)
    with pytest.raises(InvalidEvidence):
        chance_benefits_exceed_costs(
            0.1,
            settings["effect_se"],
            [1000],
            [100],
            cost_uncertainty=settings["cost_uncertainty"],
            draws=int(settings["draws"]),
        )


# --- savings claims ----------------------------------------------------------------------


def test_a_savings_claim_keeps_its_basis_and_source() -> None:
    # Pause (2020 evaluation): benefit-cost ratio £4.50 per £1 over 4 years.
    claim = SavingsClaim(
        amount=4.50,
        basis="benefit per £1 spent over 4 years, local authority costs avoided",
        source="University of Sussex / Research in Practice evaluation of Pause, Nov 2020",
        year=2020,
    )
    assert claim.as_dict()["source"].startswith("University of Sussex")


@pytest.mark.parametrize(("basis", "source"), [("", "DfE"), ("per family", "  ")])
def test_a_savings_claim_without_basis_or_source_is_refused(basis: str, source: str) -> None:
    with pytest.raises(InvalidEvidence, match="basis"):
        SavingsClaim(amount=1000, basis=basis, source=source, year=2017)
