"""What every capability's routes share: the database session, the signed-in user, roles,
CSRF protection and page rendering with the GOV.UK Design System templates.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
)
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.auth import ROLE_LABELS, has_role
from whatworks.core.models import User

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SERVICE_NAME = "whatworks"
CSRF_FIELD = "csrf_token"


def _environment() -> Environment:
    folders = sorted(str(p) for p in PACKAGE_ROOT.glob("*/templates") if p.is_dir())
    loader = ChoiceLoader(
        [
            FileSystemLoader(folders),
            PrefixLoader(
                {"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}
            ),
        ]
    )
    env = Environment(loader=loader, autoescape=True, undefined=ChainableUndefined)
    env.trim_blocks = True
    env.lstrip_blocks = True
    return env


templates = Jinja2Templates(env=_environment())


def db_session(request: Request) -> Iterator[Session]:
    """A session for this request; committed by the route when it changes anything."""
    with request.app.state.sessions() as session:
        yield session


def current_user(request: Request, session: Session = Depends(db_session)) -> User | None:
    """The signed-in user, or None for an anonymous visitor."""
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        request.session.clear()
        user = None
    elif user.organisation is not None:
        # Loaded now: the error page's menu reads it after the request's session has closed.
        _ = user.organisation.name
    request.state.user = user
    return user


def _user_for_page(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        found: User | None = request.state.user
        return found
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if user_id is None:
        return None
    with request.app.state.sessions() as session:
        user = session.get(User, user_id)
        if user is not None and user.organisation is not None:
            _ = user.organisation.name
    return user if user is not None and user.active else None


def require_roles(*roles: str) -> Any:
    """A dependency that lets through only users holding one of `roles` (admins always)."""

    def guard(request: Request, user: User | None = Depends(current_user)) -> User:
        if user is None:
            raise HTTPException(status_code=401, detail="Sign in to see this page.")
        if not has_role(user, *roles):
            raise HTTPException(
                status_code=403,
                detail="Your role does not allow this. Ask an administrator if you need access.",
            )
        return user

    return guard


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use; every form carries it."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


async def verified_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(
            status_code=403,
            detail="This form has expired or did not come from whatworks. Go back, reload the "
            "page and send it again.",
        )
    return form


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from `template`, with the signed-in user, CSRF token and CSP nonce to hand."""
    context.setdefault("user", _user_for_page(request))
    context.update(
        request=request,
        csrf_token=csrf_token(request),
        cspNonce=getattr(request.state, "csp_nonce", ""),
        role_labels=ROLE_LABELS,
        service_name=SERVICE_NAME,
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)
