"""Pages and JSON for the list of local authorities."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from whatworks.core.web import db_session, render
from whatworks.places.models import LocalAuthority, Region
from whatworks.places.places import local_authorities, regions

router = APIRouter()


def place_summary(la: LocalAuthority, region: Region) -> dict[str, Any]:
    """A local authority as JSON: codes, name and region."""
    return {
        "name": la.name,
        "old_la_code": la.old_la_code,
        "new_la_code": la.new_la_code,
        "region": {"code": region.code, "name": region.name, "parent_code": region.parent_code},
        "current": la.current,
        "url": f"/places/{la.new_la_code}",
    }


def _listing(session: Session, name: str | None, region: str | None) -> list[dict[str, Any]]:
    by_code = {r.code: r for r in regions(session, top_level_only=False)}
    return [
        place_summary(la, by_code[la.region_code])
        for la in local_authorities(session, name=name, region_code=region or None)
    ]


@router.get("/places", response_class=HTMLResponse, include_in_schema=False)
def places_page(
    request: Request,
    name: str | None = Query(None, max_length=100),
    region: str | None = Query(None, max_length=9),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """All local authorities in England, filtered by name and region."""
    return render(
        request,
        "places/index.html",
        places=_listing(session, name, region),
        total=len(local_authorities(session)),
        regions=regions(session),
        name=name or "",
        region=region or "",
    )


@router.get("/api/places", tags=["places"], summary="Local authorities")
def api_places(
    name: str | None = Query(None, max_length=100, description="Part of the name, any case"),
    region: str | None = Query(None, max_length=9, description="Region code, e.g. E12000007"),
    session: Session = Depends(db_session),
) -> list[dict[str, Any]]:
    """All current local authorities, filtered by name and region."""
    return _listing(session, name, region)
