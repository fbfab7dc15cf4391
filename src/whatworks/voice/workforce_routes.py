"""Pages for a council's workforce and leadership: the published workforce figures for
everyone, and for members of the council's own organisation its staff survey results and
in-year workforce measures, with their JSON twin, a CSV export and the action that adds
the standard workforce measures (docs/voice.md)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.charts import figure, line_svg
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.outcomes.exports import scorecard_rows_as_dicts
from whatworks.outcomes.series import format_value, period_label
from whatworks.places.places import DEFAULT_NEIGHBOUR_MODEL, NEIGHBOUR_MODELS, local_authority
from whatworks.voice import workforce

router = APIRouter()
Db = Annotated[Session, Depends(db_session)]
SignedIn = Annotated[User | None, Depends(current_user)]
Posted = Annotated[FormData, Depends(verified_form)]
MODEL_PATTERN = "^(2021|2025)$"
Model = Annotated[
    str,
    Query(
        pattern=MODEL_PATTERN,
        description="Statistical neighbour model: 2025 (default) or 2021",
    ),
]


def _found(session: Session, user: User | None, code: str, model: str) -> workforce.Workforce:
    found = workforce.workforce(session, user, code, model)
    if found.member:
        session.commit()  # the audit entry of the member's reading
    return found


def _chart(item: workforce.PublishedFigure, where: str) -> Markup | None:
    points = item.row.points
    if not points:
        return None
    unit = item.indicator.unit
    caption = f"{item.indicator.title}, {where}, by year"
    svg = line_svg(tuple((period_label(p.period), p.value) for p in points), unit)
    rows = [(period_label(p.period), format_value(p.value, p.status, unit)) for p in points]
    return figure(caption, svg, ["Year", item.indicator.title], rows)


@router.get("/voice/workforce/{code}", response_class=HTMLResponse, include_in_schema=False)
def workforce_page(
    request: Request,
    session: Db,
    user: SignedIn,
    code: str,
    model: Model = DEFAULT_NEIGHBOUR_MODEL,
    added: int | None = Query(None, ge=0, le=len(workforce.STANDARD_MEASURES)),
) -> HTMLResponse:
    """A council's workforce and leadership: published figures, staff survey, local measures."""
    found = _found(session, user, code, model)
    charts = [
        _chart(
            item,
            " and ".join((found.la.name, *item.joint_with)) if item.joint_with else found.la.name,
        )
        for item in found.published
    ]
    return render(
        request,
        "voice/workforce.html",
        found=found,
        charts=charts,
        added=added,
        models=NEIGHBOUR_MODELS,
        standard=workforce.STANDARD_MEASURES,
        format_value=format_value,
        period_label=period_label,
    )


def _survey_dict(item: workforce.SurveyFigure) -> dict[str, Any]:
    [row] = scorecard_rows_as_dicts([item.row])
    return {
        "question_id": item.question_id,
        **row,
        "series": [p.as_dict() for p in item.row.points],
    }


def _measure_dict(item: workforce.LocalMeasure) -> dict[str, Any]:
    measure = item.measure
    return {
        "id": measure.id,
        "name": measure.name,
        "service": measure.service,
        "quadrant": measure.quadrant,
        "kind": measure.kind,
        "polarity": measure.polarity,
        "description": measure.description,
        "target": measure.target,
        "judgement": item.row.judgement,
        "periods_in_trend": item.row.periods_in_trend,
        "variance_from_target": item.row.variance_from_target,
        "variation": item.variation,
        "assurance": item.assurance,
        "values": [p.as_dict() for p in item.row.points],
    }


@router.get(
    "/api/voice/workforce/{code}",
    tags=["voice"],
    summary="A council's workforce and leadership",
)
def workforce_json(
    session: Db, user: SignedIn, code: str, model: Model = DEFAULT_NEIGHBOUR_MODEL
) -> dict[str, Any]:
    """The workforce page as JSON: each published workforce indicator as a scorecard row
    with its series and England's; for members of the council's own organisation, its
    staff survey results (withheld shares hold their symbol and no number) and its
    in-year workforce measures. `staff_survey` and `measures` are null for anyone else."""
    found = _found(session, user, code, model)
    la = found.la
    published = []
    for item, row in zip(
        found.published, scorecard_rows_as_dicts([i.row for i in found.published]), strict=True
    ):
        published.append(
            {
                **row,
                "note": item.indicator.note,
                "joint_with": list(item.joint_with),
                "series": [p.as_dict() for p in item.row.points],
                "england_series": [p.as_dict() for p in item.england],
            }
        )
    return {
        "local_authority": {
            "name": la.name,
            "new_la_code": la.new_la_code,
            "old_la_code": la.old_la_code,
        },
        "council": found.council.name if found.council else None,
        "neighbour_model": found.model,
        "member": found.member,
        "published": published,
        "staff_survey": [_survey_dict(s) for s in found.survey]
        if found.survey is not None
        else None,
        "measures": [_measure_dict(m) for m in found.measures]
        if found.measures is not None
        else None,
        "standard_measures": [
            {"name": s.name, "added": s not in found.missing_standard}
            for s in workforce.STANDARD_MEASURES
        ]
        if found.member
        else None,
    }


@router.get("/voice/workforce/{code}/workforce.csv", include_in_schema=False)
def workforce_csv(
    session: Db, user: SignedIn, code: str, model: Model = DEFAULT_NEIGHBOUR_MODEL
) -> Response:
    """Every figure of the page, one row per period (members also get the survey rounds and
    local measures); withheld survey shares keep their symbol."""
    found = _found(session, user, code, model)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=workforce.CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(workforce.csv_rows(found))
    name = f"workforce-{found.la.new_la_code}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/voice/workforce/{code}/standard-measures", include_in_schema=False)
def add_standard_measures(session: Db, user: SignedIn, form: Posted, code: str) -> Response:
    """Add the standard in-year workforce measures the council does not have yet."""
    if user is None:
        raise HTTPException(401, "Sign in to add your council's workforce measures.")
    created = workforce.add_standard_measures(session, user, code)
    session.commit()
    la = local_authority(session, code)
    return RedirectResponse(
        f"/voice/workforce/{la.new_la_code}?added={len(created)}#measures",
        status_code=303,
    )
