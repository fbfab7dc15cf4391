"""The learning-from-failure tracker as a page, JSON and CSV (issue 5, items 5 and 11):
each registration ongoing, overdue, reported or reported late as at a date, outcome
switching, and reporting rates by organisation and funder. Everything here is public.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from whatworks.core.web import render
from whatworks.evidence import tracker
from whatworks.evidence.forms import Db, as_at_date, long_date
from whatworks.outcomes.exports import csv_response

router = APIRouter()


def _status(status: str | None) -> tracker.Status | None:
    if not status:
        return None
    if status not in tracker.STATUSES:
        raise HTTPException(400, f"status {status!r} is not one of {', '.join(tracker.STATUSES)}.")
    return status


@router.get("/evidence/tracker", response_class=HTMLResponse, include_in_schema=False)
def tracker_page(
    request: Request, session: Db, as_at: str | None = None, status: str | None = None
) -> HTMLResponse:
    """Every registration's status as at a date, outcome switching, and reporting rates."""
    day = as_at_date(as_at)
    return render(
        request,
        "evidence/tracker.html",
        report=tracker.report(session, day, _status(status)),
        as_at=day,
        status=status or "",
        statuses=tracker.STATUSES,
        long_date=long_date,
        query=str(request.url.query),
    )


@router.get("/api/evidence/tracker", tags=["evidence"], summary="The learning-from-failure tracker")
def api_tracker(session: Db, as_at: str | None = None, status: str | None = None) -> dict[str, Any]:
    """Each registration as at `as_at` (default today): ongoing, overdue (no results 12
    months after planned completion), reported or reported late; its reported primary
    outcomes against the registered ones (dropped, added, switched); and reporting rates
    by organisation and by funder. `status` keeps one status. The same as
    `whatworks evidence tracker --format json`."""
    return tracker.report(session, as_at_date(as_at), _status(status))


@router.get("/evidence/tracker.csv", include_in_schema=False)
def tracker_csv(session: Db, as_at: str | None = None, status: str | None = None) -> Response:
    """The tracker's registrations as CSV, one row each."""
    day = as_at_date(as_at)
    rows = []
    for item in tracker.report(session, day, _status(status))["registrations"]:
        outcomes = item.pop("outcomes") or {}
        item["completion_moved_from"] = " ; ".join(item["completion_moved_from"])
        rows.append(
            item
            | {
                "outcomes_switched": outcomes.get("switched", ""),
                "outcomes_dropped": " ; ".join(outcomes.get("dropped", [])),
                "outcomes_added": " ; ".join(outcomes.get("added", [])),
            }
        )
    return csv_response(rows, f"evidence-tracker-{day.isoformat()}.csv")
