"""Pages and JSON of "Did it work here?": impact estimates for a project's council.

Reads are public (they use published statistics only). Estimates from values computed from
councils' returns are for researchers and administrators. Saving an estimate as an
evidence study needs a signed-in researcher or a member of the project's organisation;
`service.save_study` checks the role again and the evidence hub audits it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from whatworks.core.auth import has_role
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.core.models import User
from whatworks.core.web import current_user, db_session, render, verified_form
from whatworks.evidence import studies
from whatworks.evidence.interventions import list_interventions
from whatworks.evidence.models import Project
from whatworks.evidence.projects import get_project, list_projects
from whatworks.impact import conditions, service
from whatworks.impact.did import DEFAULT_SEED
from whatworks.impact.figures import event_study_figure, synthetic_figure
from whatworks.impact.panels import SOURCES, adoption_year
from whatworks.outcomes.catalogue import catalogue, indicator

router = APIRouter()
Db = Annotated[Session, Depends(db_session)]
SignedIn = Annotated[User | None, Depends(current_user)]


def _project_row(project: Project, names: dict[str, str]) -> dict[str, Any]:
    ready = bool(project.la_code and project.start_date)
    return {
        "id": project.id,
        "title": project.title,
        "intervention_id": project.intervention_id,
        "intervention": names.get(project.intervention_id or "", "A new idea"),
        "place": project.place or project.la_code or "",
        "start_date": project.start_date.isoformat() if project.start_date else None,
        "first_treated": adoption_year(project.start_date) if project.start_date else None,
        "is_demo": project.is_demo,
        "ready": ready,
        "missing": None
        if ready
        else "no council recorded"
        if not project.la_code
        else "no start date recorded",
        "url": f"/evidence/projects/{project.id}/impact",
        "api_url": f"/api/impact/projects/{project.id}",
    }


def _listing(session: Session, intervention: str) -> dict[str, Any]:
    names = {i.id: i.name for i in list_interventions(session, "")}
    chosen = intervention if intervention in names else None
    rows = [_project_row(p, names) for p in list_projects(session, intervention_id=chosen)]
    return {
        "intervention": chosen,
        "interventions": names,
        "projects": [r for r in rows if r["ready"]],
        "not_ready": [r for r in rows if not r["ready"]],
        "site_comparisons": conditions.site_comparisons(session),
    }


@router.get("/impact", response_class=HTMLResponse, include_in_schema=False)
def impact_page(request: Request, session: Db, intervention: str = "") -> HTMLResponse:
    """What the impact estimates are, and the projects they can be made for."""
    return render(request, "impact/index.html", **_listing(session, intervention.strip()))


@router.get("/api/impact", tags=["impact"], summary="Projects with impact estimates")
def api_impact(session: Db, intervention: str = "") -> dict[str, Any]:
    """Projects with a council and a start date (ready for an estimate), optionally of one
    intervention, and those that still need one of them."""
    found = _listing(session, intervention.strip())
    return {k: found[k] for k in ("intervention", "projects", "not_ready")}


def _options(
    project: Project, indicator_id: str, comparison: str, source: str, seed: int, user: User | None
) -> service.Options:
    choices = service.indicators_for(project)
    chosen = indicator_id.strip() or choices[0].id
    indicator(chosen)  # NotFound names an unknown id
    if comparison not in service.COMPARISONS:
        raise WhatworksError(
            f"Comparison {comparison!r} is not one of {', '.join(service.COMPARISONS)}."
        )
    if source not in SOURCES:
        raise WhatworksError(f"Source {source!r} is not one of {', '.join(SOURCES)}.")
    if source == "computed" and (user is None or not has_role(user, "researcher")):
        raise HTTPException(
            403,
            "Estimates from values computed from councils' returns are for researchers: "
            "use the published statistics.",
        )
    return service.Options(project.id, chosen, source, comparison, seed)  # type: ignore[arg-type]


def _saved(session: Session, project: Project) -> list[dict[str, Any]]:
    """Impact studies already saved for this project."""
    found = []
    for study in studies.list_studies(session, intervention_id=project.intervention_id):
        if study.project_id == project.id and service.PROVENANCE_MARK in (study.source or ""):
            found.append(
                {"id": study.id, "title": study.title, "url": f"/evidence/studies/{study.id}"}
            )
    return found


@router.get(
    "/evidence/projects/{project_id:int}/impact",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def project_impact_page(
    request: Request,
    project_id: int,
    session: Db,
    user: SignedIn,
    indicator: str = "",
    comparison: str = "all",
    source: str = "published",
    seed: int = DEFAULT_SEED,
) -> HTMLResponse:
    """Did it work here? The project's council against councils that did not adopt it."""
    project = get_project(session, project_id)
    options = _options(project, indicator, comparison, source, seed, user)
    analysis = problem = None
    try:
        analysis = service.analyse_project(session, options)
    except NotFound:
        raise
    except WhatworksError as error:
        problem = str(error)
    figures: dict[str, Any] = {}
    if analysis is not None:
        item = analysis["indicator"]
        if analysis["did"] is not None:
            figures["event_study"] = event_study_figure(
                analysis["did"], item["title"], item["unit"]
            )
        if analysis["synth"] is not None:
            figures["synth"] = synthetic_figure(
                analysis["synth"],
                analysis["series"],
                analysis["project"]["place"],
                item["title"],
                item["unit"],
            )
    may_save = user is not None and (
        has_role(user, "researcher")
        or (project.organisation_id is not None and user.organisation_id == project.organisation_id)
    )
    return render(
        request,
        "impact/project.html",
        project=project,
        options=options,
        indicators=service.indicators_for(project),
        targets=set(project.target_outcomes or []),
        analysis=analysis,
        problem=problem,
        figures=figures,
        may_save=may_save,
        saved=_saved(session, project),
        comparisons=service.COMPARISONS,
        methods=service.METHODS,
    )


