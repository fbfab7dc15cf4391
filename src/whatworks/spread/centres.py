"""Centres of excellence: councils whose outcomes are better than their context predicts,
year after year, with the topics they excel at and the interventions they run.

For each indicator with a good direction and each published year, an ordinary least squares
regression of the councils' figures on their context (log of children aged 0 to 17, and
region) gives each council a predicted figure; its residual divided by the regression's
residual standard error, signed so that positive is better, is its standardised residual.
A council is a centre of excellence on an indicator when that is at least THRESHOLD in each
of at least MIN_YEARS consecutive years up to the latest published year. Model and references:
docs/methods/centres-of-excellence.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from threading import Lock
from typing import Any

import numpy as np
import statsmodels.api as sm
from sqlalchemy.orm import Session

from whatworks.outcomes.catalogue import Indicator, catalogue, indicator
from whatworks.outcomes.scorecard import Context, load_context
from whatworks.outcomes.series import previous_period
from whatworks.places.models import LocalAuthority
from whatworks.places.places import regions
from whatworks.spread.adoption import ADOPTED, Adoption, place_history
from whatworks.spread.similar import child_populations

#: Standardised residual (in the good direction) a council must reach in a year.
THRESHOLD = 1.0
#: Consecutive years it must reach it in.
MIN_YEARS = 3
#: Fewest councils with a figure and a context for a year's regression to be fitted.
MIN_COUNCILS = 30


@dataclass(frozen=True)
class CouncilYear:
    """One council in one year's regression."""

    period: str
    actual: float
    predicted: float
    standardised: float  # residual / residual standard error, positive = better

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "actual": round(self.actual, 3),
            "predicted": round(self.predicted, 3),
            "standardised_residual": round(self.standardised, 3),
        }


@dataclass(frozen=True)
class YearFit:
    """One indicator's regression on context in one year."""

    period: str
    n: int
    params: dict[str, float]
    residual_se: float
    r_squared: float
    councils: dict[str, CouncilYear]  # by council code

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "councils": self.n,
            "coefficients": {k: round(v, 6) for k, v in self.params.items()},
            "residual_standard_error": round(self.residual_se, 6),
            "r_squared": round(self.r_squared, 4),
        }


def design(
    codes: list[str], log_children: Mapping[str, float], region: Mapping[str, str]
) -> tuple[np.ndarray, list[str]]:
    """The design matrix: a constant, log children, and one dummy for each region present
    other than the first (alphabetically), which is the baseline."""
    present = sorted({region[c] for c in codes})
    names = ["const", "log_children"] + [f"region:{r}" for r in present[1:]]
    rows = [
        [1.0, log_children[c]] + [1.0 if region[c] == r else 0.0 for r in present[1:]]
        for c in codes
    ]
    return np.array(rows, dtype=float), names


def fit_year(
    period: str,
    values: Mapping[str, float],
    log_children: Mapping[str, float],
    region: Mapping[str, str],
    good: int,
    min_councils: int = MIN_COUNCILS,
) -> YearFit | None:
    """OLS of one year's figures on context; None with too few councils or a perfect fit.
    `good` is +1 when higher is better and -1 when lower is better."""
    codes = sorted(c for c in values if c in log_children and c in region)
    if len(codes) < min_councils:
        return None
    x, names = design(codes, log_children, region)
    y = np.array([values[c] for c in codes], dtype=float)
    if len(codes) <= x.shape[1]:
        return None
    fitted = sm.OLS(y, x).fit()
    residual_se = math.sqrt(float(fitted.scale))
    if not residual_se > 1e-12:
        return None
    predicted = fitted.fittedvalues
    councils = {
        c: CouncilYear(
            period,
            float(y[i]),
            float(predicted[i]),
            good * float(y[i] - predicted[i]) / residual_se,
        )
        for i, c in enumerate(codes)
    }
    return YearFit(
        period=period,
        n=len(codes),
        params=dict(zip(names, (float(p) for p in fitted.params), strict=True)),
        residual_se=residual_se,
        r_squared=float(fitted.rsquared),
        councils=councils,
    )


def year_of(period: str) -> int:
    """The calendar year a period starts in: 2025 -> 2025, 202425 -> 2024."""
    return int(period[:4])


def current_run(years: list[CouncilYear], latest: str) -> list[CouncilYear]:
    """The run of consecutive years at or above THRESHOLD that ends in `latest` (the
    indicator's latest fitted year), oldest first; empty if the latest year falls short."""
    by_year = {year_of(p.period): p for p in years}
    run: list[CouncilYear] = []
    year = year_of(latest)
    while year in by_year and by_year[year].standardised >= THRESHOLD:
        run.insert(0, by_year[year])
        year -= 1
    return run


def excelling(fits: list[YearFit], min_years: int = MIN_YEARS) -> dict[str, list[CouncilYear]]:
    """Councils at or above THRESHOLD in each of at least `min_years` consecutive years up
    to the latest fitted year, with that run, from one indicator's yearly fits."""
    if not fits:
        return {}
    latest = max((f.period for f in fits), key=year_of)
    by_council: dict[str, list[CouncilYear]] = {}
    for fit in fits:
        for code, point in fit.councils.items():
            by_council.setdefault(code, []).append(point)
    found = {}
    for code, years in by_council.items():
        run = current_run(years, latest)
        if len(run) >= min_years:
            found[code] = run
    return found


