"""Pages and JSON for outcomes: a local authority's profile and scorecard, the indicator
catalogue, and one indicator across every local authority.

The profile of a place lives here rather than in `places`, because it shows outcomes:
`places` knows nothing of indicators, and outcomes builds on places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from whatworks.core.charts import figure, line_svg, ranked_svg
from whatworks.core.models import Organisation, User
from whatworks.core.web import current_user, db_session, render
from whatworks.outcomes import gaps, plans
from whatworks.outcomes.catalogue import Indicator, catalogue, default_headline, indicator
from whatworks.outcomes.exports import csv_response, scorecard_rows_as_dicts
from whatworks.outcomes.scorecard import (
    ScorecardRow,
    area_scorecard,
    load_context,
    local_authority_scorecard,
    rank_of,
)
from whatworks.outcomes.series import (
    ENGLAND,
    LA,
    NATIONAL,
    REGION,
    SeriesPoint,
    format_value,
    period_label,
    series,
)
from whatworks.places.models import LocalAuthority
from whatworks.places.places import (
    DEFAULT_NEIGHBOUR_MODEL,
    NEIGHBOUR_MODELS,
    local_authority,
    neighbours,
    region,
)
from whatworks.places.routes import place_summary

router = APIRouter()
MODEL_PATTERN = "^(2021|2025)$"
FORMAT_HELP = "Statistical neighbour model: 2025 (default) or 2021"


def _latest(points: list[SeriesPoint]) -> SeriesPoint | None:
    return points[-1] if points else None


def chart_for(item: Indicator, points: list[SeriesPoint], where: str) -> Markup:
    """An indicator's curve with its table."""
    caption = f"{item.title}, {where}, by year"
    svg = line_svg(tuple((period_label(p.period), p.value) for p in points), item.unit)
    rows = [(period_label(p.period), format_value(p.value, p.status, item.unit)) for p in points]
    return figure(caption, svg, ["Year", item.title], rows)


def _secondary() -> tuple[Indicator, ...]:
    return tuple(item for item in catalogue() if not item.headline)


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
    items = catalogue()
    own = series(session, items, LA, la.old_la_code)
    england = series(session, default_headline(), NATIONAL, ENGLAND)
    regional = series(session, default_headline(), REGION, la_region.code)
    return render(
        request,
        "outcomes/place.html",
        la=la,
        region=la_region,
        parent_region=parent,
        headline=[
            {
                "indicator": item,
                "latest": _latest(own[item.id]),
                "england": _latest(england[item.id]),
                "region": _latest(regional[item.id]),
                "chart": chart_for(item, own[item.id], la.name) if own[item.id] else None,
            }
            for item in default_headline()
        ],
        catalogue=items,
        series=own,
        neighbours=neighbours(session, la.new_la_code, model),
        model=model,
        models=NEIGHBOUR_MODELS,
        format_value=format_value,
        period_label=period_label,
    )


@router.get("/api/places/{code}", tags=["places"], summary="One local authority")
def api_place(
    code: str,
    model: str = Query(DEFAULT_NEIGHBOUR_MODEL, pattern=MODEL_PATTERN, description=FORMAT_HELP),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """One local authority: codes, region, its ten statistical neighbours and every
    published series as `{indicator: [{period, value, status}]}`."""
    la = local_authority(session, code)
    found = neighbours(session, la.new_la_code, model)
    own = series(session, catalogue(), LA, la.old_la_code)
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
        "series": {key: [p.as_dict() for p in points] for key, points in own.items()},
    }


@dataclass
class _Scorecard:
    la: LocalAuthority
    rows: list[ScorecardRow]
    council: Organisation | None
    chosen: plans.IndicatorLists


def _build_scorecard(session: Session, code: str, model: str) -> _Scorecard:
    """The scorecard on the council's chosen lists and targets, or the default lists."""
    la = local_authority(session, code)
    council = plans.council_of(session, la.new_la_code)
    chosen = plans.lists(session, council)
    rows = local_authority_scorecard(
        session,
        la,
        chosen.headline,
        chosen.secondary,
        plans.targets(session, council),
        model=model,
    )
    return _Scorecard(la, rows, council, chosen)


def _scorecard(session: Session, code: str, model: str) -> tuple[LocalAuthority, list[Any]]:
    card = _build_scorecard(session, code, model)
    return card.la, card.rows


