"""Pages and JSON of the evidence hub: interventions with their evidence, studies and their
results, CSV in and out, recommendation overrides and the library of null and negative
results.

Reads are public. Writes (study and result entry, CSV import, overrides) need a signed-in
researcher (or administrator); an anonymous visitor is sent to sign in first. Every write
goes through the domain functions, which check the role again and write the audit log.
Projects, registrations and the tracker have their pages in `project_routes`,
`registration_routes` and `tracker_routes`.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import render, verified_form
from whatworks.evidence import (
    economic_case,
    entry_forms,
    hub,
    plots,
    projects,
    studies,
    studies_csv,
    tracker,
)
from whatworks.evidence.forms import Db, SignedIn, can_curate, researcher
from whatworks.evidence.interventions import get_intervention, list_interventions
from whatworks.evidence.models import ClaimedSaving, Intervention, Study
from whatworks.evidence.recommendations import WORDINGS

router = APIRouter()
#: Largest studies file accepted for import.
MAX_IMPORT_BYTES = 5_000_000
#: Effects needed for a forest plot, and for a funnel plot.
FOREST_MIN, FUNNEL_MIN = 2, 3


# ---------------------------------------------------------------------------------------
# interventions


def _headline(session: Session, intervention: Intervention) -> dict[str, Any] | None:
    """The outcome with the strongest evidence of benefit, and the outcomes a rigorous
    study found it did not improve (shown beside it, as prominently)."""
    evidence = hub.assess(session, intervention.id)
    found = evidence.headline()
    if found is None:
        return None
    return {
        "outcome": found.outcome,
        "level": found.level.level,
        "certainty": found.certainty.grade,
        "recommendation": found.recommendation.wording,
        "overridden": found.recommendation.override is not None,
        "not_effective": [o.outcome for o in evidence.outcomes if o.level.level == "NE"],
    }


def _listing(session: Session, q: str) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "name": i.name,
            "description": i.description,
            "is_demo": i.is_demo,
            "url": f"/evidence/interventions/{i.id}",
            "headline": _headline(session, i),
        }
        for i in list_interventions(session, q)
    ]


@router.get("/evidence", response_class=HTMLResponse, include_in_schema=False)
def interventions_page(request: Request, session: Db, q: str = "") -> HTMLResponse:
    """Every intervention with its headline evidence level and recommendation."""
    return render(
        request, "evidence/interventions.html", q=q, interventions=_listing(session, q.strip())
    )


@router.get("/api/evidence/interventions", tags=["evidence"], summary="Interventions")
def api_interventions(session: Db, q: str = "") -> list[dict[str, Any]]:
    """Interventions whose name, description or adopters hold every word of `q`, each with
    the outcome of its strongest evidence: level, certainty and recommendation."""
    return _listing(session, q.strip())


def _label(effect: hub.EffectRow) -> str:
    """A plot's row label: the study's title and year, "(demo)" once."""
    return effect.label.replace("(demo) (demo)", "(demo)")


def _effect_figures(outcome: hub.OutcomeEvidence, name: str) -> dict[str, Any]:
    """A forest plot (2+ effects on one metric), a funnel plot (3+ pooled) and a table of
    the effects the plots do not show."""
    pooled = [e for e in outcome.effects if e.pooled]
    caption = f"{name}: {outcome.outcome}"
    forest = funnel = None
    shown: list[hub.EffectRow] = []
    if outcome.synthesis is not None and len(pooled) >= FOREST_MIN:
        args = (
            [_label(e) for e in pooled],
            [e.yi for e in pooled],
            [e.vi for e in pooled],
            outcome.synthesis,
            outcome.metric or "GEN",
        )
        forest = plots.forest_figure(f"Forest plot, {caption}", *args)
        if len(pooled) >= FUNNEL_MIN:
            funnel = plots.funnel_figure(f"Funnel plot, {caption}", *args)
        shown = pooled
    elif len(outcome.effects) >= FOREST_MIN and len({e.metric for e in outcome.effects}) == 1:
        effects = list(outcome.effects)
        forest = plots.forest_figure(
            f"Forest plot (not pooled), {caption}",
            [_label(e) for e in effects],
            [e.yi for e in effects],
            [e.vi for e in effects],
            None,
            effects[0].metric or "GEN",
        )
        shown = effects
    rest = [e for e in outcome.effects if e not in shown]
    return {"forest": forest, "funnel": funnel, "unplotted": rest, "pooled": _pooled(outcome)}


def _pooled(outcome: hub.OutcomeEvidence) -> str:
    """The pooled effect in words, ratios shown as ratios."""
    meta = outcome.synthesis
    if meta is None:
        return ""
    metric = outcome.metric or "GEN"
    shown = plots.default_transform(metric)
    text = (
        f"Pooled {plots.measure_name(metric).lower()} over {meta.k} studies: "
        f"{plots.number(shown(meta.estimate))} (95% CI {plots.number(shown(meta.ci_low))} to "
        f"{plots.number(shown(meta.ci_high))})"
    )
    if meta.i2 is not None:
        text += f"; I² {meta.i2:.0f}%"
    if meta.pi_low is not None and meta.pi_high is not None:
        text += (
            f"; a new study's effect would be expected between {plots.number(shown(meta.pi_low))}"
            f" and {plots.number(shown(meta.pi_high))} (95% prediction interval)"
        )
    return text + "."


def _sites(session: Session, slug: str) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "title": p.title,
            "place": p.place,
            "la_code": p.la_code,
            "status": p.status,
            "start_date": p.start_date,
            "end_date": p.end_date,
            "funder": p.funder,
            "lessons": p.lessons,
            "contacts": p.contacts,
            "source": p.source,
            "is_demo": p.is_demo,
        }
        for p in projects.list_projects(session, intervention_id=slug)
    ]


def _overrides(session: Session, slug: str, outcome: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "outcome": o.outcome,
            "wording": o.wording,
            "reason": o.reason,
            "decided_by": o.decided_by,
            "decided_at": o.decided_at.isoformat(timespec="minutes"),
        }
        for o in hub.override_history(session, slug, outcome)
    ]


def _intervention_facts(intervention: Intervention) -> dict[str, Any]:
    return {
        key: getattr(intervention, key)
        for key in (
            "id",
            "name",
            "description",
            "core_components",
            "target_population",
            "outcome_domains",
            "cost_components",
            "cost_basis",
            "benefit_cost_basis",
            "owner",
            "evaluator",
            "adopters",
            "contacts",
            "source",
            "is_demo",
        )
    } | {"unit_cost": float(intervention.unit_cost) if intervention.unit_cost is not None else None}


@router.get("/evidence/interventions/{slug}", response_class=HTMLResponse, include_in_schema=False)
def intervention_page(
    request: Request,
    slug: str,
    user: SignedIn,
    session: Db,
) -> HTMLResponse:
    """One intervention: what it is, each outcome's level, certainty and recommendation
    with the rules that gave them, plots, cost, sites, lessons and contacts."""
    intervention = get_intervention(session, slug)
    evidence = hub.assess(session, slug)
    outcomes = [
        {
            "evidence": o,
            "statement": o.recommendation.statement(intervention.name),
            "history": _overrides(session, slug, o.outcome),
            **_effect_figures(o, intervention.name),
        }
        for o in evidence.outcomes
    ]
    return render(
        request,
        "evidence/intervention.html",
        intervention=intervention,
        evidence=evidence,
        outcomes=outcomes,
        sites=_sites(session, slug),
        studies=studies.list_studies(session, intervention_id=slug),
        failures=[f for f in tracker.failure_library(session) if f.intervention_id == slug],
        savings=economic_case.savings_claims(session, slug),
        can_edit=can_curate(user),
        effect_text=entry_forms.effect_text,
        quote=quote,
    )


@router.get(
    "/api/evidence/interventions/{slug}", tags=["evidence"], summary="One intervention's evidence"
)
def api_intervention(slug: str, session: Db) -> dict[str, Any]:
    """The hub's assessment of every outcome (level, certainty, recommendation, effects and
    synthesis, with the rules and notes, and whether the effect depends on the region or
    the conditions for success), the benefit-cost of its economic case, the intervention's
    description, its sites, its savings claims and the history of recommendation
    overrides."""
    intervention = get_intervention(session, slug)
    return {
        **hub.assess(session, slug).as_dict(),
        "intervention": _intervention_facts(intervention),
        "sites": _sites(session, slug),
        "override_history": _overrides(session, slug),
        "savings_claims": [_claim(c) for c in economic_case.savings_claims(session, slug)],
    }


def _claim(row: ClaimedSaving) -> dict[str, Any]:
    return {
        "amount": float(row.amount),
        "basis": row.basis,
        "source": row.source,
        "year": row.year,
        "is_demo": row.is_demo,
        "entered_by": row.entered_by,
    }


# ---------------------------------------------------------------------------------------
# overrides


def _override_page(
    request: Request,
    session: Session,
    slug: str,
    outcome: str,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    intervention = get_intervention(session, slug)
    found = hub.assess(session, slug).outcome(outcome)
    return render(
        request,
        "evidence/override_form.html",
        status_code=status,
        intervention=intervention,
        outcome=found,
        history=_overrides(session, slug, outcome),
        wordings=WORDINGS,
        errors=errors,
        values=values,
        action=f"/evidence/interventions/{slug}/outcomes/{quote(outcome, safe='')}/override",
    )


@router.get(
    "/evidence/interventions/{slug}/outcomes/{outcome:path}/override",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def override_form(
    request: Request,
    slug: str,
    outcome: str,
    user: SignedIn,
    session: Db,
) -> Response:
    """The form to replace (or restore) the derived recommendation for one outcome."""
    allowed = researcher(user, request.url.path)
    if isinstance(allowed, Response):
        return allowed
    return _override_page(request, session, slug, outcome, {}, {})


@router.post(
    "/evidence/interventions/{slug}/outcomes/{outcome:path}/override", include_in_schema=False
)
async def override(
    request: Request,
    slug: str,
    outcome: str,
    user: SignedIn,
    session: Db,
) -> Response:
    """Record a researcher's override (or its withdrawal) with the reason."""
    allowed = researcher(user, request.url.path)
    if isinstance(allowed, Response):
        return allowed
    form = await verified_form(request)
    values = {"wording": str(form.get("wording", "")), "reason": str(form.get("reason", ""))}
    errors = entry_forms.override_errors(values, WORDINGS)
    if not errors:
        wording = None if values["wording"] == "withdraw" else values["wording"]
        try:
            hub.override_recommendation(session, allowed, slug, outcome, wording, values["reason"])
            session.commit()
        except WhatworksError as error:
            session.rollback()
            errors["wording"] = str(error)
        else:
            return RedirectResponse(f"/evidence/interventions/{slug}#recommendations", 303)
    return _override_page(request, session, slug, outcome, errors, values, status=400)


