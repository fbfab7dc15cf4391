"""The audit log, for administrators only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.models import AuditEvent, User
from whatworks.core.web import db_session, render, require_roles

router = APIRouter()
PAGE_SIZE = 50


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(timespec="seconds"),
        "who": event.username,
        "organisation": event.organisation,
        "action": event.action,
        "target": event.target,
        "purpose": event.purpose,
        "detail": event.detail,
    }


def _read(session: Session, admin: User, page: int) -> tuple[list[AuditEvent], int]:
    events = audit.recent(session, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    total = audit.count(session)
    audit.record(
        session, audit.Actor.of(admin), "read audit log", "audit log", "oversight", page=page
    )
    session.commit()
    return events, total


@router.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    page: int = Query(1, ge=1),
    admin: User = Depends(require_roles("admin")),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The newest audit events first, fifty to a page."""
    events, total = _read(session, admin, page)
    return render(
        request,
        "web/audit.html",
        events=[_event(e) for e in events],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@router.get("/api/admin/audit", tags=["people"], summary="The audit log")
def api_audit(
    page: int = Query(1, ge=1),
    admin: User = Depends(require_roles("admin")),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """The newest audit events first, fifty to a page (administrators only)."""
    events, total = _read(session, admin, page)
    return {"total": total, "page": page, "events": [_event(e) for e in events]}
