"""Pages where a council chooses its indicators and sets targets."""

from __future__ import annotations

import json
import mimetypes
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.charts import curve_svg as line_curve_svg
from whatworks.core.charts import figure
from whatworks.core.errors import WhatworksError
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.outcomes import curve, forecast, plans
from whatworks.outcomes.catalogue import catalogue, indicator
from whatworks.outcomes.series import format_value, period_label
from whatworks.places.places import local_authority

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def _editor(session: Session, code: str, user: User | None) -> str:
    la = local_authority(session, code)
    if user is None:
        raise HTTPException(401, "Sign in to choose this council's indicators.")
    if not plans.may_edit(user, la.new_la_code):
        raise HTTPException(403, f"Only members of {la.name}'s own organisation can do this.")
    if plans.council_of(session, la.new_la_code) is None:
        raise HTTPException(404, f"No council organisation is registered for {la.name}.")
    return la.new_la_code


def _page(
    request: Request, session: Session, code: str, errors: list[str], status: int = 200
) -> HTMLResponse:
    la = local_authority(session, code)
    council = plans.council_of(session, la.new_la_code)
    chosen = plans.ratings(session, council)
    lists = plans.lists(session, council)
    return render(
        request,
        "outcomes/choose.html",
        status_code=status,
        la=la,
        catalogue=catalogue(),
        chosen=chosen,
        default_headline={i.id for i in lists.headline} if not lists.chosen else set(),
        targets=plans.targets(session, council),
        errors=errors,
    )