# ---------------------------------------------------------------------------------------
# studies


def _study_dict(study: Study) -> dict[str, Any]:
    return {
        "id": study.id,
        **{key: getattr(study, key) for key in studies.STUDY_FIELDS},
        "is_demo": study.is_demo,
        "entered_by": study.entered_by,
        "results": [entry_forms.result_dict(r) for r in study.results],
    }


def _new_study_page(
    request: Request,
    session: Session,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "evidence/study_form.html",
        status_code=status,
        interventions=list_interventions(session),
        errors=errors,
        values=values,
    )


@router.get("/evidence/studies/new", response_class=HTMLResponse, include_in_schema=False)
def new_study_form(
    request: Request,
    user: SignedIn,
    session: Db,
    intervention: str = "",
) -> Response:
    """The form to enter a study."""
    allowed = researcher(user, "/evidence/studies/new")
    if isinstance(allowed, Response):
        return allowed
    return _new_study_page(request, session, {}, {"intervention_id": intervention})


@router.post("/evidence/studies/new", include_in_schema=False)
async def new_study(
    request: Request,
    user: SignedIn,
    session: Db,
) -> Response:
    """Enter a study; on any problem, the form again with every problem and nothing stored."""
    allowed = researcher(user, "/evidence/studies/new")
    if isinstance(allowed, Response):
        return allowed
    form = await verified_form(request)
    values = {key: str(form.get(key, "")).strip() for key in entry_forms.STUDY_FORM_FIELDS}
    fields, errors = entry_forms.study_fields(values)
    if (
        fields.get("intervention_id")
        and session.get(Intervention, fields["intervention_id"]) is None
    ):
        errors["intervention_id"] = "Choose an intervention from the list"
    if not errors:
        try:
            study = studies.add_study(session, allowed, **fields)
            session.commit()
        except WhatworksError as error:
            session.rollback()
            errors["title"] = str(error)
        else:
            return RedirectResponse(f"/evidence/studies/{study.id}", status_code=303)
    return _new_study_page(request, session, errors, values, status=400)


