"""Scorecards: trends, baselines and targets by hand; neighbours, ranks and quartiles
recomputed here from the bundled CSVs."""

from __future__ import annotations

import csv
import statistics

import pytest
from sqlalchemy.orm import Session

from whatworks.data import published_file
from whatworks.outcomes.catalogue import catalogue, default_headline, indicator
from whatworks.outcomes.published import SYMBOLS
from whatworks.outcomes.scorecard import (
    judge,
    local_authority_scorecard,
    rank_of,
    row_for,
    trend,
)
from whatworks.outcomes.series import SeriesPoint
from whatworks.places.places import local_authority


def points(*values: float | None) -> list[SeriesPoint]:
    return [
        SeriesPoint(str(2019 + i), v, "value" if v is not None else "c")
        for i, v in enumerate(values)
    ]


def test_trend_direction_and_how_long_it_has_lasted() -> None:
    assert trend(points(10, 12, 11, 9, 8)) == ("down", 3)
    assert trend(points(10, 12, 14)) == ("up", 2)
    assert trend(points(10, 10)) == ("flat", 1)
    assert trend(points(10, None, 12)) == ("up", 1)  # suppressed years are skipped
    assert trend(points(10)) == ("no data", 0)


def test_judgement_reads_direction_through_polarity() -> None:
    assert judge("down", "lower is better") == "improving"
    assert judge("up", "lower is better") == "worsening"
    assert judge("up", "higher is better") == "improving"
    assert judge("up", "no polarity") == "changing"
    assert judge("flat", "higher is better") == "no change"


def test_rank_and_quartile_by_polarity() -> None:
    values = {
        "a": 10.0,
        "b": 20.0,
        "c": 20.0,
        "d": 30.0,
        "e": 40.0,
        "f": 50.0,
        "g": 60.0,
        "h": 70.0,
    }
    assert rank_of(values, "a", "lower is better") == (1, 8, 1)
    assert rank_of(values, "c", "lower is better") == (2, 8, 1)  # ties share the better rank
    assert rank_of(values, "d", "lower is better") == (4, 8, 2)
    assert rank_of(values, "h", "lower is better") == (8, 8, 4)
    assert rank_of(values, "h", "higher is better") == (1, 8, 1)
    assert rank_of(values, "a", "no polarity") is None
    assert rank_of(values, "zz", "lower is better") is None


def test_row_change_baseline_and_target_by_hand() -> None:
    item = indicator("rereferral_percent")
    row = row_for(item, points(20.0, 25.0, None, 22.0, 18.0), "headline", target=19.0)
    assert (row.latest.value, row.prior.value) == (18.0, 22.0)
    assert row.change == -4.0
    assert (row.direction, row.judgement, row.periods_in_trend) == ("down", "improving", 2)
    assert row.baseline.period == "2019"
    assert row.baseline_change_percent == -10.0  # (18 - 20) / 20
    assert row.variance_from_target == -1.0


def read(name: str) -> list[dict[str, str]]:
    with published_file(f"{name}.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def store(catalogue_store: Session) -> Session:
    return catalogue_store


def csv_values(item_id: str, period: str) -> dict[str, str]:
    """Each local authority's published cell for one indicator and period, by old code."""
    item = indicator(item_id)
    return {
        row["old_la_code"]: row[item.measure]
        for row in read(item.source)
        if row["geographic_level"] == "Local authority"
        and row["time_period"] == period
        and all(row[k] == v for k, v in item.filters.items())
    }


def sn_old_codes(la_name: str, model_file: str = "sn_model_2025_wide") -> list[str]:
    row = next(r for r in read(model_file) if r["la_name"] == la_name)
    return [row[f"SN_{rank}"] for rank in range(1, 11)]


@pytest.mark.parametrize(
    ("la_name", "code", "item_id"),
    [
        ("Barnet", "E09000003", "rereferral_percent"),
        ("Barnet", "E09000003", "placements_3_plus_percent"),
        ("Leeds", "E08000035", "convictions_percent"),
        ("Rutland", "E06000017", "care_leavers_eet_19_21_percent"),
    ],
)
def test_neighbour_mean_and_median_leave_out_suppressed(store, la_name, code, item_id) -> None:
    la = local_authority(store, code)
    rows = local_authority_scorecard(store, la, (indicator(item_id),), ())
    [row] = rows
    cells = csv_values(item_id, row.latest.period)
    numbers = [float(cells[c]) for c in sn_old_codes(la_name) if cells.get(c, "x") not in SYMBOLS]
    by_label = {c.label: c for c in row.comparators}
    mean = by_label["Statistical neighbours, mean"]
    median = by_label["Statistical neighbours, median"]
    assert (mean.used, mean.of) == (len(numbers), 10)
    assert mean.value == round(statistics.fmean(numbers), 2)
    assert median.value == round(statistics.median(numbers), 2)


def test_a_suppressed_neighbour_is_counted_out(store) -> None:
    """Find, in the CSV, an authority with a suppressed neighbour, and check it is left out."""
    cells = csv_values("convictions_percent", "2025")
    for row in read("sn_model_2025_wide"):
        codes = [row[f"SN_{rank}"] for rank in range(1, 11)]
        suppressed = [c for c in codes if cells.get(c, "x") in SYMBOLS]
        if suppressed and row["old_la_code"] in cells and cells[row["old_la_code"]] not in SYMBOLS:
            break
    else:
        pytest.fail("no authority with a suppressed neighbour in the 2025 file")
    la = local_authority(store, row["old_la_code"])
    [scored] = local_authority_scorecard(store, la, (indicator("convictions_percent"),), ())
    mean = scored.comparators[0]
    assert mean.used == 10 - len(suppressed) < 10
    numbers = [float(cells[c]) for c in codes if c not in suppressed]
    assert mean.value == round(statistics.fmean(numbers), 2)


def test_rank_among_all_authorities_equals_a_count_from_the_csv(store) -> None:
    la = local_authority(store, "E09000003")
    [row] = local_authority_scorecard(store, la, (indicator("rereferral_percent"),), ())
    cells = csv_values("rereferral_percent", row.latest.period)
    current = {r["old_la_code"] for r in read("sn_model_2025_wide")}
    numbers = {c: float(v) for c, v in cells.items() if c in current and v not in SYMBOLS}
    mine = numbers["302"]
    assert row.rank.rank == 1 + sum(1 for v in numbers.values() if v < mine)
    assert row.rank.of == len(numbers)
    assert row.rank.quartile == min(4, (row.rank.rank - 1) * 4 // len(numbers) + 1)


def test_2021_model_changes_the_neighbours(store) -> None:
    la = local_authority(store, "E09000003")
    item = indicator("rereferral_percent")
    [r2025] = local_authority_scorecard(store, la, (item,), (), model="2025")
    [r2021] = local_authority_scorecard(store, la, (item,), (), model="2021")
    assert r2025.comparators[0].value != r2021.comparators[0].value


def test_default_scorecard_has_headline_then_secondary(store) -> None:
    la = local_authority(store, "E09000003")
    secondary = tuple(i for i in catalogue() if not i.headline)
    rows = local_authority_scorecard(store, la, default_headline(), secondary)
    assert [r.tier for r in rows] == ["headline"] * len(default_headline()) + ["secondary"] * len(
        secondary
    )
    adoption = next(r for r in rows if r.indicator.id == "adoption_entry_to_placement_months")
    assert adoption.latest is None  # published for England only
