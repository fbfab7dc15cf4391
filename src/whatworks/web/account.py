"""Signing in and out, and who the signed-in user is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core import audit
from whatworks.core.auth import authenticate
from whatworks.core.errors import TooManyAttempts
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_page(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "web/sign_in.html", next=_safe_next(next), errors={}, username="")


@router.post("/sign-in", include_in_schema=False)
def sign_in(
    request: Request,
    form: FormData = Depends(verified_form),
    session: Session = Depends(db_session),
) -> Response:
    """Check the password; on success start a fresh session for the user."""
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    status = 400
    if not errors:
        client = request.client.host if request.client else "unknown"
        try:
            user = authenticate(session, username, password, client)
            session.commit()
        except TooManyAttempts as error:
            session.rollback()
            errors["username"] = str(error)
            status = 429
        else:
            if user is not None:
                request.session.clear()
                request.session["user_id"] = user.id
                return RedirectResponse(target, status_code=303)
            errors["password"] = "The username or password is not right"
            status = 401
    return render(
        request,
        "web/sign_in.html",
        status_code=status,
        next=target,
        errors=errors,
        username=username,
    )


@router.get("/sign-out", response_class=HTMLResponse, include_in_schema=False)
def sign_out_page(request: Request, user: User | None = Depends(current_user)) -> Response:
    """Asks to confirm signing out (signing out changes state, so it is a form)."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    return render(request, "web/sign_out.html")


@router.post("/sign-out", include_in_schema=False)
def sign_out(
    request: Request,
    _form: FormData = Depends(verified_form),
    user: User | None = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    """End the session."""
    if user is not None:
        audit.record(session, audit.Actor.of(user), "sign out", f"user:{user.username}", "sign out")
        session.commit()
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/api/me", tags=["people"], summary="The signed-in user")
def api_me(user: User | None = Depends(current_user)) -> dict[str, Any]:
    """The signed-in user, or anonymous."""
    if user is None:
        return {"signed_in": False, "role": "anonymous"}
    return {
        "signed_in": True,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "organisation": user.organisation.name if user.organisation else None,
    }
