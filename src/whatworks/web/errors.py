"""Error pages in the same style as every page, and JSON errors under /api/."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from whatworks.core.errors import NotFound, PermissionDenied, WhatworksError
from whatworks.core.web import render

log = logging.getLogger("whatworks")

TITLES = {
    400: "There is a problem with your request",
    401: "Sign in to see this page",
    403: "You cannot see this page",
    404: "Page not found",
    405: "That action is not available here",
    422: "There is a problem with your request",
    500: "Sorry, there is a problem with whatworks",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_response(request: Request, status: int, detail: str) -> Response:
    """The error as JSON for the API, or as a page for people."""
    if _wants_json(request):
        return JSONResponse({"error": TITLES.get(status, "Error"), "detail": detail}, status)
    return render(
        request,
        "web/error.html",
        status_code=status,
        status=status,
        title=TITLES.get(status, "There is a problem"),
        detail=detail,
    )


def install(app: FastAPI) -> None:
    """Route every error through `error_response`."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        detail = (
            error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "")
        )
        if error.status_code == 404 and detail == "Not Found":
            detail = "If you typed the web address, check it is correct."
        return error_response(request, error.status_code, detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return error_response(request, 422, where)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> Response:
        return error_response(request, 404, str(error))

    @app.exception_handler(PermissionDenied)
    async def denied(request: Request, error: PermissionDenied) -> Response:
        return error_response(request, 403, str(error))

    @app.exception_handler(WhatworksError)
    async def problem(request: Request, error: WhatworksError) -> Response:
        return error_response(request, 400, str(error))

    @app.exception_handler(Exception)
    async def crash(request: Request, error: Exception) -> Response:
        log.exception("Unhandled error on %s", request.url.path, exc_info=error)
        return error_response(
            request, 500, "Try again later. The problem has been logged for the administrators."
        )
