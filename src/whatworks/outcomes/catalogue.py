"""The indicator catalogue, read from `catalogue.toml`: what each indicator means, its
polarity and powers, the outcomes it serves, and which published figure it is.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from whatworks.core.errors import NotFound

POLARITIES = ("higher is better", "lower is better", "no polarity")
POWERS = ("communication", "proxy", "data")
POWER_LEVELS = {"H": "high", "M": "medium", "L": "low"}
POPULATION_SOURCE = "ons_mid-year_population_estimates_2012_to_2024"
POPULATION_MEASURE = "population_estimate"
ECM_OUTCOMES = (
    "Be healthy",
    "Stay safe",
    "Enjoy and achieve",
    "Make a positive contribution",
    "Achieve economic well-being",
)
FRAMEWORK_OUTCOMES = (
    "Children, young people and families stay together and get the help they need",
    "Children and young people are supported by their family network",
    "Children and young people are safe in and outside of their homes",
    "Children in care and care leavers have stable, loving homes",
)


@dataclass(frozen=True)
class Indicator:
    """An outcome indicator and where its figures come from.

    Either `source`/`measure`/`filters` name one published figure, or `rate_of` names a
    published count that is turned into a rate per 10,000 children aged 0 to 17.
    """

    id: str
    title: str
    lay: str
    technical: str
    unit: str
    polarity: str
    population: str
    ecm: str
    framework: str
    powers: dict[str, str]
    source: str = ""
    measure: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    rate_of: dict[str, str] = field(default_factory=dict)
    headline: bool = False
    note: str = ""

    @property
    def computed(self) -> bool:
        """Whether whatworks computes the figure (a rate from a count and a population)."""
        return bool(self.rate_of)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The published files the indicator reads."""
        if self.computed:
            return (self.rate_of["source"], POPULATION_SOURCE)
        return (self.source,)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "lay_definition": self.lay,
            "technical_definition": self.technical,
            "unit": self.unit,
            "polarity": self.polarity,
            "population": self.population,
            "every_child_matters_outcome": self.ecm,
            "national_framework_outcome": self.framework,
            "powers": {power: POWER_LEVELS[self.powers[power]] for power in POWERS},
            "source": {
                "file": f"{self.source}.csv",
                "measure": self.measure,
                "filters": self.filters,
            }
            if self.source
            else None,
            "computed_rate_of": {
                "file": f"{self.rate_of['source']}.csv",
                "measure": self.rate_of["measure"],
                "per": 10_000,
                "population": f"{POPULATION_SOURCE}.csv",
            }
            if self.computed
            else None,
            "default_headline": self.headline,
            "note": self.note,
        }


def _check(item: Indicator) -> None:
    problems = []
    if item.polarity not in POLARITIES:
        problems.append(f"polarity {item.polarity!r}")
    if item.ecm not in ECM_OUTCOMES:
        problems.append(f"Every Child Matters outcome {item.ecm!r}")
    if item.framework not in FRAMEWORK_OUTCOMES:
        problems.append(f"National Framework outcome {item.framework!r}")
    if set(item.powers) != set(POWERS) or not set(item.powers.values()) <= set(POWER_LEVELS):
        problems.append(f"powers {item.powers!r}")
    if bool(item.source) == item.computed:
        problems.append("it needs either source and measure, or rate_of")
    if problems:
        raise ValueError(f"catalogue.toml, indicator {item.id}: unknown {'; '.join(problems)}")


@lru_cache(maxsize=1)
def catalogue() -> tuple[Indicator, ...]:
    """Every indicator, in catalogue order."""
    text = files("whatworks.outcomes").joinpath("catalogue.toml").read_text(encoding="utf-8")
    items = tuple(Indicator(**entry) for entry in tomllib.loads(text)["indicator"])
    for item in items:
        _check(item)
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError("catalogue.toml: an indicator id is used twice")
    return items


def indicator(indicator_id: str) -> Indicator:
    """One indicator by id."""
    for item in catalogue():
        if item.id == indicator_id:
            return item
    raise NotFound(f"No indicator {indicator_id!r}; see /indicators for the list.")


def default_headline() -> tuple[Indicator, ...]:
    """The default headline indicators, used until a council chooses its own."""
    return tuple(item for item in catalogue() if item.headline)
