"""Record linkage of two agencies' records with Splink (Fellegi-Sunter, trained by EM).

    result = link(left_rows, right_rows, key)      # rows: [{standard field: text}, ...]
    result.links()            # pairs at or above the chosen threshold
    result.review_queue()     # pairs in the uncertain band around it
    result.clusters           # {(dataset, record id): person pseudonym}
    result.pairs[0].explanation   # match weight of each comparison, as plain data

The method (comparisons, blocking, training, threshold, clusters, review band) is in
docs/sharing.md. The linker is built by `build_linker(left, right, engine)`, the one place
an engine is chosen: DuckDB in process, or Spark (`engine="spark"`, WHATWORKS_ENGINE=spark).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from whatworks.core.errors import ConfigurationError, WhatworksError
from whatworks.sharing.names import formal_names

#: Which pairs are scored: those agreeing on every key of at least one of these (besides
#: NHS number and UPN). Each key set splits the records finely enough that the candidate
#: pairs stay manageable at a million records a side: a date of birth alone, or a year of
#: birth and a first name, is shared by hundreds of children in a large dataset.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("dob", "surname_initial"),
    ("dob", "first_initial"),
    ("dob", "district"),
    ("first_name_formal", "surname", "birth_year"),
    ("postcode", "surname"),
    ("birth_year", "surname", "first_initial"),
    ("birth_year", "first_name_formal", "district"),
)
#: The fields linkage reads (CSV columns are mapped onto these).
STANDARD_FIELDS = (
    "record_id",
    "first_name",
    "surname",
    "dob",
    "sex",
    "postcode",
    "address",
    "upn",
    "nhs_number",
)
IDENTIFIERS = ("nhs_number", "upn")
#: Pairs below this probability are not kept at all.
FLOOR = 0.001
#: The review band: pairs whose match weight is within this many bits of the threshold's.
REVIEW_WIDTH = 3.0
#: The chance the same child's NHS number or UPN agrees where both records hold one; fixed,
#: not trained (EM would learn from twins, who share everything but these, that it is lower).
IDENTIFIER_AGREES = 0.9995
#: The guard: pairs that look like siblings or twins (who share surname and address, twins
#: even the date of birth) are never linked automatically, however high their weight: first
#: names that differ outright, or first names not exactly equal with different dates of birth.
GUARD = "first names differ: possibly a sibling or twin"
_CLOSE_FIRST_NAMES = ("exact", "missing")
#: The two datasets' names inside the linkage database.
SOURCES = ("left_records", "right_records")


@dataclass(frozen=True)
class ComparisonWeight:
    """One comparison's part in a pair's match weight (log2 of its Bayes factor)."""

    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class Pair:
    """A scored pair of records, one from each dataset."""

    left_id: str
    right_id: str
    probability: float
    match_weight: float
    prior_weight: float
    explanation: tuple[ComparisonWeight, ...]
    guard: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "left_id": self.left_id,
            "right_id": self.right_id,
            "probability": self.probability,
            "match_weight": self.match_weight,
            "prior_weight": self.prior_weight,
            "comparisons": [vars(c) for c in self.explanation],
            "guard": self.guard,
        }


@dataclass(frozen=True)
class Threshold:
    """The threshold probability and the precision and recall the model expects there."""

    probability: float
    estimated_precision: float
    estimated_recall: float
    estimated_f1: float
    chosen: bool  # False where the threshold was given


@dataclass
class Linkage:
    """The outcome of linking two datasets."""

    left_name: str
    right_name: str
    pairs: list[Pair]
    threshold: Threshold
    clusters: dict[tuple[str, str], str] = field(default_factory=dict)
    review_width: float = REVIEW_WIDTH

    def links(self) -> list[Pair]:
        """Pairs at or above the threshold and not held back by the guard: the same child."""
        return [
            p for p in self.pairs if p.probability >= self.threshold.probability and not p.guard
        ]

    def review_queue(self) -> list[Pair]:
        """Pairs for clerical review, most uncertain first: match weight within
        `review_width` of the threshold's, and guarded pairs above the band's floor."""
        centre = _weight(self.threshold.probability)
        band = [
            p
            for p in self.pairs
            if abs(p.match_weight - centre) <= self.review_width
            or (p.guard and p.match_weight > centre)
        ]
        return sorted(band, key=lambda p: abs(p.match_weight - centre))

    def cluster_count(self) -> int:
        return len(set(self.clusters.values()))


@dataclass(frozen=True)
class Scores:
    """Pairwise precision, recall and F1 against the truth."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


# --- preparing records ------------------------------------------------------------------


