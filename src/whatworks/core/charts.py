"""Charts as inline SVG: an Altair spec rendered offline by vl-convert, with its numbers in a table.

The SVG carries no description of its own, so it is hidden from assistive technology and
placed in a `<figure>` whose caption names it; the same numbers are always in a table
beside it, which is what screen readers and printouts use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert as vlc
from markupsafe import Markup, escape

GOVUK_BLUE = "#1d70b8"
TEXT = "#0b0c0c"
FONT = "Arial, sans-serif"
AXIS: dict[str, Any] = {
    "labelFont": FONT,
    "titleFont": FONT,
    "labelColor": TEXT,
    "titleColor": TEXT,
    "labelFontSize": 13,
    "titleFontSize": 13,
}


def line_spec(
    points: Sequence[tuple[str, float | None]],
    y_title: str,
    width: int = 520,
    height: int = 220,
) -> dict[str, Any]:
    """A Vega-Lite line chart of (period, value) points; missing values leave a gap."""
    values = [{"period": period, "value": value} for period, value in points]
    present = [value for _, value in points if value is not None]
    y_axis = alt.Axis()
    if present and all(float(value).is_integer() for value in present):
        low, high = int(min(present)), int(max(present))
        # Whole numbers get whole ticks: listed where the range is short, else formatted.
        small = high - low <= 12
        y_axis = (
            alt.Axis(values=list(range(low, high + 1)), format=",d")
            if small
            else alt.Axis(format=",d")
        )
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True, color=GOVUK_BLUE, strokeWidth=3)
        .encode(
            x=alt.X("period:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False), axis=y_axis),
        )
        .properties(width=width, height=height)
        .configure_axis(**AXIS)
        .configure_view(stroke=None)
    )
    return chart.to_dict()


@lru_cache(maxsize=512)
def _render(spec_json: str) -> str:
    svg: str = vlc.vegalite_to_svg(json.loads(spec_json))
    return svg


def render_svg(spec: dict[str, Any]) -> Markup:
    """The spec as an SVG element hidden from assistive technology (the table carries it)."""
    svg = _render(json.dumps(spec, sort_keys=True))
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return Markup(svg)


@lru_cache(maxsize=1024)
def line_svg(points: tuple[tuple[str, float | None], ...], y_title: str) -> Markup:
    """A line chart of `points` as hidden SVG, cached: the same series renders once."""
    return render_svg(line_spec(points, y_title))


def figure(
    caption: str,
    svg: Markup,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> Markup:
    """A `<figure>` holding the chart, captioned, followed by the same numbers as a table."""
    numeric = " govuk-table__header--numeric"
    head = "".join(
        f'<th scope="col" class="govuk-table__header{numeric if i else ""}">{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = "".join(
        '<tr class="govuk-table__row">'
        + "".join(
            (
                f'<th scope="row" class="govuk-table__header">{escape(cell)}</th>'
                if i == 0
                else f'<td class="govuk-table__cell govuk-table__cell--numeric">{escape(cell)}</td>'
            )
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return Markup(
        f'<figure class="ww-chart" aria-label="{escape(caption)}">'
        f'<figcaption class="govuk-body govuk-!-font-weight-bold">{escape(caption)}</figcaption>'
        f'<div class="ww-chart__image">{svg}</div>'
        # On a narrow screen a table with long headings scrolls on its own, not the page.
        f'<div class="ww-table-scroll" role="region" tabindex="0" '
        f'aria-label="{escape(caption)}: the figures">'
        f'<table class="govuk-table ww-chart__table"><caption class="govuk-visually-hidden">'
        f"{escape(caption)}: the figures in the chart</caption>"
        f'<thead class="govuk-table__head"><tr class="govuk-table__row">{head}</tr></thead>'
        f'<tbody class="govuk-table__body">{body}</tbody></table></div>'
        "</figure>"
    )


@lru_cache(maxsize=512)
def curve_svg(
    history: tuple[tuple[str, float | None], ...],
    forecast: tuple[tuple[str, float, float | None, float | None], ...],
    comparison: tuple[tuple[str, float], ...],
    comparison_label: str,
    target: float | None,
    y_title: str,
) -> Markup:
    """A turn-the-curve chart: the history, the baseline forecast with its range shaded,
    a comparison line (dashed) and the target (a dotted rule), as hidden SVG."""
    rows: list[dict[str, Any]] = [{"period": p, "value": v, "series": "Actual"} for p, v in history]
    rows += [
        {"period": p, "value": v, "lower": lo, "upper": hi, "series": "Baseline forecast"}
        for p, v, lo, hi in forecast
    ]
    rows += [{"period": p, "value": v, "series": comparison_label} for p, v in comparison]
    data = alt.Data(values=rows)
    x = alt.X("period:O", title="Year", axis=alt.Axis(labelAngle=0))
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(
            domain=["Actual", "Baseline forecast", comparison_label],
            range=[GOVUK_BLUE, "#d4351c", "#505a5f"],
        ),
        legend=alt.Legend(title=None, orient="bottom", labelFont=FONT, labelColor=TEXT),
    )
    base = alt.Chart(data)
    layers = [
        base.transform_filter(alt.datum.series == "Baseline forecast")
        .mark_area(opacity=0.15, color="#d4351c")
        .encode(x=x, y=alt.Y("lower:Q", title=y_title), y2="upper:Q"),
        base.mark_line(point=True, strokeWidth=3).encode(
            x=x,
            y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=colour,
            strokeDash=alt.condition(
                alt.datum.series == "Actual", alt.value([1, 0]), alt.value([6, 4])
            ),
        ),
    ]
    if target is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"target": target}]))
            .mark_rule(strokeDash=[2, 3], color=TEXT)
            .encode(y="target:Q")
        )
    chart = (
        alt.layer(*layers)
        .properties(width=560, height=260)
        .configure_axis(**AXIS)
        .configure_view(stroke=None)
    )
    return render_svg(chart.to_dict())


@lru_cache(maxsize=256)
def ranked_svg(values: tuple[float, ...], reference: float | None, y_title: str) -> Markup:
    """Every area's value as a bar, in the order given (best first), with a reference line
    (England) across them, as hidden SVG."""
    rows = [{"position": n, "value": v} for n, v in enumerate(values, start=1)]
    bars = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(color=GOVUK_BLUE)
        .encode(
            x=alt.X(
                "position:O",
                title="Local authorities, best first",
                axis=alt.Axis(labels=False, ticks=False),
            ),
            y=alt.Y("value:Q", title=y_title),
        )
    )
    layers: list[Any] = [bars]
    if reference is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"england": reference}]))
            .mark_rule(color="#d4351c", strokeWidth=2, strokeDash=[6, 4])
            .encode(y="england:Q")
        )
    chart = (
        alt.layer(*layers)
        .properties(width=600, height=240)
        .configure_axis(**AXIS)
        .configure_view(stroke=None)
    )
    return render_svg(chart.to_dict())
