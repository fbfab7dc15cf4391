"""Charts render offline to SVG that shows exactly the numbers given, with a table beside."""

from __future__ import annotations

import re

from whatworks.core.charts import figure, line_spec, line_svg, render_svg

POINTS = [("2021", 36.0), ("2022", 37.0), ("2023", None), ("2024", 35.5)]


def test_svg_marks_carry_the_given_numbers_and_skip_missing_ones() -> None:
    svg = str(render_svg(line_spec(POINTS, "per 10,000")))
    assert svg.startswith('<svg aria-hidden="true" focusable="false" ')
    labels = set(re.findall(r'aria-label="(Year: [^"]*)"', svg))
    assert labels == {
        "Year: 2021; per 10,000: 36",
        "Year: 2022; per 10,000: 37",
        "Year: 2024; per 10,000: 35.5",
    }
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing fetched from outside


def test_figure_has_a_caption_and_the_same_numbers_in_a_table() -> None:
    html = str(
        figure(
            "Rate by year",
            line_svg(tuple(POINTS), "per 10,000"),
            ["Year", "Rate"],
            [("2021", "36"), ("2022", "37"), ("2023", "c (suppressed)"), ("2024", "35.5")],
        )
    )
    assert html.startswith('<figure class="ww-chart" aria-label="Rate by year">')
    assert "<figcaption" in html and "Rate by year</figcaption>" in html
    rows = re.findall(r'<th scope="row"[^>]*>([^<]*)</th><td[^>]*>([^<]*)</td>', html)
    assert rows == [("2021", "36"), ("2022", "37"), ("2023", "c (suppressed)"), ("2024", "35.5")]


def test_text_is_escaped() -> None:
    html = str(figure("<script>", line_svg(tuple(POINTS), "x"), ["<b>", "y"], [("<i>", "1")]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<i>" not in html