def _clean_name(value: str) -> str | None:
    cleaned = re.sub(r"[^a-z]", "", value.lower())
    return cleaned or None


def _clean_dob(value: str) -> str | None:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _clean(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned or None


def standardise(rows: Sequence[Mapping[str, str]], dataset: str) -> pd.DataFrame:
    """Records as Splink reads them: names lower case letters only (with the formal form of
    a short name beside them), dates of birth yyyy-mm-dd, postcodes upper case without
    spaces, identifiers without spaces; empty values null. Record ids must be unique."""
    formal = formal_names()
    seen: set[str] = set()
    records = []
    for number, row in enumerate(rows, start=2):
        record_id = _clean(row.get("record_id"))
        if record_id is None:
            raise WhatworksError(f"{dataset}: row {number} has no record id; every row needs one")
        if record_id in seen:
            raise WhatworksError(f"{dataset}: row {number} repeats record id {record_id!r}")
        seen.add(record_id)
        first = _clean_name(row.get("first_name") or "")
        postcode = _clean(row.get("postcode"))
        sex = _clean(row.get("sex"))
        records.append(
            {
                "unique_id": record_id,
                "first_name": first,
                "first_name_formal": formal.get(first, first) if first else None,
                "surname": _clean_name(row.get("surname") or ""),
                "dob": _clean_dob(row.get("dob") or ""),
                "sex": sex.upper()[:1] if sex else None,
                "postcode": postcode.replace(" ", "").upper() if postcode else None,
                **{
                    name: (_clean(row.get(name)) or "").replace(" ", "").upper() or None
                    for name in IDENTIFIERS
                },
            }
        )
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "unique_id",
            "first_name",
            "first_name_formal",
            "surname",
            "dob",
            "sex",
            "postcode",
            *IDENTIFIERS,
        ],
    ).astype("object")
    # Blocking keys (BLOCKING_KEYS): never compared, only used to choose candidate pairs.
    frame["birth_year"] = frame["dob"].str[:4]
    frame["surname_initial"] = frame["surname"].str[:1]
    frame["first_initial"] = frame["first_name_formal"].str[:1]
    frame["district"] = frame["postcode"].map(
        lambda code: code[:-3] if isinstance(code, str) and len(code) > 4 else None
    )
    return frame


# --- the model ---------------------------------------------------------------------------


def _postcode_prefix(drop: int) -> str:
    """SQL: the postcodes agree but for their last `drop` characters (3: the district)."""
    return " = ".join(
        f"substr(postcode_{side}, 1, length(postcode_{side}) - {drop})" for side in "lr"
    )


def _levels(identifiers: Sequence[str]) -> dict[str, list[tuple[str, Any]]]:
    """Each comparison's levels, most alike first (the null level comes first in Splink)."""
    import splink.comparison_level_library as cll

    transposed = (
        "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2)"
        " AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)"
    )
    sector, district = _postcode_prefix(2), _postcode_prefix(3)
    levels: dict[str, list[tuple[str, Any]]] = {
        "first_name": [
            ("exact", cll.ExactMatchLevel("first_name", term_frequency_adjustments=True)),
            (
                "short form of the same name",
                cll.CustomLevel("first_name_formal_l = first_name_formal_r", "short form"),
            ),
            ("Jaro-Winkler >= 0.92", cll.JaroWinklerLevel("first_name", 0.92)),
            ("Jaro-Winkler >= 0.8", cll.JaroWinklerLevel("first_name", 0.8)),
        ],
        "surname": [
            ("exact", cll.ExactMatchLevel("surname", term_frequency_adjustments=True)),
            ("Jaro-Winkler >= 0.92", cll.JaroWinklerLevel("surname", 0.92)),
            ("Jaro-Winkler >= 0.8", cll.JaroWinklerLevel("surname", 0.8)),
        ],
        "dob": [
            ("exact", cll.ExactMatchLevel("dob")),
            ("day and month transposed", cll.CustomLevel(transposed, "day and month transposed")),
            ("one character different", cll.DamerauLevenshteinLevel("dob", 1)),
        ],
        "postcode": [
            ("exact", cll.ExactMatchLevel("postcode")),
            ("same sector", cll.CustomLevel(sector, "same postcode sector")),
            ("same district", cll.CustomLevel(district, "same postcode district")),
        ],
        "sex": [("exact", cll.ExactMatchLevel("sex"))],
    }
    for name in identifiers:
        exact = cll.ExactMatchLevel(name).configure(
            m_probability=IDENTIFIER_AGREES, fix_m_probability=True
        )
        levels[name] = [("exact", exact)]
    return levels


