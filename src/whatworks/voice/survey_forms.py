"""Pages for running a survey: create one from the question bank (first whom it is for,
then its title, round, period and the questions for that audience), issue one-time codes
to a respondent group (shown once, on the page that issues them: only their hashes are
kept, so they can never be shown or downloaded again) and close it, which publishes its
results as indicator values. Each has a JSON twin under /api/. Only members of the
survey's council (and administrators) use them; the domain functions in `surveys` check
again and write every change to the audit log (docs/voice.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.evidence.forms import Db, Errors, Posted, SignedIn, render_form
from whatworks.voice import bank, surveys
from whatworks.voice.models import Survey

router = APIRouter()

MAX_TITLE = 200
MAX_ROUND = 80
MAX_GROUP = 200
SURVEY_FIELDS = ("title", "round_label", "period")
CODE_FIELDS = ("group", "count")
PROBLEM = "There is a problem with your request"


def _signed_in(user: User | None, back: str) -> User | RedirectResponse:
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    return user


def _poster(user: User | None, doing: str) -> User:
    if user is None:
        raise HTTPException(401, f"Sign in to {doing}.")
    return user


def _organisation(user: User) -> Organisation:
    """The user's own council, which their new surveys belong to; 403 without one."""
    found = user.organisation  # loaded now, so the error page can show the user's menu
    if found is None:
        raise HTTPException(
            403,
            "Only members of a council can create its surveys, and your account belongs to "
            "no organisation. Ask an administrator to add you to your council.",
        )
    return found


def _field_problems(errors: Errors) -> JSONResponse:
    """Bad JSON input: every problem with the field it is about, 422."""
    return JSONResponse(
        {
            "error": PROBLEM,
            "detail": "; ".join(message for _, message in errors),
            "errors": [{"field": field, "message": message} for field, message in errors],
        },
        status_code=422,
    )


def no_store(response: Response) -> Response:
    """Keep a page out of every cache: a page of codes (shown only once), or one that
    carries a survey code or the answers typed with it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# Creating a survey ---------------------------------------------------------------------


def themes_for(audience: str) -> list[tuple[str, list[bank.BankQuestion]]]:
    """The bank's questions for an audience, grouped by theme in the bank's order."""
    offered = bank.for_audience(audience)
    return [
        (theme, [q for q in offered if q.theme == theme])
        for theme in bank.THEMES
        if any(q.theme == theme for q in offered)
    ]


def question_hint(item: bank.BankQuestion) -> str:
    """What a question's checkbox says under it: its answers, or what a comment box is."""
    if item.kind == "text":
        return (
            f"A comment box of up to {bank.MAX_TEXT:,} characters. Comments are never shown in "
            "results or exports."
        )
    return "Answers: " + ", ".join(item.answers) + "."


def survey_problems(
    values: Mapping[str, str], audience: str, question_ids: Sequence[str]
) -> Errors:
    """What is wrong with a new survey, as (form field, message) pairs."""
    errors: Errors = []
    title = values.get("title", "")
    if not title:
        errors.append(("title", "Enter a title for the survey"))
    elif len(title) > MAX_TITLE:
        errors.append(("title", f"The title must be {MAX_TITLE} characters or fewer"))
    if audience not in bank.AUDIENCES:
        errors.append(("audience", "Choose who the survey is for"))
    round_label = values.get("round_label", "")
    if not round_label:
        errors.append(("round_label", "Enter the round, for example Spring 2025"))
    elif len(round_label) > MAX_ROUND:
        errors.append(("round_label", f"The round must be {MAX_ROUND} characters or fewer"))
    period = values.get("period", "")
    if not period:
        errors.append(("period", "Enter the period the survey is about, for example 2025-Q1"))
    elif not surveys.PERIOD.match(period):
        errors.append(
            (
                "period",
                "Enter the period as a year (2025), a month (2025-03) or a quarter (2025-Q1)",
            )
        )
    if not question_ids:
        errors.append(("questions", "Choose at least one question"))
    elif len(set(question_ids)) != len(question_ids):
        errors.append(("questions", "Choose each question once"))
    elif audience in bank.AUDIENCES:
        offered = {q.id for q in bank.for_audience(audience)}
        wrong = [q for q in question_ids if q not in offered]
        if wrong:
            errors.append(
                (
                    "questions",
                    f"Choose only questions from the list for {audience}: "
                    f"{', '.join(wrong)} is not one of them",
                )
            )
    return errors


def _create(
    session: Session,
    user: User,
    values: Mapping[str, str],
    audience: str,
    question_ids: Sequence[str],
) -> tuple[Survey | None, Errors]:
    """The new survey, or the problems that stopped it (nothing stored)."""
    errors = survey_problems(values, audience, question_ids)
    if errors:
        return None, errors
    organisation = _organisation(user)
    chosen = surveys.NewSurvey(
        values["title"], audience, values["round_label"], values["period"], tuple(question_ids)
    )
    try:
        survey = surveys.create_survey(session, user, organisation, chosen)
    except PermissionDenied:
        raise
    except WhatworksError as refused:
        session.rollback()
        return None, [("title", str(refused))]
    session.commit()
    return survey, []


