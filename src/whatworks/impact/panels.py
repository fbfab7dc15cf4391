"""Council x year outcome panels for impact estimates, built from the outcomes store.

An indicator's values for every council come either from the DfE's published statistics
(`outcomes.series`, as on the indicator pages) or from councils' own returns ("computed
from returns"); the panel says which. Adoption years come from the evidence hub's projects
of an intervention (council and start date) or from a CSV of adoptions (la_code,
first_treated). Conventions (docs/index.md, "Impact: did it work here?"):

- a period is the year it ends: 2025 is the year to 31 March 2025 (the DfE's "2025"), and
  an academic or financial year 2024/25 (202425) is 2025;
- a project starting on a date is first treated in the year ending 31 March that contains
  it: a start on 1 April 2022 to 31 March 2023 gives 2023. A partly treated first year
  counts as treated, which biases the estimate towards no effect, not away from it;
- suppressed or unavailable figures (c, x, z ...) are left out: the panel is unbalanced
  there, and the synthetic control leaves out donors with a gap.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence.projects import list_projects
from whatworks.outcomes.catalogue import Indicator, indicator
from whatworks.outcomes.models import ComputedValue
from whatworks.outcomes.published import datasets
from whatworks.outcomes.series import LA, every_area
from whatworks.places.models import LocalAuthority
from whatworks.places.places import local_authorities, local_authority

Source = Literal["published", "computed"]
SOURCES: dict[str, str] = {
    "published": "published statistics (DfE)",
    "computed": "computed from councils' returns",
}


class PanelBuildError(WhatworksError, ValueError):
    """An outcome panel cannot be built; the message says what is missing and what to do."""


@dataclass(frozen=True)
class Adoption:
    """A council's adoption: the first year it counts as treated, and where that came from."""

    la_code: str
    first_treated: int
    origin: str  # "project 12 (started 1 April 2022)" or "adoptions.csv row 3"
    project_id: int | None = None


@dataclass(frozen=True)
class Adoptions:
    """Dated adoptions by council, and councils known to have adopted without a date."""

    dated: dict[str, Adoption]
    undated: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutcomePanel:
    """One indicator's values, council x year, with each council's first treated year.

    `frame` has columns la_code, council, year, outcome, first_treated (0: never) and one
    column per covariate.
    """

    indicator: Indicator
    source: Source
    frame: pd.DataFrame
    covariates: tuple[str, ...]
    data_version: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.frame["year"].unique())

    @property
    def councils(self) -> dict[str, str]:
        pairs = self.frame[["la_code", "council"]].drop_duplicates()
        return dict(zip(pairs["la_code"], pairs["council"], strict=True))


def period_year(period: str) -> int | None:
    """The year a DfE period ends: '2025' -> 2025, '202425' -> 2025; None otherwise."""
    text = period.strip()
    if len(text) == 4 and text.isdigit():
        return int(text)
    if len(text) == 6 and text.isdigit():
        return int(text[:4]) + 1
    return None


def adoption_year(start: date) -> int:
    """The year ending 31 March that contains `start` (2022-04-01 -> 2023)."""
    return start.year + 1 if start.month >= 4 else start.year


def adoptions_from_projects(session: Session, intervention_id: str) -> Adoptions:
    """Each council's earliest dated project of the intervention; councils with projects
    but no start date are listed as undated (they are neither adopters nor comparisons)."""
    dated: dict[str, Adoption] = {}
    undated: set[str] = set()
    notes: list[str] = []
    for project in sorted(list_projects(session, intervention_id=intervention_id), key=_order):
        if not project.la_code:
            continue
        if project.start_date is None:
            undated.add(project.la_code)
            continue
        year = adoption_year(project.start_date)
        earlier = dated.get(project.la_code)
        if earlier is not None:
            notes.append(
                f"{project.place or project.la_code} has more than one project of this "
                f"intervention; the earliest start ({earlier.first_treated}) is used"
            )
            continue
        dated[project.la_code] = Adoption(
            project.la_code,
            year,
            f"project {project.id} (started {project.start_date.isoformat()})",
            project.id,
        )
    undated -= set(dated)
    return Adoptions(dated, tuple(sorted(undated)), tuple(notes))