def _else_level(name: str) -> Any:
    """The "all other comparisons" level; for an identifier its m is fixed (an exact rule)."""
    import splink.comparison_level_library as cll

    if name in IDENTIFIERS:
        return cll.ElseLevel().configure(
            m_probability=1 - IDENTIFIER_AGREES, fix_m_probability=True
        )
    return cll.ElseLevel()


def _settings(identifiers: Sequence[str]) -> Any:
    import splink.comparison_level_library as cll
    from splink import SettingsCreator, block_on
    from splink.comparison_library import CustomComparison

    comparisons: list[Any] = [
        CustomComparison(
            comparison_levels=[
                cll.NullLevel(name),
                *(level for _, level in levels),
                _else_level(name),
            ],
            output_column_name=name,
        )
        for name, levels in _levels(identifiers).items()
    ]
    blocking: list[Any] = [
        *(block_on(name) for name in identifiers),
        *(block_on(*keys) for keys in BLOCKING_KEYS),
    ]
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


def _spark_api() -> Any:
    """Splink's Spark API on the process's Spark session, with Splink's similarity functions
    (Jaro-Winkler, Damerau-Levenshtein: Scala UDFs in the jar Splink ships) added to it."""
    from splink.backends.spark import SparkAPI, similarity_jar_location

    from whatworks.core.analytics import spark_session

    spark = spark_session()
    # ADD JAR puts the jar on this thread's class loader, where registering the UDFs looks.
    spark.sql(f"ADD JAR '{similarity_jar_location()}'")
    # The session outlives each linkage: the previous one's input views would clash.
    for alias in SOURCES:
        spark.catalog.dropTempView(alias)
    return SparkAPI(spark_session=spark, break_lineage_method="persist")


def _spark_frame(frame: pd.DataFrame) -> Any:
    """A standardised frame as a Spark DataFrame of strings (a column with no values at all
    would otherwise have no type Spark can infer)."""
    from pyspark.sql.types import StringType, StructField, StructType

    from whatworks.core.analytics import spark_session

    schema = StructType([StructField(str(name), StringType(), True) for name in frame.columns])
    rows = [
        tuple(None if value is None or value != value else str(value) for value in row)
        for row in frame.itertuples(index=False, name=None)
    ]
    return spark_session().createDataFrame(rows, schema=schema)


def _spill_folder(spill_dir: Path | None) -> Path:
    """A new folder of its own for DuckDB to spill to: inside `spill_dir` when given (made,
    0700), else in the system's temporary folder."""
    if spill_dir is None:
        return Path(tempfile.mkdtemp(prefix="whatworks-linkage-"))
    spill_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Path(tempfile.mkdtemp(prefix="linkage-", dir=spill_dir))


def _duckdb_connection(spill: Path) -> Any:
    """An in-memory DuckDB for Splink, held to WHATWORKS_LINKAGE_MEMORY (default 4GB) and
    spilling to `spill` beyond it: DuckDB's own default (80 % of the machine) leaves too
    little for the records in Python beside it at a million records a side."""
    import duckdb

    return duckdb.connect(
        config={
            "memory_limit": os.environ.get("WHATWORKS_LINKAGE_MEMORY", "4GB"),
            "temp_directory": str(spill),
        }
    )


_RESOURCES = "_whatworks_resources"


def release(linker: Any) -> None:
    """Close the DuckDB connection of a linker from `build_linker` and delete its spill
    folder (and the `spill_dir` it was made in, once empty). Safe to call twice."""
    connection, spill, parent = getattr(linker, _RESOURCES, (None, None, None))
    setattr(linker, _RESOURCES, (None, None, None))
    _release(connection, spill, parent)


def _release(connection: Any, spill: Path | None, parent: Path | None) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # already closed, or closing failed: the folder goes anyway
            logging.getLogger(__name__).warning("Could not close the linkage DuckDB")
    if spill is not None:
        shutil.rmtree(spill, ignore_errors=True)
    if parent is not None:
        with contextlib.suppress(OSError):
            parent.rmdir()  # only when no other link is spilling there


