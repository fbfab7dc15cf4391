"""What the evidence hub's route modules share: the request's session, user and posted
form as typed dependencies, who may write, GOV.UK dates and error summaries.

Permission here is the web's first answer (401, 403 or a redirect to sign in); the domain
functions in `access` check again and write the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.auth import has_role
from whatworks.core.models import Organisation, User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.evidence.interventions import list_interventions

#: The request's database session, signed-in user (None for a visitor) and posted form
#: (its CSRF token checked), as route parameters.
Db = Annotated[Session, Depends(db_session)]
SignedIn = Annotated[User | None, Depends(current_user)]
Posted = Annotated[FormData, Depends(verified_form)]
Errors = list[tuple[str, str]]  # (field id, message)


def long_date(value: date | str | None) -> str:
    """A date as GOV.UK writes it: 31 March 2026."""
    if value is None or value == "":
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def stamp(moment: datetime) -> str:
    """A stored time (UTC) as a page shows it: 31 March 2026 at 14:05 UTC."""
    return f"{long_date(moment.date())} at {moment:%H:%M} UTC"


def may_write(user: User | None, organisation_id: int | None) -> bool:
    """Whether the user may write to an organisation's records (a researcher always)."""
    if user is None:
        return False
    if has_role(user, "researcher"):
        return True
    return organisation_id is not None and user.organisation_id == organisation_id


def writer(user: User | None, organisation_id: int | None, doing: str) -> User:
    """The user, if they may write to the organisation's records; 401 or 403 otherwise."""
    if user is None:
        raise HTTPException(401, f"Sign in to {doing}.")
    if not may_write(user, organisation_id):
        raise HTTPException(
            403, f"Only members of the organisation that owns it (or a researcher) can {doing}."
        )
    return user


def researcher(user: User | None, back: str) -> User | Response:
    """The user if they may curate evidence; a redirect to sign in for a visitor; else 403."""
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    if not has_role(user, "researcher"):
        raise HTTPException(
            403, "Only researchers can change the evidence hub. Ask an administrator for access."
        )
    return user


def can_curate(user: User | None) -> bool:
    """Whether the user may curate evidence (a researcher or an administrator)."""
    return user is not None and has_role(user, "researcher")


def organisation_name(session: Session, organisation_id: int | None) -> str:
    """The organisation's name, or "" when there is none."""
    found = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return found.name if found else ""


def intervention_names(session: Session) -> dict[str, str]:
    """Every intervention's name by its slug."""
    return {i.id: i.name for i in list_interventions(session)}


def as_at_date(text: str | None) -> date:
    """The `as_at` query parameter as a date (today if absent); 400 if unreadable."""
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"as_at {text!r} is not a date written YYYY-MM-DD.") from None


def summary(errors: Errors) -> list[dict[str, str]]:
    """The GOV.UK error summary's items: each links to its field."""
    return [{"href": f"#{field}", "text": message} for field, message in errors]


def field_errors(errors: Errors) -> dict[str, str]:
    """The first error of each field, shown beside it."""
    found: dict[str, str] = {}
    for field, message in errors:
        found.setdefault(field, message)
    return found


def render_form(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A form's page with what it shows and its errors: the summary and each field's."""
    return render(
        request,
        template,
        status_code=status,
        values=values,
        errors=summary(errors),
        field_errors=field_errors(errors),
        **context,
    )


def date_parts(value: date | None) -> dict[str, str]:
    """A date as a GOV.UK date input shows it: day, month and year."""
    if value is None:
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def read_date(
    form: FormData, name: str, label: str, errors: Errors, required: bool = True
) -> tuple[date | None, dict[str, str]]:
    """A GOV.UK date input (name-day, name-month, name-year) as a date, or an error."""
    parts = {p: str(form.get(f"{name}-{p}", "")).strip() for p in ("day", "month", "year")}
    if not any(parts.values()):
        if required:
            errors.append((f"{name}-day", f"Enter {label}"))
        return None, parts
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"])), parts
    except ValueError:
        errors.append((f"{name}-day", f"{label.capitalize()} must be a real date, like 31 3 2026"))
        return None, parts


def form_text(form: FormData, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Each named field of a posted form as stripped text ("" when absent)."""
    return {name: str(form.get(name, "")).strip() for name in names}
