"""Seed the evidence hub with the bundled published evidence (data/evidence/*.csv) and the
case studies of the brief's source article; and, for the demo only, clearly labelled
demo projects, registrations and studies.

Only facts the files state are stored, each with its source and confidence; whatever the
files do not state (risk of bias, independence, follow-up) is left as not assessed. How
rows become studies, and the Maryland levels, are set out in data/evidence/README.md.
Running either function again adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.core.auth import get_or_create_organisation
from whatworks.evidence import demo_seed, projects, registrations, studies
from whatworks.evidence.interventions import create_intervention, slugify
from whatworks.evidence.models import Intervention, Project, Study, StudyResult
from whatworks.evidence.registrations import Checkpoint, EvaluationPlan, OutcomeMeasure

SEED_ACTOR = Actor("whatworks seed")
DEMO_ACTOR = Actor("demo")
#: The brief's source article with the case studies (SCIE and Innovation Unit, 2017).
FUTURE_OF_CARE = (
    "SCIE and Innovation Unit (2017) 'Future of care: Improving outcomes for children and "
    "young people by spreading innovation', Future of care No 5, October 2017 (brief seed "
    "003_06d12301e8a5ccab.txt)"
)
INNOVATION_PROGRAMME = "DfE Children's Social Care Innovation Programme"


def evidence_dir() -> Path:
    """Folder of the bundled evidence files."""
    return Path(str(files("whatworks.data").joinpath("evidence")))


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a bundled CSV file, values stripped."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def maryland_level(design: str) -> int:
    """The Maryland level the seed gives a design as reported (data/evidence/README.md)."""
    text = design.strip().casefold()
    if text.startswith("rct"):
        return 5
    if text.startswith("qed"):
        return 3
    if text.startswith(("pre-post", "mixed methods incl. comparison", "synthesis")):
        return 2
    return 1


_PEOPLE = r"(?:families|children|young people|women|parents|adolescents|students|" + (
    r"pregnant teenagers|cases|randomised)"
)


def participants(sample: str) -> int | None:
    """The count of people a sample text starts with ("684 families randomised"), if any."""
    found = re.match(rf"^~?([\d,]+)(?:\s+{_PEOPLE}\b|$)", sample.strip())
    return int(found.group(1).replace(",", "")) if found else None


def first_year(text: str) -> int | None:
    """The year a year text starts with ("2023 (report); 2024 (BJSW)" -> 2023)."""
    found = re.match(r"^((?:19|20)\d\d)\b", text.strip())
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class ParsedEffect:
    """An estimate with its 95% interval read from a published effect text."""

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    note: str


_NUMBER = r"([+-]?\d+(?:\.\d+)?)"


def published_interval(text: str) -> ParsedEffect | None:
    """An odds ratio, relative difference or mean difference with its 95% CI, if the
    effect text states one (data/evidence/README.md lists the forms)."""
    found = re.match(rf"^OR {_NUMBER} \(95% CI {_NUMBER}-{_NUMBER}\)", text)
    if found:
        est, low, high = (float(g) for g in found.groups())
        return ParsedEffect("OR", est, low, high, "odds ratio and 95% CI as published")
    found = re.match(rf"^{_NUMBER}% relative difference.*\(95% CI {_NUMBER}% to {_NUMBER}%\)", text)
    if found:
        est, low, high = (1 + float(g) / 100 for g in found.groups())
        return ParsedEffect(
            "RR",
            round(est, 6),
            round(low, 6),
            round(high, 6),
            "rate ratio read from the published relative difference and its 95% CI",
        )
    found = re.search(rf"mean difference {_NUMBER}.*\(95% CI {_NUMBER} to {_NUMBER}\)", text)
    if found:
        est, low, high = (float(g) for g in found.groups())
        return ParsedEffect("MD", est, low, high, "mean difference and 95% CI as published")
    return None


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


def _join_unique(values: list[str], sep: str = " ; ") -> str:
    seen: dict[str, None] = {}
    for value in values:
        for part in value.split(" ; "):
            if part.strip():
                seen[part.strip()] = None
    return sep.join(seen)


def seed_interventions(session: Session) -> int:
    """Add the bundled interventions that are not stored yet; returns how many."""
    added = 0
    for row in read_rows(evidence_dir() / "interventions.csv"):
        slug = slugify(row["intervention"])
        if session.get(Intervention, slug) is not None:
            continue
        create_intervention(
            session,
            SEED_ACTOR,
            row["intervention"],
            slug=slug,
            description=row["description"],
            evaluator=row["evaluator"],
            adopters=row["adopters_with_years"],
            source=row["source"],
        )
        added += 1
    return added


def seed_studies(session: Session) -> tuple[int, int]:
    """Add the bundled studies and results not stored yet; returns (studies, results)."""
    groups: dict[tuple[str, str, int], list[dict[str, str]]] = {}
    for row in read_rows(evidence_dir() / "studies.csv"):
        key = (slugify(row["intervention"]), row["study_title"], maryland_level(row["design"]))
        groups.setdefault(key, []).append(row)
    added_studies = added_results = 0
    for (slug, title, level), rows in groups.items():
        seed_key = f"studies.csv:{slug}:{_key(title, str(level))}"
        study = session.scalar(select(Study).where(Study.seed_key == seed_key))
        if study is None:
            first = rows[0]
            study = studies.add_study(
                session,
                SEED_ACTOR,
                seed_key=seed_key,
                intervention_id=slug,
                title=title,
                publisher=first["publisher_or_journal"],
                year=first_year(first["year"]),
                year_reported=first["year"],
                design=first["design"],
                maryland_level=level,
                sample_size=participants(first["sample_size"]),
                sample_reported=first["sample_size"],
                source=_join_unique([r["source_url_or_title"] for r in rows]),
                confidence="medium" if any(r["confidence"] == "medium" for r in rows) else "high",
                cost_or_savings=_join_unique([r["cost_or_savings_if_reported"] for r in rows]),
            )
            added_studies += 1
        have = {r.outcome for r in study.results}
        for row in rows:
            if row["outcome"] in have:
                continue
            _seed_result(session, study, row)
            added_results += 1
        session.expire(study, ["results"])
    return added_studies, added_results


def _seed_result(session: Session, study: Study, row: dict[str, str]) -> StudyResult:
    effect = published_interval(row["effect_size_if_reported"])
    outcome = row["outcome"]
    caveats = row["caveats"]
    if row["design"] != study.design:
        caveats = f"Design as reported for this outcome: {row['design']}. {caveats}".strip()
    result = studies.add_result(
        session,
        SEED_ACTOR,
        study.id,
        outcome=outcome,
        direction=row["direction"] or None,
        is_primary="primary" in outcome.casefold() and not outcome.startswith("Secondary"),
        measure_text=row["measure"],
        metric=effect.metric if effect else None,
        inputs=(
            {"estimate": effect.estimate, "ci_low": effect.ci_low, "ci_high": effect.ci_high}
            if effect
            else None
        ),
        reported=row["result_as_reported"],
        effect_reported=row["effect_size_if_reported"],
        source=row["source_url_or_title"],
        confidence=row["confidence"] or None,
        caveats=caveats,
    )
    if effect is not None:
        result.conversion = f"{effect.note}; {result.conversion}"
        session.flush()
    return result


#: Innovations named in the brief that the CSV files lack, with only what the article says.
CASE_INTERVENTIONS: tuple[dict[str, Any], ...] = (
    {
        "slug": "west-berkshire-restorative-practice",
        "name": "Restorative practice (West Berkshire Council)",
        "description": (
            "Restorative practice and a focus on relationship-based practice underpinning work "
            "with communities in West Berkshire, across both adults' and children's services. "
            "Using the Social Discipline Window, teams discussed how to move from 'doing to' and "
            "'doing for' to 'doing with', and how to use skilled conversations to engage "
            "families and communities."
        ),
        "core_components": (
            "The Communities Directorate's four commitments: 'We will work with, not \"do to\" "
            "or \"do for\"'; 'We will see people as a collection of strengths and assets, not "
            "as problems and issues'; 'We will be interested in people's lives, not in our "
            'services\'; \'We will stop saying "no" and learn to say "yes" differently\'.'
        ),
        "owner": "West Berkshire District Council",
        "adopters": (
            "West Berkshire (adults' and children's services); adopted by the Council's "
            "corporate centre, which established a Building Communities Together team"
        ),
    },
    {
        "slug": "emotional-health-academy",
        "name": "Emotional Health Academy (West Berkshire)",
        "description": (
            "Set up in West Berkshire's children's services with a restorative practice "
            "approach to develop the Future in Mind recommendations: recruitment of new staff "
            "with a psychology background who were not pursuing a clinical pathway, and "
            "'doing with' conversations with children and families about their experiences "
            "and how they wanted emotional and mental health support delivered. Where "
            "children said they did not feel safe talking to people in their school, services "
            "were set up in the community."
        ),
        "core_components": (
            "Staff with a psychology background not on a clinical pathway; 'doing with' "
            "conversations with children and families about how support is delivered"
        ),
        "target_population": (
            "Children and young people needing emotional and mental health support"
        ),
        "owner": "West Berkshire District Council",
        "adopters": "West Berkshire",
    },
    {
        "slug": "birmingham-pause-drop-in",
        "name": "Pause drop-in service, Birmingham (The Children's Society)",
        "description": (
            "A drop-in emotional wellbeing and mental health service in Birmingham City "
            "Centre, commissioned as part of an integrated mental health service for children "
            "and young people up to 25 years old (which also offers a 24-hour telephone access "
            "service, and tier 3 and 4 CAMHS). Staffed by therapists, youth workers and nurses "
            "with a large group of regular volunteers; open 10 am to 6 pm, seven days a week, "
            "to talk to someone in an open area or a private room. Not the Pause programme "
            "for women who have had children removed: young people chose the name."
        ),
        "core_components": "Same day access without appointment",
        "target_population": (
            "Young people, parents with young children, or those worried about their son or "
            "daughter; the integrated service covers children and young people up to 25"
        ),
        "owner": "The Children's Society",
        "adopters": "Birmingham",
    },
    {
        "slug": "doncaster-childrens-services-trust",
        "name": "Doncaster Children's Services Trust (independent children's services trust)",
        "description": (
            "An independent organisation set up to deliver social care and support services "
            "to children, young people and families in Doncaster, following a history of "
            "service failures within the local authority. It received Innovation Programme "
            "funding for projects to tackle child sexual exploitation and the impact of "
            "domestic violence, and to introduce the Mockingbird fostering model and the Pause "
            "model for mothers in repeat care proceedings. The evaluation of the Trust was "
            "published in July 2017."
        ),
        "owner": "Doncaster Children's Services Trust",
        "adopters": "Doncaster",
    },
)

#: Case studies from the article as results: the article's words, no design stated.
CASE_STUDIES: tuple[dict[str, str], ...] = (
    {
        "slug": "emotional-health-academy",
        "title": "West Berkshire District Council: Innovation through restorative practices "
        "(case study)",
        "outcome": "Tier 3 CAMHS waiting list",
        "direction": "positive",
        "reported": (
            "The outcomes of this work included a 43 per cent reduction in the tier 3 child and "
            "adolescent mental health service (CAMHS) waiting list, and resolution of a number "
            "of practical issues such as housing and family income that were worrying children "
            "and young people"
        ),
    },
    {
        "slug": "birmingham-pause-drop-in",
        "title": "Improving access to mental health services: The Children's Society "
        "Birmingham Pause Service (case study)",
        "outcome": "Service use and capacity in the first year",
        "direction": "inconclusive",
        "reported": (
            "In the first year of operation the service has seen 7,500 walk-ins, comprising "
            "3,500 individual visits. This had doubled the capacity of the overall CAMHS "
            "service at five per cent of the cost."
        ),
    },
)

CASE_CAVEAT = (
    "A case study in a briefing: no design, comparison or measurement method is stated, so "
    "it is rated at Maryland level 1. Service-use figures are not an impact estimate."
)


def seed_case_studies(session: Session) -> dict[str, int]:
    """Add the article's innovations, case-study results and projects not stored yet."""
    added = {"interventions": 0, "studies": 0, "projects": 0}
    for item in CASE_INTERVENTIONS:
        if session.get(Intervention, item["slug"]) is None:
            fields = {k: v for k, v in item.items() if k not in ("slug", "name")}
            create_intervention(
                session,
                SEED_ACTOR,
                item["name"],
                slug=item["slug"],
                source=FUTURE_OF_CARE,
                **fields,
            )
            added["interventions"] += 1
    for case in CASE_STUDIES:
        seed_key = f"future-of-care:{case['slug']}"
        if session.scalar(select(Study).where(Study.seed_key == seed_key)) is not None:
            continue
        study = studies.add_study(
            session,
            SEED_ACTOR,
            seed_key=seed_key,
            intervention_id=case["slug"],
            title=case["title"],
            publisher="SCIE and Innovation Unit",
            year=2017,
            year_reported="2017 (October)",
            design="case study (design not stated)",
            maryland_level=1,
            source=FUTURE_OF_CARE,
            confidence="medium",
            caveats=CASE_CAVEAT,
        )
        studies.add_result(
            session,
            SEED_ACTOR,
            study.id,
            outcome=case["outcome"],
            direction=case["direction"],
            reported=case["reported"],
            source=FUTURE_OF_CARE,
            confidence="medium",
        )
        added["studies"] += 1
    for spec in _case_projects():
        if session.scalar(select(Project).where(Project.seed_key == spec["seed_key"])) is None:
            organisation = get_or_create_organisation(session, *spec.pop("organisation"))
            projects.create_project(
                session, SEED_ACTOR, organisation_id=organisation.id, status=None, **spec
            )
            added["projects"] += 1
    return added


