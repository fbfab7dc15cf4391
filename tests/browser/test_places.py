"""Finding a local authority and reading its published figures, in Chromium.

The expected figures are read from the bundled DfE files with the csv module, so the test
checks the whole path: file, import, store, page.
"""

from __future__ import annotations

import csv
import re
from typing import Any

import pytest

from whatworks.data import published_file
from whatworks.outcomes.catalogue import indicator

pytestmark = pytest.mark.browser

BARNET = "E09000003"
CLA_TITLE = indicator("cla_rate_per_10000").title
REREFERRAL_TITLE = indicator("rereferral_percent").title

#: As published by the DfE for Barnet: a person can check these against the release.
PUBLISHED_CLA_RATE = {"2021": 36, "2022": 37, "2023": 36, "2024": 35, "2025": 37}
PUBLISHED_REREFERRAL_PERCENT = dict(
    zip(
        map(str, range(2013, 2026)),
        [22.4, 21.4, 23.1, 21.5, 20.1, 18.4, 19.0, 17.5, 18.6, 14.9, 15.3, 13.2, 14.8],
        strict=True,
    )
)


def barnet_series(file_name: str, measure: str, **breakdown: str) -> dict[str, float]:
    """Barnet's `measure` by year from a bundled DfE file, at the given breakdown."""
    with published_file(file_name).open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row["geographic_level"] == "Local authority"
            and row["new_la_code"] == BARNET
            and all(row[k] == v for k, v in breakdown.items())
        ]
    series = {row["time_period"]: float(row[measure]) for row in rows}
    assert len(series) == len(rows), f"more than one {measure} a year in {file_name}"
    return series


def chart_table(tab: Any, title: str) -> dict[str, float]:
    """The figures in the table under the chart called `title`, by year."""
    name = f"{title}, Barnet, by year: the figures in the chart"
    table = tab.page.get_by_role("table", name=name)
    cells = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[1].innerText])"
    )
    return {
        year.strip(): float(value.strip().rstrip("%").replace(",", "")) for year, value in cells
    }


def test_filtering_the_list_by_name_leads_to_barnet(tab: Any) -> None:
    tab.go("/places")
    tab.page.get_by_label("Name contains").fill("Barnet")
    tab.page.get_by_role("button", name="Filter").click()
    tab.page.wait_for_url(re.compile(r"/places\?name=Barnet"))
    assert tab.page.get_by_role("table").locator("caption").inner_text() == "1 local authority"
    link = tab.page.get_by_role("link", name="Barnet", exact=True)
    assert link.get_attribute("href") == f"/places/{BARNET}"
    link.click()
    tab.page.wait_for_url(f"**/places/{BARNET}")
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Barnet"


def test_barnet_page_shows_the_published_figures(tab: Any) -> None:
    cla = barnet_series(
        "cla_number_and_rate_per_10k_children.csv",
        "rate_per_10000",
        population_type="Children looked after on 31 March each year",
    )
    rereferrals = barnet_series(
        "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "rereferral_percent"
    )
    assert {year: cla[year] for year in PUBLISHED_CLA_RATE} == PUBLISHED_CLA_RATE
    assert rereferrals == PUBLISHED_REREFERRAL_PERCENT

    tab.go(f"/places/{BARNET}")
    assert chart_table(tab, CLA_TITLE) == cla
    assert chart_table(tab, REREFERRAL_TITLE) == rereferrals
    headline = tab.page.locator(".ww-headline", has=tab.page.get_by_role("heading", name=CLA_TITLE))
    assert headline.locator(".ww-headline__value").inner_text() == "37"
    headline = tab.page.locator(
        ".ww-headline", has=tab.page.get_by_role("heading", name=REREFERRAL_TITLE)
    )
    assert headline.locator(".ww-headline__value").inner_text() == "14.8%"
    assert not tab.problems, tab.problems


def test_neighbours_can_be_shown_for_the_other_model(tab: Any) -> None:
    tab.go(f"/places/{BARNET}")
    caption = "Statistical neighbours of Barnet, {} model"
    assert tab.page.get_by_role("table", name=caption.format(2025)).is_visible()
    tab.page.get_by_role("link", name="Show the 2021 model").click()
    tab.page.wait_for_url(f"**/places/{BARNET}?model=2021#neighbours")
    table = tab.page.get_by_role("table", name=caption.format(2021))
    assert table.locator("tbody tr").count() == 10
