"""What "ask a question" searches: one document per intervention, project, study, study
result (null and negative ones included), recommendation, lesson from a stopped or failed
evaluation, practice-review finding, community answer and community.

Documents are gathered through the evidence hub's functions (not its tables), as the
architecture asks, and carry named fields so a result can say in which field it matched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from whatworks.evidence import hub, projects, studies, tracker
from whatworks.evidence.interventions import list_interventions
from whatworks.spread import communities, reviews

KIND_LABELS = {
    "intervention": "Intervention",
    "project": "Project",
    "study": "Study",
    "result": "Study result",
    "recommendation": "Recommendation",
    "lesson": "Lesson",
    "finding": "Practice review finding",
    "answer": "Community answer",
    "community": "Community of practice",
}
#: How a result's direction reads, so "did not work" finds a null result.
DIRECTION_WORDS = {
    "positive": "positive result: improved",
    "null": "null result: no significant difference, no effect found",
    "negative": "negative result: worse, harmful",
    "mixed": "mixed result",
}


@dataclass(frozen=True)
class Document:
    """One searchable item: its kind, a stable key, title, address and named fields."""

    kind: str
    key: str  # stable across stores: kind and a slug or title, never a row number
    ref: str  # the item's own id: a slug or a row number
    title: str
    url: str
    fields: tuple[tuple[str, str], ...]  # (field name, text)
    intervention_id: str | None = None
    is_demo: bool = False

    @property
    def body(self) -> str:
        """Every field but the title, one per line."""
        return "\n".join(text for _, text in self.fields if text)

    @property
    def text(self) -> str:
        """Title and body, for the embedding model."""
        return f"{self.title}. {self.body}"


def _fields(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple((name, text.strip()) for name, text in pairs if text and text.strip())


def _interventions(session: Session, names: dict[str, str]) -> list[Document]:
    found = []
    for i in list_interventions(session, ""):
        names[i.id] = i.name
        found.append(
            Document(
                "intervention",
                f"intervention:{i.id}",
                i.id,
                i.name,
                f"/evidence/interventions/{i.id}",
                _fields(
                    ("description", i.description),
                    ("core components", i.core_components),
                    ("for whom", i.target_population),
                    ("outcome domains", ", ".join(i.outcome_domains)),
                    ("adopters", i.adopters),
                    ("evaluator", i.evaluator),
                    ("owner", i.owner),
                ),
                i.id,
                i.is_demo,
            )
        )
    return found


def _recommendations(session: Session, names: dict[str, str]) -> list[Document]:
    found = []
    for slug, name in names.items():
        for outcome in hub.assess(session, slug).outcomes:
            rec = outcome.recommendation
            found.append(
                Document(
                    "recommendation",
                    f"recommendation:{slug}:{outcome.outcome}",
                    f"{slug}/{outcome.outcome}",
                    rec.statement(name),
                    f"/evidence/interventions/{slug}",
                    _fields(
                        ("intervention", name),
                        ("outcome", outcome.outcome),
                        ("evidence level", outcome.level.explanation),
                        ("why", " ".join(rec.reasons)),
                    ),
                    slug,
                    bool(outcome.demo_studies),
                )
            )
    return found


def _projects(session: Session, names: dict[str, str]) -> list[Document]:
    return [
        Document(
            "project",
            f"project:{p.title}",
            str(p.id),
            p.title,
            f"/evidence/projects/{p.id}",
            _fields(
                ("place", p.place),
                ("intervention", names.get(p.intervention_id or "", "")),
                ("vision", p.vision),
                ("lessons", p.lessons),
                ("status", p.status),
            ),
            p.intervention_id,
            p.is_demo,
        )
        for p in projects.list_projects(session)
    ]


def _studies(session: Session, names: dict[str, str]) -> list[Document]:
    found = []
    for s in studies.list_studies(session):
        name = names.get(s.intervention_id or "", "")
        found.append(
            Document(
                "study",
                f"study:{s.title}",
                str(s.id),
                s.title,
                f"/evidence/studies/{s.id}",
                _fields(
                    ("intervention", name),
                    ("publisher", s.publisher),
                    ("design", s.design),
                    ("sample", s.sample_reported),
                    ("cost or savings", s.cost_or_savings),
                    ("caveats", s.caveats),
                ),
                s.intervention_id,
                s.is_demo,
            )
        )
        for r in s.results:
            found.append(
                Document(
                    "result",
                    f"result:{s.title}:{r.outcome}",
                    str(r.id),
                    f"{r.outcome}: {s.title}",
                    f"/evidence/studies/{s.id}#results",
                    _fields(
                        ("intervention", name),
                        ("outcome", r.outcome),
                        ("direction", DIRECTION_WORDS.get(r.direction or "", r.direction)),
                        ("measure", r.measure_text),
                        ("result as reported", r.reported),
                        ("effect as reported", r.effect_reported),
                        ("caveats", r.caveats),
                    ),
                    s.intervention_id,
                    s.is_demo,
                )
            )
    return found


def _lessons(session: Session) -> list[Document]:
    found = []
    for e in tracker.failure_library(session):
        if e.kind == "result" and not e.lessons:
            continue  # the result itself is a document already
        url = (
            f"/evidence/registrations/{e.registration_id}"
            if e.registration_id is not None
            else f"/evidence/studies/{e.study_id}"
        )
        found.append(
            Document(
                "lesson",
                f"lesson:{e.title}:{e.outcome}",
                str(e.registration_id if e.registration_id is not None else e.study_id),
                f"Lesson: {e.title}",
                url,
                _fields(
                    ("intervention", e.intervention),
                    ("outcome", e.outcome),
                    ("what happened", e.reported),
                    ("lessons", " ".join(e.lessons)),
                ),
                e.intervention_id,
                e.is_demo,
            )
        )
    return found


def _findings(session: Session, names: dict[str, str]) -> list[Document]:
    found = []
    for review in reviews.list_reviews(session):
        for f in review.findings:
            linked = reviews.linked_interventions(session, f.id)
            found.append(
                Document(
                    "finding",
                    f"finding:{f.title}",
                    str(f.id),
                    f.title,
                    f"/spread/reviews/{review.id}#finding-{f.id}",
                    _fields(
                        ("pattern", f.pattern),
                        ("parts of the system", "; ".join(f.system_parts)),
                        ("evidence", f.evidence),
                        ("review", f"{review.title}, {review.place}, {review.reviewed_on.year}"),
                        ("linked interventions", ", ".join(names.get(s, s) for s in linked)),
                    ),
                    linked[0] if linked else None,
                    review.is_demo,
                )
            )
    return found


def _community_knowledge(session: Session, names: dict[str, str]) -> list[Document]:
    found = []
    for c in communities.list_communities(session):
        found.append(
            Document(
                "community",
                f"community:{c.slug}",
                c.slug,
                c.name,
                f"/spread/communities/{c.slug}",
                _fields(
                    ("theme", c.theme),
                    ("description", c.description),
                    ("intervention", names.get(c.intervention_id or "", "")),
                ),
                c.intervention_id,
                c.is_demo,
            )
        )
    for a in communities.answered_questions(session):
        found.append(
            Document(
                "answer",
                f"answer:{a.title}",
                str(a.answer_id),
                a.title,
                f"/spread/communities/{a.community_slug}#question-{a.question_id}",
                _fields(
                    ("question", a.question),
                    ("answer", a.answer),
                    ("community", a.community),
                    ("answered by", a.organisation),
                ),
                None,
                a.is_demo,
            )
        )
    return found


def documents(session: Session) -> list[Document]:
    """Every searchable item in the store, in a stable order."""
    names: dict[str, str] = {}
    found = _interventions(session, names)
    found += _recommendations(session, names)
    found += _projects(session, names)
    found += _studies(session, names)
    found += _lessons(session)
    found += _findings(session, names)
    found += _community_knowledge(session, names)
    return found