def _case_projects() -> list[dict[str, Any]]:
    doncaster = ("Doncaster Children's Services Trust", "partner", "E08000017")
    west_berkshire = ("West Berkshire Council", "council", "E06000037")
    return [
        {
            "seed_key": "future-of-care:doncaster-trust",
            "organisation": doncaster,
            "title": "Doncaster Children's Services Trust's innovation journey",
            "intervention_id": "doncaster-childrens-services-trust",
            "la_code": "E08000017",
            "funder": INNOVATION_PROGRAMME,
            "lessons": (
                "It took the Trust nearly three years of relationship building before partners "
                "began to believe that change was happening. Turning round the morale of an "
                "inherited workforce came first: senior managers increased their visibility and "
                "connection with staff; the turning point came when, after a serious incident, "
                "managers went to see the team to offer support, not to read the riot act. Staff "
                "morale changed, with 78 per cent of staff recently reporting they were happy at "
                "work and all team managers permanent; one young person had had the same social "
                "worker for two years, against seven the year before. Next: continuing to "
                "repair over ten years of difficult relationships with local partners."
            ),
            "source": FUTURE_OF_CARE,
        },
        {
            "seed_key": "future-of-care:doncaster-pause",
            "organisation": doncaster,
            "title": "Pause in Doncaster (Doncaster Children's Services Trust)",
            "intervention_id": "pause",
            "la_code": "E08000017",
            "funder": INNOVATION_PROGRAMME,
            "source": FUTURE_OF_CARE,
        },
        {
            "seed_key": "future-of-care:doncaster-mockingbird",
            "organisation": doncaster,
            "title": "Mockingbird in Doncaster (Doncaster Children's Services Trust)",
            "intervention_id": "mockingbird",
            "la_code": "E08000017",
            "funder": INNOVATION_PROGRAMME,
            "source": FUTURE_OF_CARE,
        },
        {
            "seed_key": "future-of-care:west-berkshire-eha",
            "organisation": west_berkshire,
            "title": "Emotional Health Academy, West Berkshire",
            "intervention_id": "emotional-health-academy",
            "la_code": "E06000037",
            "lessons": (
                "Listening and responding to children: where children did not feel safe "
                "sharing their concerns at school, community-based rather than school-based "
                "emotional wellbeing services were developed, where in the past a "
                "one-size-fits-all approach would have been taken."
            ),
            "source": FUTURE_OF_CARE,
        },
        {
            "seed_key": "future-of-care:birmingham-pause",
            "organisation": ("The Children's Society", "partner", None),
            "title": "Pause drop-in, Birmingham City Centre",
            "intervention_id": "birmingham-pause-drop-in",
            "la_code": "E08000025",
            "vision": (
                "Young people wanted a place that was a cross between an electrical store, where "
                "you can browse, pick up information, but only have to speak to a member of "
                "staff if you want to, and a coffee shop, where everyone can sit and chat "
                "informally."
            ),
            "lessons": (
                "Consultation with young people as experts by experience shaped the service. "
                "The service holds regular open days and supports an action learning set so "
                "that people from other NHS trusts, voluntary organisations and local "
                "authorities can learn from the approach."
            ),
            "source": FUTURE_OF_CARE,
        },
        {
            "seed_key": "interventions.csv:leeds-family-valued",
            "organisation": ("Leeds City Council", "council", "E08000035"),
            "title": "Family Valued, Leeds",
            "intervention_id": "family-valued",
            "la_code": "E08000035",
            "funder": INNOVATION_PROGRAMME,
            "funding_amount": "4850000",
            "source": (
                "interventions.csv (Family Valued: 'Leeds (DfE Innovation funding £4.85m from "
                "Jan 2015)'); https://innovationcsc.co.uk/projects/family-valued/"
            ),
        },
    ]


