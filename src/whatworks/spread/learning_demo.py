"""For the demo only: clearly labelled demo communities of practice and Learning Together
practice reviews, so the pages and the search have something to show.

Every record is marked is_demo and its title says "(demo)". The places are invented
(Northtown, Southby, Eastham, Westford, as in the evidence hub's demo); nothing here is a
fact about a real place, review or person. The interventions the findings link to are
real entries of the evidence hub. Running `seed_demo` again adds nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.evidence.models import Intervention
from whatworks.spread import communities, reviews
from whatworks.spread.models import Community, PracticeReview

DEMO_ACTOR = Actor("demo")
DEMO_NOTE = "Demo data: invented to show Learning Together reviews; not a real review."

#: (seed key, title, kind, place, region, published, summary, findings); each finding is
#: (title, pattern, parts, evidence, interventions, actions as (what, owner, due, status)).
DEMO_REVIEWS: tuple[tuple[Any, ...], ...] = (
    (
        "demo:review:northtown-2021",
        "Baby N (demo)",
        "local child safeguarding practice review",
        "Northtown (demo)",
        "North West",
        date(2021, 6, 14),
        "Demo: a baby removed at birth from a mother who had lost two earlier children to "
        "care proceedings; no service worked with her between the proceedings.",
        (
            (
                "No support for mothers after a child is removed (demo)",
                "Once care proceedings end, no agency keeps working with the mother, so the "
                "next pregnancy is first seen late, in crisis, and repeat removals of babies "
                "follow the same pattern.",
                ["multi-agency working in longer-term work", "management systems"],
                "Demo: case chronology; practitioners' conversations in the review.",
                ("pause",),
                (
                    (
                        "Commission a service for women after removal (demo)",
                        "Commissioning lead (demo)",
                        date(2022, 4, 1),
                        "done",
                    ),
                    (
                        "Flag earlier proceedings to midwifery at booking (demo)",
                        "Designated nurse (demo)",
                        date(2021, 12, 1),
                        "in progress",
                    ),
                ),
            ),
            (
                "Assessments start again from nothing (demo)",
                "Each new assessment was written as if the family were new; the history of "
                "earlier proceedings sat in closed files that the tools did not bring up.",
                ["tools", "human reasoning: cognitive and emotional biases"],
                "Demo: three assessments compared by the review team.",
                (),
                (
                    (
                        "Show closed-case history in the case record (demo)",
                        "Head of service (demo)",
                        date(2022, 3, 31),
                        "planned",
                    ),
                ),
            ),
        ),
    ),
    (
        "demo:review:southby-2022",
        "Child S (demo)",
        "serious case review",
        "Southby (demo)",
        "West Midlands",
        date(2022, 2, 3),
        "Demo: a teenager at risk of exploitation moved between placements and schools; "
        "agencies each held part of the picture.",
        (
            (
                "Each agency held one part of the picture (demo)",
                "Police, school and social care each knew of missing episodes, but strategy "
                "meetings were called incident by incident, so no one saw the pattern.",
                ["multi-agency working in response to incidents and crises"],
                "Demo: strategy meeting minutes; missing-episode records.",
                ("no-wrong-door",),
                (
                    (
                        "Review missing episodes across agencies weekly (demo)",
                        "Partnership manager (demo)",
                        date(2022, 9, 30),
                        "done",
                    ),
                ),
            ),
            (
                "Placement moves followed the market, not the child (demo)",
                "Placements were chosen by availability; each move broke the relationships "
                "with the adults the young person trusted.",
                ["management systems", "family-professional interaction"],
                "Demo: placement history; the young person's account.",
                ("mockingbird",),
                (),
            ),
        ),
    ),
    (
        "demo:review:eastham-2023",
        "Family E (demo)",
        "local child safeguarding practice review",
        "Eastham (demo)",
        "North West",
        date(2023, 9, 20),
        "Demo: neglect of young children where both parents misused alcohol; the family "
        "disengaged from adult services.",
        (
            (
                "Adult and children's services worked apart (demo)",
                "Parental substance misuse was treated by adult services and the children's "
                "risk by children's social care; neither asked what the other knew.",
                ["multi-agency working in longer-term work"],
                "Demo: records of both services; joint practitioner session.",
                ("family-safeguarding", "family-drug-and-alcohol-court"),
                (
                    (
                        "Co-locate a substance misuse worker with the safeguarding teams (demo)",
                        "Director of children's services (demo)",
                        date(2024, 6, 30),
                        "in progress",
                    ),
                ),
            ),
            (
                "Optimism about the parents' engagement (demo)",
                "Practitioners read missed appointments as a bad week rather than a pattern: "
                "a start-again syndrome that kept the case at the same level.",
                [
                    "human reasoning: cognitive and emotional biases",
                    "family-professional interaction",
                ],
                "Demo: supervision notes.",
                (),
                (
                    (
                        "Use reflective group supervision on long-running neglect cases (demo)",
                        "Principal social worker (demo)",
                        date(2024, 3, 31),
                        "done",
                    ),
                ),
            ),
        ),
    ),
    (
        "demo:review:westford-2024",
        "Young person W (demo)",
        "rapid review",
        "Westford (demo)",
        "South East",
        date(2024, 11, 5),
        "Demo: a young person leaving residential care lost contact with every adult who "
        "knew them within months.",
        (
            (
                "Leaving care ended relationships (demo)",
                "When the placement ended, so did the key relationships: the system moves "
                "care leavers on at 18 with no one who knew them.",
                ["family-professional interaction", "management systems"],
                "Demo: pathway plan; interviews with staff.",
                ("staying-close", "lifelong-links"),
                (
                    (
                        "Offer Staying Close to young people leaving residential care (demo)",
                        "Leaving care manager (demo)",
                        date(2025, 9, 1),
                        "planned",
                    ),
                ),
            ),
        ),
    ),
)

#: (slug, name, theme, intervention, description, events, questions and answers).
DEMO_COMMUNITIES: tuple[tuple[Any, ...], ...] = (
    (
        "pause-practice-network-demo",
        "Pause practice network (demo)",
        "Repeat removals: working with women after care proceedings",
        "pause",
        "Demo: a community for places running Pause or thinking about it.",
        (
            (
                "open day",
                "Open day at a Pause practice (demo)",
                date(2026, 3, 12),
                "Northtown (demo)",
                "Northtown Council (demo)",
            ),
            (
                "action learning set",
                "Action learning set: engaging women after removal (demo)",
                date(2026, 5, 7),
                "Online",
                "Pause practice network (demo)",
            ),
        ),
        (
            (
                "How did you get midwifery to refer women before the next pregnancy? (demo)",
                "We are setting up a service for women who have had children removed.",
                "Demo answer: we agreed a flag with the maternity unit so that a booking by a "
                "woman with earlier proceedings is discussed with the practice lead.",
            ),
        ),
    ),
    (
        "family-group-conferencing-network-demo",
        "Family group conferencing network (demo)",
        "Family-led decision making before care proceedings",
        "family-group-conferencing-at-pre-proceedings",
        "Demo: coordinators and managers sharing how they run family group conferences.",
        (
            (
                "site visit",
                "Site visit to a family group conference service (demo)",
                date(2026, 4, 22),
                "Southby (demo)",
                "Southby Council (demo)",
            ),
        ),
        (
            (
                "How do coordinators stay independent of the social work team? (demo)",
                "",
                "Demo answer: our coordinators sit in a separate service with their own "
                "manager and never hold case responsibility.",
            ),
        ),
    ),
)


def _seed_reviews(session: Session) -> int:
    added = 0
    known = set(session.scalars(select(Intervention.id)))
    for key, title, kind, place, region_name, on, summary, findings in DEMO_REVIEWS:
        if session.scalar(select(PracticeReview.id).where(PracticeReview.seed_key == key)):
            continue
        review = reviews.create_review(
            session,
            DEMO_ACTOR,
            title,
            kind=kind,
            reviewed_on=on,
            place=place,
            region_name=region_name,
            organisation=f"{place.removesuffix(' (demo)')} Safeguarding Partnership (demo)",
            summary=summary,
            source=DEMO_NOTE,
            is_demo=True,
            seed_key=key,
        )
        for f_title, pattern, parts, evidence, linked, actions in findings:
            finding = reviews.add_finding(
                session,
                DEMO_ACTOR,
                review.id,
                title=f_title,
                pattern=pattern,
                system_parts=parts,
                evidence=evidence,
                intervention_ids=tuple(s for s in linked if s in known),
            )
            for what, owner, due, status in actions:
                reviews.add_action(
                    session,
                    DEMO_ACTOR,
                    finding.id,
                    description=what,
                    owner=owner,
                    due_on=due,
                    status=status,
                )
        added += 1
    return added


def _seed_communities(session: Session) -> int:
    added = 0
    known = set(session.scalars(select(Intervention.id)))
    for slug, name, theme, linked, description, events, questions in DEMO_COMMUNITIES:
        if session.scalar(select(Community.id).where(Community.slug == slug)):
            continue
        communities.create_community(
            session,
            DEMO_ACTOR,
            name,
            slug=slug,
            theme=theme,
            intervention_id=linked if linked in known else None,
            description=description,
            is_demo=True,
        )
        for kind, title, on, place, host in events:
            communities.add_event(
                session,
                DEMO_ACTOR,
                slug,
                kind=kind,
                title=title,
                held_on=on,
                place=place,
                host=host,
                is_demo=True,
            )
        for title, body, reply in questions:
            question = communities.ask(session, DEMO_ACTOR, slug, title, body, is_demo=True)
            communities.answer(
                session, DEMO_ACTOR, question.id, reply, organisation="Demo site", is_demo=True
            )
        added += 1
    return added


def seed_demo(session: Session) -> dict[str, int]:
    """Add the demo practice reviews and communities that are missing; returns how many
    of each were added."""
    return {"practice reviews": _seed_reviews(session), "communities": _seed_communities(session)}
