"""Pages and JSON of information sharing: partnerships and their members, data-sharing
agreements (record, sign, activate, end), agency datasets (upload, map the columns, import)
and each dataset's data-quality profile.

Only the partnership's organisations (and administrators) see its pages and JSON; anybody
else gets 403, a visitor is sent to sign in (401 for the JSON). Bad input stores nothing
and shows the form again with every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from whatworks.config import Settings
from whatworks.core.auth import has_role
from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import render
from whatworks.evidence.forms import (
    Db,
    Errors,
    Posted,
    SignedIn,
    date_parts,
    form_text,
    long_date,
    organisation_name,
    read_date,
    render_form,
    stamp,
)
from whatworks.sharing import access, datasets, partnerships
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import Agreement, Partnership
from whatworks.sharing.partnerships import (
    AGENCY_KINDS,
    FIELD_LABELS,
    OTHER_BASIS,
    SHAREABLE_FIELDS,
    USUAL_BASIS,
    SharingRefused,
)

router = APIRouter()
AGREEMENT_TEXT = ("title", "purpose", "lawful_basis", "lawful_basis_detail", "retention_months")
SIGN_TEXT = ("organisation", "name", "job_title")
COLOUR = {"draft": "govuk-tag--grey", "active": "govuk-tag--green", "ended": "govuk-tag--red"}


def _settings(request: Request) -> Settings:
    chosen: Settings = request.app.state.settings
    return chosen


def _page_user(user: User | None, back: str) -> User | RedirectResponse:
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    return user


def _api_user(user: User | None) -> User:
    if user is None:
        raise HTTPException(401, "Sign in to see information sharing.")
    return user


def _poster(user: User | None) -> User:
    if user is None:
        raise HTTPException(401, "Sign in to change a partnership.")
    return user


def _helpers() -> dict[str, Any]:
    return {
        "long_date": long_date,
        "stamp": stamp,
        "colour": COLOUR,
        "field_labels": FIELD_LABELS,
        "agency_kinds": AGENCY_KINDS,
        "agency_options": [(kind, kind.capitalize()) for kind in AGENCY_KINDS],
    }


# --- your partnerships -------------------------------------------------------------------------


@router.get("/sharing", response_class=HTMLResponse, include_in_schema=False)
def index_page(request: Request, session: Db, user: SignedIn) -> Response:
    """The partnerships of the user's organisation (every one, for an administrator)."""
    who = _page_user(user, "/sharing")
    if isinstance(who, Response):
        return who
    return render(
        request,
        "sharing/index.html",
        found=partnerships.partnerships_of(session, who),
        may_create=partnerships.may_create(who),
        **_helpers(),
    )


@router.get("/api/sharing")
@router.get("/api/sharing/partnerships")
def index_json(session: Db, user: SignedIn) -> JSONResponse:
    """The partnerships the signed-in user's organisation belongs to."""
    who = _api_user(user)
    return JSONResponse(
        {
            "may_create": partnerships.may_create(who),
            "partnerships": [
                {"id": p.id, "name": p.name, "la_code": p.la_code, "is_demo": p.is_demo}
                for p in partnerships.partnerships_of(session, who)
            ],
        }
    )


def _creator(user: User | None) -> User:
    who = _poster(user)
    if not partnerships.may_create(who):
        raise HTTPException(
            403, "Only a council's users, or an administrator, can create a partnership."
        )
    return who


def _new_partnership_form(
    request: Request, who: User, values: Mapping[str, Any], errors: Errors, status: int = 200
) -> HTMLResponse:
    return render_form(
        request,
        "sharing/partnership_form.html",
        values,
        errors,
        status,
        admin=has_role(who, "admin"),
        council=who.organisation,
    )


@router.get("/sharing/partnerships/new", response_class=HTMLResponse, include_in_schema=False)
def new_partnership_page(request: Request, user: SignedIn) -> Response:
    """The form to create a partnership."""
    who = _page_user(user, "/sharing/partnerships/new")
    if isinstance(who, Response):
        return who
    _creator(who)
    return _new_partnership_form(request, who, {"name": "", "la_code": ""}, [])


