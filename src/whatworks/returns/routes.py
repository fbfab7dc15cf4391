"""Pages and JSON for a council's statutory returns: upload, validation report, measures.

Only analysts (and administrators) see them, and an analyst only ever sees their own
council: its imports, its validation reports and the measures computed from its returns,
which are not published. Every page that reads from the returns is recorded in the audit
log with its purpose.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from whatworks.core import audit
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.outcomes.exports import csv_response
from whatworks.places.models import LocalAuthority
from whatworks.places.places import local_authority
from whatworks.returns import imports, measures, results
from whatworks.returns.cli import latest_collection_year
from whatworks.returns.models import ReturnImport
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.returns.service import compute_and_save, returns_store
from whatworks.returns.ssda903 import MAX_BYTES

router = APIRouter()
YEARS = range(2017, 2027)


def _council(session: Session, user: User | None, la: str | None = None) -> LocalAuthority:
    """The council whose returns `user` may see: their own; an administrator may name one."""
    if user is None:
        raise HTTPException(401, "Sign in to see your council's returns.")
    if user.role not in ("analyst", "admin"):
        raise HTTPException(403, "Only analysts see child-level returns and their measures.")
    own = user.organisation.la_code if user.organisation else None
    code = la if (la and user.role == "admin") else own
    if la and la != own and user.role != "admin":
        raise HTTPException(403, "You may see only your own council's returns.")
    if not code:
        raise HTTPException(403, "Your organisation is not a council, so it has no returns.")
    try:
        return local_authority(session, code)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None


def _read_audit(session: Session, user: User, council: LocalAuthority, what: str) -> None:
    audit.record(
        session,
        audit.Actor.of(user),
        "returns.read",
        council.new_la_code,
        f"view of the council's {what}",
    )
    session.commit()


def _imports(session: Session, council: LocalAuthority) -> list[ReturnImport]:
    return list(
        session.scalars(
            select(ReturnImport)
            .where(ReturnImport.la_code == council.new_la_code)
            .order_by(ReturnImport.imported_at.desc())
        )
    )


@router.get("/returns", response_class=HTMLResponse, include_in_schema=False)
def returns_page(
    request: Request,
    la: str | None = None,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The council's imported returns and the form to upload a year's files."""
    council = _council(session, user, la)
    stored = returns_store(request.app.state.settings).stored(council.new_la_code)
    return render(
        request,
        "returns/index.html",
        council=council,
        stored=stored,
        imports=_imports(session, council),
        years=list(YEARS)[::-1],
        latest=latest_collection_year(),
        errors=[],
    )


async def _saved_uploads(form: FormData, folder: Path) -> list[Path]:
    paths: list[Path] = []
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        name = Path(upload.filename).name or "upload"
        target = folder / f"{len(paths):03d}-{name}"
        written = 0
        with target.open("wb") as handle:
            while block := await upload.read(1 << 20):
                written += len(block)
                if written > MAX_BYTES:
                    raise WhatworksError(
                        f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB; "
                        "a return's files are far smaller: check it is the right file."
                    )
                handle.write(block)
        paths.append(target)
    if not paths:
        raise WhatworksError("Choose the return's files to upload (CSV tables and CIN XML).")
    return paths


def _year(form: FormData) -> int:
    try:
        year = int(str(form.get("year", "")))
    except ValueError:
        raise WhatworksError("Choose the collection year of the return.") from None
    if year not in YEARS:
        raise WhatworksError(f"Returns from {YEARS.start} to {YEARS.stop - 1} can be read.")
    return year


def _strip_prefix(report: imports.Report) -> None:
    """Show uploaded files by the names the person chose."""
    for entry in report.files:
        entry.name = entry.name.split("-", 1)[-1]
    report.problems = [(f.split("-", 1)[-1] if f else f, p) for f, p in report.problems]


