"""Ask a question: one search box over interventions, projects, studies and their results
(null and negative ones included), recommendations, lessons, practice-review findings and
community answers, ranked by the database's full-text search, optionally re-ranked by a
sentence-embedding model, and each result saying why it matched.

- SQLite: an FTS5 table (porter stemming) in the connection's temporary schema, rebuilt
  from the source rows for every search, ranked by bm25.
- PostgreSQL: a temporary table of `english` tsvectors, rebuilt the same way, ranked by
  ts_rank weighted by each term's inverse document frequency (so rare words count more,
  as in bm25).

Why rebuild: spread reads the evidence hub through its functions, not its tables, so it
puts no triggers on them; the corpus is a few hundred documents and the rebuild takes
milliseconds, so results are always in step. The method, the synonyms and the measured
relevance are in docs/spread.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from whatworks.spread import semantic
from whatworks.spread.corpus import KIND_LABELS, Document, documents

#: How many full-text candidates the embedding model re-ranks.
CANDIDATES = 30
#: Share of the final score from the embedding model when it re-ranks.
SEMANTIC_WEIGHT = 0.5
#: Title matches count this many times a match in the rest of a document.
TITLE_WEIGHT = 4.0
#: A synonym counts this much of a word the person asked.
SYNONYM_WEIGHT = 0.5
START, STOP = "\x02", "\x03"
PG_START, PG_STOP = "[[", "]]"
#: ts_rank normalisation 32 (rank / (rank + 1)): each term's contribution saturates, as
#: in bm25. Chosen among ts_rank's options on the labelled questions (docs/spread.md).
PG_NORMALIZATION = 32

_STOPWORD_TEXT = """a about above after again against all am an and any anyone anything are as at be
    because been before being below between both but by can could did do does doing done
    down during each else ever few for from further get got had has have having he her
    here hers how i if in into is it its itself just let like may me might more most must
    my no nor not now of off on once only or other our ours out over own same shall she
    should so some such than that the their theirs them then there these they this those
    through to too under until up us very was way ways we were what when where which while
    who whom why will with would you your yours ours anybody somebody someone best good
    know tell find show help tried try trying use used using work works worked working
    something thing things evidence elsewhere place places council councils else"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

#: Words of the field and the words the evidence uses for the same thing. Written from
#: the sector's vocabulary (docs/spread.md), never from the labelled questions' answers.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "baby": ("infant", "newborn", "birth"),
    "babies": ("infant", "newborn", "birth"),
    "newborn": ("infant", "baby"),
    "mother": ("women", "mothers", "birth mothers"),
    "mothers": ("women", "mother"),
    "mum": ("mother", "women"),
    "mums": ("mothers", "women"),
    "removal": ("removals", "care proceedings", "removed"),
    "removals": ("removal", "care proceedings", "removed"),
    "removed": ("removal", "care proceedings"),
    "teenager": ("adolescents", "young people"),
    "teenagers": ("adolescents", "young people"),
    "teens": ("adolescents", "young people"),
    "adolescent": ("young people", "teenagers"),
    "kids": ("children",),
    "drug": ("substance misuse", "alcohol"),
    "drugs": ("substance misuse", "alcohol"),
    "alcohol": ("substance misuse", "drug"),
    "addiction": ("substance misuse", "drug", "alcohol"),
    "substance": ("drug", "alcohol"),
    "domestic": ("domestic abuse", "domestic violence"),
    "violence": ("abuse",),
    "abuse": ("violence", "maltreatment"),
    "foster": ("fostering", "foster carers", "foster care"),
    "fostering": ("foster", "foster carers"),
    "carers": ("foster carers",),
    "relatives": ("family network", "kinship", "extended family"),
    "grandparents": ("kinship", "relatives", "family network"),
    "kinship": ("relatives", "family network"),
    "leaving": ("care leavers", "leaving care"),
    "leavers": ("leaving care",),
    "exploitation": ("cse", "exploited", "sexual exploitation"),
    "gangs": ("exploitation", "offending"),
    "crime": ("offending", "antisocial"),
    "offending": ("crime", "antisocial", "youth justice"),
    "antisocial": ("offending", "behaviour"),
    "mental": ("mental health", "emotional wellbeing", "wellbeing"),
    "wellbeing": ("well-being", "mental health"),
    "school": ("schools", "education"),
    "schools": ("school", "education"),
    "staff": ("workforce", "social workers"),
    "turnover": ("retention", "workforce", "agency staff"),
    "retention": ("turnover", "workforce"),
    "retain": ("retention", "turnover"),
    "burnout": ("wellbeing", "stress"),
    "morale": ("wellbeing", "staff"),
    "cost": ("costs", "savings", "cost-effective"),
    "costs": ("cost", "savings"),
    "money": ("cost", "savings", "budget"),
    "save": ("savings", "cost"),
    "savings": ("cost", "saves"),
    "budget": ("budgets", "funding"),
    "failed": ("null", "negative", "no effect", "not effective"),
    "fail": ("null", "negative", "no effect", "not effective"),
    "failure": ("null", "negative", "stopped"),
    "stopped": ("stop", "discontinued"),
    "residential": ("children's homes", "residential care"),
    "homes": ("residential",),
    "court": ("proceedings", "family court"),
    "proceedings": ("court", "care proceedings"),
    "protection": ("safeguarding", "section 47"),
    "safeguarding": ("child protection",),
    "neglect": ("maltreatment",),
    "pregnancy": ("pregnancies", "pregnant"),
    "pregnancies": ("pregnancy", "pregnant"),
    "pregnant": ("pregnancy", "pregnancies"),
    "parenting": ("parents", "parenting programme"),
    "families": ("family",),
    "entering": ("entry", "entries"),
    "entry": ("entering", "entries"),
    "reunification": ("return home", "returning home"),
    "review": ("practice review", "case review"),
    "reviews": ("practice review", "case review"),
    "agencies": ("multi-agency", "partners"),
    "silos": ("multi-agency",),
    "partners": ("multi-agency", "agencies"),
    "talk": ("contact", "community"),
    "contact": ("contacts",),
}

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


