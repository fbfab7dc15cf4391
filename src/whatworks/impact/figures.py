"""Charts of an impact analysis: the event study and the council against its synthetic
control, as hidden SVG in a captioned figure with the same numbers in a table
(`core.charts.figure`)."""

from __future__ import annotations

from typing import Any

import altair as alt
from markupsafe import Markup

from whatworks.core.charts import AXIS, GOVUK_BLUE, TEXT, figure, render_svg

Z_95 = 1.959963984540054
GREY = "#505a5f"


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def event_study_figure(did: dict[str, Any], title: str, unit: str) -> Markup:
    """Effect by years since the start (0 = first year), with rough 95% intervals."""
    rows = [
        {
            "e": item["e"],
            "att": item["att"],
            "low": None if item["se"] is None else item["att"] - Z_95 * item["se"],
            "high": None if item["se"] is None else item["att"] + Z_95 * item["se"],
        }
        for item in did["event_study"]
        if item["att"] is not None
    ]
    data = alt.Data(values=rows)
    x = alt.X("e:Q", title="Years since the start (0 = first year)", axis=alt.Axis(tickMinStep=1))
    y_title = f"Difference ({unit})" if unit else "Difference"
    chart = (
        alt.layer(
            alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color=TEXT).encode(y="zero:Q"),
            alt.Chart(alt.Data(values=[{"start": -0.5}]))
            .mark_rule(color=GREY, strokeDash=[6, 4])
            .encode(x="start:Q"),
            alt.Chart(data)
            .mark_rule(color=GOVUK_BLUE, strokeWidth=2)
            .encode(x=x, y="low:Q", y2="high:Q"),
            alt.Chart(data)
            .mark_point(filled=True, size=70, color=GOVUK_BLUE)
            .encode(x=x, y=alt.Y("att:Q", title=y_title)),
        )
        .properties(width=520, height=240)
        .configure_axis(**AXIS)
        .configure_view(stroke=None)
    )
    table = [
        [str(r["e"]), _number(r["att"]), f"{_number(r['low'])} to {_number(r['high'])}"]
        for r in rows
    ]
    return figure(
        f"Event study: {title}, difference from the comparison councils by years since the start",
        render_svg(chart.to_dict()),
        ["Years since the start", "Difference", "Rough 95% interval"],
        table,
    )


def synthetic_figure(
    synth: dict[str, Any], series: list[dict[str, Any]], place: str, title: str, unit: str
) -> Markup:
    """The council's own figures against its synthetic control, year by year."""
    actual = {row["year"]: row["council"] for row in series}
    rows = []
    for item in synth["effects"]:
        year = item["time"]
        own = actual.get(year)
        if own is None:
            continue
        rows.append({"year": str(year), "value": own, "series": place})
        rows.append(
            {"year": str(year), "value": own - item["effect"], "series": f"Synthetic {place}"}
        )
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=[place, f"Synthetic {place}"], range=[GOVUK_BLUE, GREY]),
        legend=alt.Legend(title=None, orient="bottom", labelColor=TEXT),
    )
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True, strokeWidth=3)
        .encode(
            x=alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=unit or title, scale=alt.Scale(zero=False)),
            color=colour,
            strokeDash=alt.StrokeDash("series:N", legend=None),
        )
        .properties(width=520, height=240)
        .configure_axis(**AXIS)
        .configure_view(stroke=None)
    )
    table = []
    for item in synth["effects"]:
        own = actual.get(item["time"])
        synthetic = None if own is None else own - item["effect"]
        table.append(
            [str(item["time"]), _number(own, 1), _number(synthetic, 1), _number(item["effect"], 1)]
        )
    return figure(
        f"{title}: {place} and synthetic {place}",
        render_svg(chart.to_dict()),
        ["Year", place, f"Synthetic {place}", "Gap"],
        table,
    )