def _study_page(
    request: Request,
    session: Session,
    user: User | None,
    study_id: int,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    study = studies.get_study(session, study_id)
    intervention = session.get(Intervention, study.intervention_id or "")
    return render(
        request,
        "evidence/study.html",
        status_code=status,
        study=study,
        intervention=intervention,
        results=[entry_forms.result_dict(r) for r in study.results],
        can_edit=can_curate(user),
        errors=errors,
        values=values,
        directions=studies.DIRECTIONS,
        metrics=studies.METRICS,
        confidences=studies.CONFIDENCES,
        input_sets=entry_forms.INPUT_CHOICES,
        input_labels=entry_forms.INPUT_LABELS,
        measure_name=plots.measure_name,
    )


@router.get(
    "/evidence/studies/{study_id:int}", response_class=HTMLResponse, include_in_schema=False
)
def study_page(
    request: Request,
    study_id: int,
    user: SignedIn,
    session: Db,
) -> HTMLResponse:
    """One study with its results as reported, and (for researchers) the form to add one."""
    return _study_page(request, session, user, study_id, {}, {})


@router.get("/api/evidence/studies/{study_id:int}", tags=["evidence"], summary="One study")
def api_study(study_id: int, session: Db) -> dict[str, Any]:
    """A study's fields and its results: direction, significance, the text as published,
    and the effect with its variance and 95% confidence interval where there is one."""
    return _study_dict(studies.get_study(session, study_id))


@router.post("/evidence/studies/{study_id:int}/results", include_in_schema=False)
async def add_result(
    request: Request,
    study_id: int,
    user: SignedIn,
    session: Db,
) -> Response:
    """Add a result to a study, its effect entered directly or from raw figures."""
    back = f"/evidence/studies/{study_id}"
    allowed = researcher(user, back)
    if isinstance(allowed, Response):
        return allowed
    studies.get_study(session, study_id)
    form = await verified_form(request)
    values = {key: str(form.get(key, "")).strip() for key in entry_forms.result_form_fields()}
    arguments, errors = entry_forms.result_arguments(values)
    if not errors:
        try:
            studies.add_result(session, allowed, study_id, **arguments)
            session.commit()
        except WhatworksError as error:
            session.rollback()
            errors[entry_forms.where_result_error(str(error), values)] = str(error)
        else:
            return RedirectResponse(f"{back}#results", status_code=303)
    return _study_page(request, session, user, study_id, errors, values, status=400)


# ---------------------------------------------------------------------------------------
# CSV


@router.get("/evidence/studies.csv", include_in_schema=False)
def studies_csv_export(session: Db, intervention: str | None = None) -> Response:
    """Every study result (or one intervention's) in the columns the import reads."""
    if intervention:
        get_intervention(session, intervention)
    out = io.StringIO()
    studies_csv.export_studies(session, out, intervention_id=intervention or None)
    name = f"studies-{intervention}.csv" if intervention else "studies.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _import_page(
    request: Request,
    problems: list[dict[str, str]],
    status: int = 200,
    file_name: str = "",
    imported: studies_csv.ImportSummary | None = None,
) -> HTMLResponse:
    return render(
        request,
        "evidence/studies_import.html",
        status_code=status,
        problems=problems,
        file_name=file_name,
        imported=imported,
        columns=studies_csv.COLUMNS,
        required=studies_csv.REQUIRED,
    )


