"""XmR charts: limits worked by hand, each rule firing and not firing, and the icons.

Every expected number is worked out in the test, never taken from the module's output.
"""

from __future__ import annotations

import pytest

from whatworks.outcomes.series import SeriesPoint
from whatworks.outcomes.spc import (
    MIN_POINTS_FOR_LIMITS,
    assurance_icon,
    variation_icon,
    xmr_chart,
)


def series(values: list[float | None], start: int = 2001) -> list[tuple[str, float | None]]:
    return [(str(start + i), v) for i, v in enumerate(values)]


def rules(chart: object) -> list[str]:
    return [s.rule for s in chart.signals]  # type: ignore[attr-defined]


# 13 points, no signal. By hand:
#   sum = 10+12+11+13+12+14+13+12+11+13+12+14+13 = 160, mean = 160/13 = 12.3077
#   moving ranges 2,1,2,1,2,1,1,1,2,1,2,1: sum 17 over 12, mean MR = 17/12 = 1.41667
#   limits = 160/13 ± 2.66 × 17/12 = 12.3077 ± 3.76833 -> 16.0760 and 8.5394
#   sigma = (17/12) / 1.128 = 1.25591; 2 sigma lines 14.8195 and 9.7959
STEADY = [10, 12, 11, 13, 12, 14, 13, 12, 11, 13, 12, 14, 13]


def test_limits_of_a_small_series_match_the_hand_calculation() -> None:
    chart = xmr_chart(series(STEADY))
    mean, mr = 160 / 13, 17 / 12
    assert chart.used == 13 and chart.has_limits
    assert chart.mean == pytest.approx(12.307692, abs=1e-6)
    assert chart.mean_moving_range == pytest.approx(1.416667, abs=1e-6)
    assert chart.upper_limit == pytest.approx(mean + 2.66 * mr)
    assert chart.upper_limit == pytest.approx(16.07603, abs=1e-5)
    assert chart.lower_limit == pytest.approx(8.53936, abs=1e-5)
    assert chart.sigma == pytest.approx(1.255910, abs=1e-6)
    assert chart.upper_two_sigma == pytest.approx(14.81951, abs=1e-5)
    assert chart.lower_two_sigma == pytest.approx(9.79587, abs=1e-5)
    assert chart.upper_one_sigma == pytest.approx(13.56360, abs=1e-5)
    assert chart.lower_one_sigma == pytest.approx(11.05178, abs=1e-5)
    # No point beyond the limits or 2 sigma; the longest run on one side is 3 (10, 12, 11
    # below 12.31) and the longest trend 4 (14, 13, 12, 11).
    assert chart.signals == ()
    assert variation_icon(chart, "higher is better").code == "common cause"


def test_too_few_points_give_no_limits_and_say_so() -> None:
    chart = xmr_chart(series(STEADY[:12]))
    assert MIN_POINTS_FOR_LIMITS == 13
    assert not chart.has_limits
    assert chart.upper_limit is None and chart.lower_limit is None and chart.sigma is None
    assert chart.upper_two_sigma is None and chart.lower_one_sigma is None
    assert any("Only 12 published figures" in note and "13" in note for note in chart.notes)
    assert assurance_icon(chart, "higher is better", 5) is None


# A spike: 9, 11 six times, then 20. By hand: mean = (54 + 66 + 20)/13 = 140/13 = 10.769;
# moving ranges 2 × 11 and |20 - 11| = 9: mean MR = 31/12 = 2.58333; upper limit
# 10.76923 + 2.66 × 2.58333 = 10.76923 + 6.87167 = 17.64090 (< 20); lower limit 3.89756;
# 2 sigma above = 10.76923 + 2 × 2.29019 = 15.34961, which only the 20 passes.
SPIKE = [9, 11] * 6 + [20]


def test_a_point_outside_the_limits() -> None:
    chart = xmr_chart(series(SPIKE))
    assert chart.upper_limit == pytest.approx(140 / 13 + 2.66 * 31 / 12)
    assert chart.upper_limit == pytest.approx(17.6409, abs=1e-4)
    assert chart.lower_limit == pytest.approx(3.8976, abs=1e-4)
    assert rules(chart) == ["outside limits"]
    assert chart.signals[0].periods == ("2013",) and chart.signals[0].direction == "up"


