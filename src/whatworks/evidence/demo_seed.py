"""For the demo only: the demo trials' sites (demo projects placed in a region, with their
conditions for success rated) so that the hub can ask whether the effect depends on the
conditions, a demo economic case and savings claim, and demo adoptions of a real
intervention in places like the demo council (for "places like mine"). Every figure here
is invented,
every record is marked is_demo and labelled "(demo)". Called by `seed.seed_demo`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.core.auth import get_or_create_organisation
from whatworks.evidence import economic_case, economics, projects, studies
from whatworks.evidence.models import Intervention, Project, Study

#: Trial title -> (demo town, new LA code of the real council whose region it is placed
#: in, latest ratings of the six conditions in `projects.CONDITIONS` order). Invented.
DEMO_SITES = {
    "Family network meetings in Northtown (demo)": ("Northtown", "E08000037", (4, 4, 4, 5, 5, 5)),
    "Family network meetings in Midshire (demo)": ("Midshire", "E06000057", (4, 3, 5, 4, 5, 4)),
    "Family network meetings in Southby (demo)": ("Southby", "E10000008", (4, 4, 3, 3, 3, 4)),
    "Family network meetings in Westford (demo)": ("Westford", "E06000052", (4, 2, 3, 4, 2, 3)),
    "Family network meetings in Eastham (demo)": ("Eastham", "E09000025", (3, 3, 3, 3, 3, 3)),
}
RATED_ON = date(2023, 6, 30)
#: The demo's economic case, as the form would send it (percentages as percentages).
DEMO_CASE = {
    "outcome": "Care entry within 12 months",
    "direction": "avoided",
    "value_unit": "children entering care",
    "value_per_unit": "20000",
    "value_source": "Demo data: an invented value of a year out of care.",
    "baseline": "22",
    "baseline_source": "Demo data: invented.",
    "horizon_years": "2",
    "cost_per_child": "",
    "cost_uncertainty": "20",
    "discount_rate": "3.5",
    "notes": "Demo data: every figure is invented to show how the page works.",
}
DEMO_CLAIM = economics.SavingsClaim(
    amount=1_200_000,
    basis="Demo: care entry before and after, in one demo council, 2021 to 2023 (invented).",
    source="Demo data: invented, not a real claim.",
    year=2023,
)


def seed_sites(session: Session, actor: Actor, intervention_id: str) -> int:
    """A demo project for each demo trial, with its place and rated conditions, linked to
    the trial; returns how many projects were added (none the second time)."""
    added = 0
    for title, (town, la_code, ratings) in DEMO_SITES.items():
        study = session.scalar(select(Study).where(Study.title == title, Study.is_demo))
        key = f"demo:site:{town.lower()}"
        project = session.scalar(select(Project).where(Project.seed_key == key))
        if study is None or project is not None:
            continue
        project = projects.create_project(
            session,
            actor,
            title,
            intervention_id=intervention_id,
            la_code=la_code,
            place=f"{town} (demo town)",
            status="ended",
            vision="Demo: the site of a demo trial.",
            is_demo=True,
            seed_key=key,
        )
        for condition, rating in zip(projects.CONDITIONS, ratings, strict=True):
            projects.rate_condition(
                session, actor, project.id, condition, rating, RATED_ON, "demo rating"
            )
        studies.correct_study(
            session, actor, study.id, "Demo: link the trial to its site.", project_id=project.id
        )
        added += 1
    return added


def seed_economics(session: Session, actor: Actor, intervention_id: str) -> None:
    """The demo economic case and one demo savings claim, unless a case is recorded."""
    if economic_case.get_case(session, intervention_id) is not None:
        return
    economic_case.save_case(session, actor, intervention_id, DEMO_CASE, is_demo=True)
    economic_case.add_savings_claim(session, actor, intervention_id, DEMO_CLAIM, is_demo=True)


#: Family group conferencing at pre-proceedings in places like Barnet, so that "places like
#: mine" has neighbours that tried an intervention: Waltham Forest (Barnet's closest DfE
#: statistical neighbour, still running, with a review of its own), Harrow (neighbour 3,
#: stopped) and Cornwall (not a neighbour). (code, status, start, end, organisation)
FGC = "family-group-conferencing-at-pre-proceedings"
NEIGHBOUR_ADOPTIONS = (
    ("E09000031", "running", date(2021, 9, 1), None, "Waltham Forest Council (demo)"),
    ("E09000015", "stopped", date(2022, 1, 10), date(2023, 7, 31), "Harrow Council (demo)"),
    ("E06000052", "running", date(2020, 4, 1), None, "Cornwall Council (demo)"),
)


def seed_neighbour_adoptions(session: Session, actor: Actor) -> tuple[int, int]:
    """The demo adoptions above, each a demo project with lessons and a contact, and a demo
    review of Waltham Forest's; returns how many projects and studies were added (none the
    second time, or when the bundled intervention is not in the store)."""
    if session.get(Intervention, FGC) is None:
        return 0, 0
    added = reviews = 0
    for code, status, start, end, organisation in NEIGHBOUR_ADOPTIONS:
        key = f"demo:fgc:{code}"
        if session.scalar(select(Project).where(Project.seed_key == key)) is not None:
            continue
        org = get_or_create_organisation(session, organisation, "council", code)
        project = projects.create_project(
            session,
            actor,
            f"Family group conferencing at pre-proceedings, {organisation}",
            organisation_id=org.id,
            intervention_id=FGC,
            la_code=code,
            status=status,
            start_date=start,
            end_date=end,
            lessons=f"Demo: what {organisation} learned.",
            contacts=[{"name": f"FGC lead, {organisation}", "role": "Service manager"}],
            is_demo=True,
            seed_key=key,
        )
        added += 1
        if code == "E09000031":
            study = studies.add_study(
                session,
                actor,
                is_demo=True,
                intervention_id=FGC,
                project_id=project.id,
                title="Waltham Forest family group conferencing: one-year review (demo)",
                year=2023,
                design="Before and after comparison (demo)",
                maryland_level=2,
                source="Demo data: invented.",
            )
            studies.add_result(
                session,
                actor,
                study.id,
                outcome="Care proceedings issued",
                direction="positive",
                reported="Fewer families went on to care proceedings (demo)",
            )
            reviews += 1
    return added, reviews