@dataclass(frozen=True)
class Term:
    """A word or phrase searched for, and whether the person asked it or it is a synonym."""

    text: str
    asked: bool

    @property
    def words(self) -> list[str]:
        return [w for w in re.split(r"[^a-z0-9]+", self.text) if w]


def terms_of(question: str) -> list[Term]:
    """The words of a question that carry meaning, then their synonyms (each once)."""
    asked = [w.strip("'-") for w in _WORD.findall(question.lower())]
    asked = [w for w in asked if w and w not in STOPWORDS and len(w) > 1]
    found = {w: Term(w, True) for w in asked}
    for word in asked:
        for synonym in SYNONYMS.get(word, ()):
            found.setdefault(synonym, Term(synonym, False))
    return list(found.values())


@dataclass(frozen=True)
class Hit:
    """One result: what it is, where it is, its score and why it matched."""

    document: Document
    score: float
    text_score: float
    semantic_score: float | None
    matched: tuple[str, ...]  # the words of the document that matched
    fields: tuple[tuple[str, tuple[str, ...]], ...]  # (field, words matched in it)
    snippet: str  # with START and STOP around each matched word

    @property
    def kind(self) -> str:
        return self.document.kind

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.document.kind]

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def url(self) -> str:
        return self.document.url

    @property
    def why_text(self) -> str:
        """Why it matched, in words: "matched removals, mothers in description"."""
        parts = [f"{', '.join(words)} in {name}" for name, words in self.fields]
        text_part = "matched " + "; ".join(parts) if parts else "no words matched"
        if self.semantic_score is not None:
            text_part += f"; meaning similarity {self.semantic_score:.2f}"
        return text_part

    @property
    def snippet_parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, matched) pieces, for a page to mark up safely."""
        pieces: list[tuple[str, bool]] = []
        for n, piece in enumerate(re.split(f"[{START}{STOP}]", self.snippet)):
            if piece:
                pieces.append((piece, n % 2 == 1))
        return pieces

    def as_dict(self) -> dict[str, Any]:
        d = self.document
        return {
            "kind": d.kind,
            "id": d.ref,
            "title": d.title,
            "url": d.url,
            "score": round(self.score, 4),
            "is_demo": d.is_demo,
            "intervention_id": d.intervention_id,
            "why": {
                "matched_terms": list(self.matched),
                "fields": [{"field": f, "terms": list(w)} for f, w in self.fields],
                "snippet": self.snippet.replace(START, "[").replace(STOP, "]"),
                "text_score": round(self.text_score, 4),
                "semantic_score": (
                    round(self.semantic_score, 4) if self.semantic_score is not None else None
                ),
                "summary": self.why_text,
            },
        }


@dataclass(frozen=True)
class Answer:
    """The results of one question, with the terms searched and how they were ranked."""

    question: str
    terms: tuple[Term, ...]
    hits: tuple[Hit, ...]
    engine: str
    reranked: bool
    searched: int = 0  # how many documents were searched
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "terms": [t.text for t in self.terms if t.asked],
            "synonyms": [t.text for t in self.terms if not t.asked],
            "engine": self.engine,
            "reranked": self.reranked,
            "searched": self.searched,
            "results": [h.as_dict() for h in self.hits],
        }


# ---------------------------------------------------------------------------------------
# the engines: each returns (position, score, title marked, body snippet, body marked)

Ranked = tuple[int, float, str, str, str]


def _fts5_query(terms: list[Term]) -> str:
    quoted = ['"' + " ".join(t.words) + '"' for t in terms if t.words]
    return " OR ".join(quoted)


def _sqlite(session: Session, docs: list[Document], terms: list[Term], k: int) -> list[Ranked]:
    connection = session.connection()
    connection.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.spread_fts USING fts5("
        "title, body, tokenize = 'porter unicode61')"
    )
    connection.exec_driver_sql("DELETE FROM temp.spread_fts")
    connection.exec_driver_sql(
        "INSERT INTO temp.spread_fts (rowid, title, body) VALUES (?, ?, ?)",
        [(n, d.title, d.body) for n, d in enumerate(docs)],
    )

    def scores(chosen: list[Term]) -> dict[int, float]:
        if not chosen:
            return {}
        rows = connection.execute(
            text(
                "SELECT rowid, -bm25(spread_fts, :tw, 1.0) FROM temp.spread_fts "
                "WHERE spread_fts MATCH :q"
            ),
            {"q": _fts5_query(chosen), "tw": TITLE_WEIGHT},
        )
        return {int(pos): float(score) for pos, score in rows}

    combined = scores([t for t in terms if t.asked])
    for pos, score in scores([t for t in terms if not t.asked]).items():
        combined[pos] = combined.get(pos, 0.0) + SYNONYM_WEIGHT * score
    top = sorted(combined.items(), key=lambda item: (-item[1], item[0]))[:k]
    if not top:
        return []
    marks = connection.execute(
        text(
            "SELECT rowid, highlight(spread_fts, 0, :a, :b), "
            "snippet(spread_fts, 1, :a, :b, ' … ', 28), highlight(spread_fts, 1, :a, :b) "
            f"FROM temp.spread_fts WHERE spread_fts MATCH :q AND rowid IN "
            f"({', '.join(str(pos) for pos, _ in top)})"
        ),
        {"q": _fts5_query(terms), "a": START, "b": STOP},
    )
    marked = {int(row[0]): (row[1], row[2], row[3]) for row in marks}
    return [(pos, score, *marked.get(pos, ("", "", ""))) for pos, score in top]


def _tsquery(term: Term) -> str:
    return " <-> ".join(term.words)


def _postgres(session: Session, docs: list[Document], terms: list[Term], k: int) -> list[Ranked]:
    connection = session.connection()
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS spread_search_doc "
        "(pos integer PRIMARY KEY, title text, body text, vec tsvector)"
    )
    connection.exec_driver_sql("TRUNCATE spread_search_doc")
    connection.execute(
        text(
            "INSERT INTO spread_search_doc (pos, title, body, vec) VALUES (:pos, :title, :body, "
            "setweight(to_tsvector('english', :title), 'A') || "
            "setweight(to_tsvector('english', :body), 'D'))"
        ),
        [{"pos": n, "title": d.title, "body": d.body} for n, d in enumerate(docs)],
    )
    chosen = [
        {"term": t.text, "tq": _tsquery(t), "weight": 1.0 if t.asked else SYNONYM_WEIGHT}
        for t in terms
        if t.words
    ]
    weights = "{%s, %s, %s, 1.0}" % ((1 / TITLE_WEIGHT,) * 3)
    rows = connection.execute(
        text(
            """
            WITH q AS (
                SELECT t.term, t.weight, to_tsquery('english', t.tq) AS tq
                FROM jsonb_to_recordset(CAST(:terms AS jsonb))
                    AS t(term text, tq text, weight float)
            ), n AS (SELECT count(*)::float AS n FROM spread_search_doc),
            df AS (
                SELECT q.term, count(d.pos)::float AS df
                FROM q JOIN spread_search_doc d ON d.vec @@ q.tq GROUP BY q.term
            )
            SELECT d.pos, sum(
                q.weight * ln(1 + (n.n - df.df + 0.5) / (df.df + 0.5))
                * ts_rank(CAST(:weights AS float4[]), d.vec, q.tq, :norm)
            ) AS score
            FROM spread_search_doc d
            JOIN q ON d.vec @@ q.tq
            JOIN df ON df.term = q.term
            CROSS JOIN n
            GROUP BY d.pos ORDER BY score DESC, d.pos LIMIT :k
            """
        ),
        {"terms": json.dumps(chosen), "weights": weights, "k": k, "norm": PG_NORMALIZATION},
    ).all()
    if not rows:
        return []
    every = " | ".join(f"({c['tq']})" for c in chosen)
    all_marks = f"StartSel={PG_START}, StopSel={PG_STOP}, HighlightAll=true"
    snippet = (
        f"StartSel={PG_START}, StopSel={PG_STOP}, MaxWords=28, MinWords=10, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    marks = connection.execute(
        text(
            "SELECT pos, ts_headline('english', title, q, :all_marks), "
            "ts_headline('english', body, q, :snippet), "
            "ts_headline('english', body, q, :all_marks) "
            "FROM spread_search_doc, to_tsquery('english', :every) q WHERE pos = ANY(:positions)"
        ),
        {
            "all_marks": all_marks,
            "snippet": snippet,
            "every": every,
            "positions": [int(r[0]) for r in rows],
        },
    )

    def plain(marked: str) -> str:
        return marked.replace(PG_START, START).replace(PG_STOP, STOP)

    found = {int(r[0]): (plain(r[1]), plain(r[2]), plain(r[3])) for r in marks}
    return [(int(pos), float(score), *found[int(pos)]) for pos, score in rows]


# ---------------------------------------------------------------------------------------
# why it matched


def _marked_words(*marked: str) -> list[str]:
    words: dict[str, None] = {}
    for one in marked:
        for word in re.findall(f"{START}(.*?){STOP}", one, flags=re.S):
            words.setdefault(word.strip().lower(), None)
    return [w for w in words if w]


def _fields_matched(doc: Document, words: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for name, body in (("title", doc.title), *doc.fields):
        lower = body.lower()
        hit = tuple(
            w for w in words if re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", lower)
        )
        if hit:
            found.append((name, hit))
    return tuple(found)


def _hit(doc: Document, ranked: Ranked, semantic_score: float | None, score: float) -> Hit:
    _, text_score, title_marked, snippet, body_marked = ranked
    words = _marked_words(title_marked, body_marked)
    if not snippet.strip() or START not in snippet:
        snippet = title_marked if START in title_marked else snippet
    return Hit(
        document=doc,
        score=score,
        text_score=text_score,
        semantic_score=semantic_score,
        matched=tuple(words),
        fields=_fields_matched(doc, words),
        snippet=snippet.strip(),
    )


def _normalised(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return [1.0 for _ in values]
    return [(v - low) / (high - low) for v in values]


def ask(session: Session, question: str, *, limit: int = 10, rerank: bool | None = None) -> Answer:
    """The items that best answer `question`, best first. `rerank` None re-ranks when the
    embedding model is installed and allowed (semantic.available())."""
    question = question.strip()
    terms = terms_of(question)
    engine = session.get_bind().dialect.name
    use_model = semantic.available() if rerank is None else (rerank and semantic.installed())
    if not terms:
        return Answer(question, (), (), engine, False)
    docs = documents(session)
    search = _postgres if engine == "postgresql" else _sqlite
    k = max(limit, CANDIDATES) if use_model else limit
    ranked = search(session, docs, terms, k)
    if not ranked:
        return Answer(question, tuple(terms), (), engine, use_model, len(docs))
    if not use_model:
        hits = [_hit(docs[r[0]], r, None, r[1]) for r in ranked]
        return Answer(question, tuple(terms), tuple(hits[:limit]), engine, False, len(docs))
    similarity = semantic.similarities(question, [docs[r[0]].text for r in ranked])
    text_part = _normalised([r[1] for r in ranked])
    model_part = _normalised(similarity)
    combined = [
        (1 - SEMANTIC_WEIGHT) * t + SEMANTIC_WEIGHT * m
        for t, m in zip(text_part, model_part, strict=True)
    ]
    order = sorted(range(len(ranked)), key=lambda n: (-combined[n], ranked[n][0]))[:limit]
    hits = [_hit(docs[ranked[n][0]], ranked[n], similarity[n], combined[n]) for n in order]
    return Answer(question, tuple(terms), tuple(hits), engine, True, len(docs))