def test_variation_icon_reads_the_last_point_through_polarity() -> None:
    chart = xmr_chart(series(SPIKE))
    assert variation_icon(chart, "higher is better").code == "special cause improvement"
    assert variation_icon(chart, "lower is better").code == "special cause concern"
    neither = variation_icon(chart, "no polarity")
    assert neither.code == "special cause no direction"
    assert "above the upper process limit" in neither.label
    # The same spike in the middle does not touch the last point: common cause.
    middle = xmr_chart(series([9, 11] * 3 + [20] + [11, 9] * 3))
    assert rules(middle) == ["outside limits"]
    assert variation_icon(middle, "higher is better").code == "common cause"


def test_assurance_icon_from_the_target_against_the_limits() -> None:
    chart = xmr_chart(series(SPIKE))  # limits 3.897 to 17.641
    assert assurance_icon(chart, "higher is better", 2).code == "pass"  # type: ignore[union-attr]
    assert assurance_icon(chart, "higher is better", 18).code == "fail"  # type: ignore[union-attr]
    assert assurance_icon(chart, "lower is better", 18).code == "pass"  # type: ignore[union-attr]
    assert assurance_icon(chart, "lower is better", 2).code == "fail"  # type: ignore[union-attr]
    hit = assurance_icon(chart, "higher is better", 10)
    assert hit is not None and hit.code == "hit or miss"
    assert "sometimes" in hit.label
    assert assurance_icon(chart, "higher is better", None) is None
    assert assurance_icon(chart, "no polarity", 10) is None


# Shifts: 1, 2, 1, 2 then 5, 6, 5, 6, 5, 6: mean = (6 + 33)/10 = 3.9, so the last six are
# above it and the first four below. Ten points: no limits, shifts and trends only.
SIX_ABOVE = [1, 2, 1, 2, 5, 6, 5, 6, 5, 6]


def test_a_shift_of_six_fires_with_run_length_six_not_seven() -> None:
    six = xmr_chart(series(SIX_ABOVE), run_length=6)
    assert rules(six) == ["shift"]
    assert six.signals[0].periods == tuple(str(y) for y in range(2005, 2011))
    assert six.signals[0].direction == "up"
    assert rules(xmr_chart(series(SIX_ABOVE), run_length=7)) == []
    # Seven above: 1, 2, 1 then 5, 6, 5, 6, 5, 6, 5 (mean (4 + 38)/10 = 4.2).
    seven = xmr_chart(series([1, 2, 1, 5, 6, 5, 6, 5, 6, 5]), run_length=7)
    assert rules(seven) == ["shift"] and len(seven.signals[0].periods) == 7


def test_a_point_on_the_mean_breaks_a_shift() -> None:
    # 0 ×3, 10 ×3, 5, 10 ×4, 0 ×4: sum 75 over 15 points, mean exactly 5, so the 5 sits on
    # the mean and splits the eight 10s' neighbours into runs of 3 and 4 above.
    on_mean = xmr_chart(series([0, 0, 0, 10, 10, 10, 5, 10, 10, 10, 10, 0, 0, 0, 0]))
    assert on_mean.mean == 5
    assert "shift" not in rules(on_mean)
    # With 10 in its place (mean 80/15 = 5.33) the run is 7 above, and it is a shift.
    above = xmr_chart(series([0, 0, 0, 10, 10, 10, 10, 10, 10, 10, 10, 0, 0, 0, 0]))
    shifts = [s for s in above.signals if s.rule == "shift"]
    assert [s.periods for s in shifts] == [tuple(str(y) for y in range(2004, 2012))]