@router.get("/api/impact/projects/{project_id:int}", tags=["impact"], summary="Did it work here?")
def api_project_impact(
    project_id: int,
    session: Db,
    user: SignedIn,
    indicator: str = "",
    comparison: str = "all",
    source: str = "published",
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """The page's estimates as JSON: the panel, difference-in-differences (`did`: att, se,
    interval, p, pre-trend test, event study, group-time effects, sensitivity bounds, two-
    way fixed effects for comparison, warnings), the synthetic control (`synth`: weights,
    effects, fit, placebo p), the summary in plain words, caveats, provenance and digest.
    A method that cannot be applied is null with its reason in `did_problem`/`synth_problem`."""
    project = get_project(session, project_id)
    return service.analyse_project(
        session, _options(project, indicator, comparison, source, seed, user)
    )


@router.post("/evidence/projects/{project_id:int}/impact/studies", include_in_schema=False)
def save_impact_study(
    request: Request,
    project_id: int,
    session: Db,
    user: SignedIn,
    form: Annotated[FormData, Depends(verified_form)],
) -> Response:
    """Save the estimate shown as a study in the evidence hub (re-run here, not trusted from
    the form), then show the study."""
    back = f"/evidence/projects/{project_id}/impact"
    if user is None:
        return RedirectResponse(f"/sign-in?next={quote(back)}", status_code=303)
    project = get_project(session, project_id)
    seed_text = str(form.get("seed", DEFAULT_SEED))
    if not seed_text.isdigit():
        raise WhatworksError(f"The seed {seed_text!r} is not a whole number.")
    options = _options(
        project,
        str(form.get("indicator", "")),
        str(form.get("comparison", "all")),
        str(form.get("source", "published")),
        int(seed_text),
        user,
    )
    method = str(form.get("method", ""))
    study = service.save_study(session, user, options, method)  # type: ignore[arg-type]
    session.commit()
    return RedirectResponse(f"/evidence/studies/{study.id}", status_code=303)


def _conditions(
    session: Session, slug: str, indicator_id: str, source: str, seed: int, user: User | None
) -> dict[str, Any]:
    if source not in SOURCES:
        raise WhatworksError(f"Source {source!r} is not one of {', '.join(SOURCES)}.")
    if source == "computed" and (user is None or not has_role(user, "researcher")):
        raise HTTPException(
            403,
            "Estimates from values computed from councils' returns are for researchers: "
            "use the published statistics.",
        )
    return conditions.analyse_intervention(
        session,
        slug,
        indicator_id,
        source=source,  # type: ignore[arg-type]
        seed=seed,
    )


@router.get("/impact/interventions/{slug}", response_class=HTMLResponse, include_in_schema=False)
def conditions_page(
    request: Request,
    slug: str,
    session: Db,
    user: SignedIn,
    indicator: str = "",
    source: str = "published",
    seed: int = DEFAULT_SEED,
) -> HTMLResponse:
    """Conditions or model? Each adopting council's effect, related to its conditions for
    success and region."""
    analysis = _conditions(session, slug, indicator, source, seed, user)
    return render(
        request,
        "impact/conditions.html",
        analysis=analysis,
        indicators=catalogue(),
    )


@router.get("/api/impact/interventions/{slug}", tags=["impact"], summary="Conditions or model?")
def api_conditions(
    slug: str,
    session: Db,
    user: SignedIn,
    indicator: str = "",
    source: str = "published",
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Each council with a dated project of the intervention: its effect on the indicator
    (difference-in-differences against councils that never adopted, with its standard
    error), and those effects pooled and related to region (`subgroups`) and to each
    condition for success (a meta-regression per condition: coefficients with CI and p,
    tau2, I2); a moderator with fewer than 3 sites or one value has its `reason` instead.
    `what_it_can_tell` says in plain words what this can and cannot show."""
    return _conditions(session, slug, indicator, source, seed, user)
