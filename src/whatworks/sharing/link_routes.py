"""Pages and JSON of linked data: a partnership's linkage runs (and starting one), a run's
counts, its clerical review queue (and decisions), the whole-system view and the
record-level view of one person.

Every page and its JSON twin is for users with linked access (members of the partnership
holding the partnership member role, and administrators) under an agreement in force:
anybody else gets 403 with the reason, a visitor is sent to sign in (401 for the JSON).
A run is done within the request that starts it (seconds for a few thousand records).
The record-level view is only ever a POST (the form, or JSON with the purpose in its
body), since each look writes an audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from whatworks.core.audit import Actor, record
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import render
from whatworks.evidence.forms import Db, Errors, Posted, SignedIn, long_date, render_form, stamp
from whatworks.sharing import records, review, runs, system
from whatworks.sharing.access import agreement_for, datasets_covered, require_linked_access
from whatworks.sharing.models import AgencyDataset, LinkRun, Partnership
from whatworks.sharing.partnerships import get_partnership

router = APIRouter()
COLOUR = {"running": "govuk-tag--blue", "done": "govuk-tag--green", "failed": "govuk-tag--red"}
#: People listed on a run's page, known to the most agencies first.
LISTED = 20


def _data_dir(request: Request) -> Path:
    folder: Path = request.app.state.settings.data_dir
    return folder


def _page_user(user: User | None, back: str) -> User | RedirectResponse:
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    return user


def _api_user(user: User | None) -> User:
    if user is None:
        raise HTTPException(401, "Sign in to see linked data.")
    return user


def _linked(session: Db, user: User, partnership: Partnership, run: LinkRun | None = None) -> None:
    """403 unless the user has linked access and an agreement is in force (when there is a
    run, each of its datasets' own agreement)."""
    require_linked_access(session, user, partnership)
    if run is None:
        agreement_for(session, partnership, date.today())
    else:
        datasets_covered(session, partnership, runs.datasets_of(session, run), date.today())


def _helpers() -> dict[str, Any]:
    return {
        "long_date": long_date,
        "stamp": stamp,
        "colour": COLOUR,
        "agency_name": lambda a: system.AGENCY_NAMES.get(a, a.capitalize()),
        "field_labels": records.FIELD_LABELS,
    }


# --- runs ---------------------------------------------------------------------------------


def _dataset_json(d: AgencyDataset) -> dict[str, Any]:
    return {
        "id": d.id,
        "agency": d.agency,
        "title": d.title,
        "rows": d.row_count,
        "status": d.status,
        "uploaded_at": d.uploaded_at.isoformat(timespec="seconds"),
    }


def run_json(run: LinkRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "partnership_id": run.partnership_id,
        "agreement_id": run.agreement_id,
        "purpose": run.purpose,
        "datasets": runs.dataset_ids_of(run),
        "engine": run.engine,
        "status": run.status,
        "error": run.error,
        "threshold": run.threshold,
        "estimated_precision": run.estimated_precision,
        "estimated_recall": run.estimated_recall,
        "records": run.record_count,
        "pairs_scored": run.pair_count,
        "links": run.link_count,
        "pairs_for_review": run.review_count,
        "people": run.cluster_count,
        "seconds": run.seconds,
        "run_by": run.run_by,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
    }


def _runs_page(
    request: Request,
    session: Db,
    partnership: Partnership,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "sharing/runs.html",
        values,
        errors,
        status,
        partnership=partnership,
        runs=runs.list_runs(session, partnership),
        datasets=runs.linkable(session, partnership),
        minimum=runs.MIN_PURPOSE,
        **_helpers(),
    )


@router.get(
    "/sharing/partnerships/{partnership_id:int}/runs",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def runs_page(request: Request, session: Db, user: SignedIn, partnership_id: int) -> Response:
    """The partnership's linkage runs and the form to start one."""
    who = _page_user(user, f"/sharing/partnerships/{partnership_id}/runs")
    if isinstance(who, Response):
        return who
    partnership = get_partnership(session, partnership_id)
    _linked(session, who, partnership)
    every = [str(d.id) for d in runs.linkable(session, partnership)]
    return _runs_page(request, session, partnership, {"datasets": every, "purpose": ""}, [])


@router.get("/api/sharing/partnerships/{partnership_id:int}/runs")
def runs_json(session: Db, user: SignedIn, partnership_id: int) -> JSONResponse:
    """The partnership's linkage runs, newest first, and the datasets that can be linked."""
    who = _api_user(user)
    partnership = get_partnership(session, partnership_id)
    _linked(session, who, partnership)
    return JSONResponse(
        {
            "partnership_id": partnership.id,
            "partnership": partnership.name,
            "runs": [run_json(r) for r in runs.list_runs(session, partnership)],
            "linkable_datasets": [_dataset_json(d) for d in runs.linkable(session, partnership)],
        }
    )


@router.post("/sharing/partnerships/{partnership_id:int}/runs", include_in_schema=False)
def start_run(
    request: Request, session: Db, user: SignedIn, form: Posted, partnership_id: int
) -> Response:
    """Run the linkage now (in this request) and show the run, or the form with its errors."""
    if user is None:
        raise HTTPException(401, "Sign in to start a linkage run.")
    partnership = get_partnership(session, partnership_id)
    _linked(session, user, partnership)
    chosen = [str(v) for v in form.getlist("datasets")]
    purpose = str(form.get("purpose", "")).strip()
    values = {"datasets": chosen, "purpose": purpose}
    errors: Errors = []
    if len(chosen) < 2:
        errors.append(("datasets", "Choose at least two datasets to link"))
    if len(purpose) < runs.MIN_PURPOSE:
        errors.append(
            ("purpose", f"Say why the run is needed, in at least {runs.MIN_PURPOSE} characters")
        )
    ids: list[int] = []
    for value in chosen:
        try:
            ids.append(int(value))
        except ValueError:
            errors.append(("datasets", f"{value!r} is not a dataset of this partnership"))
    if not errors:
        try:
            run = runs.run_linkage(
                session,
                _data_dir(request),
                user,
                partnership,
                ids,
                purpose,
                engine=request.app.state.settings.engine,
            )
            session.commit()
            return RedirectResponse(f"/sharing/runs/{run.id}", status_code=303)
        except runs.PurposeNeeded as refused:
            session.rollback()
            errors.append(("purpose", str(refused)))
        except PermissionDenied:
            raise
        except WhatworksError as refused:
            session.rollback()
            errors.append(("datasets", str(refused)))
    return _runs_page(request, session, partnership, values, errors, status=400)


def _people(data_dir: Path, session: Db, run: LinkRun) -> list[dict[str, Any]]:
    """The people known to the most agencies (pseudonyms and agencies only)."""
    if run.status != "done":
        return []
    agency = {d.id: d.agency for d in runs.datasets_of(session, run)}
    found: dict[str, set[str]] = {}
    for row in runs.clusters_of(data_dir, run):
        found.setdefault(row["person"], set()).add(agency[row["dataset_id"]])
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        {"person": person, "agencies": sorted(agencies, key=system.agency_key)}
        for person, agencies in ranked[:LISTED]
        if len(agencies) > 1
    ]


def _run_context(session: Db, who: User, run_id: int, data_dir: Path) -> dict[str, Any]:
    run = runs.get_run(session, run_id)
    partnership = runs.partnership_of(session, run)
    _linked(session, who, partnership, run)
    people = _people(data_dir, session, run)
    if people:
        record(
            session,
            Actor.of(who),
            "view linkage run",
            f"sharing run:{run.id}",
            f"linkage run {run.id}: {run.purpose}",
            people=[p["person"] for p in people],
        )
        session.commit()
    latest = runs.latest_run(session, partnership)
    return {
        "run": run,
        "partnership": partnership,
        "datasets": runs.datasets_of(session, run),
        "people": people,
        "latest": latest is not None and latest.id == run.id,
    }


@router.get("/sharing/runs/{run_id:int}", response_class=HTMLResponse, include_in_schema=False)
def run_page(request: Request, session: Db, user: SignedIn, run_id: int) -> Response:
    """A run's status, counts, threshold and estimated precision and recall."""
    who = _page_user(user, f"/sharing/runs/{run_id}")
    if isinstance(who, Response):
        return who
    context = _run_context(session, who, run_id, _data_dir(request))
    return render(request, "sharing/run.html", **context, **_helpers())


@router.get("/api/sharing/runs/{run_id:int}")
def run_api(request: Request, session: Db, user: SignedIn, run_id: int) -> JSONResponse:
    """A run's status and counts, its datasets and the people known to the most agencies."""
    context = _run_context(session, _api_user(user), run_id, _data_dir(request))
    return JSONResponse(
        {
            **run_json(context["run"]),
            "partnership": context["partnership"].name,
            "dataset_details": [_dataset_json(d) for d in context["datasets"]],
            "latest": context["latest"],
            "people_known_to_most_agencies": context["people"],
        }
    )


# --- review -------------------------------------------------------------------------------


def _review_page(
    request: Request,
    session: Db,
    who: User,
    run: LinkRun,
    errors: Errors,
    status: int = 200,
    decided: bool = False,
) -> HTMLResponse:
    queue = review.review_queue(session, _data_dir(request), who, run)
    session.commit()
    return render_form(
        request,
        "sharing/review.html",
        {},
        errors,
        status,
        run=run,
        queue=queue,
        decided=decided,
        **_helpers(),
    )


@router.get(
    "/sharing/runs/{run_id:int}/review", response_class=HTMLResponse, include_in_schema=False
)
def review_page(
    request: Request, session: Db, user: SignedIn, run_id: int, decided: int = 0
) -> Response:
    """The run's review queue: uncertain pairs side by side, with a decision form each."""
    who = _page_user(user, f"/sharing/runs/{run_id}/review")
    if isinstance(who, Response):
        return who
    run = runs.get_run(session, run_id)
    return _review_page(request, session, who, run, [], decided=bool(decided))


@router.get("/api/sharing/runs/{run_id:int}/review")
def review_json(request: Request, session: Db, user: SignedIn, run_id: int) -> JSONResponse:
    """The run's review queue (audited, as the page)."""
    who = _api_user(user)
    queue = review.review_queue(session, _data_dir(request), who, runs.get_run(session, run_id))
    session.commit()
    return JSONResponse(queue.as_dict())


@router.post("/sharing/runs/{run_id:int}/review", include_in_schema=False)
def decide(request: Request, session: Db, user: SignedIn, form: Posted, run_id: int) -> Response:
    """Store a decision on a pair and re-cluster the run; back to the queue."""
    if user is None:
        raise HTTPException(401, "Sign in to review pairs.")
    run = runs.get_run(session, run_id)
    left, right = str(form.get("left_record", "")), str(form.get("right_record", ""))
    decision, note = str(form.get("decision", "")), str(form.get("note", ""))
    field = f"decision-{left}-{right}"
    if decision not in runs.DECISIONS:
        records.require_view(session, user, run)
        return _review_page(
            request, session, user, run, [(field, "Choose match or not a match")], 400
        )
    try:
        review.decide(session, _data_dir(request), user, run, left, right, decision, note)
        session.commit()
    except PermissionDenied:
        raise
    except WhatworksError as refused:
        session.rollback()
        return _review_page(request, session, user, run, [(field, str(refused))], 400)
    return RedirectResponse(f"/sharing/runs/{run.id}/review?decided=1", status_code=303)


# --- the whole-system view ----------------------------------------------------------------


def _reference(text: str | None) -> date | None:
    """The `?reference=` date; whole_system accepts only the run's date or a month's end."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(
            400,
            f"reference {text!r} is not a date written YYYY-MM-DD; use the run's date or the "
            "last day of a month.",
        ) from None


@router.get(
    "/sharing/partnerships/{partnership_id:int}/system",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def system_page(
    request: Request,
    session: Db,
    user: SignedIn,
    partnership_id: int,
    reference: str | None = None,
) -> Response:
    """Children known to one, two, three or more agencies, by age, place and need."""
    who = _page_user(user, f"/sharing/partnerships/{partnership_id}/system")
    if isinstance(who, Response):
        return who
    partnership = get_partnership(session, partnership_id)
    view = system.whole_system(
        session, _data_dir(request), who, partnership, reference=_reference(reference)
    )
    session.commit()
    return render(request, "sharing/system.html", view=view, partnership=partnership, **_helpers())


@router.get("/api/sharing/partnerships/{partnership_id:int}/system")
def system_json(
    request: Request,
    session: Db,
    user: SignedIn,
    partnership_id: int,
    reference: str | None = None,
) -> JSONResponse:
    """The whole-system view as shown: small numbers suppressed, the rest rounded."""
    who = _api_user(user)
    partnership = get_partnership(session, partnership_id)
    view = system.whole_system(
        session, _data_dir(request), who, partnership, reference=_reference(reference)
    )
    session.commit()
    return JSONResponse(view.as_dict())


# --- the record-level view ----------------------------------------------------------------


def _person_form(
    request: Request, run: LinkRun, person: str, values: Mapping[str, Any], errors: Errors,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render_form(
        request,
        "sharing/record_purpose.html",
        values,
        errors,
        status,
        run=run,
        person=person,
        minimum=runs.MIN_PURPOSE,
    )


@router.get(
    "/sharing/people/{run_id:int}/{person}", response_class=HTMLResponse, include_in_schema=False
)
def person_page(
    request: Request, session: Db, user: SignedIn, run_id: int, person: str
) -> Response:
    """The purpose form: nothing of the person is shown until a purpose is given."""
    who = _page_user(user, f"/sharing/people/{run_id}/{person}")
    if isinstance(who, Response):
        return who
    run = runs.get_run(session, run_id)
    records.require_view(session, who, run)
    return _person_form(request, run, person, {"purpose": ""}, [])


@router.post("/sharing/people/{run_id:int}/{person}", include_in_schema=False)
def person_records(
    request: Request, session: Db, user: SignedIn, form: Posted, run_id: int, person: str
) -> Response:
    """The person's records in each dataset, for the purpose given (audited)."""
    if user is None:
        raise HTTPException(401, "Sign in to see linked records.")
    run = runs.get_run(session, run_id)
    purpose = str(form.get("purpose", ""))
    try:
        shown = records.person_records(session, _data_dir(request), user, run, person, purpose)
    except runs.PurposeNeeded as refused:
        return _person_form(
            request, run, person, {"purpose": purpose}, [("purpose", str(refused))], 400
        )
    session.commit()
    return render(request, "sharing/records.html", run=run, shown=shown, **_helpers())


class PurposeIn(BaseModel):
    """Why the linked records are needed (kept in the audit log)."""

    purpose: str = Field(default="", examples=["Multi-agency strategy meeting for a child at risk"])


@router.post("/api/sharing/people/{run_id:int}/{person}")
def person_json(
    request: Request, session: Db, user: SignedIn, run_id: int, person: str, body: PurposeIn
) -> JSONResponse:
    """The person's records, for the purpose in the JSON body (`{"purpose": ...}`, at least
    10 characters; audited). A POST, as every look is written to the audit log."""
    who = _api_user(user)
    run = runs.get_run(session, run_id)
    shown = records.person_records(session, _data_dir(request), who, run, person, body.purpose)
    session.commit()
    return JSONResponse(shown.as_dict())
