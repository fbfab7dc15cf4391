"""Pages and JSON for a council's own performance measures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from whatworks.core import disclosure
from whatworks.core.charts import figure, line_svg
from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.outcomes import measures, spc
from whatworks.outcomes.catalogue import Indicator
from whatworks.outcomes.exports import csv_response
from whatworks.outcomes.models import PerformanceMeasure
from whatworks.outcomes.scorecard import row_for
from whatworks.outcomes.series import period_label

router = APIRouter()
MAX_UPLOAD_BYTES = 1_000_000


def _member(user: User | None) -> User:
    if user is None:
        raise HTTPException(401, "Sign in to see your organisation's performance measures.")
    if user.organisation_id is None:
        raise HTTPException(403, "Performance measures belong to an organisation; you have none.")
    return user


def _as_indicator(measure: PerformanceMeasure) -> Indicator:
    """A measure dressed as an indicator, so the scorecard machinery reads it the same way."""
    return Indicator(
        id=f"measure-{measure.id}",
        title=measure.name,
        lay=measure.description,
        technical=measure.description,
        unit="%" if measure.kind == "percent" else "number",
        polarity=measure.polarity,
        population=measure.service,
        ecm="Stay safe",
        framework="Children and young people are safe in and outside of their homes",
        powers={"communication": "M", "proxy": "M", "data": "M"},
        source="measures",
        measure=str(measure.id),
    )


def _detail(session: Session, measure: PerformanceMeasure) -> dict[str, Any]:
    points = measures.series(session, measure)
    item = _as_indicator(measure)
    row = row_for(item, points, "measure", measure.target)
    chart = spc.xmr_chart([(p.period, p.value) for p in points])
    svg = line_svg(tuple((p.period, p.value) for p in points), item.unit) if points else None
    table = [(p.period, f"{p.value:g}{'%' if measure.kind == 'percent' else ''}") for p in points]
    return {
        "measure": measure,
        "quadrant_question": measures.QUADRANTS[measure.quadrant],
        "row": row,
        "spc": chart,
        "variation": spc.variation_icon(chart, measure.polarity) if points else None,
        "assurance": spc.assurance_icon(chart, measure.polarity, measure.target),
        "chart": figure(f"{measure.name}, by period", svg, ["Period", measure.name], table)
        if svg
        else None,
        "points": points,
    }


@router.get("/measures", response_class=HTMLResponse, include_in_schema=False)
def measures_page(
    request: Request,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The organisation's performance measures, by service and quadrant."""
    member = _member(user)
    return render(
        request,
        "outcomes/measures.html",
        measures=measures.visible(session, member),
        quadrants=measures.QUADRANTS,
    )


@router.get("/api/measures", tags=["outcomes"], summary="Your organisation's measures")
def api_measures(
    user: User | None = Depends(current_user), session: Session = Depends(db_session)
) -> list[dict[str, Any]]:
    """The signed-in user's organisation's performance measures."""
    return [_measure_dict(session, m) for m in measures.visible(session, _member(user))]


def _measure_dict(session: Session, measure: PerformanceMeasure) -> dict[str, Any]:
    return {
        "id": measure.id,
        "service": measure.service,
        "name": measure.name,
        "quadrant": measure.quadrant,
        "kind": measure.kind,
        "polarity": measure.polarity,
        "description": measure.description,
        "target": measure.target,
        "values": [p.as_dict() for p in measures.series(session, measure)],
    }


