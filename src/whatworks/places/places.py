"""Local authorities, regions and statistical neighbours, loaded from the bundled DfE files.

The list of local authorities is read from the children in need file (b1), which has a row
for every authority in every year 2013-2025, so authorities replaced by reorganisation
(Cumbria, Northamptonshire, the old Dorset) are kept, marked not current. Where the DfE gave
an authority a new ONS code but kept its old three-digit code (North Yorkshire, Somerset,
Buckinghamshire), the older code row is marked replaced by the newer one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.errors import NotFound
from whatworks.data import published_file
from whatworks.places.models import LocalAuthority, Region, StatisticalNeighbour

LA_SOURCE = "b1_children_in_need_2013_to_2025.csv"
NEIGHBOUR_SOURCES = {
    "2025": "sn_model_2025_wide.csv",
    "2021": "New_Statistical_Neighbour_Groupings_April_2021.csv",
}
NEIGHBOUR_MODELS = tuple(NEIGHBOUR_SOURCES)
DEFAULT_NEIGHBOUR_MODEL = "2025"
CLOSENESS_ORDER = ("Extremely close", "Very close", "Close", "Somewhat close", "Not close")
LONDON = "E12000007"


@dataclass(frozen=True)
class Neighbour:
    """A statistical neighbour with its rank (1 = closest) and closeness band."""

    rank: int
    la: LocalAuthority
    closeness: str


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _closeness(label: str) -> str:
    cleaned = " ".join(label.split()).capitalize()
    if cleaned not in CLOSENESS_ORDER:
        raise ValueError(f"Unknown closeness band {label!r}")
    return cleaned


def bundled_places() -> tuple[list[Region], list[LocalAuthority]]:
    """Regions and local authorities as found in the bundled children in need file."""
    regions: dict[str, Region] = {}
    seen: dict[str, dict[str, str]] = {}
    periods: dict[str, list[str]] = {}
    for row in _read_csv(published_file(LA_SOURCE)):
        if row["region_code"] and row["region_code"] not in regions:
            parent = LONDON if row["region_code"].startswith("E13") else None
            regions[row["region_code"]] = Region(
                code=row["region_code"], name=row["region_name"], parent_code=parent
            )
        if row["geographic_level"] != "Local authority":
            continue
        code = row["new_la_code"]
        periods.setdefault(code, []).append(row["time_period"])
        if code not in seen or row["time_period"] > seen[code]["time_period"]:
            seen[code] = row
    latest = max(p for ps in periods.values() for p in ps)
    newest_by_old: dict[str, str] = {}
    for code, row in seen.items():
        old = row["old_la_code"]
        if old not in newest_by_old or max(periods[code]) > max(periods[newest_by_old[old]]):
            newest_by_old[old] = code
    authorities = []
    for code, row in sorted(seen.items()):
        newest = newest_by_old[row["old_la_code"]]
        authorities.append(
            LocalAuthority(
                new_la_code=code,
                old_la_code=row["old_la_code"],
                name=row["la_name"],
                region_code=row["region_code"],
                current=max(periods[code]) == latest,
                first_period=min(periods[code]),
                last_period=max(periods[code]),
                replaced_by=newest if newest != code else None,
            )
        )
    return list(regions.values()), authorities


def bundled_neighbours(authorities: Iterable[LocalAuthority]) -> list[StatisticalNeighbour]:
    """Both DfE statistical neighbour models, with old codes resolved to current authorities."""
    by_old: dict[str, LocalAuthority] = {}
    for la in authorities:
        if la.replaced_by is None:
            by_old[la.old_la_code] = la
    found: list[StatisticalNeighbour] = []
    for model, name in NEIGHBOUR_SOURCES.items():
        with published_file(name).open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        for row in rows[1:]:
            if not row or not row[0].strip():
                continue
            la = by_old[row[0].strip()]
            # 2025: SN_1, SN_1P, ... from column 4; 2021: SN1, SNP, ... from column 5.
            start = 4 if model == "2025" else 5
            for rank in range(1, 11):
                code = row[start + 2 * (rank - 1)].strip()
                band = row[start + 2 * (rank - 1) + 1]
                found.append(
                    StatisticalNeighbour(
                        model=model,
                        la_code=la.new_la_code,
                        rank=rank,
                        neighbour_code=by_old[code].new_la_code,
                        closeness=_closeness(band),
                    )
                )
    return found


def load_bundled(session: Session) -> dict[str, int]:
    """Store the bundled places; running it again changes nothing. Returns rows added."""
    regions, authorities = bundled_places()
    neighbours = bundled_neighbours(authorities)
    added = {"regions": 0, "local authorities": 0, "statistical neighbours": 0}
    have_regions = {r.code for r in session.scalars(select(Region))}
    for region in regions:
        if region.code not in have_regions:
            session.add(region)
            added["regions"] += 1
    session.flush()
    have_las = {la.new_la_code for la in session.scalars(select(LocalAuthority))}
    for la in authorities:
        if la.new_la_code in have_las:
            session.merge(la)
        else:
            session.add(la)
            added["local authorities"] += 1
    session.flush()
    have_sn = {
        (n.model, n.la_code, n.rank): n for n in session.scalars(select(StatisticalNeighbour))
    }
    for sn in neighbours:
        key = (sn.model, sn.la_code, sn.rank)
        if key in have_sn:
            existing = have_sn[key]
            existing.neighbour_code, existing.closeness = sn.neighbour_code, sn.closeness
        else:
            session.add(sn)
            added["statistical neighbours"] += 1
    session.flush()
    return added


def local_authorities(
    session: Session,
    name: str | None = None,
    region_code: str | None = None,
    include_replaced: bool = False,
) -> list[LocalAuthority]:
    """Local authorities by name, optionally filtered by part of the name and by region."""
    query = select(LocalAuthority).order_by(LocalAuthority.name)
    if not include_replaced:
        query = query.where(LocalAuthority.current.is_(True))
    if name:
        query = query.where(LocalAuthority.name.ilike(f"%{name.strip()}%"))
    if region_code:
        codes = [region_code]
        codes += [
            r.code for r in session.scalars(select(Region).where(Region.parent_code == region_code))
        ]
        query = query.where(LocalAuthority.region_code.in_(codes))
    return list(session.scalars(query))


def local_authority(session: Session, code: str) -> LocalAuthority:
    """One local authority by new code (E09000003) or old three-digit code (302)."""
    code = code.strip().upper()
    found = session.get(LocalAuthority, code)
    if found is None and code.isdigit():
        found = session.scalar(
            select(LocalAuthority).where(
                LocalAuthority.old_la_code == code, LocalAuthority.replaced_by.is_(None)
            )
        )
    if found is None:
        raise NotFound(
            f"No local authority has the code {code!r}. "
            "Use a new code such as E09000003 or an old code such as 302."
        )
    return found


def regions(session: Session, top_level_only: bool = True) -> list[Region]:
    """Regions by name; London's inner and outer parts only when asked."""
    query = select(Region).order_by(Region.name)
    if top_level_only:
        query = query.where(Region.parent_code.is_(None))
    return list(session.scalars(query))


def region(session: Session, code: str) -> Region:
    """One region by its code."""
    found = session.get(Region, code)
    if found is None:
        raise NotFound(f"No region has the code {code!r}.")
    return found


def neighbours(
    session: Session, la_code: str, model: str = DEFAULT_NEIGHBOUR_MODEL
) -> list[Neighbour]:
    """A local authority's ten statistical neighbours, closest first."""
    if model not in NEIGHBOUR_MODELS:
        raise NotFound(f"No statistical neighbour model {model!r}; use 2021 or 2025.")
    rows = session.execute(
        select(StatisticalNeighbour, LocalAuthority)
        .join(LocalAuthority, LocalAuthority.new_la_code == StatisticalNeighbour.neighbour_code)
        .where(StatisticalNeighbour.model == model, StatisticalNeighbour.la_code == la_code)
        .order_by(StatisticalNeighbour.rank)
    )
    return [Neighbour(sn.rank, la, sn.closeness) for sn, la in rows]
