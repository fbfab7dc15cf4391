"""Every indicator's series equal the bundled DfE files, recomputed here from the CSVs."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from sqlalchemy.orm import Session

from whatworks.data import published_file
from whatworks.outcomes.catalogue import catalogue, indicator
from whatworks.outcomes.published import SYMBOLS
from whatworks.outcomes.series import (
    ENGLAND,
    LA,
    NATIONAL,
    every_area,
    format_value,
    period_label,
    previous_period,
    series,
)

# National figures, revised series, 2025 release (the DfE's own headline tables).
PUBLISHED = {
    "cla_count": {"2023": 83_750, "2024": 83_530, "2025": 81_770},
    "cla_rate_per_10000": {"2023": 70, "2024": 69, "2025": 67},
    "cla_started": {"2023": 33_090, "2024": 33_130, "2025": 32_270},
    "cin_at_31_march": {"2023": 403_090, "2024": 399_460, "2025": 402_400},
    "cpp_at_31_march": {"2023": 50_780, "2024": 49_900, "2025": 49_420},
    "rereferral_percent": {"2023": 22.4, "2024": 22.4, "2025": 22.6},
    "cpp_subsequent_percent": {"2023": 23.6, "2024": 24.7, "2025": 24.5},
    "placements_3_plus_percent": {"2023": 11, "2024": 11, "2025": 10},
    "care_leavers_eet_19_21_percent": {"2023": 56, "2024": 54, "2025": 54},
    "sdq_average_score": {"2023": 14.4, "2024": 14.7, "2025": 14.9},
}


def read(name: str) -> list[dict[str, str]]:
    with published_file(f"{name}.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_cell(cell: str) -> tuple[float | None, str]:
    cell = cell.strip()
    if cell in SYMBOLS:
        return None, cell
    if ":" in cell:
        years, months = cell.split(":")
        return float(int(years) * 12 + int(months)), "value"
    return float(cell), "value"


@pytest.fixture(scope="module")
def store(catalogue_store: Session) -> Session:
    return catalogue_store


@pytest.mark.parametrize("item", [i for i in catalogue() if not i.computed], ids=lambda i: i.id)
def test_every_local_authority_equals_the_csv(store, item) -> None:
    expected: dict[str, list[tuple[str, float | None, str]]] = defaultdict(list)
    for row in read(item.source):
        if row["geographic_level"] != LA:
            continue
        if all(row[k] == v for k, v in item.filters.items()):
            expected[row["old_la_code"]].append(
                (row["time_period"], *expected_cell(row[item.measure]))
            )
    found = every_area(store, item, LA)
    assert set(found) == set(expected)
    for code, points in found.items():
        assert sorted(expected[code]) == [(p.period, p.value, p.status) for p in points], code


@pytest.mark.parametrize("item", [i for i in catalogue() if i.computed], ids=lambda i: i.id)
def test_rates_computed_from_counts_and_population(store, item) -> None:
    population = {
        (
            row["geographic_level"],
            row["old_la_code"] or row["region_code"] or row["country_code"],
            row["time_period"],
        ): float(row["population_estimate"])
        for row in read("ons_mid-year_population_estimates_2012_to_2024")
        if row["population_estimate"] not in SYMBOLS
    }
    checked = 0
    for row in read(item.rate_of["source"]):
        if row["geographic_level"] != LA:
            continue
        code, period = row["old_la_code"], row["time_period"]
        point = [p for p in series(store, [item], LA, code)[item.id] if p.period == period]
        if code not in {"302", "815", "909", "202"}:  # a sample: Barnet, North Yorkshire, ...
            continue
        count = row[item.rate_of["measure"]]
        denominator = population.get((LA, code, str(int(period) - 1)))
        if count in SYMBOLS:
            assert (point[0].value, point[0].status) == (None, count)
        elif denominator is None:
            assert point[0].status == "x"
        else:
            assert point[0].value == round(float(count) / denominator * 10_000, 1)
            checked += 1
    assert checked >= 30


def test_barnet_children_in_need_rate_by_hand(store) -> None:
    # b1 2025, Barnet: At31_episodes; ONS mid-2024 estimate of children aged 0-17: 93,851.
    b1 = next(
        r
        for r in read("b1_children_in_need_2013_to_2025")
        if r["old_la_code"] == "302" and r["time_period"] == "2025"
    )
    expected = round(int(b1["At31_episodes"]) / 93_851 * 10_000, 1)
    [point] = [
        p
        for p in series(store, [indicator("cin_rate_per_10000")], LA, "302")["cin_rate_per_10000"]
        if p.period == "2025"
    ]
    assert point.value == expected


def test_national_series_equal_the_published_headlines(store) -> None:
    found = series(store, catalogue(), NATIONAL, ENGLAND)
    for key, expected in PUBLISHED.items():
        values = {p.period: p.value for p in found[key] if p.period in expected}
        assert values == expected, key


def test_national_adoption_timeliness_is_in_months(store) -> None:
    row = next(
        r
        for r in read("national_cla_adopted_average_time_between_adoption_process_stages")
        if r["time_period"] == "2025"
        and r["age_start_poc"] == "Total"
        and r["stage_of_adoption_process"].startswith("4.")
    )
    years, months = row["number"].split(":")
    [point] = [
        p
        for p in series(
            store, [indicator("adoption_entry_to_placement_months")], NATIONAL, ENGLAND
        )["adoption_entry_to_placement_months"]
        if p.period == "2025"
    ]
    assert point.value == int(years) * 12 + int(months)


def test_series_continue_across_a_change_of_code(store) -> None:
    periods = [p.period for p in series(store, [indicator("referrals")], LA, "815")["referrals"]]
    assert periods == [str(y) for y in range(2013, 2026)]  # E10000023 then E06000065


def test_catalogue_is_complete() -> None:
    ids = {item.id for item in catalogue()}
    required = {
        "cla_rate_per_10000",
        "cla_started_rate_per_10000",
        "cin_rate_per_10000",
        "cpp_rate_per_10000",
        "rereferral_percent",
        "cpp_subsequent_percent",
        "placements_3_plus_percent",
        "long_term_stability_percent",
        "care_leavers_eet_19_21_percent",
        "care_leavers_suitable_19_21_percent",
        "sdq_average_score",
        "sdq_concern_percent",
        "health_assessment_percent",
        "dental_check_percent",
        "immunisations_percent",
        "convictions_percent",
        "substance_misuse_percent",
        "adoption_entry_to_placement_months",
    }
    assert required <= ids
    assert 3 <= sum(item.headline for item in catalogue()) <= 4  # RBA: 3-4 headline indicators
    for item in catalogue():
        assert item.lay and item.technical and item.population
        assert item.as_dict()["powers"].keys() == {"communication", "proxy", "data"}


def test_periods_and_formatting() -> None:
    assert previous_period("2025") == "2024"
    assert previous_period("202425") == "202324"
    assert period_label("202425") == "2024/25"
    assert format_value(22.6, "value", "%") == "22.6%"
    assert format_value(81770.0, "value", "children") == "81,770"
    assert format_value(None, "c", "%") == "c (suppressed)"