def _audience_page(
    request: Request, audience: str, errors: Errors, status: int = 200
) -> HTMLResponse:
    return render_form(
        request,
        "voice/survey_audience.html",
        {"audience": audience},
        errors,
        status,
        audiences=bank.AUDIENCES,
    )


def _survey_form(
    request: Request,
    audience: str,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "voice/survey_form.html",
        values,
        errors,
        status,
        audience=audience,
        themes=themes_for(audience),
        question_hint=question_hint,
        change_audience="/voice/surveys/new?" + urlencode({"audience": audience, "change": "1"}),
    )


@router.get("/voice/surveys/new", response_class=HTMLResponse, include_in_schema=False)
def new_survey_page(
    request: Request,
    user: SignedIn,
    audience: str = "",
    step: str = "",
    change: str = "",
) -> Response:
    """Whom the survey is for, then the rest of it with the questions for that audience."""
    back = "/voice/surveys/new" + (f"?{urlencode({'audience': audience})}" if audience else "")
    who = _signed_in(user, back)
    if isinstance(who, Response):
        return who
    _organisation(who)
    if change or audience not in bank.AUDIENCES:
        if step and not change:
            return _audience_page(
                request, audience, [("audience", "Choose who the survey is for")], 400
            )
        return _audience_page(request, audience if change else "", [])
    values = {**dict.fromkeys(SURVEY_FIELDS, ""), "questions": []}
    return _survey_form(request, audience, values, [])


@router.post("/voice/surveys/new", include_in_schema=False)
def new_survey(request: Request, session: Db, user: SignedIn, form: Posted) -> Response:
    """Create the survey and show it, or show the form again with what is wrong."""
    who = _poster(user, "create a survey")
    _organisation(who)
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in SURVEY_FIELDS}
    audience = str(form.get("audience", ""))
    question_ids = [str(q) for q in form.getlist("questions")]
    if audience not in bank.AUDIENCES:
        return _audience_page(request, "", [("audience", "Choose who the survey is for")], 400)
    survey, errors = _create(session, who, values, audience, question_ids)
    if survey is None:
        values["questions"] = question_ids
        return _survey_form(request, audience, values, errors, 400)
    return RedirectResponse(f"/voice/surveys/{survey.id}", status_code=303)


class SurveyIn(BaseModel):
    """A new survey: its title, audience, round, period and the bank's question ids."""

    title: str = Field(examples=["Your life, your care"])
    audience: str = Field(examples=["children in care"])
    round_label: str = Field(examples=["Spring 2025"])
    period: str = Field(examples=["2025-Q1"])
    questions: list[str] = Field(examples=[["trust_social_worker", "anything_else"]])


def survey_json(survey: Survey) -> dict[str, Any]:
    """A survey as its creation answers: where it is and what it asks."""
    return {
        "id": survey.id,
        "url": f"/voice/surveys/{survey.id}",
        "results": f"/api/voice/surveys/{survey.id}/results",
        "title": survey.title,
        "audience": survey.audience,
        "round_label": survey.round_label,
        "period": survey.period,
        "status": survey.status,
        "questions": [q.question_id for q in survey.questions],
    }


@router.post("/api/voice/surveys", status_code=201)
def create_survey_json(session: Db, user: SignedIn, body: SurveyIn) -> JSONResponse:
    """Create a survey of your council from the question bank (ids as in
    `whatworks.voice.bank`); 422 with each field's problem, nothing stored."""
    who = _poster(user, "create a survey")
    values = {name: getattr(body, name).strip() for name in SURVEY_FIELDS}
    survey, errors = _create(session, who, values, body.audience, body.questions)
    if survey is None:
        return _field_problems(errors)
    return JSONResponse(survey_json(survey), status_code=201)


# Issuing codes -------------------------------------------------------------------------


def _open(survey: Survey, doing: str) -> None:
    if survey.status != "open":
        raise HTTPException(
            409,
            f"This survey has closed, so you cannot {doing}. Its codes no longer work and its "
            "results have been published. Create a new round to ask again.",
        )


def code_problems(group: str, count_text: str) -> tuple[int, Errors]:
    """The number of codes asked for, and what is wrong with the request."""
    errors: Errors = []
    if not group:
        errors.append(("group", "Enter the name of the group the codes are for"))
    elif len(group) > MAX_GROUP:
        errors.append(("group", f"The group's name must be {MAX_GROUP} characters or fewer"))
    try:
        count = int(count_text)
    except ValueError:
        count = 0
        if not count_text:
            errors.append(("count", "Enter how many codes to issue"))
        else:
            errors.append(("count", "Enter how many codes to issue as a whole number, like 25"))
    else:
        if not 1 <= count <= surveys.MAX_CODES:
            errors.append(("count", f"Issue between 1 and {surveys.MAX_CODES} codes at a time"))
    return count, errors