@router.get("/api/sharing/partnerships/new")
def new_partnership_json(user: SignedIn) -> JSONResponse:
    """Whether the user may create a partnership, and for which area."""
    who = _api_user(user)
    admin = has_role(who, "admin")
    area = None if admin or who.organisation is None else who.organisation.la_code
    return JSONResponse(
        {"may_create": partnerships.may_create(who), "any_area": admin, "la_code": area}
    )


@router.post("/sharing/partnerships/new", include_in_schema=False)
def new_partnership(request: Request, session: Db, user: SignedIn, form: Posted) -> Response:
    """Create the partnership, or show the form again with its problems."""
    who = _creator(user)
    values = form_text(form, ("name", "la_code"))
    try:
        made = partnerships.create_partnership(session, who, values["name"], values["la_code"])
        session.commit()
    except SharingRefused as refused:
        session.rollback()
        return _new_partnership_form(request, who, values, refused.problems, status=400)
    return RedirectResponse(f"/sharing/partnerships/{made.id}", status_code=303)


# --- a partnership -----------------------------------------------------------------------------


def _partnership_context(
    session: Db, who: User, partnership: Partnership, on: date
) -> dict[str, Any]:
    organisations = {o.id: o.name for o in partnerships.member_organisations(session, partnership)}
    lead = partnerships.lead_member(partnership)
    return {
        "partnership": partnership,
        "organisations": organisations,
        "lead": organisations[lead.organisation_id] if lead else None,
        "may_add": partnerships.may_add_members(who, partnership),
        "agreements": [(a, partnerships.state(session, a, on)) for a in partnership.agreements],
        "found_datasets": datasets.datasets_of(session, partnership),
        "viewable": {
            d.id
            for d in datasets.datasets_of(session, partnership)
            if datasets.may_view(session, who, d)
        },
        "today": on,
    }


def _partnership_page(
    request: Request,
    session: Db,
    who: User,
    partnership: Partnership,
    values: Mapping[str, Any] | None = None,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "sharing/partnership.html",
        values or {"organisation": "", "agency": ""},
        errors or [],
        status,
        **_partnership_context(session, who, partnership, date.today()),
        **_helpers(),
    )


@router.get(
    "/sharing/partnerships/{partnership_id:int}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def partnership_page(
    request: Request, session: Db, user: SignedIn, partnership_id: int
) -> Response:
    """A partnership's members, agreements (and why each is not in force) and datasets."""
    who = _page_user(user, f"/sharing/partnerships/{partnership_id}")
    if isinstance(who, Response):
        return who
    partnership = partnerships.member_partnership(session, who, partnership_id)
    return _partnership_page(request, session, who, partnership)


@router.get("/api/sharing/partnerships/{partnership_id:int}")
def partnership_json(session: Db, user: SignedIn, partnership_id: int) -> JSONResponse:
    """A partnership's members, agreements with their state today, and datasets."""
    partnership = partnerships.member_partnership(session, _api_user(user), partnership_id)
    shown = partnerships.partnership_json(session, partnership, date.today())
    shown["may_add_members"] = partnerships.may_add_members(user, partnership)
    names = {o.id: o.name for o in partnerships.member_organisations(session, partnership)}
    shown["datasets"] = [
        {
            key: value
            for key, value in datasets.dataset_json(d, names.get(d.organisation_id, "")).items()
            if key != "profile"
        }
        for d in datasets.datasets_of(session, partnership)
    ]
    return JSONResponse(shown)


@router.post("/sharing/partnerships/{partnership_id:int}/members", include_in_schema=False)
def add_member(
    request: Request, session: Db, user: SignedIn, form: Posted, partnership_id: int
) -> Response:
    """Add a member organisation (the lead's partnership members and administrators only),
    or show the partnership again with the problems."""
    who = _poster(user)
    partnership = partnerships.member_partnership(session, who, partnership_id)
    values = form_text(form, ("organisation", "agency"))
    try:
        partnerships.add_member(session, who, partnership, values["organisation"], values["agency"])
        session.commit()
    except SharingRefused as refused:
        session.rollback()
        return _partnership_page(request, session, who, partnership, values, refused.problems, 400)
    return RedirectResponse(f"/sharing/partnerships/{partnership.id}#members", status_code=303)


