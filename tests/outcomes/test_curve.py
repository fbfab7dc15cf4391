"""The curve for one authority: the forecast equals an OLS prediction worked out here with
numpy, and the neighbours' mean and median equal the CSV's."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Iterator

import numpy as np
import pytest
from scipy import stats
from sqlalchemy.orm import Session

from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.data import published_file
from whatworks.outcomes import curve
from whatworks.outcomes.catalogue import indicator
from whatworks.outcomes.published import SYMBOLS, import_published
from whatworks.places.places import local_authority

C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"


@pytest.fixture(scope="module")
def store(module_database_url: str) -> Iterator[Session]:
    engine = create_db_engine(module_database_url)
    with make_session_factory(engine)() as session:
        import_published(session, [published_file(C1)])
        session.commit()
        yield session
    engine.dispose()


def cells() -> dict[tuple[str, str], str]:
    with published_file(C1).open(encoding="utf-8-sig", newline="") as handle:
        return {
            (r["old_la_code"], r["time_period"]): r["rereferral_percent"]
            for r in csv.DictReader(handle)
            if r["geographic_level"] == "Local authority"
        }


def test_forecast_is_the_ols_prediction_with_an_80_percent_interval(store) -> None:
    found = curve.build(
        store, local_authority(store, "302"), indicator("rereferral_percent"), None
    ).as_dict()
    published = cells()
    y = np.array([float(published[("302", str(year))]) for year in range(2013, 2026)])
    x = np.arange(len(y), dtype=float)
    design = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ beta
    s2 = residual @ residual / (len(y) - 2)
    inverse = np.linalg.inv(design.T @ design)
    t = stats.t.ppf(0.9, len(y) - 2)
    for step, point in enumerate(found["forecast"], start=len(y)):
        x0 = np.array([1.0, float(step)])
        centre = x0 @ beta
        half = t * np.sqrt(s2 * (1 + x0 @ inverse @ x0))
        assert point["period"] == str(2013 + step)
        assert point["value"] == pytest.approx(centre)
        assert point["lower"] == pytest.approx(centre - half)
        assert point["upper"] == pytest.approx(centre + half)
    assert [h["period"] for h in found["history"]] == [str(y) for y in range(2013, 2026)]
    assert found["verdict"]["code"] == "no verdict"
    assert found["spc"]["points_used"] == 13 and found["spc"]["upper_limit"] is not None


def test_neighbours_mean_and_median_each_year(store) -> None:
    la = local_authority(store, "302")
    found = curve.build(store, la, indicator("rereferral_percent"), None).as_dict()
    published = cells()
    with published_file("sn_model_2025_wide.csv").open(encoding="utf-8-sig") as handle:
        row = next(r for r in csv.DictReader(handle) if r["old_la_code"] == "302")
    group = [row[f"SN_{n}"] for n in range(1, 11)]
    for mean, median in zip(found["neighbours_mean"], found["neighbours_median"], strict=True):
        values = [
            float(published[(c, mean["period"])])
            for c in group
            if published.get((c, mean["period"]), "x") not in SYMBOLS
        ]
        assert mean["used"] == len(values)
        assert mean["value"] == round(statistics.fmean(values), 2)
        assert median["value"] == round(statistics.median(values), 2)