def seed(session: Session) -> dict[str, int]:
    """Load the bundled evidence and the article's case studies; adds only what is missing.

    Returns how many interventions, studies, results and projects were added.
    """
    interventions = seed_interventions(session)
    added_studies, added_results = seed_studies(session)
    cases = seed_case_studies(session)
    return {
        "interventions": interventions + cases["interventions"],
        "studies": added_studies + cases["studies"],
        "results": added_results + cases["studies"],
        "projects": cases["projects"],
    }


DEMO_INTERVENTION = "family-network-meetings-demo"
#: (title, year, maryland level, events in intervention group, group size, events in
#: comparison group, group size) for care entry within 12 months. Invented for the demo.
DEMO_TRIALS = (
    ("Family network meetings in Northtown (demo)", 2019, 5, 60, 400, 90, 400),
    ("Family network meetings in Southby (demo)", 2020, 5, 104, 620, 132, 610),
    ("Family network meetings in Eastham (demo)", 2021, 3, 18, 120, 21, 118),
    ("Family network meetings in Westford (demo)", 2022, 5, 41, 260, 43, 262),
    ("Family network meetings in Midshire (demo)", 2023, 5, 50, 300, 76, 298),
)


def seed_demo(session: Session) -> dict[str, int]:
    """For the demo only: a demo intervention with five demo trials, each trial's site (a
    demo project with rated conditions, `demo_seed`), a demo economic case and savings
    claim, and a demo council's project with registrations that are overdue, switched an
    outcome, or stopped. Every record is marked is_demo and labelled "(demo)"."""
    added = {"interventions": 0, "studies": 0, "projects": 0, "registrations": 0}
    if session.get(Intervention, DEMO_INTERVENTION) is None:
        create_intervention(
            session,
            DEMO_ACTOR,
            "Family network meetings (demo)",
            slug=DEMO_INTERVENTION,
            is_demo=True,
            description="Demo data: an invented intervention to show synthesis and plots.",
            unit_cost="750",
            cost_components=[
                {"item": "Coordinator time (demo)", "amount": 600},
                {"item": "Venue and travel (demo)", "amount": 150},
            ],
            cost_basis="Invented for the demo.",
            source="Demo data: not a real intervention.",
        )
        added["interventions"] += 1
    for title, year, level, ai, n1, ci, n2 in DEMO_TRIALS:
        seed_key = f"demo:{_key(title)}"
        if session.scalar(select(Study).where(Study.seed_key == seed_key)) is not None:
            continue
        study = studies.add_study(
            session,
            DEMO_ACTOR,
            is_demo=True,
            seed_key=seed_key,
            intervention_id=DEMO_INTERVENTION,
            title=title,
            publisher="Demo data",
            year=year,
            design="RCT (demo)" if level == 5 else "QED with comparison (demo)",
            maryland_level=level,
            risk_of_bias="low",
            independent=True,
            sample_size=n1 + n2,
            follow_up_months=12,
            source="Demo data: invented.",
            caveats="Demo data: invented to show the evidence hub; not a real study.",
        )
        effect, _ = studies.effect_from_inputs(
            "RR", {"ai": ai, "bi": n1 - ai, "ci": ci, "di": n2 - ci}
        )
        significant = effect.yi + studies.Z_95 * effect.se < 0
        studies.add_result(
            session,
            DEMO_ACTOR,
            study.id,
            outcome="Care entry within 12 months",
            direction="positive" if significant else "null",
            significant=significant,
            is_primary=True,
            metric="RR",
            inputs={"ai": ai, "bi": n1 - ai, "ci": ci, "di": n2 - ci},
            reported=f"{ai} of {n1} vs {ci} of {n2} children entered care (demo)",
        )
        added["studies"] += 1
    added["projects"], added["registrations"] = _seed_demo_registrations(session)
    added["projects"] += demo_seed.seed_sites(session, DEMO_ACTOR, DEMO_INTERVENTION)
    adoptions, reviews = demo_seed.seed_neighbour_adoptions(session, DEMO_ACTOR)
    added["projects"] += adoptions
    added["studies"] += reviews
    demo_seed.seed_economics(session, DEMO_ACTOR, DEMO_INTERVENTION)
    return added