@router.get("/evidence/studies/import", response_class=HTMLResponse, include_in_schema=False)
def import_form(request: Request, user: SignedIn) -> Response:
    """The form to upload a studies file."""
    allowed = researcher(user, "/evidence/studies/import")
    if isinstance(allowed, Response):
        return allowed
    return _import_page(request, [])


@router.post("/evidence/studies/import", include_in_schema=False)
async def import_upload(
    request: Request,
    user: SignedIn,
    session: Db,
) -> Response:
    """Import every study in the file, or nothing: on any problem, each is listed."""
    allowed = researcher(user, "/evidence/studies/import")
    if isinstance(allowed, Response):
        return allowed
    form = await verified_form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, [entry_forms.problem("Choose a CSV file of studies")], 400)
    name = upload.filename.rsplit("/", 1)[-1]
    content = await upload.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        text = f"{name} is larger than {MAX_IMPORT_BYTES // 1_000_000} MB; split it into parts"
        return _import_page(request, [entry_forms.problem(text)], 400, name)
    try:
        source = io.StringIO(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        text = f"{name} is not UTF-8 text; save it as 'CSV UTF-8' and upload it again"
        return _import_page(request, [entry_forms.problem(text)], 400, name)
    source.name = name
    try:
        summary = studies_csv.import_studies(session, allowed, source)
        session.commit()
    except ImportProblem as rejected:
        session.rollback()
        found = [entry_forms.problem(p, name) for p in rejected.problems]
        return _import_page(request, found, 400, name)
    return _import_page(request, [], 200, name, imported=summary)


# ---------------------------------------------------------------------------------------
# failure library


@router.get("/evidence/failures", response_class=HTMLResponse, include_in_schema=False)
def failures_page(request: Request, session: Db, q: str = "") -> HTMLResponse:
    """Null and negative results and stopped evaluations, with what was learned."""
    return render(
        request, "evidence/failures.html", q=q, lessons=tracker.failure_library(session, q)
    )


@router.get("/api/evidence/failures", tags=["evidence"], summary="Null and negative results")
def api_failures(session: Db, q: str = "") -> list[dict[str, Any]]:
    """The failure library: null and negative results and stopped evaluations holding every
    word of `q`, newest first, each with its lessons, caveats, source and confidence."""
    return [lesson.as_dict() for lesson in tracker.failure_library(session, q)]