@dataclass(frozen=True)
class Topic:
    """An indicator a council excels at, with the run of years that shows it."""

    indicator: Indicator
    years: list[CouncilYear]

    @property
    def mean_standardised(self) -> float:
        return sum(y.standardised for y in self.years) / len(self.years)

    def as_dict(self) -> dict[str, Any]:
        return {
            "indicator": {
                "id": self.indicator.id,
                "title": self.indicator.title,
                "polarity": self.indicator.polarity,
                "unit": self.indicator.unit,
            },
            "years": [y.as_dict() for y in self.years],
            "mean_standardised_residual": round(self.mean_standardised, 3),
        }


@dataclass
class Centre:
    """A centre of excellence: a council, what it excels at, and what it runs."""

    la: LocalAuthority
    region_name: str
    topics: list[Topic]
    adoptions: list[Adoption] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "la_code": self.la.new_la_code,
            "old_la_code": self.la.old_la_code,
            "name": self.la.name,
            "region": self.region_name,
            "url": f"/places/{self.la.new_la_code}",
            "topics": [t.as_dict() for t in self.topics],
            "interventions": [a.as_dict() for a in self.adoptions],
        }


@dataclass
class Model:
    """Every indicator's yearly fits, and who excels at what (by old LA code)."""

    fits: dict[str, list[YearFit]]
    excelling: dict[str, dict[str, list[CouncilYear]]]  # indicator id -> old code -> run


def judged_indicators() -> list[Indicator]:
    """The catalogue's indicators that have a good direction."""
    return [i for i in catalogue() if i.polarity in ("higher is better", "lower is better")]


def council_context(
    session: Session, context: Context
) -> tuple[dict[str, dict[str, float]], dict[str, str], dict[str, str]]:
    """Each current council's log children aged 0 to 17 by year, its top-level region
    (London's inner and outer parts are London) and the regions' names, by old code."""
    parents = {r.code: r.parent_code or r.code for r in regions(session, top_level_only=False)}
    names = {r.code: r.name for r in regions(session)}
    populations = child_populations(session)
    logs = {
        old: {year: math.log(n) for year, n in populations.get(old, {}).items()}
        for old in context.current
    }
    region = {
        old: parents.get(la.region_code, la.region_code) for old, la in context.current.items()
    }
    return logs, region, names


def population_for(by_year: Mapping[str, float], period: str) -> float | None:
    """The log estimate for the year before the period (the DfE's convention for rates);
    None (the council is left out of that year's fit) when there is none."""
    return by_year.get(previous_period(period[:4]))


def fit_model(session: Session, context: Context) -> Model:
    """Fit every judged indicator in every year it has enough councils for."""
    logs, region, _ = council_context(session, context)
    fits: dict[str, list[YearFit]] = {}
    found: dict[str, dict[str, list[CouncilYear]]] = {}
    for item in judged_indicators():
        periods = sorted(
            {
                p.period
                for pts in context.by_level["Local authority"].get(item.id, {}).values()
                for p in pts
            }
        )
        good = 1 if item.polarity == "higher is better" else -1
        yearly = []
        for period in periods:
            log_children = {
                old: value
                for old, by_year in logs.items()
                if (value := population_for(by_year, period)) is not None
            }
            fit = fit_year(period, context.at_period(item, period), log_children, region, good)
            if fit is not None:
                yearly.append(fit)
        fits[item.id] = yearly
        found[item.id] = excelling(yearly)
    return Model(fits, found)


_models: dict[int, tuple[Context, Model]] = {}
_lock = Lock()


def model(session: Session) -> Model:
    """The fitted model, kept until the published figures change (as the scorecard is)."""
    context = load_context(session)
    with _lock:
        held = _models.get(id(context))
        if held is None or held[0] is not context:
            _models.clear()
            held = _models[id(context)] = (context, fit_model(session, context))
        return held[1]


def centres(
    session: Session, indicator_id: str | None = None, today: date | None = None
) -> list[Centre]:
    """The directory: every council that is a centre of excellence (on `indicator_id`
    only, when given), the most topics first, then by name."""
    chosen = [indicator(indicator_id)] if indicator_id else judged_indicators()
    fitted = model(session)
    context = load_context(session)
    _, region, names = council_context(session, context)
    by_council: dict[str, list[Topic]] = {}
    for item in chosen:
        for old, run in fitted.excelling.get(item.id, {}).items():
            by_council.setdefault(old, []).append(Topic(item, run))
    found = []
    for old, topics in by_council.items():
        la = context.current[old]
        topics.sort(key=lambda t: -t.mean_standardised)
        adoptions = [
            a for a in place_history(session, la.new_la_code, today) if a.outcome in ADOPTED
        ]
        found.append(Centre(la, names.get(region[old], ""), topics, adoptions))
    found.sort(key=lambda c: (-len(c.topics), c.la.name))
    return found