@router.get("/places/{code}/scorecard", response_class=HTMLResponse, include_in_schema=False)
def scorecard_page(
    request: Request,
    code: str,
    model: str = Query(DEFAULT_NEIGHBOUR_MODEL, pattern=MODEL_PATTERN),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """A local authority's scorecard: headline and secondary indicators with comparisons."""
    card = _build_scorecard(session, code, model)
    la = card.la
    return render(
        request,
        "outcomes/scorecard.html",
        can_edit=card.council is not None and plans.may_edit(user, la.new_la_code),
        chosen=card.chosen.chosen,
        la=la,
        region=region(session, la.region_code),
        rows=card.rows,
        model=model,
        models=NEIGHBOUR_MODELS,
        format_value=format_value,
        period_label=period_label,
    )


@router.get(
    "/api/places/{code}/scorecard", tags=["outcomes"], summary="A local authority's scorecard"
)
def api_scorecard(
    code: str,
    model: str = Query(DEFAULT_NEIGHBOUR_MODEL, pattern=MODEL_PATTERN, description=FORMAT_HELP),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Headline and secondary indicators: latest and prior value, change, trend, baseline
    change, target and variance, neighbours' mean and median (with how many were used),
    region, England, and rank and quartile among all local authorities (1 = best)."""
    la, rows = _scorecard(session, code, model)
    return {
        "local_authority": {
            "name": la.name,
            "new_la_code": la.new_la_code,
            "old_la_code": la.old_la_code,
        },
        "neighbour_model": model,
        "rows": scorecard_rows_as_dicts(rows),
    }


@router.get("/places/{code}/scorecard.csv", tags=["outcomes"], summary="A scorecard as CSV")
def csv_scorecard(
    code: str,
    model: str = Query(DEFAULT_NEIGHBOUR_MODEL, pattern=MODEL_PATTERN, description=FORMAT_HELP),
    session: Session = Depends(db_session),
) -> Response:
    """The scorecard as CSV, one row per indicator."""
    la, rows = _scorecard(session, code, model)
    return csv_response(scorecard_rows_as_dicts(rows, flat=True), f"scorecard-{la.new_la_code}.csv")


def _area_rows(session: Session, level: str, code: str) -> list[Any]:
    return area_scorecard(session, level, code, default_headline(), _secondary())


@router.get("/regions/{code}/scorecard", response_class=HTMLResponse, include_in_schema=False)
def region_scorecard_page(
    request: Request, code: str, session: Session = Depends(db_session)
) -> HTMLResponse:
    """A region's scorecard, with England beside it."""
    area = region(session, code)
    return render(
        request,
        "outcomes/area_scorecard.html",
        title=area.name,
        rows=_area_rows(session, REGION, code),
        format_value=format_value,
        period_label=period_label,
    )


@router.get("/api/regions/{code}/scorecard", tags=["outcomes"], summary="A region's scorecard")
def api_region_scorecard(code: str, session: Session = Depends(db_session)) -> dict[str, Any]:
    """A region's scorecard, with England beside it."""
    area = region(session, code)
    return {
        "region": {"code": area.code, "name": area.name},
        "rows": scorecard_rows_as_dicts(_area_rows(session, REGION, code)),
    }


@router.get("/england/scorecard", response_class=HTMLResponse, include_in_schema=False)
def england_scorecard_page(
    request: Request, session: Session = Depends(db_session)
) -> HTMLResponse:
    """England's scorecard."""
    return render(
        request,
        "outcomes/area_scorecard.html",
        title="England",
        rows=_area_rows(session, NATIONAL, ENGLAND),
        format_value=format_value,
        period_label=period_label,
    )


@router.get("/api/england/scorecard", tags=["outcomes"], summary="England's scorecard")
def api_england_scorecard(session: Session = Depends(db_session)) -> dict[str, Any]:
    """England's scorecard."""
    return {"rows": scorecard_rows_as_dicts(_area_rows(session, NATIONAL, ENGLAND))}


@router.get("/indicators", response_class=HTMLResponse, include_in_schema=False)
def indicators_page(request: Request) -> HTMLResponse:
    """The indicator catalogue: what each indicator is and where it comes from."""
    return render(request, "outcomes/indicators.html", catalogue=catalogue())


@router.get("/api/indicators", tags=["outcomes"], summary="Indicator catalogue")
def api_indicators() -> list[dict[str, Any]]:
    """The indicator catalogue."""
    return [item.as_dict() for item in catalogue()]


def ranked(session: Session, item: Indicator, period: str | None) -> dict[str, Any]:
    """One indicator across every current local authority for one period, best first."""
    context = load_context(session)
    periods = sorted(
        {p.period for pts in context.by_level[LA].get(item.id, {}).values() for p in pts}
    )
    if not periods:
        return {"indicator": item, "period": None, "periods": [], "rows": []}
    chosen = period if period in periods else periods[-1]
    values = context.at_period(item, chosen)
    rows: list[dict[str, Any]] = []
    for old, la in context.current.items():
        points = [p for p in context.points(item, LA, old) if p.period == chosen]
        point = points[0] if points else SeriesPoint(chosen, None, "x")
        position = rank_of(values, old, item.polarity)
        rows.append(
            {
                "la": la,
                "point": point,
                "rank": position[0] if position else None,
                "quartile": position[2] if position else None,
            }
        )
    reverse = item.polarity == "higher is better"
    rows.sort(
        key=lambda r: (
            r["point"].value is None,
            -(r["point"].value or 0) if reverse else (r["point"].value or 0),
            r["la"].name,
        )
    )
    england = [p for p in context.points(item, NATIONAL, ENGLAND) if p.period == chosen]
    return {
        "indicator": item,
        "period": chosen,
        "periods": periods,
        "rows": rows,
        "england": england[0] if england else None,
        "count": len(values),
    }


@router.get("/indicators/{indicator_id}.csv", tags=["outcomes"], summary="One indicator as CSV")
def csv_indicator(
    indicator_id: str,
    period: str | None = Query(None, max_length=6),
    session: Session = Depends(db_session),
) -> Response:
    """One indicator for every current local authority in one period, as CSV."""
    item = indicator(indicator_id)
    table = ranked(session, item, period)
    return csv_response(_ranked_dicts(table), f"{item.id}-{table['period']}.csv")


@router.get("/indicators/{indicator_id}", response_class=HTMLResponse, include_in_schema=False)
def indicator_page(
    request: Request,
    indicator_id: str,
    period: str | None = Query(None, max_length=6),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """One indicator across every local authority: a ranked table, England's curve."""
    item = indicator(indicator_id)
    table = ranked(session, item, period)
    england = series(session, [item], NATIONAL, ENGLAND)[item.id]
    return render(
        request,
        "outcomes/indicator.html",
        table=table,
        distribution=_distribution(item, table),
        chart=chart_for(item, england, "England") if england else None,
        format_value=format_value,
        period_label=period_label,
    )


def _distribution(item: Indicator, table: dict[str, Any]) -> Markup | None:
    """Every authority's figure for the year as a bar, best first, with England's line."""
    numbers = [r for r in table["rows"] if r["point"].value is not None]
    if not numbers:
        return None
    england = table.get("england")
    reference = england.value if england is not None else None
    svg = ranked_svg(tuple(r["point"].value for r in numbers), reference, item.unit)
    caption = (
        f"{item.title}, {period_label(table['period'])}: every local authority "
        f"{'best' if item.polarity != 'no polarity' else 'lowest'} first"
        + (", with England's figure as a dashed line" if reference is not None else "")
    )
    rows = [
        (r["la"].name, format_value(r["point"].value, r["point"].status, item.unit))
        for r in numbers
    ]
    if reference is not None:
        rows.append(("England", format_value(reference, "value", item.unit)))
    return figure(caption, svg, ["Local authority", item.title], rows)


def _ranked_dicts(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": r["la"].name,
            "new_la_code": r["la"].new_la_code,
            "old_la_code": r["la"].old_la_code,
            "period": r["point"].period,
            "value": r["point"].value,
            "status": r["point"].status,
            "rank": r["rank"],
            "quartile": r["quartile"],
        }
        for r in table["rows"]
    ]


@router.get("/api/indicators/{indicator_id}", tags=["outcomes"], summary="One indicator, ranked")
def api_indicator(
    indicator_id: str,
    period: str | None = Query(
        None, max_length=6, description="A period such as 2025; latest if omitted"
    ),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """One indicator for every current local authority in one period, best first."""
    item = indicator(indicator_id)
    table = ranked(session, item, period)
    england = table.get("england")
    return {
        "indicator": item.as_dict(),
        "period": table["period"],
        "periods": table["periods"],
        "england": england.as_dict() if england else None,
        "local_authorities": _ranked_dicts(table),
    }


def _gaps(session: Session, code: str) -> tuple[Any, dict[str, Any]]:
    la = local_authority(session, code)
    context = load_context(session)
    chosen = plans.lists(session, plans.council_of(session, la.new_la_code))
    found = {
        "to_england": [
            gaps.to_england(context, item, la.old_la_code, la.name) for item in chosen.headline
        ],
        "between_quartiles": [
            g
            for item in chosen.headline
            if (g := gaps.between_quartiles(context, item)) is not None
        ],
        "between_groups": [
            gaps.between_groups(session, group, LA, la.old_la_code) for group in gaps.GROUP_GAPS
        ],
    }
    return la, found


def _gap_dict(gap: gaps.Gap) -> dict[str, Any]:
    return {
        "title": gap.title,
        "first": gap.first_label,
        "second": gap.second_label,
        "unit": gap.unit,
        "narrowing": gap.narrowing,
        "sentence": gap.sentence,
        "points": [
            {"period": p.period, "first": p.first, "second": p.second, "gap": p.gap}
            for p in gap.points
        ],
    }


@router.get("/places/{code}/gaps", response_class=HTMLResponse, include_in_schema=False)
def gaps_page(request: Request, code: str, session: Session = Depends(db_session)) -> HTMLResponse:
    """Gaps over time: the authority against England, the best against the worst quarter
    of authorities, and children looked after against children in need."""
    la, found = _gaps(session, code)
    return render(request, "outcomes/gaps.html", la=la, gaps=found, period_label=period_label)


@router.get("/api/places/{code}/gaps", tags=["outcomes"], summary="Gaps over time")
def api_gaps(code: str, session: Session = Depends(db_session)) -> dict[str, Any]:
    """Gaps over time, each with whether it narrowed in the latest year."""
    la, found = _gaps(session, code)
    return {
        "local_authority": {"name": la.name, "new_la_code": la.new_la_code},
        **{key: [_gap_dict(g) for g in value] for key, value in found.items()},
    }
