"""Pages for surveys: answering without an account (a one-time code, the questions on
GOV.UK radios, thanks), and the council's results with disclosure control, their JSON
twin and CSV export. Nothing about who answers is logged or stored (docs/voice.md)."""

from __future__ import annotations

import csv
import io
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core import audit
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.voice import bank, results, surveys
from whatworks.voice.survey_forms import no_store

router = APIRouter()
Db = Annotated[Session, Depends(db_session)]
SignedIn = Annotated[User | None, Depends(current_user)]
Posted = Annotated[FormData, Depends(verified_form)]


def _code_page(request: Request, code: str, error: str = "", status: int = 200) -> Response:
    """The code form; kept out of every cache, as it can show the code that was typed."""
    errors = [{"href": "#code", "text": error}] if error else []
    page = render(request, "voice/answer_code.html", status, code=code, error=error, errors=errors)
    return no_store(page)


@router.get("/voice/answer", response_class=HTMLResponse, include_in_schema=False)
def answer_start(request: Request) -> Response:
    """Where a child, young person, family member or member of staff enters their code."""
    return _code_page(request, "")


def _first_field(survey: surveys.Survey) -> str:
    """The id of the first question's text box or first radio, where a problem with the
    answers as a whole is linked to."""
    if not survey.questions:
        return "code"
    first = survey.questions[0]
    name = surveys.field(first)
    return name if first.kind == "text" else f"{name}-1"


def _questions_page(
    request: Request,
    survey: surveys.Survey,
    code: str,
    values: dict[str, str],
    problems: list[tuple[str, str]],
) -> Response:
    """The survey's questions, with the code in a hidden field and any answers typed so
    far: never kept by a browser's or proxy's cache."""
    target = {"questions": _first_field(survey)}
    page = render(
        request,
        "voice/answer_questions.html",
        400 if problems else 200,
        survey=survey,
        code=code,
        values=values,
        errors=[{"href": f"#{target.get(f, f)}", "text": m} for f, m in problems],
        field_errors=dict(problems),
        field=surveys.field,
        answers_of=surveys.answers_of,
        max_text=bank.MAX_TEXT,
    )
    return no_store(page)


@router.post("/voice/answer", response_class=HTMLResponse, include_in_schema=False)
def answer_code(request: Request, session: Db, form: Posted) -> Response:
    """Check the code, then show the survey's questions."""
    code = str(form.get("code", ""))[:40]
    try:
        survey = surveys.survey_for_code(session, code)
    except surveys.CodeRefused as refused:
        return _code_page(request, code, str(refused), 400)
    return _questions_page(request, survey, code, {}, [])


@router.post("/voice/answer/send", response_class=HTMLResponse, include_in_schema=False)
def answer_send(request: Request, session: Db, form: Posted) -> Response:
    """Store the answers and use up the code, or store nothing and say why."""
    code = str(form.get("code", ""))[:40]
    posted = {k: str(v) for k, v in form.items() if k.startswith("question-")}
    try:
        surveys.answer(session, code, posted)
    except surveys.CodeRefused as refused:
        session.rollback()
        return _code_page(request, "", str(refused), 400)
    except surveys.AnswersRefused as refused:
        session.rollback()
        survey = surveys.survey_for_code(session, code)
        return _questions_page(request, survey, code, posted, refused.problems)
    session.commit()
    return RedirectResponse("/voice/answer/thanks", status_code=303)


@router.get("/voice/answer/thanks", response_class=HTMLResponse, include_in_schema=False)
def answer_thanks(request: Request) -> HTMLResponse:
    """Thanks, and what happens to the answers."""
    return render(request, "voice/answer_thanks.html")


def _signed_in(user: User | None, back: str) -> User | RedirectResponse:
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    return user


@router.get("/voice/surveys", response_class=HTMLResponse, include_in_schema=False)
def surveys_page(request: Request, session: Db, user: SignedIn) -> Response:
    """The surveys of the user's council (every council's, for an administrator)."""
    who = _signed_in(user, "/voice/surveys")
    if isinstance(who, Response):
        return who
    return render(request, "voice/surveys.html", found=surveys.list_surveys(session, who))


def _results(session: Session, user: User, survey_id: int) -> results.SurveyResults:
    survey = surveys.viewable(session, user, survey_id)
    audit.record(
        session, audit.Actor.of(user), "view survey results", f"survey:{survey.id}", "voice"
    )
    session.commit()
    return results.survey_results(session, survey)


@router.get("/voice/surveys/{survey_id:int}", response_class=HTMLResponse, include_in_schema=False)
def survey_page(request: Request, session: Db, user: SignedIn, survey_id: int) -> Response:
    """A survey's results with suppression, beside the previous round's; while it is open,
    the forms to issue codes and to close it."""
    who = _signed_in(user, f"/voice/surveys/{survey_id}")
    if isinstance(who, Response):
        return who
    found = _results(session, who, survey_id)
    return render(
        request,
        "voice/survey.html",
        found=found,
        shown=results.shown,
        max_codes=surveys.MAX_CODES,
    )


@router.get("/api/voice/surveys/{survey_id:int}/results")
def survey_json(session: Db, user: SignedIn, survey_id: int) -> JSONResponse:
    """A survey's results as its page shows them, with disclosure control applied."""
    if user is None:
        raise HTTPException(401, "Sign in to see survey results.")
    return JSONResponse(_results(session, user, survey_id).as_dict())


@router.get("/voice/surveys/{survey_id:int}/results.csv", include_in_schema=False)
def survey_csv(session: Db, user: SignedIn, survey_id: int) -> Response:
    """A survey's results as CSV: withheld cells hold their symbol (c, low, z)."""
    if user is None:
        raise HTTPException(401, "Sign in to download survey results.")
    found = _results(session, user, survey_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=results.CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(results.csv_rows(found))
    name = f"survey-{survey_id}-results.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