@router.get("/places/{code}/indicators", response_class=HTMLResponse, include_in_schema=False)
def choose_page(
    request: Request,
    code: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The council's three-part list of indicators, its ratings and its targets."""
    _editor(session, code, user)
    return _page(request, session, code, [])


@router.post("/places/{code}/indicators", include_in_schema=False)
def choose(
    request: Request,
    code: str,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Save the council's choices and targets together."""
    la_code = _editor(session, code, user)
    chosen: dict[str, dict[str, str]] = {}
    targets: dict[str, float | None] = {}
    errors = []
    for item in catalogue():
        tier = str(form.get(f"tier-{item.id}", ""))
        if tier in plans.TIERS:
            chosen[item.id] = {
                "tier": tier,
                **{
                    p: str(form.get(f"{p}-{item.id}", ""))
                    for p in ("communication", "proxy", "data")
                },
            }
        raw = str(form.get(f"target-{item.id}", "")).strip()
        try:
            targets[item.id] = float(raw) if raw else None
        except ValueError:
            errors.append(f"The target for {item.title} must be a number, like 12 or 12.5")
    if not errors:
        try:
            plans.choose(session, user, la_code, chosen)
            for indicator_id, value in targets.items():
                plans.set_target(session, user, la_code, indicator_id, value)
            session.commit()
            return RedirectResponse(f"/places/{la_code}/scorecard", status_code=303)
        except WhatworksError as error:
            session.rollback()
            errors.append(str(error))
    return _page(request, session, code, errors, status=400)


def _curve(
    session: Session, code: str, indicator_id: str, user: User | None, method: str
) -> curve.Curve:
    return curve.build(
        session, local_authority(session, code), indicator(indicator_id), user, method=method
    )


def _curve_chart(found: curve.Curve) -> Markup:
    item = found.indicator
    history = tuple((p.period, p.value) for p in found.history)
    frozen = json.loads(found.plan.forecast) if found.plan else []
    points = frozen or [
        {"period": p.period, "value": p.value, "lower": p.lower, "upper": p.upper}
        for p in (found.baseline.points if found.baseline else ())
    ]
    projected = tuple((p["period"], p["value"], p["lower"], p["upper"]) for p in points)
    comparison = tuple((m["period"], m["value"]) for m in found.neighbours_median)
    svg = line_curve_svg(
        history, projected, comparison, "Statistical neighbours, median", found.target, item.unit
    )
    rows = [(p.period, format_value(p.value, p.status, item.unit)) for p in found.history]
    rows += [
        (
            f"{p['period']} (forecast)",
            f"{p['value']:.1f} (80% range {p['lower']:.1f} to {p['upper']:.1f})"
            if p["lower"] is not None
            else f"{p['value']:.1f}",
        )
        for p in points
    ]
    return figure(
        f"{item.title}, {found.la.name}: history and baseline forecast",
        svg,
        ["Year", item.title],
        rows,
    )


@router.get(
    "/places/{code}/curve/{indicator_id}", response_class=HTMLResponse, include_in_schema=False
)
def curve_page(
    request: Request,
    code: str,
    indicator_id: str,
    method: str = Query("linear", pattern="^(linear|damped)$"),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """Turn the curve for one indicator: history, baseline, SPC, verdict and the plan."""
    found = _curve(session, code, indicator_id, user, method)
    return render(
        request,
        "outcomes/curve.html",
        curve=found,
        chart=_curve_chart(found),
        method=method,
        can_edit=plans.council_of(session, found.la.new_la_code) is not None
        and plans.may_edit(user, found.la.new_la_code),
        actions=json.loads(found.plan.actions) if found.plan else [],
        statuses=plans.ACTION_STATUSES,
        period_label=period_label,
        format_value=format_value,
        today=date.today().isoformat(),
    )


@router.get(
    "/places/{code}/curve/{indicator_id}/report",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def curve_report(
    request: Request,
    code: str,
    indicator_id: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The turn-the-curve report on one printable page."""
    found = _curve(session, code, indicator_id, user, "linear")
    return render(
        request,
        "outcomes/curve_report.html",
        curve=found,
        chart=_curve_chart(found),
        actions=json.loads(found.plan.actions) if found.plan else [],
        period_label=period_label,
        format_value=format_value,
    )


def _local_files(url: str) -> Any:
    """WeasyPrint's fetcher: the app's own static files from disk, nothing from a network."""
    import weasyprint

    path = urlparse(url).path
    if url.startswith("data:"):
        return weasyprint.default_url_fetcher(url)
    if path.startswith("/static/"):
        local = (STATIC / path.removeprefix("/static/")).resolve()
        if local.is_relative_to(STATIC.resolve()) and local.is_file():
            kind = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(
                url, body=local.read_bytes(), headers={"Content-Type": kind}
            )
    raise ValueError(f"not fetched for a PDF: {url}")


@router.get("/places/{code}/curve/{indicator_id}/report.pdf", include_in_schema=False)
def curve_report_pdf(
    request: Request,
    code: str,
    indicator_id: str,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """The turn-the-curve report as a PDF, rendered from its printable page."""
    import weasyprint

    page = curve_report(request, code, indicator_id, user, session)
    pdf = weasyprint.HTML(
        string=bytes(page.body).decode("utf-8"),
        base_url=str(request.base_url),
        url_fetcher=_local_files,
    ).write_pdf()
    name = f"turn-the-curve-{code}-{indicator_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/api/places/{code}/curve/{indicator_id}",
    tags=["outcomes"],
    summary="Turn the curve for one indicator",
)
def api_curve(
    code: str,
    indicator_id: str,
    method: str = Query(
        "linear",
        pattern="^(linear|damped)$",
        description="Baseline forecast: linear (default) or damped",
    ),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """History, baseline forecast with its 80% range, neighbours' mean and median, SPC
    limits and signals, the verdict against the frozen baseline, and the plan the viewer
    may see (drafts only for the council itself)."""
    return _curve(session, code, indicator_id, user, method).as_dict()


def _actions(form: FormData) -> list[dict[str, str]]:
    found = []
    for n in range(plans.MAX_ACTIONS):
        action = str(form.get(f"action-{n}", "")).strip()
        if not action:
            continue
        found.append(
            {
                "action": action,
                **{
                    key: str(form.get(f"{key}-{n}", "")).strip()
                    for key in ("owner", "start", "due")
                },
                "status": str(form.get(f"status-{n}", "not started")),
            }
        )
    return found


@router.post("/places/{code}/curve/{indicator_id}", include_in_schema=False)
def save_curve(
    request: Request,
    code: str,
    indicator_id: str,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Freeze the baseline (with any adjusted points) or save the story and action plan;
    either way a new version of the plan is kept."""
    la_code = _editor(session, code, user)
    item = indicator(indicator_id)
    method = str(form.get("method", "linear"))
    found = _curve(
        session, la_code, indicator_id, user, method if method in curve.METHODS else "linear"
    )
    previous = found.plan
    freezing = form.get("freeze") == "yes"
    errors = []
    adjustments: dict[str, float] = {}
    if freezing and found.baseline is not None:
        for point in found.baseline.points:
            raw = str(form.get(f"adjust-{point.period}", "")).strip()
            if raw:
                try:
                    adjustments[point.period] = float(raw)
                except ValueError:
                    errors.append(f"The forecast for {point.period} must be a number")
    raw_target = str(form.get("target", "")).strip()
    target: float | None = None
    if raw_target:
        try:
            target = float(raw_target)
        except ValueError:
            errors.append("The target must be a number, like 12 or 12.5")
    if freezing and found.baseline is None:
        errors.append("There are too few published figures to forecast a baseline")
    if not errors:
        if freezing and found.baseline is not None:
            chosen = forecast.adjust_forecast(found.baseline, adjustments)
            frozen = [
                {"period": p.period, "value": p.value, "lower": p.lower, "upper": p.upper}
                for p in chosen.points
            ]
            frozen_on: str | None = date.today().isoformat()
            method_used = chosen.method
        else:
            frozen = json.loads(previous.forecast) if previous else []
            frozen_on = previous.frozen_on if previous else None
            method_used = previous.method if previous else "not frozen"
        try:
            plans.save_plan(
                session,
                user,
                la_code,
                item.id,
                status=str(form.get("status", "draft")),
                method=method_used,
                forecast=frozen,
                frozen_on=frozen_on,
                target=target,
                story=str(form.get("story", "")),
                partners=str(form.get("partners", "")),
                what_works=str(form.get("what_works", "")),
                actions=_actions(form),
                reason=str(form.get("reason", "")),
            )
            session.commit()
            return RedirectResponse(f"/places/{la_code}/curve/{item.id}", status_code=303)
        except WhatworksError as error:
            session.rollback()
            errors.append(str(error))
    return render(
        request,
        "outcomes/curve.html",
        status_code=400,
        curve=found,
        chart=_curve_chart(found),
        method=method,
        can_edit=True,
        errors=errors,
        actions=_actions(form),
        statuses=plans.ACTION_STATUSES,
        period_label=period_label,
        format_value=format_value,
        today=date.today().isoformat(),
    )