@router.post("/returns/upload", include_in_schema=False)
async def upload(
    request: Request,
    form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """Validate a year's files, and import them if asked and they are sound."""
    council = _council(session, user)
    chosen = request.app.state.settings
    action = str(form.get("action", "validate"))
    with tempfile.TemporaryDirectory(prefix="whatworks-upload-") as folder:
        try:
            year = _year(form)
            paths = await _saved_uploads(form, Path(folder))
            key = load_or_create_key(chosen.data_dir)
            if action != "import":
                report = imports.validate(paths, year, key, council)
                _strip_prefix(report)
                return _report(request, council, report, status=200)
            imports.import_return(
                session,
                returns_store(chosen),
                key,
                council,
                year,
                paths,
                audit.Actor.of(user),
            )
            session.commit()
        except imports.ReturnRejected as rejected:
            session.rollback()
            _strip_prefix(rejected.report)
            return _report(request, council, rejected.report, status=400, rejected=True)
        except WhatworksError as error:
            session.rollback()
            stored = returns_store(chosen).stored(council.new_la_code)
            return render(
                request,
                "returns/index.html",
                status_code=400,
                council=council,
                stored=stored,
                imports=_imports(session, council),
                years=list(YEARS)[::-1],
                latest=latest_collection_year(),
                errors=[str(error)],
            )
    compute_and_save(chosen, council, measures.Period.year(year), audit.Actor.of(user))
    return RedirectResponse(f"/returns/measures?year={year}", status_code=303)


def _report(
    request: Request,
    council: LocalAuthority,
    report: imports.Report,
    status: int,
    rejected: bool = False,
) -> Response:
    wanted = request.query_params.get("format")
    if wanted == "json":
        from fastapi.responses import JSONResponse

        return JSONResponse(report.as_dict(), status_code=status)
    if wanted == "csv":
        return csv_response(report.rows(), f"validation-{council.new_la_code}-{report.year}.csv")
    return render(
        request,
        "returns/report.html",
        status_code=status,
        council=council,
        report=report,
        rejected=rejected,
        columns=imports.COLUMNS,
    )


def _period(year: int | None, as_at: str | None, stored_years: list[int]) -> measures.Period:
    if as_at:
        try:
            return measures.Period.as_at(date.fromisoformat(as_at))
        except ValueError:
            raise HTTPException(400, f"{as_at!r} is not a date written YYYY-MM-DD.") from None
    if year is None:
        if not stored_years:
            raise HTTPException(404, "No returns are imported yet; upload a year's files first.")
        year = stored_years[-1]
    return measures.Period.year(year)


def _measures(
    request: Request, session: Session, user: User, council: LocalAuthority,
    year: int | None, as_at: str | None,
) -> tuple[measures.Period, list[results.Value], list[results.Reconciled]]:  # fmt: skip
    chosen = request.app.state.settings
    stored_years = returns_store(chosen).years(council.new_la_code)
    period = _period(year, as_at, stored_years)
    values = compute_and_save(chosen, council, period, audit.Actor.of(user))
    return period, values, results.reconcile(session, council, values)


@router.get("/returns/measures", response_class=HTMLResponse, include_in_schema=False)
def measures_page(
    request: Request,
    year: int | None = None,
    as_at: str | None = None,
    la: str | None = None,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The council's measures computed from its returns, beside the published figures."""
    council = _council(session, user, la)
    assert user is not None
    period, values, reconciled = _measures(request, session, user, council, year, as_at)
    return render(
        request,
        "returns/measures.html",
        council=council,
        period=period,
        values=values,
        reconciled=reconciled,
        shown=results.shown,
        years=returns_store(request.app.state.settings).years(council.new_la_code),
    )


@router.get("/api/returns/measures", tags=["returns"], summary="Measures from your returns")
def api_measures(
    request: Request,
    year: int | None = None,
    as_at: str | None = None,
    la: str | None = None,
    format: str = "json",
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Any:
    """Your council's measures computed from its own returns for the year to 31 March `year`
    (default: the latest imported) or the twelve months to `as_at`, with the reconciliation
    against published figures. `format=csv` gives the values as CSV."""
    council = _council(session, user, la)
    assert user is not None
    period, values, reconciled = _measures(request, session, user, council, year, as_at)
    if format == "csv":
        return csv_response(
            [v.as_dict() for v in values], f"measures-{council.new_la_code}-{period.period}.csv"
        )
    return {
        "la": council.new_la_code,
        "name": council.name,
        "period": period.period,
        "period_label": period.label,
        "source": results.SOURCE,
        "values": [v.as_dict() for v in values],
        "reconciliation": [r.as_dict() for r in reconciled],
    }


@router.get("/api/returns", tags=["returns"], summary="Your council's imported returns")
def api_returns(
    request: Request,
    la: str | None = None,
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """The years imported for your council, with the files each came from."""
    council = _council(session, user, la)
    assert user is not None
    _read_audit(session, user, council, "list of imported returns")
    stored = returns_store(request.app.state.settings).stored(council.new_la_code)
    return {"la": council.new_la_code, "years": [{"year": s.year, **s.manifest} for s in stored]}