def test_trends_of_six_and_seven_and_ties() -> None:
    rising = xmr_chart(series([1, 2, 3, 4, 5, 6, 7]))  # mean 4: 3 below, 1 on, 3 above
    assert rules(rising) == ["trend"] and rising.signals[0].direction == "up"
    assert len(rising.signals[0].periods) == 7
    assert variation_icon(rising, "lower is better").code == "special cause concern"
    falling = xmr_chart(series([7, 6, 5, 4, 3, 2, 1]))
    assert rules(falling) == ["trend"] and falling.signals[0].direction == "down"
    # 3, then 1..6 rising (six points), then 2: mean 26/8 = 3.25, longest side run 4.
    six = [3, 1, 2, 3, 4, 5, 6, 2]
    assert rules(xmr_chart(series(six), run_length=7)) == []
    trend = xmr_chart(series(six), run_length=6)
    assert rules(trend) == ["trend"]
    assert trend.signals[0].periods == tuple(str(y) for y in range(2002, 2008))
    # An equal pair breaks a trend: 1, 2, 3, 3, 4, 5, 6, 7 is two runs of 3 and 5 points.
    assert rules(xmr_chart(series([1, 2, 3, 3, 4, 5, 6, 7]), run_length=6)) == []


# Two of three: 10, 12 eight times, then 17, 11, 17. By hand: sum 176 + 45 = 221 over 19,
# mean 11.6316; moving ranges 2 × 15 + 5 + 6 + 6 = 47 over 18, mean MR 2.6111; sigma
# 2.6111/1.128 = 2.3148; 2 sigma above = 16.2612 (< 17); upper limit 18.5772 (> 17).
def test_two_of_three_beyond_two_sigma_on_the_same_side() -> None:
    chart = xmr_chart(series([10, 12] * 8 + [17, 11, 17]))
    assert chart.upper_two_sigma == pytest.approx(221 / 19 + 2 * (47 / 18) / 1.128)
    assert chart.upper_two_sigma == pytest.approx(16.2612, abs=1e-4)
    assert chart.upper_limit == pytest.approx(18.5772, abs=1e-4)
    assert rules(chart) == ["two of three"]
    assert chart.signals[0].periods == ("2017", "2019") and chart.signals[0].direction == "up"
    assert variation_icon(chart, "higher is better").code == "special cause improvement"


def test_two_of_three_does_not_fire_for_one_point_or_opposite_sides() -> None:
    # 17, 11, 11: mean 215/19 = 11.3158, MR 41/18, 2 sigma above 15.35: only one beyond.
    assert rules(xmr_chart(series([10, 12] * 8 + [17, 11, 11]))) == []
    # 17, 11, 5: mean 11.0, MR 47/18, 2 sigma lines 15.63 and 6.37, limits 17.95 and 4.05:
    # one beyond each side, none beyond the limits.
    assert rules(xmr_chart(series([10, 12] * 8 + [17, 11, 5]))) == []


def test_missing_values_are_skipped_and_said() -> None:
    with_gap = series([*STEADY[:5], None, *STEADY[5:]])  # 2006 suppressed
    chart = xmr_chart(with_gap)
    assert chart.skipped == ("2006",) and chart.used == 13
    assert chart.upper_limit == pytest.approx(160 / 13 + 2.66 * 17 / 12)
    assert any("2006" in note and "left out" in note for note in chart.notes)
    # A run carries over a gap: six above the mean either side of a missing year.
    gap_run = xmr_chart(series([1, 2, 1, 2, 5, 6, None, 5, 6, 5, 6]), run_length=6)
    assert rules(gap_run) == ["shift"]
    assert gap_run.signals[0].periods == ("2005", "2006", "2008", "2009", "2010", "2011")


def test_series_points_are_accepted_and_suppressed_ones_skipped() -> None:
    points = [SeriesPoint(str(2001 + i), float(v), "value") for i, v in enumerate(STEADY)]
    points.append(SeriesPoint("2014", None, "c"))
    chart = xmr_chart(points)
    assert chart.skipped == ("2014",) and chart.last_period == "2013"
    assert chart.mean == pytest.approx(160 / 13)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        xmr_chart(series(STEADY), run_length=5)
    with pytest.raises(ValueError):
        variation_icon(xmr_chart(series(STEADY)), "up is good")