def _order(project: Any) -> tuple[date, int]:
    return (project.start_date or date.max, project.id)


def adoptions_from_csv(session: Session, path: Path) -> Adoptions:
    """Adoptions from a CSV with columns la_code (new or old code) and first_treated (a
    year; 0 or empty: never). Every problem names its row (the header is row 1)."""
    if not path.is_file():
        raise PanelBuildError(f"{path}: no such file; give a CSV of la_code, first_treated.")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ("la_code", "first_treated") if c not in header]
        if missing:
            raise PanelBuildError(
                f"{path}: no column {', '.join(missing)}; the columns must include "
                "la_code and first_treated."
            )
        rows = [
            (reader.line_num, {k.strip(): (v or "").strip() for k, v in r.items()}) for r in reader
        ]
    problems: list[str] = []
    dated: dict[str, Adoption] = {}
    for line, row in rows:
        try:
            la = local_authority(session, row["la_code"])
        except NotFound:
            problems.append(f"row {line}, la_code: {row['la_code']!r} is not a council's code")
            continue
        text = row["first_treated"]
        if text in ("", "0"):
            continue
        if not text.isdigit() or not 1990 <= int(text) <= 2100:
            problems.append(f"row {line}, first_treated: {text!r} is not a year such as 2021")
            continue
        if la.new_la_code in dated:
            problems.append(f"row {line}: {la.name} is listed twice; keep one row per council")
            continue
        dated[la.new_la_code] = Adoption(la.new_la_code, int(text), f"{path.name} row {line}")
    if problems:
        raise PanelBuildError(f"{path}: " + "; ".join(problems) + ".")
    return Adoptions(dated)


def _councils(session: Session) -> dict[str, LocalAuthority]:
    """Current councils by old three-digit code (how published series are keyed)."""
    return {la.old_la_code: la for la in local_authorities(session) if la.old_la_code}


def _published_values(session: Session, item: Indicator) -> dict[tuple[str, int], float]:
    by_old = _councils(session)
    values: dict[tuple[str, int], float] = {}
    for old_code, points in every_area(session, item, LA).items():
        la = by_old.get(old_code)
        if la is None:
            continue
        for point in points:
            year = period_year(point.period)
            if point.status == "value" and point.value is not None and year is not None:
                values[(la.new_la_code, year)] = float(point.value)
    return values


def _computed_values(session: Session, item: Indicator) -> dict[tuple[str, int], float]:
    rows = session.scalars(
        select(ComputedValue).where(
            ComputedValue.indicator_id == item.id, ComputedValue.status == "value"
        )
    )
    return {
        (row.la_code, int(row.period)): float(row.value)
        for row in rows
        if row.value is not None and len(row.period) == 4 and row.period.isdigit()
    }


def _published_version(session: Session, items: Iterable[Indicator]) -> list[dict[str, Any]]:
    wanted = {name for item in items for name in item.datasets}
    return [
        {
            "dataset": d.name,
            "file": d.file_name,
            "sha256": d.sha256,
            "imported_at": d.imported_at.isoformat(timespec="seconds"),
        }
        for d in datasets(session)
        if d.name in wanted
    ]


def _computed_version(session: Session, item: Indicator) -> dict[str, Any]:
    rows = list(session.scalars(select(ComputedValue).where(ComputedValue.indicator_id == item.id)))
    latest = max((r.computed_at for r in rows), default=None)
    return {
        "indicator": item.id,
        "councils": len({r.la_code for r in rows}),
        "values": len(rows),
        "latest_computed_at": latest.isoformat(timespec="seconds") if latest else None,
    }