# --- agreements --------------------------------------------------------------------------------


def _agreement_form(
    request: Request,
    partnership: Partnership,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "sharing/agreement_form.html",
        values,
        errors,
        status,
        partnership=partnership,
        member_agencies=partnerships.agencies_of_members(partnership),
        shareable=SHAREABLE_FIELDS,
        usual_basis=USUAL_BASIS,
        other_basis=OTHER_BASIS,
        **_helpers(),
    )


@router.get(
    "/sharing/partnerships/{partnership_id:int}/agreements/new",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def new_agreement_page(
    request: Request, session: Db, user: SignedIn, partnership_id: int
) -> Response:
    """The form to record a data-sharing agreement."""
    who = _page_user(user, f"/sharing/partnerships/{partnership_id}/agreements/new")
    if isinstance(who, Response):
        return who
    partnership = partnerships.member_partnership(session, who, partnership_id)
    values: dict[str, Any] = {
        **dict.fromkeys(AGREEMENT_TEXT, ""),
        "lawful_basis": USUAL_BASIS,
        "retention_months": "24",
        "agencies": partnerships.agencies_of_members(partnership),
        "fields": list(SHAREABLE_FIELDS),
        "start_date": date_parts(None),
        "review_date": date_parts(None),
        "end_date": date_parts(None),
    }
    return _agreement_form(request, partnership, values, [])


@router.get("/api/sharing/partnerships/{partnership_id:int}/agreements/new")
def new_agreement_json(session: Db, user: SignedIn, partnership_id: int) -> JSONResponse:
    """What an agreement of the partnership may record: the lawful bases, the agencies of
    its members and the fields that can be shared."""
    partnership = partnerships.member_partnership(session, _api_user(user), partnership_id)
    return JSONResponse(
        {
            "partnership_id": partnership.id,
            "lawful_bases": [USUAL_BASIS, OTHER_BASIS],
            "usual_basis": USUAL_BASIS,
            "agencies": partnerships.agencies_of_members(partnership),
            "fields": {f: FIELD_LABELS[f] for f in SHAREABLE_FIELDS},
            "retention_months": {"minimum": 1, "maximum": partnerships.MAX_RETENTION_MONTHS},
        }
    )


def _read_agreement(form: FormData) -> tuple[partnerships.NewAgreement, dict[str, Any]]:
    errors: Errors = []
    values: dict[str, Any] = form_text(form, AGREEMENT_TEXT)
    values["agencies"] = [str(a) for a in form.getlist("agencies")]
    values["fields"] = [str(f) for f in form.getlist("fields")]
    dates = {}
    for name, label in (
        ("start_date", "the start date"),
        ("review_date", "the review date"),
        ("end_date", "the end date"),
    ):
        dates[name], values[name] = read_date(form, name, label, errors)
    months = None
    if values["retention_months"]:
        try:
            months = int(values["retention_months"])
        except ValueError:
            errors.append(("retention_months", "Retention must be a whole number of months"))
    new = partnerships.NewAgreement(
        title=values["title"],
        purpose=values["purpose"],
        lawful_basis=values["lawful_basis"],
        lawful_basis_detail=values["lawful_basis_detail"],
        agencies=tuple(values["agencies"]),
        fields=tuple(values["fields"]),
        retention_months=months,
        start_date=dates["start_date"],
        review_date=dates["review_date"],
        end_date=dates["end_date"],
        read_problems=errors,
    )
    return new, values


@router.post("/sharing/partnerships/{partnership_id:int}/agreements/new", include_in_schema=False)
def new_agreement(
    request: Request, session: Db, user: SignedIn, form: Posted, partnership_id: int
) -> Response:
    """Record the draft agreement, or show the form again with its problems."""
    partnership = partnerships.member_partnership(session, _poster(user), partnership_id)
    new, values = _read_agreement(form)
    try:
        agreement = partnerships.record_agreement(session, user, partnership, new)
        session.commit()
    except SharingRefused as refused:
        session.rollback()
        return _agreement_form(request, partnership, values, refused.problems, status=400)
    return RedirectResponse(f"/sharing/agreements/{agreement.id}", status_code=303)


def _agreement_page(
    request: Request,
    session: Db,
    who: User,
    agreement: Agreement,
    values: Mapping[str, Any] | None = None,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    today = date.today()
    waiting = partnerships.unsigned(session, agreement)
    return render_form(
        request,
        "sharing/agreement.html",
        values or {"organisation": "", "name": "", "job_title": "", "signed_on": date_parts(today)},
        errors or [],
        status,
        agreement=agreement,
        partnership=agreement.partnership,
        state=partnerships.state(session, agreement, today),
        basis=partnerships.lawful_basis_text(agreement),
        agencies=access.agencies_of(agreement),
        shared_fields=access.fields_of(agreement),
        organisations={
            o.id: o.name for o in partnerships.member_organisations(session, agreement.partnership)
        },
        unsigned=waiting,
        may_sign=[o for o in waiting if partnerships.may_sign_for(who, o.id)],
        **_helpers(),
    )


@router.get(
    "/sharing/agreements/{agreement_id:int}", response_class=HTMLResponse, include_in_schema=False
)
def agreement_page(request: Request, session: Db, user: SignedIn, agreement_id: int) -> Response:
    """An agreement: what it covers, who signed it, whether it is in force and why not."""
    who = _page_user(user, f"/sharing/agreements/{agreement_id}")
    if isinstance(who, Response):
        return who
    agreement = partnerships.member_agreement(session, who, agreement_id)
    return _agreement_page(request, session, who, agreement)


@router.get("/api/sharing/agreements/{agreement_id:int}")
def agreement_json(session: Db, user: SignedIn, agreement_id: int) -> JSONResponse:
    """An agreement, its signatories and whether it is in force today (and why not)."""
    agreement = partnerships.member_agreement(session, _api_user(user), agreement_id)
    return JSONResponse(partnerships.agreement_json(session, agreement, date.today()))


@router.post("/sharing/agreements/{agreement_id:int}/sign", include_in_schema=False)
def sign_agreement(
    request: Request, session: Db, user: SignedIn, form: Posted, agreement_id: int
) -> Response:
    """Record a signature for a member organisation, or show the problems."""
    who = _poster(user)
    agreement = partnerships.member_agreement(session, who, agreement_id)
    values: dict[str, Any] = form_text(form, SIGN_TEXT)
    errors: Errors = []
    signed_on, values["signed_on"] = read_date(form, "signed_on", "the date it was signed", errors)
    try:
        organisation = int(values["organisation"]) if values["organisation"] else None
    except ValueError:
        organisation = None
    try:
        if errors:
            raise SharingRefused(errors)
        partnerships.sign(
            session, who, agreement, organisation, values["name"], values["job_title"], signed_on
        )
        session.commit()
    except SharingRefused as refused:
        session.rollback()
        return _agreement_page(request, session, who, agreement, values, refused.problems, 400)
    return RedirectResponse(f"/sharing/agreements/{agreement.id}#signatories", status_code=303)


@router.post("/sharing/agreements/{agreement_id:int}/activate", include_in_schema=False)
def activate_agreement(
    request: Request, session: Db, user: SignedIn, form: Posted, agreement_id: int
) -> Response:
    """Activate the agreement once every member has signed it, or say who has not."""
    who = _poster(user)
    agreement = partnerships.member_agreement(session, who, agreement_id)
    try:
        partnerships.activate(session, who, agreement)
        session.commit()
    except SharingRefused as refused:
        session.rollback()
        return _agreement_page(request, session, who, agreement, None, refused.problems, 400)
    return RedirectResponse(f"/sharing/agreements/{agreement.id}", status_code=303)


@router.post("/sharing/agreements/{agreement_id:int}/end", include_in_schema=False)
def end_agreement(
    request: Request, session: Db, user: SignedIn, form: Posted, agreement_id: int
) -> Response:
    """End the agreement today: nothing more is uploaded, linked or shown under it."""
    who = _poster(user)
    agreement = partnerships.member_agreement(session, who, agreement_id)
    try:
        partnerships.end(session, who, agreement, reason=str(form.get("reason", "")))
        session.commit()
    except SharingRefused as refused:
        session.rollback()
        return _agreement_page(request, session, who, agreement, None, refused.problems, 400)
    return RedirectResponse(f"/sharing/agreements/{agreement.id}", status_code=303)


# --- datasets: upload, map, import --------------------------------------------------------------


def _uploaders(session: Db, who: User, partnership: Partnership) -> list[dict[str, Any]]:
    """The member organisations whose records the user may upload, with the agreement
    covering each one's agency today, or why there is none."""
    names = {o.id: o.name for o in partnerships.member_organisations(session, partnership)}
    found = []
    for member in partnership.members:
        if not (has_role(who, "admin") or member.organisation_id == who.organisation_id):
            continue
        try:
            agreement = access.agreement_for(session, partnership, date.today(), [member.agency])
            covered, why = agreement.title, ""
        except AgreementNeeded as needed:
            covered, why = "", str(needed)
        found.append(
            {
                "organisation_id": member.organisation_id,
                "organisation": names[member.organisation_id],
                "agency": member.agency,
                "agreement": covered,
                "refused": why,
            }
        )
    return found


def _upload_form(
    request: Request,
    session: Db,
    who: User,
    partnership: Partnership,
    values: Mapping[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    return render_form(
        request,
        "sharing/dataset_upload.html",
        values,
        errors,
        status,
        partnership=partnership,
        uploaders=_uploaders(session, who, partnership),
        max_mb=datasets.MAX_BYTES // (1024 * 1024),
    )


@router.get(
    "/sharing/partnerships/{partnership_id:int}/datasets/new",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def upload_page(request: Request, session: Db, user: SignedIn, partnership_id: int) -> Response:
    """The form to upload an agency's CSV file (the first of two steps)."""
    who = _page_user(user, f"/sharing/partnerships/{partnership_id}/datasets/new")
    if isinstance(who, Response):
        return who
    partnership = partnerships.member_partnership(session, who, partnership_id)
    return _upload_form(request, session, who, partnership, {"member": "", "title": ""}, [])


@router.get("/api/sharing/partnerships/{partnership_id:int}/datasets/new")
def upload_json(session: Db, user: SignedIn, partnership_id: int) -> JSONResponse:
    """Whose records the user may upload, and the agreement in force for each (or why none)."""
    who = _api_user(user)
    partnership = partnerships.member_partnership(session, who, partnership_id)
    return JSONResponse(
        {
            "partnership_id": partnership.id,
            "max_bytes": datasets.MAX_BYTES,
            "members": _uploaders(session, who, partnership),
        }
    )


async def _save_upload(upload: UploadFile, path: Path) -> None:
    written = 0
    with path.open("wb") as handle:
        while block := await upload.read(1 << 20):
            written += len(block)
            if written > datasets.MAX_BYTES:
                raise WhatworksError(
                    f"{upload.filename} is larger than {datasets.MAX_BYTES // (1024 * 1024)} MB; "
                    "split it, or ask for the limit to be raised."
                )
            handle.write(block)


@router.post("/sharing/partnerships/{partnership_id:int}/datasets/new", include_in_schema=False)
async def upload(
    request: Request, session: Db, user: SignedIn, form: Posted, partnership_id: int
) -> Response:
    """Keep the uploaded file in the partnership's own area and go on to map its columns;
    refused at once when no agreement in force covers the agency."""
    who = _poster(user)
    partnership = partnerships.member_partnership(session, who, partnership_id)
    values = form_text(form, ("member", "title"))
    choices = {str(u["organisation_id"]): u for u in _uploaders(session, who, partnership)}
    chosen = choices.get(values["member"])
    file = form.get("file")
    errors: Errors = []
    if chosen is None:
        errors.append(("member", "Choose whose records these are"))
    elif chosen["refused"]:
        errors.append(("member", chosen["refused"]))
    if not isinstance(file, UploadFile) or not file.filename:
        errors.append(("file", "Choose the CSV file to upload"))
    if errors or chosen is None or not isinstance(file, UploadFile):
        return _upload_form(request, session, who, partnership, values, errors, 400)
    data_dir = _settings(request).data_dir
    meta = {
        "user_id": who.id,
        "organisation_id": chosen["organisation_id"],
        "agency": chosen["agency"],
        "filename": Path(file.filename or "upload.csv").name,
        "title": values["title"][:200],
    }
    token, path = datasets.new_pending(data_dir, partnership.id, meta)
    try:
        await _save_upload(file, path)
        datasets.read_upload(path, meta["filename"])
    except (WhatworksError, ImportProblem) as error:
        datasets.discard_pending(data_dir, partnership.id, token)
        problems = error.problems if isinstance(error, ImportProblem) else [str(error)]
        errors = [("file", p) for p in problems]
        return _upload_form(request, session, who, partnership, values, errors, 400)
    except BaseException:
        datasets.discard_pending(data_dir, partnership.id, token)
        raise
    return RedirectResponse(
        f"/sharing/partnerships/{partnership.id}/datasets/new/{token}", status_code=303
    )


def _pending(
    request: Request, who: User, partnership: Partnership, token: str
) -> tuple[Path, dict[str, Any]]:
    path, meta = datasets.pending(_settings(request).data_dir, partnership.id, token)
    if meta.get("user_id") != who.id:
        raise HTTPException(403, "This upload was made by someone else; upload the file yourself.")
    return path, meta


def _mapping_form(
    request: Request,
    session: Db,
    partnership: Partnership,
    token: str,
    path: Path,
    meta: Mapping[str, Any],
    values: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    upload = datasets.read_upload(path, meta["filename"])
    try:
        agreement = access.agreement_for(session, partnership, date.today(), [meta["agency"]])
        covered = access.fields_of(agreement)
    except AgreementNeeded:
        covered = []
    shown = values if values is not None else datasets.suggest_mapping(upload.columns, covered)
    return render_form(
        request,
        "sharing/dataset_mapping.html",
        shown,
        errors or [],
        status,
        partnership=partnership,
        token=token,
        meta=meta,
        upload=upload,
        covered=covered,
        organisation=organisation_name(session, meta["organisation_id"]),
        **_helpers(),
    )


@router.get(
    "/sharing/partnerships/{partnership_id:int}/datasets/new/{token}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def mapping_page(
    request: Request, session: Db, user: SignedIn, partnership_id: int, token: str
) -> Response:
    """The second step: choose the column of each standard field (guessed from the header),
    then import."""
    who = _page_user(user, f"/sharing/partnerships/{partnership_id}/datasets/new/{token}")
    if isinstance(who, Response):
        return who
    partnership = partnerships.member_partnership(session, who, partnership_id)
    path, meta = _pending(request, who, partnership, token)
    return _mapping_form(request, session, partnership, token, path, meta)


@router.get("/api/sharing/partnerships/{partnership_id:int}/datasets/new/{token}")
def mapping_json(
    request: Request, session: Db, user: SignedIn, partnership_id: int, token: str
) -> JSONResponse:
    """An uploaded file's columns, the fields the agreement covers and the guessed mapping."""
    who = _api_user(user)
    partnership = partnerships.member_partnership(session, who, partnership_id)
    path, meta = _pending(request, who, partnership, token)
    upload = datasets.read_upload(path, meta["filename"])
    agreement = access.agreement_for(session, partnership, date.today(), [meta["agency"]])
    covered = access.fields_of(agreement)
    return JSONResponse(
        {
            "file": upload.filename,
            "rows": len(upload.rows),
            "agency": meta["agency"],
            "organisation_id": meta["organisation_id"],
            "columns": upload.columns,
            "fields": covered,
            "suggested_mapping": datasets.suggest_mapping(upload.columns, covered),
        }
    )


@router.post(
    "/sharing/partnerships/{partnership_id:int}/datasets/new/{token}", include_in_schema=False
)
def import_upload(
    request: Request, session: Db, user: SignedIn, form: Posted, partnership_id: int, token: str
) -> Response:
    """Import the file with the chosen mapping (all or nothing), or show every problem (the
    upload is kept to map again). On any other failure the upload is deleted."""
    who = _poster(user)
    partnership = partnerships.member_partnership(session, who, partnership_id)
    path, meta = _pending(request, who, partnership, token)
    chosen = {f: str(form.get(f"map-{f}", "")).strip() for f in SHAREABLE_FIELDS}
    mapping = {f: column for f, column in chosen.items() if column}
    try:
        dataset = datasets.import_dataset(
            session, _settings(request), who, partnership, meta["agency"], path, mapping,
            meta["title"], filename=meta["filename"], organisation_id=meta["organisation_id"],
        )  # fmt: skip
        session.commit()
    except (ImportProblem, AgreementNeeded) as error:
        session.rollback()
        problems = error.problems if isinstance(error, ImportProblem) else [str(error)]
        errors: Errors = [("map-record_id", p) for p in problems]
        return _mapping_form(request, session, partnership, token, path, meta, chosen, errors, 400)
    except BaseException:
        datasets.discard_pending(_settings(request).data_dir, partnership.id, token)
        raise
    datasets.discard_pending(_settings(request).data_dir, partnership.id, token)
    return RedirectResponse(f"/sharing/datasets/{dataset.id}", status_code=303)


@router.post(
    "/sharing/partnerships/{partnership_id:int}/datasets/new/{token}/discard",
    include_in_schema=False,
)
def discard_upload(
    request: Request, session: Db, user: SignedIn, form: Posted, partnership_id: int, token: str
) -> Response:
    """Delete the uploaded file without importing it."""
    who = _poster(user)
    partnership = partnerships.member_partnership(session, who, partnership_id)
    _pending(request, who, partnership, token)
    datasets.discard_pending(_settings(request).data_dir, partnership.id, token)
    return RedirectResponse(f"/sharing/partnerships/{partnership.id}/datasets/new", 303)


# --- a dataset's profile ----------------------------------------------------------------------


@router.get(
    "/sharing/datasets/{dataset_id:int}", response_class=HTMLResponse, include_in_schema=False
)
def dataset_page(request: Request, session: Db, user: SignedIn, dataset_id: int) -> Response:
    """A dataset's data-quality profile, field by field: for the organisation that uploaded
    it, the partnership's members with linked access and administrators (audited)."""
    who = _page_user(user, f"/sharing/datasets/{dataset_id}")
    if isinstance(who, Response):
        return who
    dataset = datasets.view_dataset(session, who, dataset_id)
    session.commit()
    partnership = partnerships.get_partnership(session, dataset.partnership_id)
    return render(
        request,
        "sharing/dataset.html",
        dataset=dataset,
        partnership=partnership,
        agreement=partnerships.get_agreement(session, dataset.agreement_id),
        organisation=organisation_name(session, dataset.organisation_id),
        profile=datasets.shown_profile(dataset),
        mapping=datasets.mapping_of(dataset),
        **_helpers(),
    )


@router.get("/api/sharing/datasets/{dataset_id:int}")
def dataset_json(session: Db, user: SignedIn, dataset_id: int) -> JSONResponse:
    """A dataset's upload details, mapping and data-quality profile (no record's values; need
    codes' counts after disclosure control), for those who may see its page (audited)."""
    dataset = datasets.view_dataset(session, _api_user(user), dataset_id)
    session.commit()
    return JSONResponse(
        datasets.dataset_json(dataset, organisation_name(session, dataset.organisation_id))
    )