@router.get("/measures/new", response_class=HTMLResponse, include_in_schema=False)
def new_measure_page(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    """The form to define a measure."""
    _member(user)
    return render(
        request, "outcomes/measure_new.html", errors=[], values={}, quadrants=measures.QUADRANTS
    )


@router.post("/measures/new", include_in_schema=False)
def new_measure(
    request: Request,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Define a measure."""
    member = _member(user)
    values = {
        k: str(form.get(k, ""))
        for k in ("service", "name", "quadrant", "kind", "polarity", "description", "target")
    }
    errors = []
    target = None
    if values["target"].strip():
        try:
            target = float(values["target"])
        except ValueError:
            errors.append("The target must be a number")
    if not errors:
        try:
            measure = measures.create(
                session,
                member,
                service=values["service"],
                name=values["name"],
                quadrant=values["quadrant"],
                kind=values["kind"],
                polarity=values["polarity"],
                description=values["description"],
                target=target,
            )
            session.commit()
            return RedirectResponse(f"/measures/{measure.id}", status_code=303)
        except WhatworksError as error:
            session.rollback()
            errors.append(str(error))
    return render(
        request,
        "outcomes/measure_new.html",
        status_code=400,
        errors=errors,
        values=values,
        quadrants=measures.QUADRANTS,
    )


@router.get("/measures/{measure_id}", response_class=HTMLResponse, include_in_schema=False)
def measure_page(
    request: Request,
    measure_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """One measure: its curve, trend, SPC signals, target, and forms to add values."""
    measure = measures.get(session, _member(user), measure_id)
    return render(
        request,
        "outcomes/measure.html",
        errors=[],
        period_label=period_label,
        **_detail(session, measure),
    )


@router.get("/api/measures/{measure_id}", tags=["outcomes"], summary="One measure")
def api_measure(
    measure_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """One measure with its values, trend and SPC signals."""
    measure = measures.get(session, _member(user), measure_id)
    detail = _detail(session, measure)
    row = detail["row"]
    return {
        **_measure_dict(session, measure),
        "judgement": row.judgement,
        "periods_in_trend": row.periods_in_trend,
        "variance_from_target": row.variance_from_target,
        "spc": {
            "mean": detail["spc"].mean,
            "upper_limit": detail["spc"].upper_limit,
            "lower_limit": detail["spc"].lower_limit,
            "signals": [s.description for s in detail["spc"].signals],
            "notes": list(detail["spc"].notes),
        },
    }


@router.get("/measures/{measure_id}/values.csv", include_in_schema=False)
def measure_csv(
    measure_id: int,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """The measure's values as CSV; percentages on small bases are suppressed as the DfE does."""
    measure = measures.get(session, _member(user), measure_id)
    rows = []
    for value in measures.values(session, measure):
        shown = disclosure.Controlled(value.value, "value")
        if measure.kind == "percent" and value.denominator is not None:
            shown = disclosure.control_percentage(value.numerator, value.denominator)
        rows.append({"period": value.period, "value": shown.value, "status": shown.status})
    return csv_response(rows, f"measure-{measure.id}.csv")


def _reshow(
    request: Request, session: Session, measure: PerformanceMeasure, errors: list[str]
) -> HTMLResponse:
    return render(
        request,
        "outcomes/measure.html",
        status_code=400,
        errors=errors,
        period_label=period_label,
        **_detail(session, measure),
    )


@router.post("/measures/{measure_id}/values", include_in_schema=False)
def add_value(
    request: Request,
    measure_id: int,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Add (or correct) one period's value."""
    member = _member(user)
    measure = measures.get(session, member, measure_id)
    try:
        entry = measures.check(
            measure,
            str(form.get("period", "")),
            str(form.get("value", "")),
            str(form.get("numerator", "")),
            str(form.get("denominator", "")),
        )
    except ValueError as error:
        return _reshow(request, session, measure, [f"The value was not saved: {error}"])
    measures.store(session, member, measure, [entry])
    session.commit()
    return RedirectResponse(f"/measures/{measure.id}", status_code=303)


@router.post("/measures/{measure_id}/target", include_in_schema=False)
def change_target(
    request: Request,
    measure_id: int,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Set or remove the measure's target."""
    member = _member(user)
    measure = measures.get(session, member, measure_id)
    try:
        measures.set_target(session, member, measure, str(form.get("target", "")))
    except WhatworksError as error:
        session.rollback()
        return _reshow(request, session, measure, [f"The target was not saved: {error}"])
    session.commit()
    return RedirectResponse(f"/measures/{measure.id}", status_code=303)


@router.post("/measures/{measure_id}/upload", include_in_schema=False)
async def upload_values(
    request: Request,
    measure_id: int,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Add values from a CSV file; a file with any problem is rejected whole."""
    member = _member(user)
    measure = measures.get(session, member, measure_id)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _reshow(request, session, measure, ["Choose a CSV file to upload"])
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _reshow(request, session, measure, ["The file is larger than 1 MB"])
    try:
        entries = measures.read_csv(measure, upload.filename, content)
    except ImportProblem as problem:
        return _reshow(
            request,
            session,
            measure,
            [f"{upload.filename} was not imported; nothing from it was stored.", *problem.problems],
        )
    measures.store(session, member, measure, entries)
    session.commit()
    return RedirectResponse(f"/measures/{measure.id}", status_code=303)
