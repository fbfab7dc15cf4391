"""Home, accessibility statement and data sources pages, with their JSON twins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from whatworks import __version__
from whatworks.core.web import db_session, render
from whatworks.outcomes.published import datasets
from whatworks.places.places import local_authorities, regions

router = APIRouter()

LOOP = [
    (
        "Measure outcomes",
        "The few headline indicators for every local authority, their curve "
        "and how they compare with similar places.",
    ),
    (
        "Try something new, safely",
        "Register an innovation with a clear vision and an "
        "evaluation plan that is frozen before results are known.",
    ),
    (
        "Find out what happened",
        "Honest estimates of impact, with failures recorded as learning rather than buried.",
    ),
    (
        "Synthesise",
        "Weigh the evidence across places and studies, with costs, and make firm recommendations.",
    ),
    (
        "Spread",
        "Start from your own question, find places like yours that tried something, "
        "and talk to the people who did it.",
    ),
]

ACCESSIBILITY = {
    "standard": "Web Content Accessibility Guidelines version 2.2 AA",
    "status": "partially compliant",
    "how_tested": "Every page is loaded in a real browser and checked with axe-core for "
    "WCAG 2.2 AA in the automated test suite; charts always have the same figures in a table.",
    "known_issues": [
        "Charts are images: their figures are in the table below each chart, which is what "
        "screen readers read.",
        "The service has not yet been audited by people who use assistive technology.",
    ],
    "contact": "Raise an issue with the whatworks project to report an accessibility problem.",
}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, session: Session = Depends(db_session)) -> HTMLResponse:
    """What whatworks is, the learning loop, and a way to find a local authority."""
    return render(
        request,
        "web/home.html",
        loop=LOOP,
        la_count=len(local_authorities(session)),
        regions=regions(session),
    )


@router.get("/api", tags=["service"], summary="About this service")
def api_home(session: Session = Depends(db_session)) -> dict[str, Any]:
    """What this service is and where its JSON lives."""
    return {
        "name": "whatworks",
        "version": __version__,
        "description": "An open learning system for children's services in England.",
        "learning_loop": [{"step": step, "what": what} for step, what in LOOP],
        "local_authorities": len(local_authorities(session)),
        "links": {
            "places": "/api/places",
            "indicators": "/api/indicators",
            "data_sources": "/api/data-sources",
            "openapi": "/openapi.json",
        },
    }


@router.get("/accessibility", response_class=HTMLResponse, include_in_schema=False)
def accessibility(request: Request) -> HTMLResponse:
    """The accessibility statement."""
    return render(request, "web/accessibility.html", statement=ACCESSIBILITY)


@router.get("/api/accessibility", tags=["service"], summary="Accessibility statement")
def api_accessibility() -> dict[str, Any]:
    """The accessibility statement as data."""
    return ACCESSIBILITY


def _sources(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "name": d.name,
            "file": d.file_name,
            "rows": d.row_count,
            "value_count": d.value_count,
            "sha256": d.sha256,
            "imported_at": d.imported_at.isoformat(timespec="seconds"),
            "licence": "Open Government Licence v3.0",
        }
        for d in datasets(session)
    ]


@router.get("/data-sources", response_class=HTMLResponse, include_in_schema=False)
def data_sources(request: Request, session: Session = Depends(db_session)) -> HTMLResponse:
    """The published files in the store, with their licence."""
    return render(request, "web/data_sources.html", sources=_sources(session))


@router.get("/api/data-sources", tags=["service"], summary="Published files in the store")
def api_data_sources(session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    """The published files in the store, with their licence."""
    return _sources(session)


def _endpoints(request: Request) -> list[dict[str, Any]]:
    schema = request.app.openapi()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "tag": (operation.get("tags") or ["service"])[0],
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                }
            )
    return sorted(found, key=lambda e: (e["tag"], e["path"]))


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_reference(request: Request) -> HTMLResponse:
    """The JSON API, read from the OpenAPI schema (the schema itself is /openapi.json)."""
    return render(request, "web/api_docs.html", endpoints=_endpoints(request))
