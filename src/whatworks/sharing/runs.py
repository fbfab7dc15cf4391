"""Linkage runs: a partnership's datasets linked for a stated purpose, under an agreement.

    run = run_linkage(session, data_dir, user, partnership, [1, 2, 3], "Why the run is needed")
    run.status, run.cluster_count          # "done" (or "failed", with run.error)
    pairs(data_dir, run)                   # every scored pair, named by record pseudonym
    clusters_of(data_dir, run)             # every record and the person it belongs to

A run links every pair of its datasets with `linkage.link` (each pair trained on its own),
chooses one threshold over all the scored pairs together, applies the partnership's
clerical review decisions (a "match" links a pair, "not a match" unlinks it) and clusters
the links into people. Pairs and clusters are written as Parquet in the partnership's own
area (`area.run_dir`), naming records only by pseudonym; the run's row holds the counts.
Nothing runs unless each dataset's own agreement is in force (`access.datasets_covered`;
docs/sharing.md).

Files follow the database: a run's files written in a transaction that is rolled back are
removed, and a re-clustering after a review decision is written to a temporary file of its
own that replaces the clusters only once the decision is committed.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from whatworks.core import audit
from whatworks.core.audit import Actor
from whatworks.core.db import utcnow
from whatworks.core.errors import ConfigurationError, NotFound, WhatworksError
from whatworks.core.models import User
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.sharing import area, linkage
from whatworks.sharing.access import datasets_covered, require_linked_access
from whatworks.sharing.models import (
    AgencyDataset,
    Agreement,
    LinkRun,
    Partnership,
    ReviewDecision,
)

log = logging.getLogger("whatworks.sharing")

ENGINES = ("duckdb", "spark")
#: The seed of Splink's random sampling, so the same datasets give the same run.
SEED = 0
#: The shortest purpose accepted (in characters, after trimming).
MIN_PURPOSE = 10
#: What a failed run says (the exception text can quote record values; it goes to the log).
FAILED = "the linkage failed; the log on the server has the details"
#: Set to "allow" to let linkage use a Spark master that is not local (names leave the machine).
REMOTE_SPARK = "WHATWORKS_SHARING_REMOTE_SPARK"
PAIRS_FILE = "pairs.parquet"
CLUSTERS_FILE = "clusters.parquet"
PAIR_SCHEMA = pa.schema(
    [
        ("left_dataset", pa.int64()),
        ("left_record", pa.string()),
        ("right_dataset", pa.int64()),
        ("right_record", pa.string()),
        ("probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("prior_weight", pa.float64()),
        ("explanation", pa.string()),  # JSON: [{comparison, level, weight}, ...]
        ("guard", pa.string()),  # "" or why the pair is never linked automatically
        ("linked", pa.bool_()),  # the model's link, before review decisions
        ("in_review", pa.bool_()),  # in the review band (or guarded above it)
    ]
)
CLUSTER_SCHEMA = pa.schema(
    [("dataset_id", pa.int64()), ("record", pa.string()), ("person", pa.string())]
)
DECISIONS = ("match", "not a match")
#: progress(step, done, total): what the run is doing, for a progress bar.
Progress = Callable[[str, int, int], None]


class PurposeNeeded(WhatworksError):
    """Linked data is used only for a stated purpose, and none (or too short a one) was given."""


def check_purpose(purpose: str | None) -> str:
    """The purpose, trimmed, if it has at least MIN_PURPOSE characters."""
    text = (purpose or "").strip()
    if len(text) < MIN_PURPOSE:
        raise PurposeNeeded(
            f"Say why you need the linked records, in at least {MIN_PURPOSE} characters "
            "(for example, 'Strategy meeting for a child at risk of exploitation'); "
            "it is kept in the audit log."
        )
    return text


def check_spark_master() -> None:
    """Refuse a Spark master that is not local (names and dates of birth would be sent to
    it) unless WHATWORKS_SHARING_REMOTE_SPARK=allow."""
    master = os.environ.get("WHATWORKS_SPARK_MASTER", "local[2]").strip()
    if master == "local" or master.startswith("local["):
        return
    if os.environ.get(REMOTE_SPARK, "").strip().lower() == "allow":
        return
    raise ConfigurationError(
        f"WHATWORKS_SPARK_MASTER is {master!r}, not local: linkage on it would send children's "
        "names, dates of birth and addresses off this machine. Use the duckdb engine or a "
        f"local[N] master, or set {REMOTE_SPARK}=allow if the data-sharing agreement covers "
        "that cluster."
    )


def default_engine() -> str:
    """The engine WHATWORKS_ENGINE names (DuckDB when unset)."""
    return os.environ.get("WHATWORKS_ENGINE", "duckdb").strip().lower() or "duckdb"


def analytics_dir(data_dir: Path) -> Path:
    """The analytics store of the data folder (as `Settings.analytics_dir`)."""
    return data_dir / "analytics"


def dataset_ids_of(run: LinkRun) -> list[int]:
    return [int(i) for i in json.loads(run.dataset_ids or "[]")]


def datasets_of(session: Session, run: LinkRun) -> list[AgencyDataset]:
    """The run's datasets, in the run's order."""
    found = []
    for dataset_id in dataset_ids_of(run):
        dataset = session.get(AgencyDataset, dataset_id)
        if dataset is None:
            raise NotFound(f"Dataset {dataset_id} of linkage run {run.id} no longer exists.")
        found.append(dataset)
    return found


def agencies_of_run(session: Session, run: LinkRun) -> list[str]:
    return sorted({d.agency for d in datasets_of(session, run)})


def get_run(session: Session, run_id: int) -> LinkRun:
    run = session.get(LinkRun, run_id)
    if run is None:
        raise NotFound(f"There is no linkage run {run_id}.")
    return run


def partnership_of(session: Session, run: LinkRun) -> Partnership:
    partnership = session.get(Partnership, run.partnership_id)
    if partnership is None:
        raise NotFound(f"The partnership of linkage run {run.id} no longer exists.")
    return partnership


def latest_run(session: Session, partnership: Partnership) -> LinkRun | None:
    """The partnership's newest finished run, or None."""
    return session.scalar(
        select(LinkRun)
        .where(LinkRun.partnership_id == partnership.id, LinkRun.status == "done")
        .order_by(LinkRun.id.desc())
        .limit(1)
    )


