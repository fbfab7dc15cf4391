"""Baseline forecasts: the linear interval against the textbook formula in numpy, period
labels, the damped trend, adjustments and every verdict.

Expected numbers come from an independent numpy computation or are written by hand.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from whatworks.outcomes.forecast import (
    ForecastPoint,
    adjust_forecast,
    damped_forecast,
    linear_forecast,
    next_period,
    points_from_dicts,
    verdict,
)
from whatworks.outcomes.series import SeriesPoint


def textbook(x: list[float], y: list[float], x_new: list[float]) -> list[tuple[float, ...]]:
    """OLS prediction and 80% prediction interval by the textbook formula."""
    X = np.column_stack([np.ones(len(x)), np.asarray(x, float)])
    beta = np.linalg.solve(X.T @ X, X.T @ np.asarray(y, float))
    residuals = np.asarray(y, float) - X @ beta
    n = len(x)
    s = math.sqrt(float(residuals @ residuals) / (n - 2))  # s² = SSE / (n − 2)
    inverse = np.linalg.inv(X.T @ X)
    t = stats.t.ppf(0.9, n - 2)  # two-sided 80%: 10% in each tail
    found = []
    for x0 in x_new:
        v = np.array([1.0, x0])
        centre = float(v @ beta)
        se_pred = s * math.sqrt(1 + float(v @ inverse @ v))
        found.append((centre, centre - t * se_pred, centre + t * se_pred))
    return found


CLA = [("2021", 70.0), ("2022", 72.0), ("2023", 71.0), ("2024", 75.0), ("2025", 76.0)]


def test_linear_forecast_matches_the_textbook_prediction_interval() -> None:
    forecast = linear_forecast(CLA, horizon=3)
    expected = textbook([0, 1, 2, 3, 4], [70, 72, 71, 75, 76], [5, 6, 7])
    assert forecast.method == "linear" and forecast.based_on == 5
    assert [p.period for p in forecast.points] == ["2026", "2027", "2028"]
    for point, (centre, lower, upper) in zip(forecast.points, expected, strict=True):
        assert point.value == pytest.approx(centre)
        assert point.lower == pytest.approx(lower)
        assert point.upper == pytest.approx(upper)
    # By hand: slope = Σ(x - 2)(y - 72.8) / Σ(x - 2)² = 15/10 = 1.5, intercept 72.8 - 3 = 69.8,
    # so 2026 (x = 5) is 69.8 + 7.5 = 77.3.
    assert forecast.points[0].value == pytest.approx(77.3)


def test_a_missing_year_keeps_its_place_on_the_time_axis() -> None:
    gappy = [("2019", 10.0), ("2020", None), ("2021", 14.0), ("2022", 15.0), ("2023", 18.0)]
    forecast = linear_forecast(gappy, horizon=2)
    expected = textbook([0, 2, 3, 4], [10, 14, 15, 18], [5, 6])
    assert forecast.based_on == 4 and forecast.history == ("2019", "2021", "2022", "2023")
    for point, (centre, lower, upper) in zip(forecast.points, expected, strict=True):
        assert (point.value, point.lower, point.upper) == pytest.approx((centre, lower, upper))
    # Trailing suppressed figures push the forecast out: 2024 is x = 5, 2025 x = 6.
    trailing = linear_forecast([*CLA, ("2026", None)], horizon=1)
    assert trailing.points[0].period == "2027"
    assert trailing.points[0].value == pytest.approx(
        textbook([0, 1, 2, 3, 4], [70, 72, 71, 75, 76], [6])[0][0]
    )


def test_period_labels() -> None:
    assert next_period("2025") == "2026"
    assert next_period("202425") == "202526"
    assert next_period("199900") == "200001"
    with pytest.raises(ValueError):
        next_period("2024/25")
    academic = [("202122", 1.0), ("202223", 2.0), ("202324", 2.5), ("202425", 4.0)]
    assert [p.period for p in linear_forecast(academic, 2).points] == ["202526", "202627"]


def test_how_little_history_is_said() -> None:
    five = linear_forecast(CLA)
    assert any("only 5 published figures (2021 to 2025)" in w for w in five.warnings)
    six = linear_forecast([("2020", 69.0), *CLA])
    assert six.warnings == ()
    two = linear_forecast(CLA[:2])
    assert two.points == () and two.based_on == 2
    assert "at least 3" in two.warnings[0]


def test_series_points_and_dicts() -> None:
    points = [SeriesPoint(p, v, "value") for p, v in CLA] + [SeriesPoint("2026", None, "c")]
    assert linear_forecast(points).points[0].period == "2027"
    stored = [{"period": "2026", "value": 77.3, "lower": 74.5, "upper": 80.1}]
    assert points_from_dicts(stored) == (ForecastPoint("2026", 77.3, 74.5, 80.1),)
    assert linear_forecast(CLA).as_dict()["points"][0].keys() == {
        "period",
        "value",
        "lower",
        "upper",
    }


CIN = [50, 52, 55, 57, 60, 61, 63, 64, 64.5, 65, 65.2, 65.3, 65.4]


def test_damped_trend_is_finite_and_widens() -> None:
    forecast = damped_forecast([(str(2013 + i), v) for i, v in enumerate(CIN)], horizon=5)
    assert forecast.method == "damped trend" and forecast.based_on == 13
    assert [p.period for p in forecast.points] == ["2026", "2027", "2028", "2029", "2030"]
    widths = []
    for point in forecast.points:
        assert point.lower is not None and point.upper is not None
        assert all(math.isfinite(v) for v in (point.value, point.lower, point.upper))
        assert point.lower <= point.value <= point.upper
        widths.append(point.upper - point.lower)
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(widths))


def test_damped_trend_steps_over_a_trailing_suppressed_year() -> None:
    years = [(str(2013 + i), v) for i, v in enumerate(CIN)]
    three = damped_forecast(years, horizon=3)
    later = damped_forecast([*years, ("2026", None)], horizon=2)
    assert [p.period for p in later.points] == ["2027", "2028"]
    assert later.points == three.points[1:]
    with pytest.raises(ValueError):
        damped_forecast(years, horizon=0)
    with pytest.raises(ValueError):
        linear_forecast(years, horizon=0)


def test_damped_trend_falls_back_to_linear_with_a_reason() -> None:
    short = damped_forecast(CLA)
    assert short.method == "linear"
    assert "needs at least 10 published figures and this series has 5" in short.warnings[0]
    assert short.points == linear_forecast(CLA).points
    values: list[float | None] = list(CIN)
    values[5] = None
    gappy = damped_forecast([(str(2013 + i), v) for i, v in enumerate(values)])
    assert gappy.method == "linear" and "gaps" in gappy.warnings[0]


def test_adjustments_move_the_value_and_keep_the_interval_width() -> None:
    forecast = linear_forecast(CLA)
    before = forecast.points[1]
    adjusted = adjust_forecast(forecast, {"2027": 74.0})
    after = adjusted.points[1]
    assert adjusted.method == "adjusted from linear" and adjusted.adjusted == ("2027",)
    assert after.value == 74.0
    assert after.lower == pytest.approx(before.lower - (before.value - 74.0))  # type: ignore[operator]
    assert after.upper == pytest.approx(before.upper - (before.value - 74.0))  # type: ignore[operator]
    assert adjusted.points[0] == forecast.points[0] and adjusted.points[2] == forecast.points[2]
    again = adjust_forecast(adjusted, {"2028": 75.0})
    assert again.method == "adjusted from linear" and again.adjusted == ("2027", "2028")
    with pytest.raises(ValueError):
        adjust_forecast(forecast, {"2030": 1.0})


# A frozen baseline written by hand: rising 50, 52, 54 with ±3 intervals.
RISING = (
    ForecastPoint("2026", 50.0, 47.0, 53.0),
    ForecastPoint("2027", 52.0, 49.0, 55.0),
    ForecastPoint("2028", 54.0, 51.0, 57.0),
)


def test_verdict_curve_turned() -> None:
    # Lower is better and the baseline rises (worsening). 2026: 49 beats the 2025 figure
    # (51) and the forecast (50), though it is inside the interval: the curve has turned.
    found = verdict(RISING, "lower is better", [("2025", 51.0), ("2026", 49.0)])
    assert found.code == "curve turned" and found.period == "2026" and found.actual == 49.0
    assert "turned" in found.sentence
    # Same numbers, higher is better: the baseline is improving, so no turn; 49 is inside
    # 47 to 53.
    assert (
        verdict(RISING, "higher is better", [("2025", 51.0), ("2026", 49.0)]).code == "on baseline"
    )
    # Better than the forecast but not than the year before: not a turn.
    assert (
        verdict(RISING, "lower is better", [("2025", 48.0), ("2026", 49.0)]).code == "on baseline"
    )


def test_verdicts_against_the_interval() -> None:
    history = [("2025", 51.0)]
    assert (
        verdict(RISING, "higher is better", [*history, ("2026", 53.5)]).code
        == "better than baseline"
    )
    assert (
        verdict(RISING, "higher is better", [*history, ("2026", 46.0)]).code
        == "worse than baseline"
    )
    assert verdict(RISING, "higher is better", [*history, ("2026", 53.0)]).code == "on baseline"
    # Lower is better: above the interval is worse; below it (and better than 51, so the
    # curve also turned) counts as the turn first.
    assert (
        verdict(RISING, "lower is better", [*history, ("2026", 54.0)]).code == "worse than baseline"
    )
    assert (
        verdict(RISING, "lower is better", [("2026", 52.5), ("2027", 48.0)]).code == "curve turned"
    )
    # The latest forecast period with a number is judged; earlier ones are history.
    later = verdict(RISING, "higher is better", [("2026", 40.0), ("2027", None), ("2028", 58.0)])
    assert later.period == "2028" and later.code == "better than baseline"
    assert "58" in later.sentence and "51 to 57" in later.sentence


def test_verdict_falling_baseline_and_no_verdict() -> None:
    falling = tuple(ForecastPoint(p, v, v - 2, v + 2) for p, v in (("2026", 30.0), ("2027", 28.0)))
    # Higher is better and the baseline falls: 31 beats 29 (2025) and 30 (forecast).
    assert (
        verdict(falling, "higher is better", [("2025", 29.0), ("2026", 31.0)]).code
        == "curve turned"
    )
    # Lower is better, so the falling baseline is improving and cannot turn; 2026's interval
    # is 28 to 32: 27 is below it (better), 28 on its edge, 30 inside, 33 above (worse).
    earlier = [("2025", 29.0)]
    assert (
        verdict(falling, "lower is better", [*earlier, ("2026", 27.0)]).code
        == "better than baseline"
    )
    assert verdict(falling, "lower is better", [*earlier, ("2026", 28.0)]).code == "on baseline"
    assert verdict(falling, "lower is better", [*earlier, ("2026", 30.0)]).code == "on baseline"
    assert (
        verdict(falling, "lower is better", [*earlier, ("2026", 33.0)]).code
        == "worse than baseline"
    )
    assert verdict(RISING, "no polarity", [("2026", 50.0)]).code == "no verdict"
    assert verdict(RISING, "higher is better", [("2025", 50.0)]).code == "no verdict"
    with pytest.raises(ValueError):
        verdict(RISING, "up", [("2026", 50.0)])
