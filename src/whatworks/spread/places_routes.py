"""Pages and JSON for places like mine, adoption and diffusion, and centres of excellence.

All are public reads: they show published statistics and the evidence hub's projects,
which are public. Methods: docs/methods/places-like-mine.md and centres-of-excellence.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from whatworks.core.web import db_session, render
from whatworks.evidence.interventions import list_interventions
from whatworks.outcomes.catalogue import indicator
from whatworks.places.places import local_authority
from whatworks.spread import adoption, centres, similar

router = APIRouter()
SLUG = Query(None, max_length=80, description="An intervention's slug, e.g. pause")


def _interventions(session: Session) -> list[dict[str, str]]:
    return [{"id": i.id, "name": i.name} for i in list_interventions(session)]


# ---------------------------------------------------------------------------------------
# places like mine


@router.get("/places/{code}/like-mine", response_class=HTMLResponse, include_in_schema=False)
def like_mine_page(
    request: Request,
    code: str,
    intervention: str | None = SLUG,
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """A council's statistical neighbours and the places most like it, why, what each
    tried and whom to talk to; with an intervention, the places like it that adopted it."""
    found = similar.places_like_mine(session, code, intervention=intervention or None)
    shown = found.adopters if found.intervention else found.neighbours + found.also_similar
    return render(
        request,
        "spread/places_like_mine.html",
        found=found,
        tried=[m for m in shown if m.adoptions],
        interventions=_interventions(session),
        weights=similar.WEIGHTS,
        labels=similar.LABELS,
    )


@router.get("/api/spread/similar/{code}", tags=["spread"], summary="Places like mine")
def api_similar(
    code: str, intervention: str | None = SLUG, session: Session = Depends(db_session)
) -> dict[str, Any]:
    """A council's DfE statistical neighbours (in order) and the councils most like it, each
    with its distance, the features that made it close and what it tried (status, dates,
    lessons, studies and results, the intervention's evidence, contacts). With
    `intervention`, every council that adopted it: neighbours first, then by similarity."""
    return similar.places_like_mine(session, code, intervention=intervention or None).as_dict()


# ---------------------------------------------------------------------------------------
# adoption and diffusion


@router.get("/spread/adoption/{slug}", response_class=HTMLResponse, include_in_schema=False)
def adoption_page(
    request: Request, slug: str, session: Session = Depends(db_session)
) -> HTMLResponse:
    """Where and when an intervention was adopted, what became of each adoption, and its
    diffusion year by year (chart and table)."""
    found = adoption.intervention_adoption(session, slug)
    chart = adoption.diffusion_figure(found.name, found.diffusion) if found.diffusion else None
    return render(
        request,
        "spread/adoption.html",
        found=found,
        chart=chart,
        outcomes=adoption.OUTCOMES,
    )


@router.get("/api/spread/adoption/{slug}", tags=["spread"], summary="An intervention's adoption")
def api_adoption(slug: str, session: Session = Depends(db_session)) -> dict[str, Any]:
    """Every project of the intervention as an adoption (when, what became of it, lessons,
    studies, contacts) and the number of adopters year by year."""
    return adoption.intervention_adoption(session, slug).as_dict()


@router.get("/places/{code}/adoption", response_class=HTMLResponse, include_in_schema=False)
def place_adoption_page(
    request: Request, code: str, session: Session = Depends(db_session)
) -> HTMLResponse:
    """A council's own adoption history: every project there, earliest first."""
    la = local_authority(session, code)
    return render(
        request,
        "spread/places_adoption.html",
        la=la,
        history=adoption.place_history(session, la.new_la_code),
        outcomes=adoption.OUTCOMES,
    )


@router.get(
    "/api/spread/places/{code}/adoption", tags=["spread"], summary="A council's adoption history"
)
def api_place_adoption(code: str, session: Session = Depends(db_session)) -> dict[str, Any]:
    """Every project in the council, earliest start first, read as adoptions."""
    la = local_authority(session, code)
    return {
        "la_code": la.new_la_code,
        "name": la.name,
        "adoptions": [a.as_dict() for a in adoption.place_history(session, la.new_la_code)],
    }


# ---------------------------------------------------------------------------------------
# centres of excellence


def _centres(session: Session, indicator_id: str | None) -> list[centres.Centre]:
    if indicator_id:
        indicator(indicator_id)  # NotFound names the unknown id
    return centres.centres(session, indicator_id or None)


@router.get("/spread/centres", response_class=HTMLResponse, include_in_schema=False)
def centres_page(
    request: Request,
    indicator: str | None = Query(None, max_length=80),
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """The directory of centres of excellence, optionally on one indicator."""
    return render(
        request,
        "spread/centres.html",
        found=_centres(session, indicator),
        indicators=centres.judged_indicators(),
        chosen=indicator or "",
        threshold=centres.THRESHOLD,
        min_years=centres.MIN_YEARS,
    )


@router.get("/api/spread/centres", tags=["spread"], summary="Centres of excellence")
def api_centres(
    indicator: str | None = Query(None, max_length=80, description="An indicator id"),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Councils better than their context predicts (standardised residual of at least
    `threshold` in the good direction) in each of `min_years` or more consecutive years up
    to the latest, with the years, the interventions they run and each year's model."""
    found = _centres(session, indicator)
    fitted = centres.model(session)
    chosen = [indicator] if indicator else [i.id for i in centres.judged_indicators()]
    return {
        "threshold": centres.THRESHOLD,
        "min_years": centres.MIN_YEARS,
        "method": "docs/methods/centres-of-excellence.md",
        "centres": [c.as_dict() for c in found],
        "models": {i: [f.as_dict() for f in fitted.fits.get(i, [])] for i in chosen},
    }