def build_linker(
    left: pd.DataFrame,
    right: pd.DataFrame,
    engine: str = "duckdb",
    *,
    spill_dir: Path | None = None,
) -> Any:
    """A Splink linker of two standardised datasets on the named engine: DuckDB in process,
    spilling to a new folder inside `spill_dir` (or the system's temporary folder), or Spark
    (the session of `core.analytics`, local unless WHATWORKS_SPARK_MASTER names a cluster).
    Call `release(linker)` when done: it closes DuckDB and deletes the spill folder."""
    if engine not in ("duckdb", "spark"):
        raise ConfigurationError(
            f"Unknown engine {engine!r} for record linkage; use duckdb or spark."
        )
    from splink import DuckDBAPI, Linker

    identifiers = [
        name for name in IDENTIFIERS if left[name].notna().any() and right[name].notna().any()
    ]
    connection, spill = None, None
    try:
        if engine == "spark":
            db_api, tables = _spark_api(), [_spark_frame(left), _spark_frame(right)]
        else:
            spill = _spill_folder(spill_dir)
            connection = _duckdb_connection(spill)
            db_api, tables = DuckDBAPI(connection=connection), [left, right]
        linker = Linker(
            tables,
            _settings(identifiers),
            db_api=db_api,
            set_up_basic_logging=False,
            input_table_aliases=list(SOURCES),
        )
    except BaseException:
        _release(connection, spill, spill_dir if spill is not None else None)
        raise
    setattr(linker, _RESOURCES, (connection, spill, spill_dir if spill is not None else None))
    return linker


def train(linker: Any, identifiers: Sequence[str], seed: int) -> None:
    """Unsupervised training: the prior from deterministic rules, u by random sampling,
    m by expectation maximisation in two blocks (names; date of birth)."""
    from splink import block_on

    rules = [block_on(name) for name in identifiers] + [block_on("first_name", "surname", "dob")]
    linker.training.estimate_probability_two_random_records_match(rules, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name_formal", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob", "district"))


# --- threshold, clusters, evaluation ----------------------------------------------------


def _weight(probability: float) -> float:
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def choose_threshold(probabilities: Sequence[float]) -> Threshold:
    """The threshold that maximises the F1 the model itself expects: taking each pair's
    probability as its chance of being a match, links above t hold sum(p >= t) expected true
    matches among count(p >= t) links, out of sum(p) matches in all scored pairs."""
    p = np.sort(np.asarray(probabilities, dtype=float))[::-1]
    if len(p) == 0 or p.sum() == 0:
        return Threshold(0.5, 0.0, 0.0, 0.0, True)
    expected = np.cumsum(p)
    precision = expected / np.arange(1, len(p) + 1)
    recall = expected / expected[-1]
    f1 = 2 * precision * recall / (precision + recall)
    best = int(np.argmax(f1))
    return Threshold(
        float(p[best]), float(precision[best]), float(recall[best]), float(f1[best]), True
    )


def estimated_at(probabilities: Sequence[float], threshold: float) -> Threshold:
    """The precision and recall the model expects at a given threshold."""
    p = np.asarray(probabilities, dtype=float)
    above = p[p >= threshold]
    total = float(p.sum())
    precision = float(above.mean()) if len(above) else 0.0
    recall = float(above.sum() / total) if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Threshold(threshold, precision, recall, f1, False)


def person_pseudonym(key: bytes, dataset: str, record_id: str) -> str:
    """A cluster's pseudonym: keyed HMAC-SHA256 of its lowest record id (as
    returns/pseudonymise.py does for identifiers), first 20 hex characters."""
    message = f"person\x1f{dataset}\x1f{record_id}".encode()
    return hmac.digest(key, message, hashlib.sha256).hex()[:20]


def clusters(
    records: Sequence[tuple[str, str]],
    links: Sequence[tuple[tuple[str, str], tuple[str, str]]],
    key: bytes,
) -> dict[tuple[str, str], str]:
    """Connected components of the links, each record -> its person pseudonym (every record
    is in a cluster, alone if it has no link)."""
    parent = {record: record for record in records}

    def root(record: tuple[str, str]) -> tuple[str, str]:
        while parent[record] != record:
            parent[record] = parent[parent[record]]
            record = parent[record]
        return record

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for record in records:
        members.setdefault(root(record), []).append(record)
    return {
        record: person_pseudonym(key, *min(group)) for group in members.values() for record in group
    }


def evaluate(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> Scores:
    """Pairwise precision, recall and F1 of predicted links against the true pairs."""
    tp = len(predicted & truth)
    fp, fn = len(predicted) - tp, len(truth) - tp
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp, fp, fn)


# --- linking -----------------------------------------------------------------------------


def _guard(first_name: str, dob: str) -> str | None:
    if first_name == "different" or (first_name not in _CLOSE_FIRST_NAMES and dob == "different"):
        return GUARD
    return None