def _codes_form(
    request: Request, survey: Survey, values: Mapping[str, str], errors: Errors, status: int = 200
) -> HTMLResponse:
    return render_form(
        request,
        "voice/survey_codes_form.html",
        values,
        errors,
        status,
        survey=survey,
        max_codes=surveys.MAX_CODES,
    )


@router.get(
    "/voice/surveys/{survey_id:int}/codes", response_class=HTMLResponse, include_in_schema=False
)
def codes_page(request: Request, session: Db, user: SignedIn, survey_id: int) -> Response:
    """The form to issue codes for a respondent group (also on the survey's page)."""
    who = _signed_in(user, f"/voice/surveys/{survey_id}/codes")
    if isinstance(who, Response):
        return who
    survey = surveys.viewable(session, who, survey_id)
    _open(survey, "issue codes for it")
    return _codes_form(request, survey, dict.fromkeys(CODE_FIELDS, ""), [])


@router.post("/voice/surveys/{survey_id:int}/codes", include_in_schema=False)
def issue_codes(
    request: Request, session: Db, user: SignedIn, form: Posted, survey_id: int
) -> Response:
    """Issue the codes and show them, this once; or show the form with what is wrong."""
    who = _poster(user, "issue survey codes")
    survey = surveys.viewable(session, who, survey_id)
    _open(survey, "issue codes for it")
    values = {name: str(form.get(name, "")).strip() for name in CODE_FIELDS}
    count, errors = code_problems(values["group"], values["count"])
    if errors:
        return _codes_form(request, survey, values, errors, 400)
    codes = surveys.issue_codes(session, who, survey, values["group"], count)
    session.commit()
    shown = [surveys.shown_code(c) for c in codes]
    page = render_form(
        request,
        "voice/survey_codes.html",
        {},
        [],
        survey=survey,
        group=values["group"],
        codes=shown,
        answer_url=str(request.base_url).rstrip("/") + "/voice/answer",
    )
    return no_store(page)


class CodesIn(BaseModel):
    """How many one-time codes to issue, and the respondent group they are for."""

    group: str = Field(examples=["Foster homes, north team"])
    count: int = Field(examples=[25])


@router.post("/api/voice/surveys/{survey_id:int}/codes", status_code=201)
def issue_codes_json(session: Db, user: SignedIn, survey_id: int, body: CodesIn) -> Response:
    """Issue one-time codes for a respondent group of an open survey. The codes are in this
    answer only: whatworks keeps just their hashes and cannot show them again."""
    who = _poster(user, "issue survey codes")
    survey = surveys.viewable(session, who, survey_id)
    _open(survey, "issue codes for it")
    group = body.group.strip()
    _, errors = code_problems(group, str(body.count))
    if errors:
        return _field_problems(errors)
    codes = surveys.issue_codes(session, who, survey, group, body.count)
    session.commit()
    found = {
        "survey_id": survey.id,
        "group": group,
        "answer_at": "/voice/answer",
        "codes": [surveys.shown_code(c) for c in codes],
    }
    return no_store(JSONResponse(found, status_code=201))


# Closing -------------------------------------------------------------------------------


@router.get(
    "/voice/surveys/{survey_id:int}/close", response_class=HTMLResponse, include_in_schema=False
)
def close_page(request: Request, session: Db, user: SignedIn, survey_id: int) -> Response:
    """Are you sure? Closing stops the codes working and publishes the results."""
    who = _signed_in(user, f"/voice/surveys/{survey_id}/close")
    if isinstance(who, Response):
        return who
    survey = surveys.viewable(session, who, survey_id)
    _open(survey, "close it again")
    return render_form(request, "voice/survey_close.html", {}, [], survey=survey)


def _close(session: Session, user: User | None, survey_id: int) -> Survey:
    """Close the survey; one already closed (a second click, a form sent twice) is left
    as it is, with its results published once."""
    who = _poster(user, "close a survey")
    survey = surveys.viewable(session, who, survey_id)
    if survey.status == "closed":
        return survey
    surveys.close(session, who, survey)
    session.commit()
    return survey


@router.post("/voice/surveys/{survey_id:int}/close", include_in_schema=False)
def close_survey(session: Db, user: SignedIn, form: Posted, survey_id: int) -> Response:
    """Close the survey and go back to it, now showing it closed (as it does when the
    survey was closed already)."""
    survey = _close(session, user, survey_id)
    return RedirectResponse(f"/voice/surveys/{survey.id}", status_code=303)


@router.post("/api/voice/surveys/{survey_id:int}/close")
def close_survey_json(session: Db, user: SignedIn, survey_id: int) -> JSONResponse:
    """Close an open survey: its codes stop working and each question's share of good
    answers is published as the council's indicator value for the survey's period. A
    survey already closed is returned as it is."""
    survey = _close(session, user, survey_id)
    return JSONResponse(survey_json(survey))