def _seed_demo_registrations(session: Session) -> tuple[int, int]:
    key = "demo:barnet-family-network-meetings"
    if session.scalar(select(Project).where(Project.seed_key == key)) is not None:
        return 0, 0
    council = get_or_create_organisation(session, "Barnet Council (demo)", "council", "E09000003")
    project = projects.create_project(
        session,
        DEMO_ACTOR,
        "Family network meetings in Barnet (demo)",
        organisation_id=council.id,
        intervention_id=DEMO_INTERVENTION,
        la_code="E09000003",
        status="running",
        start_date=date(2022, 4, 1),
        funder="Demo Foundation (demo)",
        funding_amount="250000",
        vision="Demo: more children stay safely with their family network.",
        target_outcomes=["cla_started_rate_per_10000"],
        lessons="Demo: referrals were slow until social workers co-located with coordinators.",
        contacts=[{"name": "Sam Service Manager (demo)", "role": "Innovation lead"}],
        is_demo=True,
        seed_key=key,
    )
    for rated_on, ratings in (
        (date(2022, 6, 30), (4, 2, 3, 3, 2, 4)),
        (date(2023, 6, 30), (4, 3, 4, 4, 3, 5)),
    ):
        for condition, rating in zip(projects.CONDITIONS, ratings, strict=True):
            projects.rate_condition(
                session, DEMO_ACTOR, project.id, condition, rating, rated_on, "demo rating"
            )

    def plan(title: str, completion: date, outcome: str) -> EvaluationPlan:
        return EvaluationPlan(
            title=title,
            questions=("Do family network meetings reduce care entry? (demo)",),
            primary_outcomes=(OutcomeMeasure(outcome, "Council's own returns (demo)"),),
            secondary_outcomes=(OutcomeMeasure("Placement stability", "SSDA903 (demo)"),),
            design="Stepped-wedge cluster randomised trial (demo)",
            maryland_level=5,
            planned_sample=600,
            minimum_detectable_effect="5 percentage points (demo)",
            analysis_plan="Mixed-effects logistic regression (demo)",
            success_criteria="Care entry 5 points lower at 12 months (demo)",
            checkpoints=(
                Checkpoint(
                    completion.replace(year=completion.year - 1),
                    "Referral rate",
                    "Stop if fewer than 20 families are referred in six months (demo)",
                ),
            ),
            planned_completion=completion,
            planned_report=completion.replace(year=completion.year + 1),
        )

    registrations.register(
        session,
        DEMO_ACTOR,
        plan("Barnet family network meetings trial (demo)", date(2023, 3, 31), "Care entry"),
        project_id=project.id,
        is_demo=True,
        seed_key="demo:registration-overdue",
    )
    switched = registrations.register(
        session,
        DEMO_ACTOR,
        plan("Barnet family network meetings pilot (demo)", date(2022, 9, 30), "Care entry"),
        project_id=project.id,
        is_demo=True,
        seed_key="demo:registration-switched",
    )
    study = studies.add_study(
        session,
        DEMO_ACTOR,
        is_demo=True,
        registration_id=switched.registration_id,
        title="Barnet family network meetings pilot: results (demo)",
        publisher="Barnet Council (demo)",
        year=2023,
        reported_on=date(2023, 6, 30),
        design="Stepped-wedge cluster randomised trial (demo)",
        maryland_level=5,
        risk_of_bias="some concerns",
        independent=False,
        sample_size=420,
        source="Demo data: invented.",
        caveats="Demo data: reports a primary outcome that was not registered.",
    )
    studies.add_result(
        session,
        DEMO_ACTOR,
        study.id,
        outcome="Family satisfaction",
        direction="positive",
        is_primary=True,
        reported="Families rated meetings 4.2 of 5 (demo)",
    )
    studies.add_result(
        session,
        DEMO_ACTOR,
        study.id,
        outcome="Care entry",
        direction="null",
        reported="No difference in care entry (demo)",
    )
    stopped = registrations.register(
        session,
        DEMO_ACTOR,
        plan(
            "Barnet family network meetings for adolescents (demo)", date(2026, 3, 31), "Care entry"
        ),
        project_id=project.id,
        is_demo=True,
        seed_key="demo:registration-stopped",
    )
    registrations.review_checkpoint(
        session,
        DEMO_ACTOR,
        stopped.registration_id,
        date(2024, 9, 30),
        "stop",
        "Demo: only 9 families referred in six months; adolescents' networks were harder to "
        "convene. Stopped under the stop rule; the coordinators moved to the under-12s.",
    )
    return 1, 3