def values_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of the panel's values as text (sorted, full precision): the data version."""
    ordered = frame.sort_values(["la_code", "year"]).drop(columns=["council"])
    text = ordered.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_panel(
    session: Session,
    indicator_id: str,
    adoptions: Mapping[str, Adoption],
    *,
    source: Source = "published",
    covariates: Sequence[str] = (),
    leave_out: Iterable[str] = (),
    councils: Iterable[str] | None = None,
) -> OutcomePanel:
    """The indicator's values for every council (or `councils`) and year, with first
    treated years from `adoptions`; councils in `leave_out` (adopters without a date, say)
    are dropped. `covariates` are other indicators' ids, read from the same source; a row
    without every covariate is dropped. Raises PanelBuildError when nothing is left."""
    if source not in SOURCES:
        raise PanelBuildError(f"Source {source!r} is not one of {', '.join(SOURCES)}.")
    item = indicator(indicator_id)
    extra = [indicator(c) for c in covariates]
    read = _published_values if source == "published" else _computed_values
    values = read(session, item)
    if not values:
        raise PanelBuildError(
            f"No {SOURCES[source]} values of {item.title!r} are in the store"
            + (
                ": import the published statistics (whatworks import published)."
                if source == "published"
                else ": councils compute them from their returns (whatworks returns measures)."
            )
        )
    names = {la.new_la_code: la.name for la in local_authorities(session, include_replaced=True)}
    keep = set(councils) if councils is not None else None
    dropped = set(leave_out)
    rows: list[dict[str, Any]] = []
    for (la_code, year), value in sorted(values.items()):
        if la_code in dropped or (keep is not None and la_code not in keep):
            continue
        adoption = adoptions.get(la_code)
        rows.append(
            {
                "la_code": la_code,
                "council": names.get(la_code, la_code),
                "year": year,
                "outcome": value,
                "first_treated": adoption.first_treated if adoption else 0,
            }
        )
    frame = pd.DataFrame(rows, columns=["la_code", "council", "year", "outcome", "first_treated"])
    notes: list[str] = []
    for name in covariates:
        found = read(session, indicator(name))
        frame[name] = [
            found.get((c, y)) for c, y in zip(frame["la_code"], frame["year"], strict=True)
        ]
        lacking = frame[name].isna()
        if lacking.any():
            notes.append(f"{int(lacking.sum())} council-years without {name} were left out")
            frame = frame[~lacking].reset_index(drop=True)
    absent = sorted(set(adoptions) - set(frame["la_code"]) - dropped)
    if absent:
        notes.append(
            f"{len(absent)} adopting council(s) have no values of this indicator: "
            + ", ".join(names.get(c, c) for c in absent)
        )
    if frame.empty:
        raise PanelBuildError(f"No councils are left in the panel of {item.title!r}.")
    version: dict[str, Any] = {
        "source": SOURCES[source],
        "indicator": item.id,
        "values_sha256": values_digest(frame),
        "councils": int(frame["la_code"].nunique()),
        "years": [int(frame["year"].min()), int(frame["year"].max())],
    }
    if source == "published":
        version["datasets"] = _published_version(session, [item, *extra])
    else:
        version["computed"] = [_computed_version(session, x) for x in [item, *extra]]
    return OutcomePanel(item, source, frame, tuple(covariates), version, tuple(notes))


def adoptions_json(adoptions: Adoptions) -> dict[str, Any]:
    """Adoptions as plain JSON, for provenance."""
    return {
        "dated": {
            code: {"first_treated": a.first_treated, "origin": a.origin}
            for code, a in sorted(adoptions.dated.items())
        },
        "undated": list(adoptions.undated),
        "notes": list(adoptions.notes),
    }


def canonical(value: Any) -> str:
    """JSON with sorted keys and full-precision floats: what a digest is taken of."""
    return json.dumps(value, sort_keys=True, default=str, allow_nan=True)