def list_runs(session: Session, partnership: Partnership) -> list[LinkRun]:
    return list(
        session.scalars(
            select(LinkRun)
            .where(LinkRun.partnership_id == partnership.id)
            .order_by(LinkRun.id.desc())
        )
    )


def linkable(session: Session, partnership: Partnership) -> list[AgencyDataset]:
    """The partnership's datasets that can still be linked (identifiers not yet deleted)."""
    return list(
        session.scalars(
            select(AgencyDataset)
            .where(AgencyDataset.partnership_id == partnership.id, AgencyDataset.status == "stored")
            .order_by(AgencyDataset.id)
        )
    )


def choose_datasets(
    session: Session, partnership: Partnership, dataset_ids: Sequence[int] | None
) -> list[AgencyDataset]:
    """The datasets named (every linkable one if none are), checked: the partnership's own,
    identifiers still held, at least two."""
    if not dataset_ids:
        chosen = linkable(session, partnership)
    else:
        chosen = []
        for dataset_id in dict.fromkeys(dataset_ids):
            dataset = session.get(AgencyDataset, dataset_id)
            if dataset is None or dataset.partnership_id != partnership.id:
                raise WhatworksError(
                    f"Dataset {dataset_id} is not one of {partnership.name}'s datasets; "
                    "choose from the datasets uploaded to the partnership."
                )
            if dataset.status != "stored":
                raise WhatworksError(
                    f"Dataset {dataset_id} ('{dataset.title}') cannot be linked: its "
                    f"identifiers were deleted at the end of retention ({dataset.status})."
                )
            chosen.append(dataset)
    if len(chosen) < 2:
        raise WhatworksError(
            f"A linkage run needs at least two datasets; {partnership.name} has "
            f"{len(chosen)} chosen that still hold identifiers. Upload another agency's records."
        )
    return chosen


