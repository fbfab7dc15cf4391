"""create_app(): the FastAPI application with every capability's pages and JSON API."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from whatworks import __version__
from whatworks.config import Settings, load_settings
from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.evidence import (
    economics_routes,
    project_routes,
    registration_routes,
    tracker_routes,
)
from whatworks.evidence import routes as evidence_routes
from whatworks.impact import routes as impact_routes
from whatworks.outcomes import measure_routes, plan_routes
from whatworks.outcomes import routes as outcomes_routes
from whatworks.places import routes as places_routes
from whatworks.returns import routes as returns_routes
from whatworks.sharing import link_routes as sharing_link_routes
from whatworks.sharing import routes as sharing_routes
from whatworks.spread import places_routes as spread_places_routes
from whatworks.spread import review_routes as spread_review_routes
from whatworks.spread import routes as spread_routes
from whatworks.voice import coproduction_routes as voice_coproduction_routes
from whatworks.voice import panel_routes as voice_panel_routes
from whatworks.voice import routes as voice_routes
from whatworks.voice import survey_forms as voice_survey_forms
from whatworks.voice import workforce_routes as voice_workforce_routes
from whatworks.web import account, admin, errors, pages

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 8


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app on the stores named by `settings` (read from the environment if None)."""
    settings = settings or load_settings()
    app = FastAPI(
        title="whatworks",
        version=__version__,
        summary="Outcomes, evidence and spread of what works in children's services in England.",
        description="Every page of whatworks has a JSON twin under /api/, described here.",
        docs_url=None,
        redoc_url=None,
    )
    engine = create_db_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        nonce = secrets.token_urlsafe(16)
        request.state.csp_nonce = nonce
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            f"script-src 'self' 'nonce-{nonce}'; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="whatworks_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (
        pages.router,
        account.router,
        admin.router,
        places_routes.router,
        outcomes_routes.router,
        plan_routes.router,
        measure_routes.router,
        returns_routes.router,
        project_routes.router,
        registration_routes.router,
        tracker_routes.router,
        economics_routes.router,
        evidence_routes.router,
        impact_routes.router,
        spread_places_routes.router,
        spread_review_routes.router,
        spread_routes.router,
        sharing_routes.router,
        sharing_link_routes.router,
        voice_survey_forms.router,
        voice_routes.router,
        voice_panel_routes.router,
        voice_workforce_routes.router,
        voice_coproduction_routes.router,
    ):
        app.include_router(router)
    errors.install(app)
    return app
