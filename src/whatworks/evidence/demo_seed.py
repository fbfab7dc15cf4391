"""For the demo only: the demo trials' sites (demo projects placed in a region, with their
conditions for success rated) so that the hub can ask whether the effect depends on the
conditions, and a demo economic case and savings claim. Every figure here is invented,
every record is marked is_demo and labelled "(demo)". Called by `seed.seed_demo`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.evidence import economic_case, economics, projects, studies
from whatworks.evidence.models import Project, Study

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