def _pair_columns(predictions: Any, levels: dict[str, list[tuple[str, Any]]]) -> list[str]:
    """The prediction columns a Pair needs: ids, probability, weight, and each comparison's
    level and Bayes factors (not the compared values, which the explanation does not need)."""
    present = {column.unquote().name for column in predictions.columns}
    wanted = ["unique_id_l", "unique_id_r", "source_dataset_l", "match_probability"]
    wanted.append("match_weight")
    for name in levels:
        wanted += [f"gamma_{name}", f"bf_{name}"]
        if f"bf_tf_adj_{name}" in present:
            wanted.append(f"bf_tf_adj_{name}")
    return wanted


def _pair(row: Mapping[str, Any], levels: dict[str, list[tuple[str, Any]]]) -> Pair:
    explanation = []
    for name, named_levels in levels.items():
        gamma = int(row[f"gamma_{name}"])
        label = (
            "missing"
            if gamma == -1
            else "different"
            if gamma == 0
            else named_levels[len(named_levels) - gamma][0]
        )
        factor = float(row[f"bf_{name}"]) * float(row.get(f"bf_tf_adj_{name}", 1.0) or 1.0)
        explanation.append(ComparisonWeight(name, label, math.log2(factor)))
    weight = float(row["match_weight"])
    guard = _guard(explanation[0].level, explanation[2].level)
    left, right = (
        (row["unique_id_l"], row["unique_id_r"])
        if row["source_dataset_l"] == SOURCES[0]
        else (row["unique_id_r"], row["unique_id_l"])
    )
    return Pair(
        str(left),
        str(right),
        float(row["match_probability"]),
        weight,
        weight - sum(c.weight for c in explanation),
        tuple(explanation),
        guard,
    )


#: Predictions are read this many rows at a time, so memory holds one chunk of rows as
#: dictionaries, not all of them.
CHUNK = 100_000


def _pairs(linker: Any, predictions: Any, levels: dict[str, list[tuple[str, Any]]]) -> list[Pair]:
    columns = _pair_columns(predictions, levels)
    table = linker.misc.query_sql(
        f"select {', '.join(columns)} from {predictions.physical_name}", output_type="pandas"
    )
    pairs = []
    for start in range(0, len(table), CHUNK):
        chunk = table.iloc[start : start + CHUNK]
        pairs += [_pair(row, levels) for row in chunk.to_dict("records")]
    del table
    pairs.sort(key=lambda p: (-p.match_weight, p.left_id, p.right_id))
    return pairs


def link(
    left_rows: Sequence[Mapping[str, str]],
    right_rows: Sequence[Mapping[str, str]],
    key: bytes,
    *,
    threshold: float | None = None,
    engine: str = "duckdb",
    seed: int = 0,
    names: tuple[str, str] = ("left", "right"),
    spill_dir: Path | None = None,
) -> Linkage:
    """Link two datasets' records: train, score, choose the threshold (unless given) and
    cluster; the same records and seed give the same result. DuckDB spills to a folder of
    its own inside `spill_dir` (or the system's temporary folder), deleted when done."""
    if threshold is not None and not 0 < threshold < 1:
        raise WhatworksError(
            f"The threshold must be a probability between 0 and 1; got {threshold}"
        )
    left, right = standardise(left_rows, names[0]), standardise(right_rows, names[1])
    for frame, name in ((left, names[0]), (right, names[1])):
        if frame.empty:
            raise WhatworksError(f"{name} has no records to link")
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker = build_linker(left, right, engine, spill_dir=spill_dir)
    try:
        identifiers = [
            name for name in IDENTIFIERS if left[name].notna().any() and right[name].notna().any()
        ]
        train(linker, identifiers, seed)
        predictions = linker.inference.predict(threshold_match_probability=FLOOR)
        pairs = _pairs(linker, predictions, _levels(identifiers))
    finally:
        release(linker)
    probabilities = [p.probability for p in pairs]
    chosen = (
        choose_threshold(probabilities)
        if threshold is None
        else estimated_at(probabilities, threshold)
    )
    result = Linkage(names[0], names[1], pairs, chosen)
    records = [(names[0], str(i)) for i in left["unique_id"]]
    records += [(names[1], str(i)) for i in right["unique_id"]]
    edges = [((names[0], p.left_id), (names[1], p.right_id)) for p in result.links()]
    result.clusters = clusters(records, edges, key)
    return result


__all__ = [
    "STANDARD_FIELDS",
    "Linkage",
    "Pair",
    "Scores",
    "Threshold",
    "build_linker",
    "choose_threshold",
    "clusters",
    "evaluate",
    "link",
    "person_pseudonym",
    "release",
    "standardise",
]
