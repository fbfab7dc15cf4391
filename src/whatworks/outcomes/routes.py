"""A local authority's published outcomes (page and JSON), and the indicator catalogue.

The profile of a place lives here rather than in `places`, because it shows outcomes:
`places` knows nothing of indicators, and outcomes builds on places.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from whatworks.core.charts import figure, line_svg
from whatworks.core.web import db_session, render
from whatworks.outcomes.indicators import (
    CATALOGUE,
    Indicator,
    SeriesPoint,
    area_series,
    format_value,
    period_label,
    place_series,
)
from whatworks.places.places import (
    DEFAULT_NEIGHBOUR_MODEL,
    NEIGHBOUR_MODELS,
    local_authority,
    neighbours,
    region,
)
from whatworks.places.routes import place_summary

router = APIRouter()
ENGLAND = "E92000001"
MODEL_PATTERN = "^(2021|2025)$"


def _latest(points: list[SeriesPoint]) -> SeriesPoint | None:
    return points[-1] if points else None


def _chart(item: Indicator, points: list[SeriesPoint]) -> Any:
    caption = f"{item.title}, by year"
    svg = line_svg(tuple((period_label(p.period), p.value) for p in points), item.unit)
    rows = [(period_label(p.period), format_value(p.value, p.status, item.unit)) for p in points]
    return figure(caption, svg, ["Year", item.title], rows)


@router.get("/places/{code}", response_class=HTMLResponse, include_in_schema=False)
def place_page(
    request: Request,
    code: str,
    model: str = Query(DEFAULT_NEIGHBOUR_MODEL, pattern=MODEL_PATTERN),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """One local authority: headline figures with their curves, all series, its neighbours."""
    la = local_authority(session, code)
    la_region = region(session, la.region_code)
    parent = region(session, la_region.parent_code) if la_region.parent_code else None
    series = place_series(session, la)
    england = area_series(session, "National", ENGLAND)
    regional = area_series(session, "Regional", la_region.code)
    headline = [item for item in CATALOGUE if item.headline]
    return render(
        request,
        "outcomes/place.html",
        la=la,
        region=la_region,
        parent_region=parent,
        headline=[
            {
                "indicator": item,
                "latest": _latest(series[item.id]),
                "england": _latest(england[item.id]),
                "region": _latest(regional[item.id]),
                "chart": _chart(item, series[item.id]) if series[item.id] else None,
            }
            for item in headline
        ],
        catalogue=CATALOGUE,
        series=series,
        neighbours=neighbours(session, la.new_la_code, model),
        model=model,
        models=NEIGHBOUR_MODELS,
        format_value=format_value,
        period_label=period_label,
    )


@router.get("/api/places/{code}", tags=["places"], summary="One local authority")
def api_place(
    code: str,
    model: str = Query(
        DEFAULT_NEIGHBOUR_MODEL,
        pattern=MODEL_PATTERN,
        description="Statistical neighbour model: 2025 (default) or 2021",
    ),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """One local authority: codes, region, its ten statistical neighbours and every
    published series as `{indicator: [{period, value, status}]}`."""
    la = local_authority(session, code)
    found = neighbours(session, la.new_la_code, model)
    return {
        **place_summary(la, region(session, la.region_code)),
        "neighbour_model": model,
        "neighbours": [n.la.new_la_code for n in found],
        "neighbour_details": [
            {
                "rank": n.rank,
                "new_la_code": n.la.new_la_code,
                "name": n.la.name,
                "closeness": n.closeness,
            }
            for n in found
        ],
        "series": {
            key: [p.as_dict() for p in points] for key, points in place_series(session, la).items()
        },
    }


@router.get("/indicators", response_class=HTMLResponse, include_in_schema=False)
def indicators_page(request: Request) -> HTMLResponse:
    """The indicator catalogue: what each indicator is and where it comes from."""
    return render(request, "outcomes/indicators.html", catalogue=CATALOGUE)


@router.get("/api/indicators", tags=["outcomes"], summary="Indicator catalogue")
def api_indicators() -> list[dict[str, Any]]:
    """The indicator catalogue."""
    return [asdict(item) for item in CATALOGUE]
