"""Cost rating, benefit-cost and the chance that benefits exceed costs, per child.

Cost bands follow Foundations; discounting follows the HM Treasury Green Book; the
benefit-cost summary and its Monte Carlo follow the Washington State Institute for Public
Policy (WSIPP). Method, conventions and references: docs/methods/economics.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from whatworks.evidence.ratings import InvalidEvidence

#: HM Treasury Green Book social time preference rate for the first 30 years.
GREEN_BOOK_RATE = 0.035
#: Default half-width of the uniform uncertainty on costs (±10%).
COST_UNCERTAINTY = 0.10
#: Foundations cost ratings and their bands (£ per child); `cost_rating` states the edges.
COST_BANDS: tuple[tuple[int, str], ...] = (
    (1, "less than £100"),
    (2, "£100 to £499"),
    (3, "£500 to £999"),
    (4, "£1,000 to £2,000"),
    (5, "more than £2,000"),
)


@dataclass(frozen=True)
class CostRating:
    """Foundations cost rating 1 (cheapest) to 5 for a unit cost per child."""

    rating: int
    unit_cost: float
    band: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BenefitCost:
    """Present values per child, net present value and benefit-cost ratio."""

    discount_rate: float
    years: int
    benefits: float
    costs: float
    net_present_value: float
    benefit_cost_ratio: float | None
    benefits_by_gainer: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BenefitRisk:
    """Monte Carlo chance that benefits exceed costs, with its own simulation error."""

    chance_benefits_exceed_costs: float
    monte_carlo_error: float
    draws: int
    seed: int
    mean_net_present_value: float
    net_present_value_5th: float
    net_present_value_95th: float
    cost_uncertainty: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SavingsClaim:
    """A claimed saving, kept with what it is based on and who said it."""

    amount: float
    basis: str
    source: str
    year: int

    def __post_init__(self) -> None:
        if not self.basis.strip() or not self.source.strip():
            raise InvalidEvidence(
                f"A savings claim of £{self.amount:,.0f} needs its basis (what was counted) "
                "and its source (who published it, where); add both."
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cost_rating(unit_cost: float) -> CostRating:
    """The cost rating for a unit cost per child in pounds.

    Bands are closed below and open above (£100 is rating 2, £500 rating 3, £1,000
    rating 4), except that £2,000 itself is still rating 4: only more than £2,000 is 5.
    """
    if not math.isfinite(unit_cost) or unit_cost < 0:
        raise InvalidEvidence(
            f"Unit cost {unit_cost!r} is not a cost per child; give pounds, zero or more."
        )
    if unit_cost < 100:
        rating = 1
    elif unit_cost < 500:
        rating = 2
    elif unit_cost < 1000:
        rating = 3
    elif unit_cost <= 2000:
        rating = 4
    else:
        rating = 5
    return CostRating(rating, float(unit_cost), COST_BANDS[rating - 1][1])


def discount_factors(years: int, discount_rate: float = GREEN_BOOK_RATE) -> np.ndarray:
    """1 / (1 + r)^t for t = 0 ... years - 1: year 0 is today and is not discounted."""
    if not 0 <= discount_rate < 1:
        raise InvalidEvidence(
            f"Discount rate {discount_rate!r} is not usable; give a fraction such as 0.035."
        )
    return (1.0 + discount_rate) ** -np.arange(years, dtype=float)


def present_value(amounts: Sequence[float], discount_rate: float = GREEN_BOOK_RATE) -> float:
    """Present value of yearly amounts, the first in year 0 (undiscounted)."""
    values = np.asarray(amounts, dtype=float)
    return float(values @ discount_factors(len(values), discount_rate))


def benefit_cost(
    benefits: Mapping[str, Sequence[float]] | Sequence[float],
    costs: Sequence[float],
    discount_rate: float = GREEN_BOOK_RATE,
) -> BenefitCost:
    """Net present value and benefit-cost ratio of yearly benefits and costs per child.

    `benefits` is either one list of yearly amounts or, as WSIPP reports them, a list per
    gainer (e.g. "council", "child", "taxpayer"). The ratio is None when costs are zero.
    """
    by_gainer = {"all": benefits} if not isinstance(benefits, Mapping) else dict(benefits)
    if not by_gainer:
        raise InvalidEvidence("No benefits were given; give at least one year of benefits.")
    pv_by_gainer = {name: present_value(v, discount_rate) for name, v in by_gainer.items()}
    pv_benefits = sum(pv_by_gainer.values())
    pv_costs = present_value(costs, discount_rate)
    if pv_costs < 0:
        raise InvalidEvidence(
            f"Costs have a negative present value ({pv_costs:,.2f}); check signs."
        )
    years = max([len(costs), *(len(v) for v in by_gainer.values())])
    return BenefitCost(
        discount_rate=discount_rate,
        years=years,
        benefits=pv_benefits,
        costs=pv_costs,
        net_present_value=pv_benefits - pv_costs,
        benefit_cost_ratio=pv_benefits / pv_costs if pv_costs > 0 else None,
        benefits_by_gainer=pv_by_gainer,
    )


def chance_benefits_exceed_costs(
    effect: float,
    effect_se: float,
    value_per_unit_effect: Sequence[float],
    costs: Sequence[float],
    *,
    discount_rate: float = GREEN_BOOK_RATE,
    cost_uncertainty: float = COST_UNCERTAINTY,
    draws: int = 10_000,
    seed: int = 0,
) -> BenefitRisk:
    """Share of simulated worlds in which discounted benefits are more than discounted costs.

    Each draw takes an effect from Normal(effect, effect_se) and multiplies every year's
    costs by one factor from Uniform(1 - cost_uncertainty, 1 + cost_uncertainty). Benefits in
    year t are the drawn effect times `value_per_unit_effect[t]` (pounds per child per unit
    of effect). The same seed gives the same answer (numpy's default_rng).
    """
    if effect_se < 0 or not math.isfinite(effect_se):
        raise InvalidEvidence(f"Standard error {effect_se!r} of the effect must be zero or more.")
    if not 0 <= cost_uncertainty < 1:
        raise InvalidEvidence(
            f"Cost uncertainty {cost_uncertainty!r} must be a fraction from 0 up to (not) 1."
        )
    if draws < 1:
        raise InvalidEvidence(f"Draws {draws!r} must be at least 1; 10,000 is usual.")
    value = present_value(value_per_unit_effect, discount_rate)
    cost = present_value(costs, discount_rate)
    rng = np.random.default_rng(seed)
    effects = rng.normal(effect, effect_se, draws)
    multipliers = rng.uniform(1 - cost_uncertainty, 1 + cost_uncertainty, draws)
    net = effects * value - multipliers * cost
    chance = float(np.mean(net > 0))
    return BenefitRisk(
        chance_benefits_exceed_costs=chance,
        monte_carlo_error=math.sqrt(chance * (1 - chance) / draws),
        draws=draws,
        seed=seed,
        mean_net_present_value=float(np.mean(net)),
        net_present_value_5th=float(np.percentile(net, 5)),
        net_present_value_95th=float(np.percentile(net, 95)),
        cost_uncertainty=cost_uncertainty,
    )