# --- files --------------------------------------------------------------------------------


def _temporary(path: Path) -> Path:
    """A temporary name beside `path`, unique to this write."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


def _write_new(table: pa.Table, path: Path) -> None:
    """Write the table to `path`, a new file (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _write_atomically(table: pa.Table, path: Path) -> None:
    """Write the table to a temporary file of its own (0600), then rename it into place."""
    temporary = _temporary(path)
    try:
        _write_new(table, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _remove_outputs(folder: Path) -> None:
    for name in (PAIRS_FILE, CLUSTERS_FILE):
        (folder / name).unlink(missing_ok=True)
        for stray in folder.glob(f".{name}.*.tmp"):
            stray.unlink(missing_ok=True)


# Files that follow the session's transaction: kept on commit, removed on rollback; pending
# replacements renamed into place on commit.
_FILES = "whatworks.sharing.run_files"


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    held = session.info.get(_FILES) or {"written": [], "pending": []}
    for temporary, final in held["pending"]:
        try:
            os.replace(temporary, final)
        except OSError:
            log.exception("Could not put the new clusters in place at %s", final)
    session.info[_FILES] = {"written": [], "pending": []}


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    held = session.info.get(_FILES) or {"written": [], "pending": []}
    for path in held["written"]:
        path.unlink(missing_ok=True)
    for temporary, _final in held["pending"]:
        temporary.unlink(missing_ok=True)
    session.info[_FILES] = {"written": [], "pending": []}


def _follow(session: Session) -> dict[str, list[Any]]:
    if _FILES not in session.info:
        session.info[_FILES] = {"written": [], "pending": []}
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)
    held: dict[str, list[Any]] = session.info[_FILES]
    return held


def remove_unless_committed(session: Session, paths: Iterable[Path]) -> None:
    """Remove the files if the session's transaction ends without a commit."""
    _follow(session)["written"].extend(paths)


def replace_after_commit(session: Session, table: pa.Table, path: Path) -> Path:
    """Write the table to a temporary file of its own beside `path` and rename it over
    `path` when the session commits (removed instead if it does not). Returns the
    temporary file, which holds the new contents until then."""
    temporary = _temporary(path)
    _write_new(table, temporary)
    _follow(session)["pending"].append((temporary, path))
    return temporary


def pairs(data_dir: Path, run: LinkRun) -> list[dict[str, Any]]:
    """The run's scored pairs (columns of PAIR_SCHEMA)."""
    path = area.run_dir(data_dir, run.partnership_id, run.id) / PAIRS_FILE
    if not path.exists():
        raise NotFound(f"Linkage run {run.id} has no pairs file ({run.status}).")
    return list(pq.read_table(path).to_pylist())


def clusters_of(data_dir: Path, run: LinkRun) -> list[dict[str, Any]]:
    """Every record of the run and its person (columns of CLUSTER_SCHEMA)."""
    path = area.run_dir(data_dir, run.partnership_id, run.id) / CLUSTERS_FILE
    if not path.exists():
        raise NotFound(f"Linkage run {run.id} has no clusters file ({run.status}).")
    return list(pq.read_table(path).to_pylist())


def clusters_path(data_dir: Path, run: LinkRun) -> Path:
    return area.run_dir(data_dir, run.partnership_id, run.id) / CLUSTERS_FILE


def matching_records(data_dir: Path, dataset: AgencyDataset) -> list[dict[str, str]]:
    """A dataset's matching fields as standard-field rows, record_id being the pseudonym."""
    path = area.matching_path(data_dir, dataset.partnership_id, dataset.id)
    if not path.exists():
        raise WhatworksError(
            f"Dataset {dataset.id} ('{dataset.title}') has no matching fields at {path}; "
            "upload it again."
        )
    table = pq.read_table(path)
    missing = [c for c in area.MATCHING_COLUMNS if c not in table.column_names]
    if missing:
        raise WhatworksError(f"{path} lacks the columns {', '.join(missing)}; upload it again.")
    rows = []
    for row in table.to_pylist():
        record = {f: "" if row.get(f) is None else str(row[f]) for f in area.MATCHING_COLUMNS}
        record["record_id"] = record.pop("record")
        rows.append(record)
    return rows


# --- decisions and clusters ---------------------------------------------------------------


def ordered(left: str, right: str) -> tuple[str, str]:
    """A pair of record pseudonyms as decisions are kept: in order."""
    return (left, right) if left <= right else (right, left)


def decisions_for(session: Session, partnership_id: int) -> dict[tuple[str, str], str]:
    """The partnership's review decisions by ordered pair of record pseudonyms."""
    rows = session.execute(
        select(
            ReviewDecision.left_record, ReviewDecision.right_record, ReviewDecision.decision
        ).where(ReviewDecision.partnership_id == partnership_id)
    )
    return {(left, right): decision for left, right, decision in rows}


Node = tuple[str, str]  # (dataset name "d<id>", record pseudonym)


def _node(dataset_id: int, record: str) -> Node:
    return (f"d{dataset_id}", record)


def final_links(
    scored: Iterable[Mapping[str, Any]],
    nodes: Iterable[Node],
    decisions: Mapping[tuple[str, str], str],
) -> set[tuple[Node, Node]]:
    """The model's links with the review decisions applied: "not a match" removes the link
    between the two records, "match" adds one (wherever the run holds them, even two records
    of one dataset). A "not a match" pair still joined through other records stays in one
    cluster: the decision removes a link, it does not cut the cluster."""
    links = set()
    for p in scored:
        if not p["linked"]:
            continue
        a, b = (
            _node(p["left_dataset"], p["left_record"]),
            _node(p["right_dataset"], p["right_record"]),
        )
        if decisions.get(ordered(a[1], b[1])) != "not a match":
            links.add((a, b))
    by_record: dict[str, list[Node]] = {}
    for node in nodes:
        by_record.setdefault(node[1], []).append(node)
    for (left, right), decision in decisions.items():
        if decision != "match":
            continue
        for a in by_record.get(left, []):
            for b in by_record.get(right, []):
                links.add((a, b))
    return links


def _cluster_rows(nodes: Sequence[Node], links: set[tuple[Node, Node]], key: bytes) -> pa.Table:
    found = linkage.clusters(list(nodes), sorted(links), key)
    rows = sorted((int(n[0][1:]), n[1], found[n]) for n in nodes)
    return pa.Table.from_pylist(
        [{"dataset_id": d, "record": r, "person": p} for d, r, p in rows], schema=CLUSTER_SCHEMA
    )


def recluster(session: Session, data_dir: Path, run: LinkRun) -> Path:
    """Cluster the run's records again with the partnership's decisions as they are now
    (after a clerical review decision): the run's counts are updated and the new clusters
    written to a temporary file that replaces the clusters file when the session commits
    (and is removed if it rolls back). Returns that temporary file."""
    scored = pairs(data_dir, run)
    nodes = [_node(r["dataset_id"], r["record"]) for r in clusters_of(data_dir, run)]
    decisions = decisions_for(session, run.partnership_id)
    links = final_links(scored, nodes, decisions)
    table = _cluster_rows(nodes, links, load_or_create_key(data_dir))
    pending = replace_after_commit(session, table, clusters_path(data_dir, run))
    run.link_count = len(links)
    run.cluster_count = len(set(table.column("person").to_pylist()))
    run.review_count = sum(
        1
        for p in scored
        if p["in_review"] and ordered(p["left_record"], p["right_record"]) not in decisions
    )
    session.flush()
    return pending


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scored:
    left: int
    right: int
    pair: linkage.Pair


def _link_all(
    datasets: Sequence[AgencyDataset],
    rows: Mapping[int, list[dict[str, str]]],
    key: bytes,
    threshold: float | None,
    engine: str,
    progress: Progress,
    spill_dir: Path | None = None,
) -> tuple[list[_Scored], linkage.Threshold, list[dict[str, Any]]]:
    combos = list(combinations(datasets, 2))
    scored: list[_Scored] = []
    groups: list[tuple[AgencyDataset, AgencyDataset, list[linkage.Pair]]] = []
    for done, (a, b) in enumerate(combos):
        progress(f"Linking {a.agency} ({a.id}) with {b.agency} ({b.id})", done, len(combos))
        result = linkage.link(
            rows[a.id],
            rows[b.id],
            key,
            threshold=threshold,
            engine=engine,
            seed=SEED,
            names=(f"d{a.id}", f"d{b.id}"),
            spill_dir=spill_dir,
        )
        groups.append((a, b, result.pairs))
        scored += [_Scored(a.id, b.id, p) for p in result.pairs]
    progress("Choosing the threshold", len(combos), len(combos))
    probabilities = [s.pair.probability for s in scored]
    chosen = (
        linkage.choose_threshold(probabilities)
        if threshold is None
        else linkage.estimated_at(probabilities, threshold)
    )
    table: list[dict[str, Any]] = []
    for a, b, found in groups:
        one = linkage.Linkage(f"d{a.id}", f"d{b.id}", found, chosen)
        linked = {(p.left_id, p.right_id) for p in one.links()}
        review = {(p.left_id, p.right_id) for p in one.review_queue()}
        for p in found:
            table.append(
                {
                    "left_dataset": a.id,
                    "left_record": p.left_id,
                    "right_dataset": b.id,
                    "right_record": p.right_id,
                    "probability": p.probability,
                    "match_weight": p.match_weight,
                    "prior_weight": p.prior_weight,
                    "explanation": json.dumps([vars(c) for c in p.explanation]),
                    "guard": p.guard or "",
                    "linked": (p.left_id, p.right_id) in linked,
                    "in_review": (p.left_id, p.right_id) in review,
                }
            )
    return scored, chosen, table


def _who(actor: User | Actor) -> Actor:
    return Actor.of(actor) if isinstance(actor, User) else actor


def run_linkage(
    session: Session,
    data_dir: Path,
    actor: User | Actor,
    partnership: Partnership,
    dataset_ids: Sequence[int] | None,
    purpose: str,
    *,
    engine: str | None = None,
    threshold: float | None = None,
    on: date | None = None,
    progress: Progress | None = None,
) -> LinkRun:
    """Link the partnership's datasets (every linkable one if `dataset_ids` is empty).

    A user must hold linked access (`access.require_linked_access`); an Actor is a command
    run on the server. Refused, with nothing written, unless each dataset's own agreement is
    in force on `on` (today), with a purpose under MIN_PURPOSE characters, datasets that
    cannot be linked, or Spark on a master that is not local (`check_spark_master`).
    Otherwise the run's row is written: status "done" with its files and counts, or
    "failed" with the error's type and a fixed message (the details go to the server's log)
    and no files. Either way the run is in the audit log with its purpose. The caller
    commits; the files are removed if the transaction is rolled back instead."""
    if isinstance(actor, User):
        require_linked_access(session, actor, partnership)
    purpose = check_purpose(purpose)
    chosen_engine = (engine or default_engine()).strip().lower()
    if chosen_engine not in ENGINES:
        raise ConfigurationError(
            f"Unknown engine {chosen_engine!r} for record linkage; use duckdb or spark."
        )
    if threshold is not None and not 0 < threshold < 1:
        raise WhatworksError(
            f"The threshold must be a probability between 0 and 1; got {threshold}"
        )
    if chosen_engine == "spark":
        check_spark_master()
    datasets = choose_datasets(session, partnership, dataset_ids)
    on = on or date.today()
    covering = datasets_covered(session, partnership, datasets, on)
    agreement: Agreement = max(covering.values(), key=lambda a: a.id)
    who = _who(actor)
    run = LinkRun(
        partnership_id=partnership.id,
        agreement_id=agreement.id,
        purpose=purpose,
        dataset_ids=json.dumps([d.id for d in datasets]),
        engine=chosen_engine,
        status="running",
        threshold=threshold,
        run_by=who.username,
    )
    session.add(run)
    session.flush()
    report = progress or (lambda _step, _done, _total: None)
    folder = area.run_dir(data_dir, partnership.id, run.id)
    started = time.perf_counter()
    try:
        report("Reading the datasets", 0, len(datasets))
        rows = {d.id: matching_records(data_dir, d) for d in datasets}
        key = load_or_create_key(data_dir)
        spill = area.partnership_area(data_dir, partnership.id) / "spill"
        scored, chosen, table = _link_all(
            datasets, rows, key, threshold, chosen_engine, report, spill
        )
        report("Clustering", 1, 1)
        nodes = [_node(d.id, r["record_id"]) for d in datasets for r in rows[d.id]]
        decisions = decisions_for(session, partnership.id)
        links = final_links(table, nodes, decisions)
        clustered = _cluster_rows(nodes, links, key)
        remove_unless_committed(session, [folder / PAIRS_FILE, folder / CLUSTERS_FILE])
        _write_atomically(pa.Table.from_pylist(table, schema=PAIR_SCHEMA), folder / PAIRS_FILE)
        _write_atomically(clustered, folder / CLUSTERS_FILE)
        run.threshold = chosen.probability
        run.estimated_precision = chosen.estimated_precision
        run.estimated_recall = chosen.estimated_recall
        run.pair_count = len(scored)
        run.link_count = len(links)
        run.review_count = sum(
            1
            for p in table
            if p["in_review"] and ordered(p["left_record"], p["right_record"]) not in decisions
        )
        run.record_count = len(nodes)
        run.cluster_count = len(set(clustered.column("person").to_pylist()))
        run.status = "done"
    except Exception as error:
        # The message can quote record values: the log has the type and where it happened.
        log.error(
            "Linkage run %s failed with %s:\n%s",
            run.id,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        _remove_outputs(folder)
        run.status = "failed"
        run.error = f"{type(error).__name__}: {FAILED}"
    run.seconds = round(time.perf_counter() - started, 3)
    run.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        who,
        "link agency records",
        f"sharing run:{run.id}",
        purpose,
        partnership=partnership.id,
        agreement=agreement.id,
        agreements={str(d): a.id for d, a in covering.items()},
        datasets=[d.id for d in datasets],
        engine=chosen_engine,
        status=run.status,
    )
    if run.status == "done":
        from whatworks.sharing import system

        try:
            system.publish(session, data_dir, run)
        except WhatworksError as error:  # the pseudonymised records are not there to count
            log.warning("Linkage run %s: indicators not written: %s", run.id, error)
    report("Done", 1, 1)
    return run


def run_date(run: LinkRun) -> date:
    """The day a run finished (or started, while it runs)."""
    return (run.finished_at or run.started_at).date()


__all__ = [
    "DECISIONS",
    "FAILED",
    "MIN_PURPOSE",
    "PurposeNeeded",
    "check_purpose",
    "check_spark_master",
    "clusters_of",
    "final_links",
    "latest_run",
    "pairs",
    "recluster",
    "run_linkage",
]
