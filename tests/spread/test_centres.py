"""Centres of excellence: the regression and the three-year rule against hand calculations
on six made-up councils, and the directory on the bundled published data checked by an
independent calculation (numpy least squares on figures and populations read straight from
the bundled CSV files)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.data import published_file
from whatworks.outcomes.catalogue import catalogue, indicator
from whatworks.outcomes.published import import_published
from whatworks.outcomes.series import every_area
from whatworks.places.places import local_authorities, regions
from whatworks.spread.centres import (
    MIN_YEARS,
    THRESHOLD,
    CouncilYear,
    YearFit,
    centres,
    excelling,
    fit_year,
    judged_indicators,
    model,
)

COUNCILS = ["A", "B", "C", "D", "E", "F"]
X = dict(zip(COUNCILS, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], strict=True))


def test_one_region_regression_by_hand() -> None:
    # y = 1 + 2x + e with e = (2, -1, -1, -1, -1, 2): e sums to 0 and sum(x * e) = 0, so
    # OLS gives intercept 1, slope 2 and residuals e exactly. SSR = 12 on 6 - 2 = 4 degrees
    # of freedom: residual standard error sqrt(3). y = (5, 4, 6, 8, 10, 15), mean 8,
    # total sum of squares 82, so R^2 = 1 - 12/82.
    e = dict(zip(COUNCILS, [2, -1, -1, -1, -1, 2], strict=True))
    y = {c: 1 + 2 * X[c] + e[c] for c in COUNCILS}
    fit = fit_year("2025", y, X, dict.fromkeys(COUNCILS, "R1"), good=1, min_councils=6)
    assert fit is not None
    assert fit.params == pytest.approx({"const": 1.0, "log_children": 2.0})
    assert fit.residual_se == pytest.approx(math.sqrt(3))
    assert fit.r_squared == pytest.approx(1 - 12 / 82)
    for c in COUNCILS:
        assert fit.councils[c].predicted == pytest.approx(1 + 2 * X[c])
        assert fit.councils[c].standardised == pytest.approx(e[c] / math.sqrt(3))
    # lower is better: the sign turns, so B to E are better than predicted
    lower = fit_year("2025", y, X, dict.fromkeys(COUNCILS, "R1"), good=-1, min_councils=6)
    assert lower is not None
    assert lower.councils["B"].standardised == pytest.approx(1 / math.sqrt(3))
    assert lower.councils["A"].standardised == pytest.approx(-2 / math.sqrt(3))


def test_two_region_regression_by_hand() -> None:
    # y = 1 + 2x + 5 (region R2) + e, e = (1, -2, 1, -1, 2, -1): e sums to 0 within each
    # region and sum(x * e) = 1 - 4 + 3 - 4 + 10 - 6 = 0, so the residuals are e. SSR = 12
    # on 6 - 3 = 3 degrees of freedom: residual standard error 2.
    e = dict(zip(COUNCILS, [1, -2, 1, -1, 2, -1], strict=True))
    region = dict(zip(COUNCILS, ["R1", "R1", "R1", "R2", "R2", "R2"], strict=True))
    y = {c: 1 + 2 * X[c] + (5 if region[c] == "R2" else 0) + e[c] for c in COUNCILS}
    fit = fit_year("2025", y, X, region, good=-1, min_councils=6)
    assert fit is not None
    assert fit.params == pytest.approx({"const": 1.0, "log_children": 2.0, "region:R2": 5.0})
    assert fit.residual_se == pytest.approx(2.0)
    assert {c: p.standardised for c, p in fit.councils.items()} == pytest.approx(
        {c: -e[c] / 2 for c in COUNCILS}
    )
    assert fit_year("2025", y, X, region, good=1) is None  # fewer than 30 councils


def _year(period: str, scores: dict[str, float]) -> YearFit:
    return YearFit(
        period,
        len(scores),
        {},
        1.0,
        0.5,
        {c: CouncilYear(period, 0, 0, z) for c, z in scores.items()},
    )


def test_the_rule_needs_three_consecutive_years_up_to_the_latest() -> None:
    fits = [
        _year("2021", {"A": 0.2, "B": 1.5, "C": 1.1, "D": 1.2, "E": 1.0}),
        _year("2022", {"A": 1.0, "B": 1.5, "C": 1.2, "D": 1.3, "E": 1.0}),
        _year("2023", {"A": 1.4, "B": 0.9, "C": 1.3, "D": 1.1, "E": 1.0}),
        _year("2024", {"A": 1.1, "B": 1.8, "C": 1.4, "D": 0.99}),
    ]
    found = excelling(fits)
    # A: 2022-2024; C: all four years. B misses 2023 (a run of 1 at the end); D misses the
    # latest year; E has no figure for the latest year.
    assert set(found) == {"A", "C"}
    assert [p.period for p in found["A"]] == ["2022", "2023", "2024"]
    assert [p.period for p in found["C"]] == ["2021", "2022", "2023", "2024"]
    assert THRESHOLD == 1.0 and MIN_YEARS == 3
    # a gap in the years breaks the run
    gapped = [_year("2019", {"A": 2.0}), _year("2021", {"A": 2.0}), _year("2022", {"A": 2.0})]
    assert excelling(gapped) == {}


# ---------------------------------------------------------------------------------------
# the bundled published data


@pytest.fixture(scope="module")
def published_store(module_database_url: str) -> Iterator[Session]:
    """Every file the indicator catalogue reads, imported once for the module."""
    engine = create_db_engine(module_database_url)
    names = sorted({name for item in catalogue() for name in item.datasets})
    with make_session_factory(engine)() as session:
        import_published(session, [published_file(f"{name}.csv") for name in names])
        session.commit()
        yield session
    engine.dispose()


def _populations() -> dict[tuple[str, int], float]:
    """ONS children aged 0 to 17 by (old LA code, year), read straight from the file."""
    found = {}
    path = published_file("ons_mid-year_population_estimates_2012_to_2024.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["geographic_level"] == "Local authority" and row["population_estimate"] != "x":
                found[(row["old_la_code"], int(row["time_period"]))] = float(
                    row["population_estimate"]
                )
    return found


def _independent(session: Session, indicator_id: str) -> dict[str, list[str]]:
    """Councils meeting the rule on one indicator, by numpy least squares: residual over
    sqrt(SSR / (n - p)) at least 1 in the good direction in each of 3+ consecutive years
    ending in the latest year."""
    item = indicator(indicator_id)
    good = 1 if item.polarity == "higher is better" else -1
    current = {la.old_la_code: la for la in local_authorities(session)}
    parent = {r.code: r.parent_code or r.code for r in regions(session, top_level_only=False)}
    population = _populations()
    series = every_area(session, item)
    periods = sorted({p.period for pts in series.values() for p in pts})
    z_by_year: dict[int, dict[str, float]] = {}
    for period in periods:
        year = int(period)
        rows = []
        for old, pts in series.items():
            value = next((p.value for p in pts if p.period == period and p.status == "value"), None)
            if old in current and value is not None and (old, year - 1) in population:
                rows.append((old, value, math.log(population[(old, year - 1)])))
        if len(rows) < 30:
            continue
        areas = sorted({parent[current[old].region_code] for old, _, _ in rows})
        x = np.array(
            [
                [1.0, logn]
                + [1.0 if parent[current[old].region_code] == a else 0.0 for a in areas[1:]]
                for old, _, logn in rows
            ]
        )
        y = np.array([value for _, value, _ in rows])
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        residuals = y - x @ beta
        s = math.sqrt(float(residuals @ residuals) / (len(rows) - x.shape[1]))
        z_by_year[year] = {
            old: good * r / s for (old, _, _), r in zip(rows, residuals, strict=True)
        }
    latest = max(z_by_year)
    found = {}
    for old in current:
        run: list[str] = []
        year = latest
        while old in z_by_year.get(year, {}) and z_by_year[year][old] >= 1.0:
            run.insert(0, str(year))
            year -= 1
        if len(run) >= 3:
            found[old] = run
    return found


@pytest.mark.slow
def test_directory_on_published_data_meets_the_rule(published_store: Session) -> None:
    directory = centres(published_store)
    assert directory, "no council is a centre of excellence on the bundled data"
    listed = {
        (c.la.old_la_code, t.indicator.id): [y.period for y in t.years]
        for c in directory
        for t in c.topics
    }
    expected = {
        (old, item.id): run
        for item in judged_indicators()
        if model(published_store).fits[item.id]
        for old, run in _independent(published_store, item.id).items()
    }
    assert listed == expected
    for centre in directory:
        for topic in centre.topics:
            assert len(topic.years) >= MIN_YEARS
            assert all(y.standardised >= THRESHOLD for y in topic.years)
    # filtering by an indicator keeps only its topic
    only = centres(published_store, "care_leavers_eet_19_21_percent")
    assert only and all(
        [t.indicator.id for t in c.topics] == ["care_leavers_eet_19_21_percent"] for c in only
    )
    assert {c.la.old_la_code for c in only} == {
        old for old, item_id in listed if item_id == "care_leavers_eet_19_21_percent"
    }
