"""Synthetic SSDA903 and CIN census returns for any councils and years, with known truth.

API::

    generated = generate(councils, years, seed, scale=1.0, interventions=())
    generated.tables(council, year)      # {table: [row, ...]}, each row {COLUMN: text}
    generated.cin_census(council, year)  # [child, ...]: dicts as cin.read_census gives
    generated.cin_xml(council, year)     # the census file's bytes
    generated.truth()                    # arguments and every parameter used
    write_returns(generated, out)        # out/<new_la_code>/<year>/<table>.csv and
                                         # cin_census.xml, and out/truth.json
    councils_in_england()                # the 153 current councils' new LA codes

A council is a new LA code (E09000003); a year Y is the collection year to 31 March Y
(2017-2026). Tables and files are named as `specs.tables(year)` names them (`placed_adoption`,
`prev_perm`, `social_worker` from 2024), with exactly that year's columns and codes; dates
dd/mm/yyyy. The same arguments give the same bytes. `scale` multiplies every council's
children (rates per 10,000 then run `scale` times the published ones).
`Intervention(measure, councils, from_year, change)` plants a known effect from the
collection year `from_year` on: "starts" (relative: -0.2 = a fifth fewer children start to
be looked after), "re_referrals", "placement_stability" (share of children looked after at
31 March with 3+ placements) and "repeat_cp_plans" (all three in percentage points).

How it works. Children are simulated in continuous time (days), council by council, each
council from its own random stream (seed and council code), so a council's returns do not
depend on which other councils are asked for. A council's simulation is built when first
needed: `write_returns` holds one council at a time, so a national run fits in memory.

* Care: periods of care start as a Poisson stream (by age, with unaccompanied asylum-seeking
  children) for 24 years before the first year, so the stock is in steady state; each has an
  outcome (adoption, special guardianship, child arrangements order, return home, leaving
  at 18, transfer...) and a duration, and returns home can be followed by re-entry. Inside a
  period, legal status changes (police protection, interim then full care order, placement
  order) and placement moves (a Poisson process with a heterogeneous, age-dependent rate)
  make the episodes: RNE S, then L, P, T or U; REC X1 only where the next episode starts the
  same day. Reviews, missing and away episodes, social worker episodes, decisions to place
  for adoption, adoptions, previous permanence, motherhood, OC2 and OC3 follow.
* Need: children in need have careers of referrals from the first referral until 18: each
  referral is no further action, an assessment only, a section 47 enquiry, a CIN plan or a
  child protection plan, and may be followed by another (within 12 months with a calibrated
  probability: re-referrals). Children who come into care have a CIN episode around each
  period of care (with a CP plan before care for about a third) and earlier referrals.
  Assessments take a log-normal number of working days (England and Wales bank holidays).
* A year's return holds what the DfE asks for: episodes open at some time in the year (DEC,
  REC and the reason for a placement change blank while still open on 31 March), and
  children with a referral open at some time in the year (closure after 31 March left out).
  A code is only used where every return the record appears in allows it (H5 only for
  placements that ended by 31 March 2024, K3 only for ones that began after; SEX 1/2 before
  2024/25 and M/F from it; ACTIV, REC, reasons and CIN codes by year).

Calibration. Each council's children looked after (rate per 10,000 at 31 March), starts,
referrals, children in need and CP plans at 31 March, CP plan starts, re-referral and repeat
CP percentages are the means of its published figures (2021-2025, `data/published`), with
the national figure where a council's is suppressed; the child population is the ONS
mid-year estimate for the year before (the DfE's denominator). From these the simulation's
rates and duration scales are derived per council (`CouncilParameters`); placement
stability, care leavers' activity, SDQ and assessment timeliness use national targets with a
small council effect. Constants marked "tuned" were set by running a national simulation
and comparing its measures with the national figures in DOMAIN.md; `truth.json` records all
of it.

Decisions. Every child has a UPN (letter, LA code, school, year, serial; DfE check letter)
from their first return, so CHILD, UPN and date of birth never change. Temporary placements
(T0-T4), short breaks (V3/V4) and freeing orders are not simulated. Unborn children are not
in the CIN census. Social worker episodes run on from the start of care while the child has
a social worker, so the last one of a child who left care stays open. Rates do not trend:
years differ by population (the latest estimate, 2024, stands for later years) and chance.
Care is simulated a year past the last year asked for, so children about to come into care
have their referral and CP plan in the last census. OC3 holds care leavers (left at 16 or
over after 13 weeks or more in care since 14, not adopted, home or moved away) on their
17th-21st birthday, at 17 and 18 only if they left before that birthday and not during the
year after their 17th; UASC who leave before 18 are not care leavers here. A missing episode
ends within the placement it began in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import holidays
import numpy as np
from lxml import etree
from numpy.typing import NDArray

from whatworks.core.errors import WhatworksError
from whatworks.returns import specs

Arr = NDArray[Any]
FIRST_YEAR, LAST_YEAR = 2017, 2026
MEASURES = ("starts", "re_referrals", "placement_stability", "repeat_cp_plans")
#: Published data are averaged over these collection years.
PUBLISHED_YEARS = range(2021, 2026)
#: Care is simulated from this many years before the first year (steady state).
CARE_BURN_IN = 24
#: National figures (DOMAIN.md, 2023-2025) the simulation is calibrated towards.
NATIONAL = {
    "cla_per_10k": 69.0,
    "starts_per_10k": 27.0,
    "cin_per_10k": 331.0,
    "cp_per_10k": 41.0,
    "re_referral_percent": 22.5,
    "repeat_cp_percent": 24.3,
    "stability_percent": 10.7,
    "eet_19_21_percent": 55.0,
    "sdq_mean": 14.6,
    "assessment_45_days_percent": 80.0,
}

# --- days ------------------------------------------------------------------------------
# Dates are whole days since 1 January 1970 in int64 arrays.
EPOCH = date(1970, 1, 1)
NEVER = 10**6  # a day far beyond any return


def _day(y: int, m: int, d: int) -> int:
    return (date(y, m, d) - EPOCH).days


def _civil(days: Arr) -> tuple[Arr, Arr, Arr]:
    """Year, month and day of each day number (H. Hinnant's algorithm)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _days_from_civil(y: Arr, m: Arr, d: Arr) -> Arr:
    y = np.asarray(y, dtype=np.int64) - (np.asarray(m) <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (np.asarray(m, dtype=np.int64) + 9) % 12
    doy = (153 * mp + 2) // 5 + np.asarray(d, dtype=np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: Arr = era * 146097 + doe - 719468
    return result


def _add_years(days: Arr, years: int | Arr) -> Arr:
    """The same day `years` later (29 February becomes 1 March in a common year)."""
    y, m, d = _civil(days)
    y = y + years
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    feb29 = (m == 2) & (d == 29) & ~leap
    return _days_from_civil(y, np.where(feb29, 3, m), np.where(feb29, 1, d))


def _age_on(dob: Arr, day: Arr | int) -> Arr:
    """Age in whole years on a day (as `rules.age_on`)."""
    y1, m1, d1 = _civil(dob)
    y2, m2, d2 = _civil(np.broadcast_to(np.asarray(day, dtype=np.int64), np.shape(dob)))
    result: Arr = y2 - y1 - ((m2 < m1) | ((m2 == m1) & (d2 < d1)))
    return result


def _bounds(year: int) -> tuple[int, int]:
    """First and last day of the collection year ending 31 March `year`."""
    return _day(year - 1, 4, 1), _day(year, 3, 31)


def _collection_year(days: Arr) -> Arr:
    y, m, _ = _civil(days)
    result: Arr = y + (m >= 4)
    return result


@lru_cache(maxsize=1)
def _date_text() -> tuple[int, Arr, Arr]:
    """Day number of the first entry, and dd/mm/yyyy and ISO text for every day 1970-2040."""
    first, last = _day(1970, 1, 1), _day(2040, 12, 31)
    iso = np.datetime_as_string(np.arange(first, last + 1).astype("datetime64[D]"))
    uk = np.array([f"{t[8:10]}/{t[5:7]}/{t[0:4]}" for t in iso.tolist()], dtype=object)
    return first, uk, np.array(iso.tolist(), dtype=object)


def _uk(days: Arr) -> Arr:
    first, uk, _ = _date_text()
    result: Arr = uk[np.asarray(days, dtype=np.int64) - first]
    return result


def _iso(days: Arr) -> Arr:
    first, _, iso = _date_text()
    result: Arr = iso[np.asarray(days, dtype=np.int64) - first]
    return result


@lru_cache(maxsize=1)
def _working_days() -> np.busdaycalendar:
    """Monday to Friday except England and Wales bank holidays."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(1970, 2041))
    return np.busdaycalendar(holidays=sorted(np.datetime64(d, "D") for d in days))


def _after_working_days(start: Arr, count: Arr) -> Arr:
    """The working day `count` working days after `start` (rolled forward to a working day)."""
    moved = np.busday_offset(
        np.asarray(start, dtype=np.int64).astype("datetime64[D]"),
        np.asarray(count, dtype=np.int64),
        roll="forward",
        busdaycal=_working_days(),
    )
    result: Arr = moved.astype(np.int64)
    return result


def _working_day_on_or_after(day: Arr) -> Arr:
    return _after_working_days(day, np.zeros(np.shape(day), dtype=np.int64))


# --- code lists ---------------------------------------------------------------------------


@cache
def _codes(year: int, table: str, column: str) -> frozenset[str]:
    """The SSDA903 codes of a column in a year."""
    for col in specs.tables(year)[table]:
        if col.name == column:
            return col.codes
    raise KeyError(f"{table}.{column}")


def _place_years(code: str) -> tuple[int, int]:
    """The first and last collection year whose specification allows a placement code."""
    years = [y for y in range(FIRST_YEAR, LAST_YEAR + 1) if code in _codes(y, "episodes", "PLACE")]
    return (min(years), max(years)) if years else (0, -1)


@cache
def _xsd(year: int) -> tuple[dict[str, tuple[str, ...]], str, bool]:
    """The CIN census schema's code lists by type name, the name of the sex element, and
    whether it has CIN plan dates."""
    text = (
        files("whatworks.returns").joinpath("specs", "cin", f"CIN_schema_{year}.xsd").read_bytes()
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(text, parser=parser)
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    lists = {
        simple.get("name"): tuple(e.get("value") for e in simple.iterfind(".//xs:enumeration", ns))
        for simple in root.iterfind(".//xs:simpleType[@name]", ns)
    }
    names = {e.get("name") for e in root.iterfind(".//xs:element", ns)}
    sex = "Sex" if "Sex" in names else "GenderCurrent"
    return lists, sex, "CINPlanDates" in names


def _cin_codes(year: int, type_name: str) -> tuple[str, ...]:
    return _xsd(year)[0][type_name]


@cache
def _first_cin_year(type_name: str, code: str) -> int:
    """The first census year from which a code stays valid to 2026."""
    first = LAST_YEAR + 1
    for year in range(LAST_YEAR, FIRST_YEAR - 1, -1):
        if code not in _cin_codes(year, type_name):
            break
        first = year
    return first


# --- councils and published figures ----------------------------------------------------


@dataclass(frozen=True)
class Council:
    """A council: codes, region, child population (ONS, by mid-year) and published figures
    (per 10,000 children, or percentages), each the mean of the years published."""

    code: str
    old_code: str
    name: str
    region: str
    population: dict[int, float]
    published: dict[str, float]

    def children(self, year: int) -> float:
        """Children under 18 for the collection year `year` (mid-year estimate of year - 1)."""
        known = sorted(self.population)
        wanted = min(max(year - 1, known[0]), known[-1])
        nearest = min(known, key=lambda y: abs(y - wanted))
        return self.population[nearest]


def _published_rows(name: str) -> list[dict[str, str]]:
    text = files("whatworks.data").joinpath("published", name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None  # c, x, z, k, low: suppressed or not applicable


@lru_cache(maxsize=1)
def _councils() -> dict[str, Council]:
    """Every council with published children-looked-after figures for 2025 (the current 153),
    with its population and figures."""
    population: dict[str, dict[int, float]] = {}
    for row in _published_rows("ons_mid-year_population_estimates_2012_to_2024.csv"):
        value = _number(row["population_estimate"])
        if row["geographic_level"] == "Local authority" and value:
            population.setdefault(row["new_la_code"], {})[int(row["time_period"])] = value
    national_population = {
        int(r["time_period"]): float(r["population_estimate"])
        for r in _published_rows("ons_mid-year_population_estimates_2012_to_2024.csv")
        if r["geographic_level"] == "National"
    }
    figures: dict[str, dict[str, list[float]]] = {}

    def add(code: str, key: str, year: int, count: float | None, per_10k: bool) -> None:
        if count is None or year not in PUBLISHED_YEARS:
            return
        if per_10k:
            people = population.get(code) if code else national_population
            if not people:
                return
            known = sorted(people)
            base = min(known, key=lambda y: abs(y - (year - 1)))
            count = count / people[base] * 1e4
        figures.setdefault(code, {}).setdefault(key, []).append(count)

    def level(row: dict[str, str]) -> str | None:
        if row["geographic_level"] == "National":
            return ""
        return row["new_la_code"] if row["geographic_level"] == "Local authority" else None

    info: dict[str, tuple[str, str, str]] = {}
    for row in _published_rows("cla_number_and_rate_per_10k_children.csv"):
        code = level(row)
        if code is None:
            continue
        year, kind = int(row["time_period"]), row["population_type"]
        if code and year == 2025 and "on 31 March" in kind and _number(row["population_estimate"]):
            info[code] = (row["old_la_code"], row["la_name"], row["region_code"])
        key = {
            "Children looked after on 31 March each year": "cla_per_10k",
            "Children starting to be looked after each year": "starts_per_10k",
        }.get(kind)
        if key:
            add(code, key, year, _number(row["children_count"]), per_10k=True)
    for name, columns in (
        ("b1_children_in_need_2013_to_2025.csv", {"At31_episodes": "cin_per_10k"}),
        (
            "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
            {"referral_count": "referrals_per_10k", "rereferral_percent": "re_referral_percent"},
        ),
        (
            "d3_cpps_subsequent_plan_2013_to_2025.csv",
            {"CPP_start": "cp_starts_per_10k", "CPP_subsequent_percent": "repeat_cp_percent"},
        ),
        ("d5_cpps_at31march_by_duration_2013_to_2025.csv", {"CPP_At31": "cp_per_10k"}),
    ):
        for row in _published_rows(name):
            code = level(row)
            if code is None:
                continue
            for column, key in columns.items():
                add(code, key, int(row["time_period"]), _number(row[column]), "10k" in key)
    national = {k: float(np.mean(v)) for k, v in figures[""].items()}
    councils = {}
    for code, (old, name, region) in sorted(info.items()):
        own = {k: float(np.mean(v)) for k, v in figures.get(code, {}).items()}
        councils[code] = Council(code, old, name, region, population[code], {**national, **own})
    return councils


@lru_cache(maxsize=1)
def _old_codes() -> Arr:
    return np.array([c.old_code for c in _councils().values()], dtype=object)


def councils_in_england() -> list[str]:
    """The new LA codes of the 153 councils with children's services in England today."""
    return list(_councils())


def _council(code: str) -> Council:
    try:
        return _councils()[code]
    except KeyError:
        raise WhatworksError(
            f"{code!r} is not a current council's new LA code (such as E09000003); "
            "see councils_in_england()"
        ) from None


# --- interventions and parameters -------------------------------------------------------


@dataclass(frozen=True)
class Intervention:
    """A planted effect: from collection year `from_year` in `councils`, `measure` changes
    by `change` (relative for "starts", percentage points for the others)."""

    measure: str
    councils: tuple[str, ...]
    from_year: int
    change: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "councils", tuple(self.councils))
        if self.measure not in MEASURES:
            raise WhatworksError(
                f"Intervention measure {self.measure!r} is not one of {', '.join(MEASURES)}"
            )
        if self.measure == "starts" and self.change <= -1:
            raise WhatworksError("A change in starts is relative and must be above -1 (-100%)")
        for code in self.councils:
            _council(code)


def _effect(interventions: Sequence[Intervention], council: str, measure: str) -> Arr:
    """The change in a measure for each collection year 0..LAST_YEAR+1 (index = year)."""
    change = np.zeros(LAST_YEAR + 2)
    for item in interventions:
        if item.measure == measure and council in item.councils:
            change[max(item.from_year, 0) :] += item.change
    return change


# --- random helpers ---------------------------------------------------------------------


def _pick(rng: np.random.Generator, n: int, codes: Sequence[str], weights: Sequence[float]) -> Arr:
    """`n` codes drawn with these weights, as an object array."""
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    chosen = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    result: Arr = np.asarray(codes, dtype=object)[np.minimum(chosen, len(codes) - 1)]
    return result


def _lognormal(rng: np.random.Generator, median: Arr | float, sigma: float, n: int) -> Arr:
    result: Arr = np.asarray(median) * np.exp(sigma * rng.standard_normal(n))
    return result


def _ints(values: Arr) -> Arr:
    result: Arr = np.rint(values).astype(np.int64)
    return result


def _next(values: Arr, fill: Any) -> Arr:
    """Each element's successor (`fill` after the last)."""
    result: Arr = np.append(values[1:], fill)[: len(values)].astype(values.dtype)
    return result


def _previous(values: Arr, fill: Any) -> Arr:
    """Each element's predecessor (`fill` before the first)."""
    result: Arr = np.append(fill, values[:-1])[: len(values)].astype(values.dtype)
    return result


def _stream(seed: int, *labels: str | int) -> np.random.Generator:
    """An independent random stream for a seed and labels (a council, a year, a table)."""
    text = "/".join(str(label) for label in (seed, *labels)).encode()
    words = np.frombuffer(hashlib.sha256(text).digest(), dtype=np.uint32)
    return np.random.default_rng(np.random.SeedSequence(words.tolist()))


def _table(text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Codes and their weights, written "code weight code weight ..."."""
    words = text.split()
    return tuple(words[::2]), tuple(float(w) for w in words[1::2])


# --- periods of care ----------------------------------------------------------------------

ADOPT, SGO, CAO, HOME, LONG, MOVED, DIED, REMAND, AGE_ASSESSED = range(9)
#: Age at entry (days from, to, share of entries) for children who are not UASC (DfE starts
#: by age: about a fifth under one, a third 10-15, a sixth 16-17).
ENTRY_AGES = (
    (0, 30, 0.08),
    (30, 365, 0.10),
    (365, 1826, 0.15),
    (1826, 3652, 0.16),
    (3652, 5844, 0.34),
    (5844, 6540, 0.17),
)
UASC_AGES = ((5113, 5479, 0.08), (5479, 5844, 0.22), (5844, 6209, 0.42), (6209, 6540, 0.28))
#: Share of first entries who are unaccompanied asylum-seeking children.
UASC_SHARE = 0.12
AGE_BANDS = np.array([0, 365, 1826, 3652, 5844])  # under 1, 1-4, 5-9, 10-15, 16-17
#: Outcome of a period by age band at entry: adoption, special guardianship, child
#: arrangements order, return home, long stay, moved to another council, died.
OUTCOMES = np.array(
    [
        [0.40, 0.18, 0.03, 0.22, 0.15, 0.015, 0.005],
        [0.22, 0.20, 0.05, 0.33, 0.18, 0.018, 0.002],
        [0.03, 0.12, 0.05, 0.45, 0.33, 0.019, 0.001],
        [0.00, 0.04, 0.02, 0.44, 0.48, 0.019, 0.001],
        [0.00, 0.00, 0.00, 0.30, 0.68, 0.019, 0.001],
    ]
)
REMAND_SHARE = 0.04  # of entries aged 14 or over
REENTRY = 0.25  # chance a child who went home before 15 1/2 comes back into care
#: (median days, sigma) of a period's length before the council's scale, by outcome.
LENGTHS = {SGO: (620, 0.5), CAO: (420, 0.6), HOME: (130, 1.2), LONG: (2200, 0.7), MOVED: (200, 1.0)}
AGED_OUT = _table("E17 0.18 E13 0.05 E5 0.42 E6 0.1 E8 0.17 E7 0.05 E9 0.03")
LEFT_16_17 = _table("E5 0.3 E6 0.12 E4A 0.22 E4B 0.05 E8 0.2 E9 0.04 E16 0.02 E13 0.05")
LEFT_YOUNG = ("E4A", "E4B", "E8", "E41", "E16"), (0.60, 0.10, 0.20, 0.05, 0.05)
UASC_LEFT = ("E8", "E16"), (0.75, 0.25)


def _entry_ages(rng: np.random.Generator, n: int, table: Sequence[tuple[int, int, float]]) -> Arr:
    bands = rng.choice(len(table), size=n, p=np.array([w for *_, w in table]))
    lo = np.array([t[0] for t in table])[bands]
    hi = np.array([t[1] for t in table])[bands]
    result: Arr = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    return result


def _care_outcomes(
    rng: np.random.Generator, start: Arr, dob: Arr, uasc: Arr, theta: Arr | float
) -> dict[str, Arr]:
    """Outcome, end, final REC (before year-specific codes) and adoption placement day of
    periods of care starting on `start`."""
    n = len(start)
    age = start - dob
    band = np.searchsorted(AGE_BANDS, age, side="right") - 1
    cumulative = np.cumsum(OUTCOMES, axis=1)[band]
    outcome = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    outcome[(age >= 5113) & (rng.random(n) < REMAND_SHARE) & ~uasc] = REMAND
    u = rng.random(n)
    outcome[uasc] = np.select([u[uasc] < 0.04, u[uasc] < 0.10], [AGE_ASSESSED, MOVED], LONG)
    theta = np.broadcast_to(np.asarray(theta, dtype=float), (n,))
    length = np.full(n, float(NEVER))
    for kind, (median, sigma) in LENGTHS.items():
        chosen = outcome == kind
        length[chosen] = _lognormal(rng, median * theta[chosen], sigma, int(chosen.sum()))
    older = (outcome == LONG) & (band == 4)
    length[older] = np.where(
        rng.random(int(older.sum())) < 0.7,
        NEVER,
        _lognormal(rng, 150 * theta[older], 1.0, int(older.sum())),
    )
    uasc_long = uasc & (outcome == LONG)
    length[uasc_long] = np.where(
        u[uasc_long] < 0.13, _lognormal(rng, 300, 0.8, int(uasc_long.sum())), NEVER
    )
    chosen = uasc & (outcome == MOVED)
    length[chosen] = rng.integers(5, 60, int(chosen.sum()))
    chosen = outcome == AGE_ASSESSED
    length[chosen] = rng.integers(30, 200, int(chosen.sum()))
    chosen = outcome == DIED
    length[chosen] = rng.integers(1, 700, int(chosen.sum()))
    chosen = outcome == REMAND
    length[chosen] = _lognormal(rng, 60, 0.8, int(chosen.sum()))
    place = np.full(n, NEVER, dtype=np.int64)
    adopt = outcome == ADOPT
    k = int(adopt.sum())
    place[adopt] = start[adopt] + np.maximum(150, _ints(rng.normal(420, 120, k)))
    length[adopt] = place[adopt] - start[adopt] + np.maximum(90, rng.normal(250, 90, k))
    eighteen = _add_years(dob, 18)
    end = np.minimum(start + np.maximum(1, _ints(np.minimum(length, NEVER))), eighteen)
    end = np.maximum(end, start + 1)
    aged_out = end >= eighteen
    rec = np.empty(n, dtype=object)
    rec[outcome == ADOPT] = _pick(rng, k, ("E11", "E12"), (0.3, 0.7))
    chosen = outcome == SGO
    rec[chosen] = _pick(rng, int(chosen.sum()), ("E45", "E46", "E47", "E48"), (7, 3, 7, 3))
    rec[outcome == CAO] = "E41"
    chosen = outcome == HOME
    rec[chosen] = _pick(rng, int(chosen.sum()), ("E4A", "E4B"), (0.85, 0.15))
    rec[outcome == MOVED] = "E3"
    rec[outcome == DIED] = "E2"
    chosen = outcome == REMAND
    rec[chosen] = _pick(rng, int(chosen.sum()), ("E14", "E9"), (0.7, 0.3))
    rec[outcome == AGE_ASSESSED] = "E15"
    exit_age = end - dob
    for mask, (codes, weights) in (
        ((outcome == LONG) & (exit_age >= 5844), LEFT_16_17),
        ((outcome == LONG) & (exit_age < 5844), LEFT_YOUNG),
        (uasc & (outcome == LONG), UASC_LEFT),
        (aged_out, AGED_OUT),
    ):
        rec[mask] = _pick(rng, int(mask.sum()), codes, weights)
    outcome[aged_out] = LONG
    place[aged_out] = NEVER
    return {"end": end, "outcome": outcome, "rec": rec, "place": place}


def _goes_back(outcome: dict[str, Arr], dob: Arr, uasc: Arr) -> Arr:
    """Which periods end in a return home young enough for the child to come back."""
    went_home = np.isin(outcome["rec"], ("E4A", "E4B"))
    result: Arr = went_home & (outcome["end"] - dob < 5660) & ~uasc
    return result


def _reentry_start(rng: np.random.Generator, end: Arr) -> Arr:
    result: Arr = end + np.maximum(30, _ints(_lognormal(rng, 420, 0.9, len(end))))
    return result


@lru_cache(maxsize=1)
def _care_curve() -> tuple[Arr, Arr, Arr]:
    """For a grid of duration scales: days in care and starts per first entry (with
    re-entries), from a fixed sample of entries. Used to set each council's scale."""
    thetas = np.geomspace(0.15, 6.0, 25)
    days, starts = [], []
    for theta in thetas:
        rng = np.random.default_rng(20260501)
        n = 10000
        uasc = rng.random(n) < UASC_SHARE
        age = np.where(uasc, _entry_ages(rng, n, UASC_AGES), _entry_ages(rng, n, ENTRY_AGES))
        start = np.full(n, _day(2000, 1, 1))
        dob = start - age
        total, count = 0.0, n
        for _ in range(4):
            out = _care_outcomes(rng, start, dob, uasc, theta)
            total += float((out["end"] - start).sum())
            back = _goes_back(out, dob, uasc) & (rng.random(len(start)) < REENTRY)
            start = _reentry_start(rng, out["end"][back])
            dob, uasc = dob[back], uasc[back]
            keep = start < _add_years(dob, 16)
            start, dob, uasc = start[keep], dob[keep], uasc[keep]
            count += len(start)
        days.append(total / n)
        starts.append(count / n)
    return thetas, np.array(days), np.array(starts)


# --- council parameters ----------------------------------------------------------------


@dataclass(frozen=True)
class CouncilParameters:
    """What the simulation of one council uses, derived from its published figures."""

    code: str
    old_code: str
    name: str
    targets: dict[str, float]
    care_scale: float  # multiplies the length of periods of care
    first_entries_per_10k: float  # a year, before re-entries
    move_rate: float  # placement moves a year (before age and the child's own rate)
    missing_rate: float  # multiplies missing and away episodes
    careers_per_10k: float  # children starting a career of referrals, a year
    cin_plan_scale: float
    cp_scale: float
    cp_first: float  # chance a referral leads to a CP plan (no earlier plan)
    cp_repeat: float  # the same for a child who has had a plan
    quick_re_referral: float  # chance a further referral comes within 12 months
    career_share: tuple[float, float]  # of referrals, and of CP plans, made in careers
    assessment_days: float  # median working days of an assessment
    eet: float  # chance a care leaver aged 19-21 in touch is in education or work
    sdq_mean: float


# --- care: periods, episodes and the rest ------------------------------------------------

MOVE_AGE = np.array([0.5, 0.6, 0.8, 1.35, 1.1])  # placement moves by age band at entry
MOVE_SHAPE = 0.6  # gamma shape of each child's own rate of moves (mean 1)
EARLY_MOVE = 0.3  # chance the first placement is an emergency one, soon changed
C1_SHARE = np.array([0.75, 0.62, 0.48, 0.32, 0.15])  # interim care order at entry, by band
#: Placement types (codes, weights) by age at the start of the placement; SEMI is
#: semi-independent or supported accommodation (H5 to March 2024, K3 from April 2024).
PLACEMENTS = {
    "young": (("U6", "U4", "U3", "U1", "K2", "R3"), (0.51, 0.20, 0.14, 0.09, 0.02, 0.01)),
    "middle": (
        ("U6", "U4", "U3", "U1", "K2", "K1", "S1", "R1", "R5"),
        (0.36, 0.20, 0.08, 0.05, 0.26, 0.01, 0.02, 0.01, 0.005),
    ),
    "older": (
        ("U6", "U4", "U3", "U1", "K2", "SEMI", "S1", "R5", "R2"),
        (0.20, 0.15, 0.05, 0.04, 0.16, 0.37, 0.01, 0.01, 0.01),
    ),
    "uasc_young": (("U6", "K2"), (0.7, 0.3)),
    "uasc_older": (("SEMI", "U6", "K2"), (0.6, 0.3, 0.1)),
    "remand": (("K2", "U6", "R5", "K1"), (0.4, 0.3, 0.2, 0.1)),
}
PROVIDERS = {
    "U": (("PR1", "PR4", "PR5", "PR2"), (0.6, 0.33, 0.04, 0.03)),
    "A": (("PR1", "PR5", "PR2", "PR4"), (0.65, 0.2, 0.1, 0.05)),
    "K2": (("PR4", "PR1", "PR5"), (0.72, 0.2, 0.08)),
    "K1": (("PR1", "PR2"), (0.5, 0.5)),
    "SEMI": (("PR4", "PR1", "PR5"), (0.7, 0.2, 0.1)),
    "S1": (("PR4", "PR5", "PR3"), (0.6, 0.3, 0.1)),
    "R1": (("PR4", "PR5"), (0.8, 0.2)),
    "R3": (("PR4", "PR5"), (0.6, 0.4)),
    "R2": (("PR3",), (1.0,)),
    "R5": (("PR3",), (1.0,)),
    "P1": (("PR0",), (1.0,)),
}
NO_URN = {"P1", "P3", "R1", "R2", "R5", "T0", "T1", "T2", "T3", "T4", "Z1"}
MOVE_REASONS = _table(
    "CARPL 0.45 CREQB 0.12 CREQO 0.08 CHILD 0.08 LAREQ 0.05 STAND 0.03 ALLEG 0.02 "
    "CLOSE 0.04 APPRR 0.01 OTHER 0.12"
)
NEEDS = _table("N1 0.65 N2 0.03 N3 0.03 N4 0.07 N5 0.13 N6 0.02 N7 0.002 N8 0.068")
ETHNICITY = _table(
    "WBRI 0.66 WIRI 0.003 WOTH 0.05 WIRT 0.003 WROM 0.01 MWBC 0.03 MWBA 0.01 MWAS 0.01 "
    "MOTH 0.03 AIND 0.006 APKN 0.015 ABAN 0.008 AOTH 0.02 BCRB 0.01 BAFR 0.04 BOTH 0.015 "
    "CHNE 0.002 OOTH 0.03 REFU 0.002 NOBT 0.006"
)
UASC_ETHNICITY = ("BAFR", "AOTH", "OOTH", "WOTH", "BOTH"), (0.35, 0.25, 0.3, 0.05, 0.05)
#: Postcode areas by region (the council's own region for homes and most placements).
POSTCODE_AREAS = {
    "E12000001": ("NE", "DH", "SR", "TS", "DL"),
    "E12000002": ("M", "L", "WA", "BL", "OL", "PR", "BB", "CA", "LA", "FY", "CH", "WN", "SK"),
    "E12000003": ("LS", "BD", "S", "HU", "DN", "YO", "HD", "HX", "WF", "HG"),
    "E12000004": ("NG", "DE", "LE", "LN", "NN"),
    "E12000005": ("B", "CV", "WV", "WS", "DY", "ST", "TF", "WR", "HR"),
    "E12000006": ("CB", "IP", "NR", "CO", "CM", "SS", "LU", "SG", "AL", "PE"),
    "E13000001": ("E", "N", "NW", "SE", "SW", "W", "EC", "WC"),
    "E13000002": ("BR", "CR", "DA", "EN", "HA", "IG", "KT", "RM", "SM", "TW", "UB"),
    "E12000008": ("BN", "GU", "RH", "TN", "ME", "CT", "OX", "RG", "SL", "MK", "HP", "SO", "PO"),
    "E12000009": ("BS", "BA", "EX", "PL", "TQ", "TR", "TA", "GL", "SN", "BH", "DT", "SP"),
}
INWARD = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)
SW_REASONS = _table(
    "LEFTRL 0.4 MANAGE 0.15 ORGRST 0.1 TSPROC 0.15 ABSENC 0.05 CHCHAN 0.03 PCCHAN 0.02 "
    "FCONTA 0.02 OTHERS 0.08"
)
REVIEW_CODES = ("PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"), (35, 5, 5, 15, 25, 10, 5)


def _postcodes(rng: np.random.Generator, region: str, n: int, local: float = 0.75) -> Arr:
    """Well-formed postcodes, most in the council's region."""
    own = np.array(POSTCODE_AREAS.get(region, ("B",)), dtype=object)
    every = np.array(sorted({a for v in POSTCODE_AREAS.values() for a in v}), dtype=object)
    area = np.where(
        rng.random(n) < local,
        own[rng.integers(0, len(own), n)],
        every[rng.integers(0, len(every), n)],
    )
    district = rng.integers(1, 30, n).astype(str).astype(object)
    sector = rng.integers(0, 10, n).astype(str).astype(object)
    unit = INWARD[rng.integers(0, len(INWARD), n)] + INWARD[rng.integers(0, len(INWARD), n)]
    result: Arr = area + district + " " + sector + unit
    return result


@dataclass
class _Care:
    """One council's simulated care as arrays: children (numbered from 0), their periods of
    care (by child and start), the episodes of the periods that reach the years asked for,
    and reviews, missing episodes, adoption decisions, adoptions and social workers."""

    children: dict[str, Arr]
    periods: dict[str, Arr]
    episodes: dict[str, Arr]
    reviews: dict[str, Arr]
    missing: dict[str, Arr]
    decisions: dict[str, Arr]
    adoptions: dict[str, Arr]
    social_workers: dict[str, Arr]


def _first_entries(
    rng: np.random.Generator,
    council: Council,
    parameters: CouncilParameters,
    first_year: int,
    last_year: int,
    scale: float,
    starts: Arr,
) -> tuple[Arr, Arr, Arr]:
    """Start, date of birth and UASC flag of children's first periods of care."""
    years = range(first_year - CARE_BURN_IN + 1, last_year + 2)
    expected = np.array(
        [
            parameters.first_entries_per_10k * council.children(y) / 1e4 * scale * starts[y]
            for y in years
        ]
    )
    counts = rng.poisson(expected)
    first_days = np.array([_bounds(y)[0] for y in years])
    lengths = np.array([_bounds(y)[1] - _bounds(y)[0] + 1 for y in years])
    start = np.repeat(first_days, counts) + (
        rng.random(int(counts.sum())) * np.repeat(lengths, counts)
    ).astype(np.int64)
    n = len(start)
    uasc = rng.random(n) < UASC_SHARE
    age = np.where(uasc, _entry_ages(rng, n, UASC_AGES), _entry_ages(rng, n, ENTRY_AGES))
    return start, start - age, uasc


def _periods(
    rng: np.random.Generator,
    council: Council,
    parameters: CouncilParameters,
    first_year: int,
    last_year: int,
    scale: float,
    starts: Arr,
) -> dict[str, Arr]:
    """Every period of care (first entries and re-entries) of children who matter to the
    years asked for, sorted by child and start."""
    start, dob, uasc = _first_entries(
        rng, council, parameters, first_year, last_year, scale, starts
    )
    child = np.arange(len(start))
    parts = []
    for _ in range(5):
        out = _care_outcomes(rng, start, dob, uasc, parameters.care_scale)
        parts.append({"child": child, "start": start, "dob": dob, "uasc": uasc, **out})
        back = _goes_back(out, dob, uasc)
        again = _reentry_start(rng, out["end"][back])
        chance = REENTRY * starts[np.clip(_collection_year(again), 0, LAST_YEAR + 1)]
        keep = (rng.random(len(again)) < chance) & (again < _add_years(dob[back], 16))
        keep &= again <= _bounds(last_year + 1)[1]
        child, start = child[back][keep], again[keep]
        dob, uasc = dob[back][keep], uasc[back][keep]
        if not len(start):
            break
    periods = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((periods["start"], periods["child"]))
    periods = {k: v[order] for k, v in periods.items()}
    # keep children who matter: in care from a year before the first year, or care leavers
    window = _bounds(first_year)[0]
    last_end = np.zeros(int(periods["child"].max(initial=0)) + 1, dtype=np.int64)
    np.maximum.at(last_end, periods["child"], periods["end"])
    exit_age = last_end[periods["child"]] - periods["dob"]
    wanted = (last_end[periods["child"]] >= window - 400) | (
        (exit_age >= 5844) & (last_end[periods["child"]] >= window - 6 * 366)
    )
    periods = {k: v[wanted] for k, v in periods.items()}
    _, periods["child"] = np.unique(periods["child"], return_inverse=True)
    return periods


def _legal_status_events(
    rng: np.random.Generator, p: dict[str, Arr], adopt_u: Arr
) -> tuple[Arr, list[tuple[Arr, Arr, Arr]]]:
    """Legal status at the start of each period and its changes: (period, day, status)."""
    n = len(p["start"])
    start, end, outcome, uasc = p["start"], p["end"], p["outcome"], p["uasc"]
    band = np.searchsorted(AGE_BANDS, start - p["dob"], side="right") - 1
    plain = ~uasc & (outcome != REMAND)
    main = np.where((rng.random(n) < C1_SHARE[band]) | (outcome == ADOPT), "C1", "V2")
    main = np.where(plain, main, np.where(uasc, "V2", "J1")).astype(object)
    u = rng.random(n)
    emergency = np.where(plain & (u < 0.06), "L1", np.where(plain & (u < 0.09), "L2", ""))
    first = np.where(emergency != "", emergency, main).astype(object)
    lasting = np.where(
        emergency == "L1",
        start + rng.integers(1, 4, n),
        np.where(emergency == "L2", start + rng.integers(2, 15, n), start),
    )
    events = [(np.flatnonzero(emergency != ""), lasting[emergency != ""], main[emergency != ""])]
    full = lasting + np.maximum(60, _ints(rng.normal(300, 90, n)))
    to_c2 = (main == "C1") & (outcome != ADOPT)
    events.append((np.flatnonzero(to_c2), full[to_c2], np.full(int(to_c2.sum()), "C2", object)))
    later = plain & (main == "V2") & (end - start > 120) & (rng.random(n) < 0.12)
    when = start + 30 + (rng.random(n) * np.maximum(1, end - start - 31)).astype(np.int64)
    events.append((np.flatnonzero(later), when[later], np.full(int(later.sum()), "C1", object)))
    again = later & (when + 300 < end)
    events.append(
        (np.flatnonzero(again), when[again] + 300, np.full(int(again.sum()), "C2", object))
    )
    adopt = outcome == ADOPT
    order_day = np.where(
        adopt_u, p["place"], np.maximum(lasting + 30, p["place"] - rng.integers(20, 120, n))
    )
    events.append(
        (np.flatnonzero(adopt), order_day[adopt], np.full(int(adopt.sum()), "E1", object))
    )
    return first, events


def _placement_events(
    rng: np.random.Generator,
    p: dict[str, Arr],
    parameters: CouncilParameters,
    moves: Arr,
    last_day: int,
) -> tuple[list[tuple[Arr, Arr]], Arr]:
    """Days of placement moves (period, day), and the day of a final move home (P1)."""
    n = len(p["start"])
    start, end, outcome = p["start"], p["end"], p["outcome"]
    band = np.searchsorted(AGE_BANDS, start - p["dob"], side="right") - 1
    home = np.full(n, NEVER, dtype=np.int64)
    candidates = (outcome == HOME) & (end - start > 365) & ~p["uasc"]
    home_day = end - rng.integers(60, 300, n)
    chosen = candidates & (rng.random(n) < 0.35) & (home_day > start + 30)
    home[chosen] = home_day[chosen]
    limit = np.minimum(np.minimum(end, p["place"]), home)
    limit = np.minimum(limit, last_day + 1)
    rate = parameters.move_rate * MOVE_AGE[band] * rng.gamma(MOVE_SHAPE, 1 / MOVE_SHAPE, n)
    top = float(moves.max())
    span = np.maximum(limit - start, 0)
    count = np.minimum(rng.poisson(rate * top * span / 365.25), 400)
    period = np.repeat(np.arange(n), count)
    day = start[period] + (rng.random(len(period)) * span[period]).astype(np.int64)
    year = np.clip(_collection_year(day), 0, LAST_YEAR + 1)
    keep = rng.random(len(period)) < moves[year] / top
    events = [(period[keep], day[keep])]
    early = rng.random(n) < EARLY_MOVE
    early_day = start + np.maximum(1, _ints(rng.exponential(20, n)))
    early &= early_day < limit
    events.append((np.flatnonzero(early), early_day[early]))
    return events, home


def _merge_events(
    n: int,
    start: Arr,
    first_ls: Arr,
    ls_events: list[tuple[Arr, Arr, Arr]],
    moves: list[tuple[Arr, Arr]],
    special: list[tuple[Arr, Arr, int, Arr]],
    end: Arr,
) -> dict[str, Arr]:
    """Episodes of `n` periods from legal status changes, moves and forced placements
    (period, day, forced kind, same carer): one episode per day something changed."""
    empty = np.zeros(0, dtype=np.int64)
    periods, days, statuses, places, forced, same = [np.arange(n)], [start], [first_ls], [], [], []
    places.append(np.ones(n, bool))
    forced.append(np.zeros(n, np.int64))
    same.append(np.zeros(n, bool))
    for period, day, status in ls_events:
        periods.append(period)
        days.append(day)
        statuses.append(status)
        places.append(np.zeros(len(period), bool))
        forced.append(np.zeros(len(period), np.int64))
        same.append(np.zeros(len(period), bool))
    for period, day, forced_kind, same_carer in [
        (p, d, 0, np.zeros(len(p), bool)) for p, d in moves
    ] + [(p, d, k, s) for p, d, k, s in special]:
        periods.append(period)
        days.append(day)
        statuses.append(np.full(len(period), "", dtype=object))
        places.append(np.ones(len(period), bool))
        forced.append(np.full(len(period), forced_kind, dtype=np.int64))
        same.append(same_carer)
    period = np.concatenate(periods or [empty])
    day = np.concatenate(days)
    status = np.concatenate(statuses)
    place = np.concatenate(places)
    kind = np.concatenate(forced)
    carer = np.concatenate(same)
    first = np.zeros(len(period), bool)
    first[:n] = True
    inside = first | ((day > start[period]) & (day < end[period]))
    period, day, status, place, kind, carer, first = (
        a[inside] for a in (period, day, status, place, kind, carer, first)
    )
    order = np.lexsort((~first, day, period))
    period, day, status, place, kind, carer, first = (
        a[order] for a in (period, day, status, place, kind, carer, first)
    )
    new = np.ones(len(period), bool)
    new[1:] = (period[1:] != period[:-1]) | (day[1:] != day[:-1])
    group = np.cumsum(new) - 1
    heads = np.flatnonzero(new)
    merged_status = np.full(len(heads), "", dtype=object)
    has = status != ""
    merged_status[group[has]] = status[has]
    merged_place = np.zeros(len(heads), bool)
    np.logical_or.at(merged_place, group, place)
    merged_kind = np.zeros(len(heads), np.int64)
    np.maximum.at(merged_kind, group, kind)
    merged_carer = np.zeros(len(heads), bool)
    np.logical_or.at(merged_carer, group, carer)
    episodes = {
        "period": period[heads],
        "day": day[heads],
        "status": merged_status,
        "place": merged_place,
        "forced": merged_kind,
        "same": merged_carer,
        "first": first[heads],
    }
    # legal status carried forward; drop changes to the status a child already has
    set_at = np.where(episodes["status"] != "", np.arange(len(heads)), 0)
    current = episodes["status"][np.maximum.accumulate(set_at)]
    previous = np.empty_like(current)
    previous[:1] = ""
    previous[1:] = current[:-1]
    changed = ~episodes["first"] & (episodes["status"] != "") & (episodes["status"] != previous)
    keep = episodes["first"] | episodes["place"] | changed
    episodes = {k: v[keep] for k, v in episodes.items()}
    episodes["ls"] = current[keep]
    episodes["ls_changed"] = changed[keep]
    return episodes


def _urn_pools(rng: np.random.Generator) -> dict[str, Arr]:
    """Ofsted URNs a council places with: its own fostering and adoption services,
    agencies, children's homes, supported accommodation and schools."""

    def sc(n: int) -> Arr:
        result: Arr = np.array([f"SC{x:06d}" for x in rng.integers(0, 999999, n)], dtype=object)
        return result

    return {
        "own_fostering": sc(1),
        "own_adoption": sc(1),
        "agencies": sc(30),
        "adoption_agencies": sc(12),
        "homes": sc(150),
        "supported": np.array([f"2{x:06d}" for x in rng.integers(0, 999999, 40)], dtype=object),
        "schools": np.array([str(x) for x in rng.integers(100000, 150000, 25)], dtype=object),
    }


def _choose(rng: np.random.Generator, table: tuple[Sequence[str], Sequence[float]], n: int) -> Arr:
    return _pick(rng, n, table[0], table[1])


def _placement_types(rng: np.random.Generator, seg: dict[str, Arr], last_year: int) -> Arr:
    """The PLACE code of each placement (segment of a period with the same placement)."""
    n = len(seg["day"])
    age = seg["day"] - seg["dob"]
    group = np.where(
        seg["remand"],
        "remand",
        np.where(
            seg["uasc"],
            np.where(age >= 5844, "uasc_older", "uasc_young"),
            np.where(age < 3652, "young", np.where(age < 5844, "middle", "older")),
        ),
    )
    code = np.empty(n, dtype=object)
    for name, table in PLACEMENTS.items():
        chosen = group == name
        code[chosen] = _choose(rng, table, int(chosen.sum()))
    code[seg["forced"] == 1] = "P1"
    code[seg["forced"] == 2] = "A6"
    code[seg["forced"] == 3] = "A5"
    adoption = np.flatnonzero(seg["forced"] >= 2)
    before = adoption - 1
    foster = np.isin(code[before], ("U1", "U2", "U3", "U4", "U5", "U6"))
    code[before] = np.where(
        seg["forced"][adoption] == 3, "U5", np.where(foster, code[before], "U6")
    )
    rec = seg["rec"]
    last = seg["last"]
    kin = last & (rec == "E45")
    code[kin] = np.where(rng.random(int(kin.sum())) < 0.5, "U1", "U3")
    other = last & (rec == "E46")
    code[other] = np.where(rng.random(int(other.sum())) < 0.5, "U4", "U6")
    home = (code == "P1") & ~np.isin(seg["ls"], ("C1", "C2"))
    code[home] = "U6"
    # a code must be allowed in every return its placement appears in
    first = np.clip(_collection_year(seg["day"]), FIRST_YEAR, LAST_YEAR)
    final = np.clip(np.minimum(_collection_year(seg["end"]), last_year), FIRST_YEAR, LAST_YEAR)
    shown = _collection_year(seg["end"]) >= FIRST_YEAR

    def allowed(place: str) -> Arr:
        lo, hi = _place_years(place)
        result: Arr = ~shown | ((first >= lo) & (final <= hi))
        return result

    semi = code == "SEMI"
    code[semi] = np.where(
        allowed("H5")[semi],
        "H5",
        np.where(
            allowed("K3")[semi], "K3", np.where(rng.random(int(semi.sum())) < 0.4, "K2", "U6")
        ),
    )
    for place in np.unique(code):
        bad = (code == place) & ~allowed(str(place))
        code[bad] = "U6"
    return code


def _providers(rng: np.random.Generator, code: Arr, pools: dict[str, Arr]) -> tuple[Arr, Arr]:
    """Placement provider and Ofsted URN of each placement."""
    n = len(code)
    family = np.where(
        np.isin(code, ("U1", "U2", "U3", "U4", "U5", "U6")),
        "U",
        np.where(np.isin(code, ("A3", "A4", "A5", "A6")), "A", code),
    )
    family = np.where(np.isin(code, ("H5", "K3")), "SEMI", family)
    provider = np.full(n, "PR1", dtype=object)
    for name, table in PROVIDERS.items():
        chosen = family == name
        provider[chosen] = _choose(rng, table, int(chosen.sum()))

    def draw(pool: str) -> Arr:
        values = pools[pool]
        result: Arr = values[rng.integers(0, len(values), n)]
        return result

    urn = np.full(n, "", dtype=object)
    own = provider == "PR1"
    urn = np.where((family == "U") & own, pools["own_fostering"][0], urn)
    urn = np.where((family == "U") & ~own, draw("agencies"), urn)
    urn = np.where((family == "A") & own, pools["own_adoption"][0], urn)
    urn = np.where((family == "A") & ~own, draw("adoption_agencies"), urn)
    urn = np.where(np.isin(code, ("K1", "K2")), draw("homes"), urn)
    urn = np.where(code == "K3", draw("supported"), urn)
    urn = np.where(code == "S1", draw("schools"), urn)
    urn = np.where(np.isin(code, ("H5", "R3")), "XXXXXXX", urn)
    urn = np.where(np.isin(code, list(NO_URN)), "", urn)
    return provider, urn.astype(object)


def _rec_for_year(rec: Arr, year: Arr) -> Arr:
    """A period's final REC as the year it ended allows (SGO E43/E44 before 2018/19)."""
    result = rec.copy()
    for y in np.unique(year):
        allowed = _codes(int(np.clip(y, FIRST_YEAR, LAST_YEAR)), "episodes", "REC")
        if "E45" not in allowed:
            chosen = year == y
            result[chosen & np.isin(rec, ("E45", "E46"))] = "E43"
            result[chosen & np.isin(rec, ("E47", "E48"))] = "E44"
    return result


def _episodes(
    rng: np.random.Generator,
    p: dict[str, Arr],
    parameters: CouncilParameters,
    moves: Arr,
    last_year: int,
    pools: dict[str, Arr],
    region: str,
) -> dict[str, Arr]:
    """The episodes of these periods of care, with every SSDA903 episode field."""
    n = len(p["start"])
    last_day = _bounds(last_year)[1]
    adopt_u = (p["outcome"] == ADOPT) & (rng.random(n) < 0.15)
    first_ls, ls_events = _legal_status_events(rng, p, adopt_u)
    moves_events, home_day = _placement_events(rng, p, parameters, moves, last_day)
    adopt = np.flatnonzero(p["outcome"] == ADOPT)
    home = np.flatnonzero(home_day < NEVER)
    special = [
        (adopt, p["place"][adopt], 2, adopt_u[adopt]),
        (home, home_day[home], 1, np.zeros(len(home), bool)),
    ]
    e = _merge_events(n, p["start"], first_ls, ls_events, moves_events, special, p["end"])
    e["forced"] = np.where((e["forced"] == 2) & adopt_u[e["period"]], 3, e["forced"])
    count = len(e["period"])
    following = _next(e["period"], -1) == e["period"]
    e_end = np.where(following, _next(e["day"], 0), p["end"][e["period"]])
    seg_of = np.cumsum(e["place"]) - 1
    heads = np.flatnonzero(e["place"])
    seg_period = e["period"][heads]
    seg_last = _next(seg_period, -1) != seg_period
    seg_end = np.where(seg_last, p["end"][seg_period], _next(e["day"][heads], 0))
    seg = {
        "day": e["day"][heads],
        "end": seg_end,
        "dob": p["dob"][seg_period],
        "uasc": p["uasc"][seg_period],
        "remand": p["outcome"][seg_period] == REMAND,
        "forced": e["forced"][heads],
        "ls": e["ls"][heads],
        "rec": p["rec"][seg_period],
        "last": seg_last,
    }
    place = _placement_types(rng, seg, last_year)
    provider, urn = _providers(rng, place, pools)
    post = _postcodes(rng, region, len(heads))
    post = np.where(place == "P1", p["home"][seg_period], post)
    rne = np.where(
        e["first"],
        "S",
        np.where(
            e["ls_changed"] & e["place"],
            np.where(e["same"], "U", "T"),
            np.where(e["ls_changed"], "L", np.where(e["same"], "B", "P")),
        ),
    ).astype(object)
    next_place = _next(e["place"], False) & following
    next_forced = _next(e["forced"], 0)
    reason = np.where(next_place, _choose(rng, MOVE_REASONS, count), "").astype(object)
    reason[next_place & (next_forced > 0)] = "CARPL"
    next_type = _next(place[seg_of], "")
    custody = next_place & (next_type == "R5")
    year = _collection_year(e_end)
    custody_allowed = np.array(
        [
            "CUSTOD"
            in _codes(int(np.clip(y, FIRST_YEAR, LAST_YEAR)), "episodes", "REASON_PLACE_CHANGE")
            for y in year[custody]
        ],
        dtype=bool,
    )
    reason[np.flatnonzero(custody)[custody_allowed]] = "CUSTOD"
    rec = np.where(following, "X1", _rec_for_year(p["rec"][e["period"]], year)).astype(object)
    return {
        "period": e["period"],
        "start": e["day"],
        "end": e_end,
        "rne": rne,
        "ls": e["ls"],
        "place": place[seg_of],
        "provider": provider[seg_of],
        "urn": urn[seg_of],
        "post": post[seg_of],
        "reason": reason,
        "rec": rec,
        "last": ~following,
        "seg": seg_of,
    }


def _reviews(rng: np.random.Generator, p: dict[str, Arr]) -> dict[str, Arr]:
    """Reviews: 20 working days (about four weeks) after the start, three months later,
    then every six months while the child is looked after."""
    start, end = p["start"], p["end"]
    first = start + 28
    second = first + 91
    span = np.maximum(end - 1 - second, -1)
    count = np.where(end <= first, 0, np.where(end <= second, 1, 2 + np.maximum(span, 0) // 182))
    period = np.repeat(np.arange(len(start)), count)
    k = np.arange(len(period)) - np.repeat(np.cumsum(count) - count, count)
    day = np.where(k == 0, first[period], second[period] + (k - 1) * 182)
    day = day + rng.integers(-6, 7, len(day))
    day = np.clip(day, start[period] + 1, end[period] - 1)
    age = day - p["dob"][period]
    young = age < 1461  # under 4
    code = np.where(young, "PN0", _choose(rng, REVIEW_CODES, len(day))).astype(object)
    keep = day > start[period]
    return {"child": p["child"][period][keep], "day": day[keep], "code": code[keep]}


def _missing(
    rng: np.random.Generator,
    p: dict[str, Arr],
    e: dict[str, Arr],
    parameters: CouncilParameters,
    window: int,
) -> dict[str, Arr]:
    """Missing (M) and away without authorisation (A) episodes, mostly of teenagers, each
    within one placement and none overlapping."""
    n = len(p["start"])
    lo = np.maximum(p["start"], window - 90)
    span = np.maximum(p["end"] - 1 - lo, 0)
    own = rng.gamma(0.15, 1 / 0.15, n) * parameters.missing_rate
    top = 1.4
    count = np.minimum(rng.poisson(top * own * span / 365.25), 300)
    period = np.repeat(np.arange(n), count)
    start = lo[period] + (rng.random(len(period)) * span[period]).astype(np.int64)
    age = (start - p["dob"][period]) / 365.25
    rate = np.interp(
        age, [0, 9.9, 10, 12.9, 13, 15.9, 16, 18], [0.02, 0.02, 0.3, 0.3, 1.2, 1.2, 1.4, 1.4]
    )
    keep = rng.random(len(period)) < rate / top
    period, start = period[keep], start[keep]
    order = np.lexsort((start, period))
    period, start = period[order], start[order]
    kind = rng.choice(4, size=len(period), p=[0.35, 0.35, 0.22, 0.08])
    length = np.select(
        [kind == 0, kind == 1, kind == 2],
        [0, 1, rng.integers(2, 7, len(period))],
        rng.integers(7, 31, len(period)),
    )
    key = period * 100000 + (start - _day(1980, 1, 1))
    episode_key = e["period"] * 100000 + (e["start"] - _day(1980, 1, 1))
    episode = np.searchsorted(episode_key, key, side="right") - 1
    end = np.minimum(start + length, e["end"][episode] - 1)
    ok = end >= start
    period, start, end = period[ok], start[ok], end[ok]
    reach = np.maximum.accumulate(end + period * 100000)
    before = _previous(reach, -1)
    ok = start + period * 100000 > before
    period, start, end = period[ok], start[ok], end[ok]
    kind = np.where(rng.random(len(period)) < 0.8, "M", "A").astype(object)
    return {"child": p["child"][period], "kind": kind, "start": start, "end": end}


def _adoption_records(
    rng: np.random.Generator, p: dict[str, Arr], e: dict[str, Arr]
) -> tuple[dict[str, Arr], dict[str, Arr]]:
    """Decisions that a child should be placed for adoption (some later reversed), and the
    adoption details (AD1) of children adopted."""
    n = len(p["start"])
    start, end = p["start"], p["end"]
    adopt = p["outcome"] == ADOPT
    order_day = np.full(n, NEVER, dtype=np.int64)
    is_order = e["ls"] == "E1"
    np.minimum.at(order_day, e["period"][is_order], e["start"][is_order])
    decided = np.minimum(start + rng.integers(90, 240, n), order_day)
    band = np.searchsorted(AGE_BANDS, start - p["dob"], side="right") - 1
    reversed_ = ~adopt & (band <= 1) & (end - start > 400) & (rng.random(n) < 0.25)
    early = start + rng.integers(120, 300, n)
    ceased = early + rng.integers(60, 400, n)
    reversed_ &= ceased < end - 1
    chosen = adopt | reversed_
    decisions = {
        "child": p["child"][chosen],
        "placed": np.where(adopt, decided, early)[chosen],
        "ceased": np.where(reversed_, ceased, NEVER)[chosen],
        "reason": np.where(
            reversed_, _choose(rng, (("RD1", "RD2", "RD3", "RD4"), (4, 2.5, 1, 2.5)), n), ""
        )[chosen].astype(object),
    }
    k = int(adopt.sum())
    couple = rng.random(k) >= 0.12
    sex = np.where(
        couple,
        _choose(rng, (("MF", "FF", "MM"), (0.8, 0.1, 0.1)), k),
        _choose(rng, (("F1", "M1"), (0.85, 0.15)), k),
    )
    status = np.where(
        ~couple,
        "L0",
        np.where(
            sex == "MF",
            _choose(rng, (("L11", "L3"), (0.75, 0.25)), k),
            _choose(rng, (("L12", "L2", "L4"), (0.4, 0.3, 0.3)), k),
        ),
    )
    last_place = np.empty(n, dtype=object)
    last_place[e["period"][e["last"]]] = e["place"][e["last"]]
    adoptions = {
        "child": p["child"][adopt],
        "day": end[adopt],
        "date_int": decided[adopt],
        "date_match": np.maximum(decided[adopt], p["place"][adopt] - rng.integers(7, 90, k)),
        "foster_care": np.where(last_place[adopt] == "A5", "1", "0").astype(object),
        "adopters": np.where(couple, "2", "1").astype(object),
        "sex": sex.astype(object),
        "status": status.astype(object),
    }
    return decisions, adoptions


def _social_workers(
    rng: np.random.Generator,
    first_start: Arr,
    last_end: Arr,
    from_day: int,
    last_day: int,
    pool: int,
) -> dict[str, Arr]:
    """Social worker episodes from the start of care, changing about every ten months;
    the one open when the child leaves care stays open."""
    children = np.flatnonzero((last_end >= from_day) & (first_start <= last_day))
    began = first_start[children]
    before = began < from_day
    opened = np.where(
        before, np.maximum(began, from_day - _ints(rng.exponential(300, len(children)))), began
    )
    lo = np.maximum(opened, from_day)
    count = rng.poisson((last_day - lo) / 300)
    who = np.repeat(np.arange(len(children)), count)
    change = lo[who] + 1 + (rng.random(len(who)) * (last_day - lo[who])).astype(np.int64)
    child = np.concatenate([np.arange(len(children)), who])
    day = np.concatenate([opened, change])
    order = np.lexsort((day, child))
    child, day = child[order], day[order]
    keep = np.ones(len(child), bool)
    keep[1:] = (child[1:] != child[:-1]) | (day[1:] != day[:-1])
    child, day = child[keep], day[keep]
    same_next = _next(child, -1) == child
    end = np.where(same_next, _next(day, 0), NEVER)
    ids = rng.integers(0, pool, len(child))
    repeat = (_previous(ids, -1) == ids) & (_previous(child, -1) == child)
    ids = np.where(repeat, (ids + 1) % pool, ids)
    base = int(rng.integers(100000, 800000))
    first = _previous(child, -1) != child
    reason = np.where(first & ~before[child], "TSPROC", _choose(rng, SW_REASONS, len(child)))
    return {
        "child": children[child],
        "id": np.array([f"SW{base + i}" for i in ids], dtype=object),
        "start": day,
        "end": end,
        "reason": reason.astype(object),
    }


def _simulate_care(
    rng: np.random.Generator,
    council: Council,
    parameters: CouncilParameters,
    years: tuple[int, int],
    scale: float,
    starts: Arr,
    moves: Arr,
) -> _Care:
    """Everything about children looked after in one council that the years need."""
    first_year, last_year = years
    periods = _periods(rng, council, parameters, first_year, last_year, scale, starts)
    child = periods["child"]
    count = int(child.max(initial=-1)) + 1
    _, first = np.unique(child, return_index=True)
    dob, uasc = periods["dob"][first], periods["uasc"][first]
    last_end = np.zeros(count, dtype=np.int64)
    np.maximum.at(last_end, child, periods["end"])
    weights = np.array(ETHNICITY[1])
    if council.region in ("E13000001", "E13000002"):
        weights[0] *= 0.45
    ethnic = np.where(
        uasc,
        _choose(rng, UASC_ETHNICITY, count),
        _pick(rng, count, ETHNICITY[0], weights.tolist()),
    )
    female = rng.random(count) < np.where(uasc, 0.07, 0.47)
    home = _postcodes(rng, council.region, count, local=0.95)
    children = {
        "dob": dob,
        "female": female,
        "uasc": uasc,
        "ethnic": ethnic.astype(object),
        "first_start": periods["start"][first],
        "last_end": last_end,
    }
    n = len(child)
    periods["need"] = np.where(uasc[child], "N8", _choose(rng, NEEDS, n)).astype(object)
    periods["home"] = np.where(uasc[child], "", home[child]).astype(object)
    periods["perm"] = _choose(rng, (("Z1", "P2", "P3", "P1", "P4"), (92, 3, 3, 1, 1)), n)
    gap = periods["start"] - periods["dob"]
    periods["perm"] = np.where(gap > 400, periods["perm"], "Z1").astype(object)
    periods["perm_day"] = (
        periods["dob"] + 30 + (rng.random(n) * np.maximum(gap - 60, 1)).astype(np.int64)
    )
    last_day = _bounds(last_year)[1]
    shown = np.flatnonzero(periods["end"] >= _bounds(first_year)[0])
    p = {k: v[shown] for k, v in periods.items()}
    pools = _urn_pools(rng)
    episodes = _episodes(rng, p, parameters, moves, last_year, pools, council.region)
    episodes["child"] = p["child"][episodes["period"]]
    window = _bounds(first_year)[0]
    reviews = _reviews(rng, p)
    missing = _missing(rng, p, episodes, parameters, window)
    decisions, adoptions = _adoption_records(rng, p, episodes)
    episodes["period"] = shown[episodes["period"]]
    # mothers: a few girls have a baby while looked after
    final = np.flatnonzero(_next(child, -1) != child)
    lo = np.maximum(periods["start"][final], _add_years(dob, 14)) + 30
    hi = np.minimum(periods["end"][final], last_day) - 30
    mother = female & ~uasc & (hi > lo) & (rng.random(count) < 0.03)
    children["mother"] = np.where(
        mother, lo + (rng.random(count) * np.maximum(hi - lo, 1)).astype(np.int64), NEVER
    )
    social_workers: dict[str, Arr] = {}
    if last_year >= 2024:
        social_workers = _social_workers(
            rng,
            children["first_start"],
            last_end,
            _bounds(max(first_year, 2024))[0],
            last_day,
            pool=max(10, int(count / 8)),
        )
    return _Care(
        children, periods, episodes, reviews, missing, decisions, adoptions, social_workers
    )


# --- need: referrals ---------------------------------------------------------------------

NFA, ASSESSED, ENQUIRY, PLAN, PROTECTION = range(5)
#: What a referral leads to (no further action, assessment only, section 47 enquiry with no
#: conference, CIN plan), before the chance of a CP plan takes its share.
REFERRAL_KINDS = np.array([0.07, 0.53, 0.10, 0.30])
#: Chance of another referral after one of each kind closes (tuned).
FURTHER = np.array([0.42, 0.42, 0.42, 0.32, 0.40])
FIRST_REFERRAL_AGES = (
    (0, 365, 0.14),
    (365, 1826, 0.22),
    (1826, 3652, 0.26),
    (3652, 5844, 0.32),
    (5844, 6500, 0.06),
)
SOURCES = _table(
    "6 0.29 2A 0.21 3A 0.03 3B 0.02 3C 0.01 3D 0.04 3E 0.03 3F 0.01 1A 0.05 1B 0.01 "
    "1C 0.01 1D 0.03 2B 0.01 4 0.02 5A 0.03 5B 0.05 5C 0.03 5D 0.01 7 0.02 8 0.02 9 0.02 "
    "10 0.04"
)
PRIMARY_NEEDS = _table(
    "N1 0.57 N2 0.09 N3 0.04 N4 0.08 N5 0.14 N6 0.02 N7 0.005 N8 0.03 N9 0.015 N0 0.01"
)
#: Factors identified at assessment, each with its chance, and a stand-in for years whose
#: schema does not have it yet.
FACTORS = (
    ("3A", 0.20, None),
    ("3B", 0.35, None),
    ("4B", 0.33, None),
    ("2B", 0.15, None),
    ("1B", 0.12, None),
    ("16A", 0.18, None),
    ("17A", 0.20, None),
    ("18B", 0.05, "18A"),
    ("18C", 0.06, "18A"),
    ("4A", 0.15, None),
    ("5B", 0.04, None),
    ("6B", 0.05, None),
    ("14A", 0.05, None),
    ("10A", 0.04, None),
    ("11A", 0.03, None),
    ("24A", 0.04, "13A"),
    ("15A", 0.05, None),
    ("20", 0.08, None),
)
ABUSE = ("NEG", "EMO", "PHY", "SAB", "MUL"), (0.50, 0.37, 0.06, 0.04, 0.03)
#: (median days, sigma) of CIN plans, CP plans and CIN plans after a CP plan, before the
#: council's scales.
CIN_PLAN_LENGTH, CP_LENGTH, STEP_DOWN_LENGTH = (200, 0.8), (240, 0.65), (120, 0.6)
STEP_DOWN = 0.6  # chance a CP plan is followed by a CIN plan


def _factors(rng: np.random.Generator, n: int) -> Arr:
    """Factors at assessment as a bit mask over FACTORS (at least one)."""
    chances = np.array([c for _, c, _ in FACTORS])
    bits = rng.random((n, len(FACTORS))) < chances
    none = ~bits.any(axis=1)
    bits[none, rng.integers(0, len(FACTORS), int(none.sum()))] = True
    result: Arr = (bits * (1 << np.arange(len(FACTORS)))).sum(axis=1)
    return result


def _referrals(
    rng: np.random.Generator,
    child: Arr,
    kind: Arr,
    ref: Arr,
    eighteen: Arr,
    parameters: CouncilParameters,
) -> dict[str, Arr]:
    """Referrals and what followed each (assessment, section 47, plans, closure)."""
    n = len(ref)
    assessed = kind != NFA
    a_start = np.where(assessed, _working_day_on_or_after(ref + rng.integers(0, 3, n)), NEVER)
    working = np.maximum(1, _ints(_lognormal(rng, parameters.assessment_days, 0.48, n)))
    a_auth = np.where(assessed, _after_working_days(np.minimum(a_start, ref + 10), working), NEVER)
    enquiry = (kind == ENQUIRY) | (kind == PROTECTION)
    s47 = np.where(enquiry, _working_day_on_or_after(ref + rng.integers(0, 8, n)), NEVER)
    s47_safe = np.minimum(s47, ref + 30)
    target = np.where(enquiry, _after_working_days(s47_safe, np.full(n, 15)), NEVER)
    delay = np.maximum(1, _ints(_lognormal(rng, 11, 0.45, n)))
    conference = np.where(kind == PROTECTION, _after_working_days(s47_safe, delay), NEVER)
    cp_start = conference
    cp_end = cp_start + np.maximum(
        14, _ints(_lognormal(rng, CP_LENGTH[0] * parameters.cp_scale, CP_LENGTH[1], n))
    )
    plan = kind == PLAN
    step_down = (kind == PROTECTION) & (rng.random(n) < STEP_DOWN)
    plan_start = np.where(plan, a_auth + rng.integers(0, 10, n), np.where(step_down, cp_end, NEVER))
    plan_length = np.where(
        plan,
        _lognormal(rng, CIN_PLAN_LENGTH[0] * parameters.cin_plan_scale, CIN_PLAN_LENGTH[1], n),
        _lognormal(rng, STEP_DOWN_LENGTH[0], STEP_DOWN_LENGTH[1], n),
    )
    plan_end = np.where(plan | step_down, plan_start + np.maximum(30, _ints(plan_length)), NEVER)
    close = np.select(
        [kind == NFA, plan | step_down, kind == PROTECTION],
        [ref, plan_end + rng.integers(0, 14, n), cp_end + rng.integers(0, 14, n)],
        np.maximum(a_auth, np.where(s47 < NEVER, s47, a_auth)) + rng.integers(0, 20, n),
    )
    close = np.maximum(close, np.where(assessed, a_auth, ref))
    referrals = {
        "child": child,
        "kind": kind,
        "ref": ref,
        "close": close,
        "a_start": a_start,
        "a_auth": a_auth,
        "factors": _factors(rng, n),
        "s47": s47,
        "target": target,
        "conference": conference,
        "cp_start": cp_start,
        "cp_end": np.where(kind == PROTECTION, cp_end, NEVER),
        "plan_start": plan_start,
        "plan_end": plan_end,
        "source": _choose(rng, SOURCES, n),
        "need": np.where(assessed, _choose(rng, PRIMARY_NEEDS, n), "").astype(object),
        "abuse": _choose(rng, ABUSE, n),
        "abuse_latest": _choose(rng, ABUSE, n),
        "reason": np.select(
            [kind == NFA, (kind == ASSESSED) | (kind == ENQUIRY)],
            [
                np.full(n, "RC8", object),
                _choose(rng, (("RC8", "RC9", "RC7"), (0.65, 0.2, 0.15)), n),
            ],
            _choose(rng, (("RC7", "RC5", "RC3"), (0.9, 0.05, 0.05)), n),
        ).astype(object),
    }
    referrals["abuse_latest"] = np.where(
        rng.random(n) < 0.9, referrals["abuse"], referrals["abuse_latest"]
    )
    _close_by(referrals, eighteen, "RC6")
    return referrals


def _close_by(referrals: dict[str, Arr], limit: Arr, reason: str | None = None) -> None:
    """Close referrals by `limit` (in place), cutting short or dropping what came after."""
    late = referrals["close"] > limit
    referrals["close"] = np.minimum(referrals["close"], limit)
    close = referrals["close"]
    if reason:
        referrals["reason"] = np.where(late, reason, referrals["reason"]).astype(object)
    for begin, finish in (
        ("a_start", "a_auth"),
        ("plan_start", "plan_end"),
        ("cp_start", "cp_end"),
    ):
        gone = referrals[begin] > close
        referrals[begin] = np.where(gone, NEVER, referrals[begin])
        referrals[finish] = np.where(gone, NEVER, np.minimum(referrals[finish], close))
    for name in ("s47", "target", "conference"):
        referrals[name] = np.where(referrals["s47"] > close, NEVER, referrals[name])
    referrals["conference"] = np.where(
        referrals["conference"] > close, NEVER, referrals["conference"]
    )
    no_cp = referrals["cp_start"] >= NEVER
    referrals["kind"] = np.where(
        (referrals["kind"] == PROTECTION) & no_cp, ENQUIRY, referrals["kind"]
    )


def _kinds(rng: np.random.Generator, n: int, cp_chance: Arr) -> Arr:
    """What each referral leads to, with this chance of a CP plan."""
    other = rng.choice(len(REFERRAL_KINDS), size=n, p=REFERRAL_KINDS / REFERRAL_KINDS.sum())
    result: Arr = np.where(rng.random(n) < cp_chance, PROTECTION, other)
    return result


def _careers(
    rng: np.random.Generator,
    council: Council,
    parameters: CouncilParameters,
    years: tuple[int, int],
    scale: float,
    quick: Arr,
    repeat: Arr,
    first_child: int,
) -> tuple[dict[str, Arr], dict[str, Arr]]:
    """Children in need who are never looked after: each from a first referral, with
    further referrals (some within 12 months), until 18."""
    first_year, last_year = years
    born_from = _add_years(np.array([_bounds(first_year)[0]]), -19)[0]
    last_day = _bounds(last_year)[1]
    middle = (first_year + last_year) // 2
    expected = (
        parameters.careers_per_10k
        * council.children(middle)
        / 1e4
        * scale
        * (last_day - born_from)
        / 365.25
    )
    count = int(rng.poisson(expected))
    dob = born_from + (rng.random(count) * (last_day - born_from)).astype(np.int64)
    ref = dob + _entry_ages(rng, count, FIRST_REFERRAL_AGES)
    alive = np.flatnonzero(ref <= last_day)
    dob, ref = dob[alive], ref[alive]
    count = len(dob)
    eighteen = _add_years(dob, 18)
    ref = np.minimum(ref, eighteen - 30)
    children = {
        "dob": dob,
        "female": rng.random(count) < 0.48,
        "ethnic": _choose(rng, ETHNICITY, count),
    }
    parts = []
    who = np.arange(count)
    plans = np.zeros(count, dtype=np.int64)
    while len(who):
        year = np.clip(_collection_year(ref), 0, LAST_YEAR + 1)
        chance = np.where(plans[who] > 0, repeat[year], parameters.cp_first)
        kind = _kinds(rng, len(who), chance)
        made = _referrals(rng, who + first_child, kind, ref, eighteen[who], parameters)
        parts.append(made)
        plans[who] += made["cp_start"] < NEVER
        close = made["close"]
        again = rng.random(len(who)) < FURTHER[made["kind"]]
        soon = close + 1 + (rng.random(len(who)) * (ref + 364 - close)).astype(np.int64)
        fast = rng.random(len(who)) < quick[np.clip(_collection_year(soon), 0, LAST_YEAR + 1)]
        fast &= ref + 364 > close
        later = np.maximum(close + 1, ref + 366) + _ints(_lognormal(rng, 300, 1.0, len(who)))
        following = np.where(fast, soon, later)
        keep = again & (following < eighteen[who] - 1) & (following <= last_day)
        who, ref = who[keep], following[keep]
    referrals = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    return children, referrals


#: Earlier referrals of a child who comes into care: how many (0-3), and what they led to.
EARLIER_REFERRALS = np.array([0.40, 0.30, 0.18, 0.12])
EARLIER_KINDS = np.array([0.10, 0.50, 0.10, 0.20, 0.10])
EARLIER_LENGTH = np.array([0, 40, 45, 250, 450])
CP_BEFORE_CARE = 0.33  # chance a child had a CP plan just before coming into care
CLOSURES = {"E11": "RC1", "E12": "RC1", "E41": "RC3", "E2": "RC2", "E3": "RC5", "E7": "RC6"}


def _care_referrals(
    rng: np.random.Generator, care: _Care, parameters: CouncilParameters
) -> dict[str, Arr]:
    """The referral around each period of care (open from before it starts until after it
    ends), with a CP plan before care for some, and children's earlier referrals."""
    p = care.periods
    n = len(p["start"])
    child, start, end, dob = p["child"], p["start"], p["end"], p["dob"]
    eighteen = _add_years(dob, 18)
    same_child = _previous(child, -1) == child
    lower = np.where(same_child, _previous(end, 0) + 1, dob)
    room = start - lower
    protect = ~p["uasc"] & (p["outcome"] != REMAND) & (room >= 60)
    protect &= rng.random(n) < np.where(p["outcome"] == ADOPT, 0.5, CP_BEFORE_CARE)
    plan_length = np.minimum(rng.integers(30, 301, n), np.maximum(room - 35, 1))
    cp_start = np.where(protect, start - plan_length, NEVER)
    s47 = np.where(protect, cp_start - rng.integers(8, 21, n), NEVER)
    quick = np.where(rng.random(n) < 0.35, 0, rng.integers(1, 121, n))
    ref = np.where(protect, s47 - rng.integers(0, 8, n), start - quick)
    ref = np.maximum(ref, lower)
    s47 = np.where(protect, np.maximum(s47, ref), NEVER)
    kind = np.where(protect, PROTECTION, ASSESSED)
    made = _referrals(rng, child, kind, ref, eighteen, parameters)
    made["s47"] = s47
    made["target"] = np.where(
        protect, _after_working_days(np.minimum(s47, start), np.full(n, 15)), NEVER
    )
    made["conference"] = cp_start
    made["cp_start"] = cp_start
    made["cp_end"] = np.where(protect, start, NEVER)
    made["plan_start"] = np.full(n, NEVER, dtype=np.int64)
    made["plan_end"] = np.full(n, NEVER, dtype=np.int64)
    made["need"] = p["need"].copy()
    rec = p["rec"]
    after = np.where(np.isin(rec, ("E4A", "E4B")), rng.integers(30, 241, n), rng.integers(0, 61, n))
    after = np.where(np.isin(rec, [*list(CLOSURES), "E45", "E46", "E47", "E48"]), 0, after)
    close = end + after
    following = np.where(_next(same_child, False), _next(ref, 0) - 1, NEVER)
    close = np.minimum(np.minimum(close, following), eighteen)
    made["close"] = np.maximum(close, ref)
    reason = np.array([CLOSURES.get(r, "RC7") for r in rec.tolist()], dtype=object)
    reason[np.isin(rec, ("E45", "E46", "E47", "E48"))] = "RC4"
    aged = end >= eighteen
    reason[aged] = np.where(rng.random(int(aged.sum())) < 0.4, "RC6", "RC7")
    made["reason"] = reason
    made["a_auth"] = np.minimum(made["a_auth"], made["close"])
    _close_by(made, made["close"])
    parts = [made]
    # earlier referrals, counted back from the first period's
    who = np.flatnonzero(~same_child & ~p["uasc"])
    earliest = ref[who]
    wanted = rng.choice(len(EARLIER_REFERRALS), size=len(who), p=EARLIER_REFERRALS)
    for round_ in range(1, len(EARLIER_REFERRALS)):
        chosen = wanted >= round_
        who, earliest, wanted = who[chosen], earliest[chosen], wanted[chosen]
        k = len(who)
        kind = rng.choice(5, size=k, p=EARLIER_KINDS)
        length = _ints(EARLIER_LENGTH[kind] * _lognormal(rng, 1.0, 0.5, k))
        fast = (rng.random(k) < 0.4) & (length < 360)
        span = np.where(
            fast,
            length + 1 + (rng.random(k) * np.maximum(363 - length, 1)).astype(np.int64),
            length + 366 + _ints(_lognormal(rng, 200, 1.0, k)),
        )
        begin = earliest - span
        fits = begin >= dob[who]
        who, earliest, begin, kind = who[fits], earliest[fits], begin[fits], kind[fits]
        wanted = wanted[fits]
        earlier = _referrals(rng, child[who], kind, begin, eighteen[who], parameters)
        _close_by(earlier, earliest - 1)
        parts.append(earlier)
        earliest = begin
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _previous_plans(referrals: dict[str, Arr]) -> Arr:
    """For each referral, the child's CP plans that started before its own."""
    order = np.lexsort((referrals["ref"], referrals["child"]))
    child = referrals["child"][order]
    has = (referrals["cp_start"][order] < NEVER).astype(np.int64)
    total = np.cumsum(has) - has
    first = _previous(child, -1) != child
    base = np.maximum.accumulate(np.where(first, total, 0))
    before = np.empty(len(order), dtype=np.int64)
    before[order] = total - base
    return before


# --- a council's children ----------------------------------------------------------------

UPN_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"), dtype=object)


def _upns(rng: np.random.Generator, old_code: str, dob: Arr) -> Arr:
    """Unique pupil numbers: check letter, LA code, school, year of allocation, serial."""
    n = len(dob)
    unique = rng.choice(5500 * 1000, size=n, replace=False)
    school = 2000 + unique // 1000
    serial = unique % 1000
    year = (_civil(dob)[0] + 5) % 100
    digits = np.zeros((n, 12), dtype=np.int64)
    for i, ch in enumerate(old_code):
        digits[:, i] = int(ch)
    for i in range(4):
        digits[:, 3 + i] = school // 10 ** (3 - i) % 10
    digits[:, 7], digits[:, 8] = year // 10, year % 10
    for i in range(3):
        digits[:, 9 + i] = serial // 10 ** (2 - i) % 10
    check = (digits * np.arange(2, 14)).sum(axis=1) % 23
    text = ["".join(map(str, row)) for row in digits.tolist()]
    return UPN_LETTERS[check] + np.array(text, dtype=object)


def upn_check_letter(digits: str) -> str:
    """The DfE check letter of a UPN's twelve digits (characters 2-13)."""
    total = sum(int(d) * weight for d, weight in zip(digits, range(2, 14), strict=True))
    return str(UPN_LETTERS[total % 23])


def _child_ids(rng: np.random.Generator, n: int) -> Arr:
    """Council child ids: unique numbers of the same length, room for many more."""
    digits = max(6, len(str(n * 50)))
    low = 10 ** (digits - 1)
    chosen = rng.choice(9 * low, size=n, replace=False) + low
    return chosen.astype(str).astype(object)


@dataclass
class _CouncilReturns:
    """A simulated council: its care and referrals, and every child's identity."""

    council: Council
    parameters: CouncilParameters
    seed: int
    years: tuple[int, int]
    care: _Care
    referrals: dict[str, Arr]
    people: dict[str, Arr]  # id, upn, dob, female, ethnic, disability (care children first)
    rank_of: Arr  # each child's place in the order of ids


# --- calibration --------------------------------------------------------------------------

#: Tuned: placement moves a year before age and the child's own rate (gives about 10-11% of
#: children looked after at 31 March with 3+ placements in the year).
MOVE_RATE = 0.53
#: Tuned: share of children looked after at 31 March with 3+ placements in the year for a
#: multiplier of the move rate (used to plant changes in placement stability).
STABILITY_CURVE = (
    (0.0, 0.33),
    (0.25, 2.06),
    (0.5, 4.68),
    (1.0, 10.71),
    (1.5, 16.33),
    (2.0, 21.14),
    (3.0, 28.14),
    (4.0, 33.83),
)
#: Tuned: multiplies first entries into care (the sample behind the duration scales runs
#: slightly above a council's simulation).
ENTRY_TUNE = 1.025
#: Tuned: referrals a career of referrals has before 18, on average.
REFERRALS_PER_CAREER = 1.58
#: Tuned: share of careers' referrals that can be a re-referral (a further referral after an
#: episode short enough to close within 12 months of its referral).
QUICK_SHARE = 0.31
#: Tuned: share of careers' referrals made by a child with an earlier CP plan, per unit of
#: the chance of a first plan.
CP_HISTORY = 0.48
#: Tuned: chance a care leaver aged 19-21 who is in touch is in education, employment or
#: training (about 9 in 10 are in touch).
EET_IN_TOUCH = 0.605
#: Tuned: multiplies the CP plans a council's careers of referrals should have.
CP_PLANS_TUNE = 1.05
#: Tuned multipliers on the CIN plan and CP plan lengths derived for each council.
CIN_PLAN_TUNE, CP_TUNE = 1.12, 1.0
#: Days a referral of each kind is open, for an assessment of median length, before the
#: council's plan scales: (fixed days, days per unit of CIN plan scale, days per unit of CP
#: plan scale).
OPEN_DAYS = {
    NFA: (0.0, 0.0, 0.0),
    ASSESSED: (57.0, 0.0, 0.0),
    ENQUIRY: (57.0, 0.0, 0.0),
    PLAN: (59.0, 275.0, 0.0),
    PROTECTION: (25.0 + 0.6 * 144 + 7, 0.0, 296.0),
}


def _repeat_chances(x: float, t: float) -> tuple[float, float]:
    """Chances of a CP plan for a child without and with an earlier plan, for `x` plans per
    referral of which a share `t` are repeat plans."""
    c = CP_HISTORY
    x = min(max(x, 1e-4), 0.6)
    t = min(max(t, 0.0), 0.9)
    disc = max(1 - 4 * c * (1 - t) * x, 0.0)
    first = (1 - math.sqrt(disc)) / (2 * c)
    repeat = t * x / (c * first) if first > 0 else 0.0
    return first, min(repeat, 0.95)


def _parameters(council: Council, seed: int) -> CouncilParameters:
    """Simulation parameters of a council from its published figures."""
    t = council.published
    rng = _stream(seed, council.code, "council effects")
    thetas, days, per_entry = _care_curve()
    starts = max(t["starts_per_10k"], 1.0)
    lengths = days / per_entry / 365.25
    theta = float(np.interp(min(max(t["cla_per_10k"] / starts, 0.6), 5.0), lengths, thetas))
    first_entries = ENTRY_TUNE * starts / float(np.interp(theta, thetas, per_entry))
    plain = first_entries * (1 - UASC_SHARE)
    earlier = plain * float((np.arange(4) * EARLIER_REFERRALS).sum())
    referrals = max(t["referrals_per_10k"] - 0.8 * starts, 0.3 * t["referrals_per_10k"])
    cp_care = plain * CP_BEFORE_CARE * 1.1 + earlier * EARLIER_KINDS[PROTECTION]
    cp_careers = max(t["cp_starts_per_10k"] - cp_care, 0.2 * t["cp_starts_per_10k"])
    x = CP_PLANS_TUNE * cp_careers / referrals
    cp_first, cp_repeat = _repeat_chances(x, t["repeat_cp_percent"] / 100)
    cp_scale = (max(t["cp_per_10k"], 1.0) * 365.25 - cp_care * 165) / max(cp_careers * 296, 1.0)
    cp_scale = min(max(cp_scale * CP_TUNE, 0.3), 3.0)
    shares = (1 - x) * REFERRAL_KINDS / REFERRAL_KINDS.sum()
    fixed = sum(shares[k] * OPEN_DAYS[k][0] for k in (NFA, ASSESSED, ENQUIRY, PLAN))
    fixed += x * (OPEN_DAYS[PROTECTION][0] + OPEN_DAYS[PROTECTION][2] * cp_scale)
    care_open = t["cla_per_10k"] + starts * 100 / 365.25 + earlier * 120 / 365.25
    wanted = max(t["cin_per_10k"] - care_open, 0.2 * t["cin_per_10k"]) * 365.25 / referrals
    cin_scale = (wanted - fixed) / (shares[PLAN] * OPEN_DAYS[PLAN][1])
    cin_scale = min(max(cin_scale * CIN_PLAN_TUNE, 0.2), 4.0)
    return CouncilParameters(
        code=council.code,
        old_code=council.old_code,
        name=council.name,
        targets=dict(t),
        care_scale=theta,
        first_entries_per_10k=first_entries,
        move_rate=MOVE_RATE * float(np.exp(rng.normal(0, 0.12))),
        missing_rate=float(np.exp(rng.normal(0, 0.3))),
        careers_per_10k=referrals / REFERRALS_PER_CAREER,
        cin_plan_scale=cin_scale,
        cp_scale=cp_scale,
        cp_first=cp_first,
        cp_repeat=cp_repeat,
        quick_re_referral=min(t["re_referral_percent"] / 100 / QUICK_SHARE, 1.0),
        career_share=(
            referrals / max(t["referrals_per_10k"], 1e-6),
            cp_careers / max(t["cp_starts_per_10k"], 1e-6),
        ),
        assessment_days=30.0 * float(np.exp(rng.normal(0, 0.08))),
        eet=min(EET_IN_TOUCH * float(np.exp(rng.normal(0, 0.04))), 0.95),
        sdq_mean=NATIONAL["sdq_mean"] + float(rng.normal(0, 0.6)),
    )


def _yearly(parameters: CouncilParameters, interventions: Sequence[Intervention]) -> dict[str, Arr]:
    """Each collection year's multiplier of starts and of placement moves, chance of a quick
    re-referral and chance of a repeat CP plan (index = year)."""
    code = parameters.code
    starts = np.maximum(1 + _effect(interventions, code, "starts"), 0.0)
    shares, multipliers = zip(*((s, m) for m, s in STABILITY_CURVE), strict=True)
    base = float(np.interp(1.0, multipliers, shares))
    wanted = base + _effect(interventions, code, "placement_stability")
    moves = np.interp(wanted, shares, multipliers)
    quick = np.clip(
        parameters.quick_re_referral
        + _effect(interventions, code, "re_referrals")
        / 100
        / QUICK_SHARE
        / min(max(parameters.career_share[0], 0.5), 1.0),
        0.0,
        1.0,
    )
    t = parameters.targets
    repeat_wanted = t["repeat_cp_percent"] + _effect(interventions, code, "repeat_cp_plans") / min(
        max(parameters.career_share[1], 0.5), 1.0
    )
    x = parameters.cp_first * (1 - CP_HISTORY * parameters.cp_first) + (
        parameters.cp_repeat * CP_HISTORY * parameters.cp_first
    )
    c = CP_HISTORY * parameters.cp_first
    repeat = np.clip(
        np.array([w / 100 * x / c if c > 0 else 0.0 for w in repeat_wanted]), 0.0, 0.95
    )
    return {"starts": starts, "moves": np.maximum(moves, 0.05), "quick": quick, "repeat": repeat}


DISABILITIES = ("LD", "AUT", "BEH", "COMM", "MOB", "HAND", "PC", "INC", "HEAR", "VIS", "DDA")


def _simulate(
    code: str,
    parameters: CouncilParameters,
    seed: int,
    years: tuple[int, int],
    scale: float,
    interventions: Sequence[Intervention],
) -> _CouncilReturns:
    """Simulate one council for the years from `years[0]` to `years[1]`."""
    council = _council(code)
    yearly = _yearly(parameters, interventions)
    care = _simulate_care(
        _stream(seed, code, "care"),
        council,
        parameters,
        years,
        scale,
        yearly["starts"],
        yearly["moves"],
    )
    rng = _stream(seed, code, "need")
    looked_after = len(care.children["dob"])
    near_care = _care_referrals(rng, care, parameters)
    others, careers = _careers(
        rng, council, parameters, years, scale, yearly["quick"], yearly["repeat"], looked_after
    )
    referrals = {
        k: np.concatenate([near_care[k], careers[k]]) if careers else near_care[k]
        for k in near_care
    }
    referrals["previous"] = _previous_plans(referrals)
    referrals["ref_year"] = _collection_year(referrals["ref"])
    shown = referrals["close"] >= _bounds(years[0])[0] - 400
    referrals = {k: v[shown] for k, v in referrals.items()}
    # number the children who appear; those looked after keep their numbers
    used = np.union1d(np.arange(looked_after), referrals["child"])
    referrals["child"] = np.searchsorted(used, referrals["child"])
    chosen = used[used >= looked_after] - looked_after
    rng = _stream(seed, code, "children")
    total = len(used)
    dob = np.concatenate([care.children["dob"], others["dob"][chosen]])
    people = {
        "dob": dob,
        "female": np.concatenate([care.children["female"], others["female"][chosen]]),
        "ethnic": np.concatenate([care.children["ethnic"], others["ethnic"][chosen]]),
        "id": _child_ids(rng, total),
        "upn": _upns(rng, council.old_code, dob),
        "disability": np.where(
            rng.random(total) < 0.1, _pick(rng, total, DISABILITIES, [1] * len(DISABILITIES)), ""
        ).astype(object),
    }
    rank = np.argsort(people["id"].astype(np.int64), kind="stable")
    rank_of = np.empty(total, dtype=np.int64)
    rank_of[rank] = np.arange(total)
    return _CouncilReturns(council, parameters, seed, years, care, referrals, people, rank_of)


# --- a year's SSDA903 return ----------------------------------------------------------------

Columns = dict[str, Arr]
OC3_LEAVING = ("E5", "E6", "E8", "E13", "E17", "E7", "E9")
ACCOMMODATION = ("B", "C", "D", "E", "G", "K", "R", "S", "T", "U", "V", "W", "X", "Y", "Z")
ACCOMMODATION_WEIGHTS = (10, 2, 20, 8, 1, 3, 1, 2, 3, 30, 2, 1, 2, 5, 10)


def _blank(n: int) -> Arr:
    return np.full(n, "", dtype=object)


def _text(values: Arr) -> Arr:
    result: Arr = np.asarray(values).astype(str).astype(object)
    return result


def _sex(data: _CouncilReturns, child: Arr, year: int, table: str) -> Arr:
    codes = _codes(year, table, "SEX")
    male, female = ("M", "F") if "M" in codes else ("1", "2")
    result: Arr = np.where(data.people["female"][child], female, male).astype(object)
    return result


def _care_leavers(data: _CouncilReturns, year: int) -> Arr:
    """Care leavers whose 17th to 21st birthday is in the year (OC3), numbered as children."""
    care = data.care
    first, last = _bounds(year)
    dob = care.children["dob"]
    child = care.periods["child"]
    final = np.flatnonzero(_next(child, -1) != child)
    start, end = care.periods["start"][final], care.periods["end"][final]
    rec = care.periods["rec"][final]
    age = _age_on(dob, last)
    birthday = _add_years(dob, age)
    eighteen = _add_years(dob, 18)
    seventeen = _add_years(dob, 17)
    leaver = np.isin(rec, OC3_LEAVING) & (end >= _add_years(dob, 16))
    leaver &= end - np.maximum(start, _add_years(dob, 14)) >= 91
    leaver &= ~care.children["uasc"] | (end >= eighteen)
    wanted = leaver & (age >= 17) & (age <= 21) & (end <= birthday) & (end <= last)
    this_year_late = (end >= first) & (end >= seventeen)
    wanted &= ~((age <= 18) & this_year_late)
    return np.flatnonzero(wanted)


def _ssda903(data: _CouncilReturns, year: int) -> dict[str, Columns]:
    """Every SSDA903 table of a year, as columns of text."""
    care, people = data.care, data.people
    first, last = _bounds(year)
    rng = _stream(data.seed, data.council.code, year, "ssda903")
    e = care.episodes
    shown = np.flatnonzero((e["start"] <= last) & (e["end"] >= first))
    shown = shown[np.lexsort((e["start"][shown], data.rank_of[e["child"][shown]]))]
    looked_after = np.unique(e["child"][shown])
    leavers = _care_leavers(data, year)
    ids, dob = people["id"], people["dob"]
    period = e["period"][shown]
    ended = e["end"][shown] <= last
    tables: dict[str, Columns] = {}
    tables["episodes"] = {
        "CHILD": ids[e["child"][shown]],
        "DECOM": _uk(e["start"][shown]),
        "RNE": e["rne"][shown],
        "LS": e["ls"][shown],
        "CIN": care.periods["need"][period],
        "PLACE": e["place"][shown],
        "PLACE_PROVIDER": e["provider"][shown],
        "DEC": np.where(ended, _uk(np.minimum(e["end"][shown], last)), ""),
        "REC": np.where(ended, e["rec"][shown], ""),
        "REASON_PLACE_CHANGE": np.where(ended, e["reason"][shown], ""),
        "HOME_POST": care.periods["home"][period],
        "PL_POST": e["post"][shown],
        "URN": e["urn"][shown],
    }
    in_header = np.union1d(looked_after, leavers)
    in_header = in_header[np.argsort(data.rank_of[in_header], kind="stable")]
    cared = np.isin(in_header, looked_after)
    girl = people["female"][in_header]
    mother_day = care.children["mother"][in_header]
    mother = np.where(cared & girl, np.where(mother_day <= last, "1", "0"), "")
    tables["header"] = {
        "CHILD": ids[in_header],
        "SEX": _sex(data, in_header, year, "header"),
        "DOB": _uk(dob[in_header]),
        "ETHNIC": people["ethnic"][in_header],
        "UPN": people["upn"][in_header],
        "MOTHER": mother.astype(object),
        "MC_DOB": np.where(mother == "1", _uk(np.minimum(mother_day, last)), ""),
    }
    _care_tables(data, year, rng, looked_after, leavers, tables)
    columns = specs.tables(year)
    return {
        name: {c.name: np.asarray(values[c.name], dtype=object) for c in columns[name]}
        for name, values in tables.items()
        if name in columns
    }


def _by_child(data: _CouncilReturns, child: Arr, *then: Arr) -> Arr:
    """Order of rows by child id, then by the other keys."""
    keys = (*tuple(reversed(then)), data.rank_of[child])
    result: Arr = np.lexsort(keys)
    return result


def _care_tables(
    data: _CouncilReturns,
    year: int,
    rng: np.random.Generator,
    looked_after: Arr,
    leavers: Arr,
    tables: dict[str, Columns],
) -> None:
    """The year's reviews, UASC, missing, OC2, OC3, AD1, adoption decisions, previous
    permanence and social worker tables."""
    care, people = data.care, data.people
    first, last = _bounds(year)
    ids, dob = people["id"], people["dob"]
    r = care.reviews
    chosen = np.flatnonzero((r["day"] >= first) & (r["day"] <= last))
    chosen = chosen[_by_child(data, r["child"][chosen], r["day"][chosen])]
    who = r["child"][chosen]
    tables["reviews"] = {
        "CHILD": ids[who],
        "DOB": _uk(dob[who]),
        "REVIEW": _uk(r["day"][chosen]),
        "REVIEW_CODE": r["code"][chosen],
    }
    who = looked_after[care.children["uasc"][looked_after]]
    who = who[_by_child(data, who)]
    tables["uasc"] = {
        "CHILD": ids[who],
        "SEX": _sex(data, who, year, "uasc"),
        "DOB": _uk(dob[who]),
        "DUC": _uk(_add_years(dob[who], 18)),
    }
    m = care.missing
    chosen = np.flatnonzero((m["start"] <= last) & (m["end"] >= first))
    chosen = chosen[_by_child(data, m["child"][chosen], m["start"][chosen])]
    who = m["child"][chosen]
    tables["missing"] = {
        "CHILD": ids[who],
        "DOB": _uk(dob[who]),
        "MISSING": m["kind"][chosen],
        "MIS_START": _uk(m["start"][chosen]),
        "MIS_END": np.where(m["end"][chosen] <= last, _uk(np.minimum(m["end"][chosen], last)), ""),
    }
    tables["oc2"] = _oc2(data, year, rng)
    tables["oc3"] = _oc3(data, year, rng, leavers)
    a = care.adoptions
    chosen = np.flatnonzero((a["day"] >= first) & (a["day"] <= last))
    chosen = chosen[_by_child(data, a["child"][chosen])]
    who = a["child"][chosen]
    tables["ad1"] = {
        "CHILD": ids[who],
        "DOB": _uk(dob[who]),
        "DATE_INT": _uk(a["date_int"][chosen]),
        "DATE_MATCH": _uk(a["date_match"][chosen]),
        "FOSTER_CARE": a["foster_care"][chosen],
        "NB_ADOPTR": a["adopters"][chosen],
        "SEX_ADOPTR": a["sex"][chosen],
        "LS_ADOPTR": a["status"][chosen],
    }
    d = care.decisions
    chosen = np.flatnonzero(
        (d["placed"] <= last) & (d["ceased"] >= first) & np.isin(d["child"], looked_after)
    )
    chosen = chosen[_by_child(data, d["child"][chosen], d["placed"][chosen])]
    who = d["child"][chosen]
    ceased = d["ceased"][chosen] <= last
    tables["placed_adoption"] = {
        "CHILD": ids[who],
        "DOB": _uk(dob[who]),
        "DATE_PLACED": _uk(d["placed"][chosen]),
        "DATE_PLACED_CEASED": np.where(ceased, _uk(np.minimum(d["ceased"][chosen], last)), ""),
        "REASON_PLACED_CEASED": np.where(ceased, d["reason"][chosen], ""),
    }
    tables["prev_perm"] = _previous_permanence(data, year, rng)
    if care.social_workers:
        s = care.social_workers
        chosen = np.flatnonzero(
            (s["start"] <= last) & (s["end"] >= first) & np.isin(s["child"], looked_after)
        )
        chosen = chosen[_by_child(data, s["child"][chosen], s["start"][chosen])]
        who = s["child"][chosen]
        tables["social_worker"] = {
            "CHILD": ids[who],
            "DOB": _uk(dob[who]),
            "SW_ID": s["id"][chosen],
            "SW_DECOM": _uk(s["start"][chosen]),
            "SW_DEC": np.where(
                s["end"][chosen] <= last, _uk(np.minimum(s["end"][chosen], last)), ""
            ),
            "SW_REASON": s["reason"][chosen],
        }


def _previous_permanence(data: _CouncilReturns, year: int, rng: np.random.Generator) -> Columns:
    """One row for each child who started a period of care in the year."""
    p = data.care.periods
    first, last = _bounds(year)
    chosen = np.flatnonzero((p["start"] >= first) & (p["start"] <= last))
    _, once = np.unique(p["child"][chosen], return_index=True)
    chosen = chosen[once]
    chosen = chosen[_by_child(data, p["child"][chosen])]
    who = p["child"][chosen]
    perm = p["perm"][chosen]
    known = np.isin(perm, ("P1", "P2", "P3"))
    others = _old_codes()
    la = np.where(
        rng.random(len(chosen)) < 0.6,
        data.council.old_code,
        others[rng.integers(0, len(others), len(chosen))],
    )
    return {
        "CHILD": data.people["id"][who],
        "DOB": _uk(data.people["dob"][who]),
        "PREV_PERM": perm,
        "LA_PERM": np.where(known, la, ""),
        "DATE_PERM": np.where(known, _uk(np.minimum(p["perm_day"][chosen], last)), ""),
    }


def _oc2(data: _CouncilReturns, year: int, rng: np.random.Generator) -> Columns:
    """Children looked after continuously for 12 months at 31 March: SDQ and health."""
    p = data.care.periods
    first, last = _bounds(year)
    chosen = np.flatnonzero((p["start"] <= first) & (p["end"] > last))
    chosen = chosen[_by_child(data, p["child"][chosen])]
    who = p["child"][chosen]
    n = len(who)
    dob = data.people["dob"][who]
    young, old = _age_on(dob, first), _age_on(dob, last)
    core = (young >= 4) & (old <= 16)
    edge = ~core & (old >= 4) & (young < 17)
    score = np.clip(np.rint(rng.normal(data.parameters.sdq_mean, 6.3, n)), 0, 40).astype(np.int64)
    scored = np.where(core, rng.random(n) < 0.78, edge & (rng.random(n) < 0.5))
    reason = np.where(
        core,
        _choose(rng, (("SDQ2", "SDQ3", "SDQ4", "SDQ5"), (0.3, 0.15, 0.35, 0.2)), n),
        "SDQ1",
    )
    misuse = (old >= 11) & (rng.random(n) < 0.05)
    received = misuse & (rng.random(n) < 0.6)

    def flag(chance: float) -> Arr:
        result: Arr = np.where(rng.random(n) < chance, "1", "0").astype(object)
        return result

    return {
        "CHILD": data.people["id"][who],
        "DOB": _uk(dob),
        "SDQ_SCORE": np.where(scored, _text(score), ""),
        "SDQ_REASON": np.where(~scored & (core | edge), reason, ""),
        "CONVICTED": np.where(old >= 10, np.where(rng.random(n) < 0.03, "1", "0"), ""),
        "HEALTH_CHECK": np.where(old < 5, flag(0.88), ""),
        "IMMUNISATIONS": flag(0.85),
        "TEETH_CHECK": flag(0.82),
        "HEALTH_ASSESSMENT": flag(0.9),
        "SUBSTANCE_MISUSE": np.where(misuse, "1", "0"),
        "INTERVENTION_RECEIVED": np.where(misuse, np.where(received, "1", "0"), ""),
        "INTERVENTION_OFFERED": np.where(
            misuse & ~received, np.where(rng.random(n) < 0.5, "1", "0"), ""
        ),
    }


def _oc3(data: _CouncilReturns, year: int, rng: np.random.Generator, leavers: Arr) -> Columns:
    """Care leavers on their 17th to 21st birthday: in touch, activity, accommodation."""
    first, last = _bounds(year)
    who = leavers[_by_child(data, leavers)]
    n = len(who)
    dob = data.people["dob"][who]
    age = _age_on(dob, last)
    touch = _choose(rng, (("YES", "NO", "REFU", "NREQ"), (0.9, 0.05, 0.03, 0.02)), n)
    codes = _codes(year, "oc3", "ACTIV")
    working = sorted(c for c in codes if c[0] in "FP")
    idle = sorted(c for c in codes if c[0] == "G")
    busy = rng.random(n) < np.where(age >= 19, data.parameters.eet, 0.66)
    activity = np.where(
        busy,
        _pick(rng, n, working, [3 if c[0] == "F" else 1 for c in working]),
        _pick(rng, n, idle, [1] * len(idle)),
    )
    letters = _pick(rng, n, ACCOMMODATION, ACCOMMODATION_WEIGHTS)
    under_18 = _age_on(dob, first) < 18
    letters = np.where((letters == "T") & under_18, "U", letters)
    letters = np.where((letters == "Z") & (age == 17), "D", letters)
    accommodation = letters + np.where(rng.random(n) < 0.88, "1", "2")
    accommodation = np.array(
        [a if a in _codes(year, "oc3", "ACCOM") else "U1" for a in accommodation.tolist()],
        dtype=object,
    )
    in_touch = touch == "YES"
    return {
        "CHILD": data.people["id"][who],
        "DOB": _uk(dob),
        "IN_TOUCH": touch,
        "ACTIV": np.where(in_touch, activity, "0"),
        "ACCOM": np.where(in_touch, accommodation, "0"),
    }


# --- a year's CIN census ------------------------------------------------------------------


def _census_rows(data: _CouncilReturns, year: int) -> tuple[Arr, Arr]:
    """Referrals open at some time in the year, ordered by child id and referral date, and
    the children they belong to (in id order)."""
    r = data.referrals
    first, last = _bounds(year)
    chosen = np.flatnonzero((r["ref"] <= last) & (r["close"] >= first))
    chosen = chosen[_by_child(data, r["child"][chosen], r["ref"][chosen])]
    children = np.unique(r["child"][chosen])
    children = children[np.argsort(data.rank_of[children], kind="stable")]
    return chosen, children


def _cp_reviews(start: int, end: int, first: int, last: int) -> list[int]:
    """CP review conferences in the year: three months after the plan starts, then every
    six months while it lasts."""
    days, day = [], start + 91
    while day < min(end, last + 1):
        if day >= first:
            days.append(day)
        day += 182
    return days


@lru_cache(maxsize=4096)
def _factor_codes(mask: int, year: int) -> tuple[str, ...]:
    """The factors of a bit mask, as the year's schema allows them."""
    allowed = set(_cin_codes(year, "assessmentfactorstype"))
    codes: list[str] = []
    for i, (code, _, stand_in) in enumerate(FACTORS):
        if mask >> i & 1:
            chosen = code if code in allowed else stand_in
            if chosen and chosen not in codes:
                codes.append(chosen)
    return tuple(codes) or ("21",)


def _census_view(data: _CouncilReturns, year: int) -> dict[str, Any]:
    """What the year's census shows of each referral open in the year, as text ("" where
    the census leaves it out): dates after 31 March, and items outside the year, are not
    shown; codes are the year's."""
    r = data.referrals
    first, last = _bounds(year)
    chosen, children = _census_rows(data, year)

    def pick(name: str) -> Arr:
        result: Arr = r[name][chosen]
        return result

    def days(values: Arr, shown: Arr) -> Arr:
        result: Arr = np.where(shown, _iso(np.minimum(values, last)), "")
        return result

    ref, close = pick("ref"), pick("close")
    closed = close <= last
    reason = pick("reason")
    reasons = _cin_codes(year, "reasonforclosuretype")
    reason = np.where(np.isin(reason, reasons), reason, np.where(reason == "RC9", "RC8", "RC7"))
    source = pick("source")
    first_years = {code: _first_cin_year("referralsourcetype", code) for code in SOURCES[0]}
    used, which = np.unique(source.astype(str), return_inverse=True)
    allowed = pick("ref_year") >= np.array([first_years[c] for c in used], dtype=np.int64)[which]
    source = np.where(
        allowed, source, np.where(np.char.startswith(source.astype(str), "5"), "5A", "10")
    )
    a_start, a_auth = pick("a_start"), pick("a_auth")
    assessed = (a_start <= last) & (a_auth >= first)
    authorised = assessed & (a_auth <= last)
    p_start, p_end = pick("plan_start"), pick("plan_end")
    planned = (p_start <= last) & (p_end >= first) & _xsd(year)[2]
    s47, conference = pick("s47"), pick("conference")
    enquired = (s47 <= last) & (
        np.where(conference < NEVER, np.maximum(s47, conference), s47) >= first
    )
    c_start, c_end = pick("cp_start"), pick("cp_end")
    protected = (c_start <= last) & (c_end >= first)
    people = data.people
    sex = _xsd(year)[1]
    male, female = ("M", "F") if sex == "Sex" else ("1", "2")
    return {
        "year": year,
        "sex_element": sex,
        "children": children,
        "id": people["id"][children],
        "upn": people["upn"][children],
        "dob": _iso(people["dob"][children]),
        "sex": np.where(people["female"][children], female, male),
        "ethnic": people["ethnic"][children],
        "disability": people["disability"][children],
        "child": pick("child"),
        "ref": _iso(ref),
        "source": source,
        "need": pick("need"),
        "close": days(close, closed),
        "reason": np.where(closed, reason, ""),
        "nfa": np.where(pick("kind") == NFA, "1", "0"),
        "a_start": days(a_start, assessed),
        "a_auth": days(a_auth, authorised),
        "factors": np.where(authorised, pick("factors"), -1),
        "plan_start": days(p_start, planned),
        "plan_end": days(p_end, planned & (p_end <= last)),
        "s47": days(s47, enquired),
        "target": days(pick("target"), enquired & (pick("target") <= last)),
        "conference": days(conference, enquired & (conference <= last)),
        "not_required": np.where(enquired, np.where(conference >= NEVER, "1", "0"), ""),
        "cp_start": days(c_start, protected),
        "cp_end": days(c_end, protected & (c_end <= last)),
        "cp_days": np.stack([c_start, c_end]),
        "abuse": pick("abuse"),
        "abuse_latest": pick("abuse_latest"),
        "previous": pick("previous"),
    }


def _census_children(data: _CouncilReturns, year: int) -> list[dict[str, Any]]:
    """The year's CIN census as dicts, one per child in order of id, with the keys and types
    of `cin.read_census` (dates as dates, codes and NumberOfPreviousCPP as text) and more:
    the child's own id, not a pseudonym."""
    v = _census_view(data, year)
    first, last = _bounds(year)

    def when(text: str) -> date | None:
        return date.fromisoformat(text) if text else None

    result: dict[int, dict[str, Any]] = {}
    for k, child in enumerate(v["children"].tolist()):
        result[child] = {
            "child": v["id"][k],
            "upn": v["upn"][k],
            "birth_date": date.fromisoformat(v["dob"][k]),
            "sex": str(v["sex"][k]),
            "ethnicity": v["ethnic"][k],
            "disabilities": [v["disability"][k]] if v["disability"][k] else [],
            "referrals": [],
        }
    for i, child in enumerate(v["child"].tolist()):
        item: dict[str, Any] = {
            "referral_date": date.fromisoformat(v["ref"][i]),
            "referral_source": str(v["source"][i]),
            "primary_need": v["need"][i] or None,
            "closure_date": when(v["close"][i]),
            "reason_for_closure": str(v["reason"][i]) or None,
            "referral_nfa": str(v["nfa"][i]),
            "assessments": [],
            "cin_plans": [],
            "section47": [],
            "cp_plans": [],
        }
        if v["a_start"][i]:
            item["assessments"].append(
                {
                    "start": when(v["a_start"][i]),
                    "authorised": when(v["a_auth"][i]),
                    "factors": list(_factor_codes(int(v["factors"][i]), year))
                    if v["a_auth"][i]
                    else [],
                }
            )
        if v["plan_start"][i]:
            item["cin_plans"].append(
                {"start": when(v["plan_start"][i]), "end": when(v["plan_end"][i])}
            )
        if v["s47"][i]:
            item["section47"].append(
                {
                    "start": when(v["s47"][i]),
                    "conference_target": when(v["target"][i]),
                    "conference": when(v["conference"][i]),
                    "conference_not_required": str(v["not_required"][i]),
                }
            )
        if v["cp_start"][i]:
            start, end = (int(x) for x in v["cp_days"][:, i])
            item["cp_plans"].append(
                {
                    "start": when(v["cp_start"][i]),
                    "end": when(v["cp_end"][i]),
                    "initial_category": v["abuse"][i],
                    "latest_category": v["abuse_latest"][i],
                    "previous_plans": str(v["previous"][i]),
                    "reviews": [
                        date.fromisoformat(t)
                        for t in _iso(
                            np.array(_cp_reviews(start, end, first, last), dtype=np.int64)
                        ).tolist()
                    ],
                }
            )
        result[child]["referrals"].append(item)
    return list(result.values())


def _cin_xml(data: _CouncilReturns, year: int) -> bytes:
    """A CIN census file, valid against the year's schema."""
    v = _census_view(data, year)
    first, last = _bounds(year)
    sex = v["sex_element"]
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n  <Header>\n'
        f"    <CollectionDetails>\n      <Collection>CIN</Collection>\n      <Year>{year}</Year>\n"
        f"      <ReferenceDate>{year}-03-31</ReferenceDate>\n    </CollectionDetails>\n"
        f"    <Source>\n      <SourceLevel>L</SourceLevel>\n"
        f"      <LEA>{data.council.old_code}</LEA>\n"
        "      <SoftwareCode>whatworks synthetic returns</SoftwareCode>\n"
        "      <Release>1</Release>\n      <SerialNo>001</SerialNo>\n"
        f"      <DateTime>{year}-05-01T09:00:00</DateTime>\n    </Source>\n  </Header>\n"
        "  <Children>\n"
    ]
    write = out.append
    children = v["children"].tolist()
    owner = v["child"].tolist()
    i, count = 0, len(owner)
    names = (
        "ref source need close reason nfa a_start a_auth factors plan_start plan_end s47 target "
        "conference not_required cp_start cp_end abuse abuse_latest previous"
    )
    ref, source, need, close, reason, nfa, a_start, a_auth, factors, p_start, p_end = (
        v[k].tolist() for k in names.split()[:11]
    )
    s47, target, conference, not_required, c_start, c_end, abuse, latest, previous = (
        v[k].tolist() for k in names.split()[11:]
    )
    cp_days = v["cp_days"]
    for k, child in enumerate(children):
        disability = v["disability"][k]
        write(
            f"    <Child>\n      <ChildIdentifiers>\n        <LAchildID>{v['id'][k]}</LAchildID>\n"
            f"        <UPN>{v['upn'][k]}</UPN>\n"
            f"        <PersonBirthDate>{v['dob'][k]}</PersonBirthDate>\n"
            f"        <{sex}>{v['sex'][k]}</{sex}>\n      </ChildIdentifiers>\n"
            f"      <ChildCharacteristics>\n        <Ethnicity>{v['ethnic'][k]}</Ethnicity>\n"
            + (
                f"        <Disabilities>\n          <Disability>{disability}</Disability>\n"
                "        </Disabilities>\n"
                if disability
                else ""
            )
            + "      </ChildCharacteristics>\n"
        )
        while i < count and owner[i] == child:
            write(f"      <CINdetails>\n        <CINreferralDate>{ref[i]}</CINreferralDate>\n")
            write(f"        <ReferralSource>{source[i]}</ReferralSource>\n")
            if need[i]:
                write(f"        <PrimaryNeedCode>{need[i]}</PrimaryNeedCode>\n")
            if close[i]:
                write(
                    f"        <CINclosureDate>{close[i]}</CINclosureDate>\n"
                    f"        <ReasonForClosure>{reason[i]}</ReasonForClosure>\n"
                )
            if a_start[i]:
                write(
                    "        <Assessments>\n          <AssessmentActualStartDate>"
                    f"{a_start[i]}</AssessmentActualStartDate>\n"
                )
                if a_auth[i]:
                    write(
                        f"          <AssessmentAuthorisationDate>{a_auth[i]}"
                        "</AssessmentAuthorisationDate>\n"
                        "          <FactorsIdentifiedAtAssessment>\n"
                        + "".join(
                            f"            <AssessmentFactors>{f}</AssessmentFactors>\n"
                            for f in _factor_codes(factors[i], year)
                        )
                        + "          </FactorsIdentifiedAtAssessment>\n"
                    )
                write("        </Assessments>\n")
            if p_start[i]:
                write(
                    "        <CINPlanDates>\n"
                    f"          <CINPlanStartDate>{p_start[i]}</CINPlanStartDate>\n"
                    + (
                        f"          <CINPlanEndDate>{p_end[i]}</CINPlanEndDate>\n"
                        if p_end[i]
                        else ""
                    )
                    + "        </CINPlanDates>\n"
                )
            if s47[i]:
                write(
                    "        <Section47>\n"
                    f"          <S47ActualStartDate>{s47[i]}</S47ActualStartDate>\n"
                    + (
                        f"          <InitialCPCtarget>{target[i]}</InitialCPCtarget>\n"
                        if target[i]
                        else ""
                    )
                    + (
                        f"          <DateOfInitialCPC>{conference[i]}</DateOfInitialCPC>\n"
                        if conference[i]
                        else ""
                    )
                    + f"          <ICPCnotRequired>{not_required[i]}</ICPCnotRequired>\n"
                    + "        </Section47>\n"
                )
            write(f"        <ReferralNFA>{nfa[i]}</ReferralNFA>\n")
            if c_start[i]:
                reviews = _cp_reviews(int(cp_days[0, i]), int(cp_days[1, i]), first, last)
                write(
                    "        <ChildProtectionPlans>\n"
                    f"          <CPPstartDate>{c_start[i]}</CPPstartDate>\n"
                    + (f"          <CPPendDate>{c_end[i]}</CPPendDate>\n" if c_end[i] else "")
                    + f"          <InitialCategoryOfAbuse>{abuse[i]}</InitialCategoryOfAbuse>\n"
                    f"          <LatestCategoryOfAbuse>{latest[i]}</LatestCategoryOfAbuse>\n"
                    f"          <NumberOfPreviousCPP>{previous[i]}</NumberOfPreviousCPP>\n"
                    + (
                        "          <Reviews>\n"
                        + "".join(
                            f"            <CPPreviewDate>{t}</CPPreviewDate>\n"
                            for t in _iso(np.array(reviews, dtype=np.int64)).tolist()
                        )
                        + "          </Reviews>\n"
                        if reviews
                        else ""
                    )
                    + "        </ChildProtectionPlans>\n"
                )
            write("      </CINdetails>\n")
            i += 1
        write("    </Child>\n")
    write("  </Children>\n</Message>\n")
    return "".join(out).encode("utf-8")


# --- the API ------------------------------------------------------------------------------


@dataclass
class Generated:
    """Synthetic returns for some councils and years. Each council is simulated when first
    asked for (and a few are kept); rows are built for a council and year on request."""

    councils: tuple[str, ...]
    years: tuple[int, ...]
    seed: int
    scale: float
    interventions: tuple[Intervention, ...]
    parameters: dict[str, CouncilParameters]
    _kept: OrderedDict[str, _CouncilReturns] = field(default_factory=OrderedDict, repr=False)

    def _returns(self, council: str, keep: bool = True) -> _CouncilReturns:
        if council not in self.parameters:
            raise WhatworksError(
                f"{council} was not generated; councils: {', '.join(self.councils)}"
            )
        if council in self._kept:
            self._kept.move_to_end(council)
            return self._kept[council]
        simulated = _simulate(
            council,
            self.parameters[council],
            self.seed,
            (min(self.years), max(self.years)),
            self.scale,
            self.interventions,
        )
        if keep:
            self._kept[council] = simulated
            while len(self._kept) > 4:
                self._kept.popitem(last=False)
        return simulated

    def _year(self, year: int) -> int:
        if year not in self.years:
            raise WhatworksError(f"{year} was not generated; years: {self.years}")
        return year

    def tables(self, council: str, year: int) -> dict[str, list[dict[str, str]]]:
        """The SSDA903 tables of a council's return for a year: rows of column -> text."""
        columns = _ssda903(self._returns(council), self._year(year))
        return {
            name: [
                dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)
            ]
            for name, values in columns.items()
        }

    def cin_census(self, council: str, year: int) -> list[dict[str, Any]]:
        """The CIN census of a council for a year: one dict per child (dates as dates)."""
        return _census_children(self._returns(council), self._year(year))

    def cin_xml(self, council: str, year: int) -> bytes:
        """The CIN census file of a council for a year."""
        data = self._returns(council)
        return _cin_xml(data, self._year(year))

    def truth(self) -> dict[str, Any]:
        """What was asked for and every parameter the simulation used."""
        return {
            "generator": "whatworks.returns.synthetic",
            "seed": self.seed,
            "scale": self.scale,
            "councils": list(self.councils),
            "years": list(self.years),
            "interventions": [
                asdict(i) | {"councils": list(i.councils)} for i in self.interventions
            ],
            "national_targets": NATIONAL,
            "constants": {
                "move_rate": MOVE_RATE,
                "stability_curve": [list(p) for p in STABILITY_CURVE],
                "referrals_per_career": REFERRALS_PER_CAREER,
                "quick_share": QUICK_SHARE,
                "cp_history": CP_HISTORY,
                "eet_in_touch": EET_IN_TOUCH,
                "uasc_share": UASC_SHARE,
                "reentry": REENTRY,
                "care_burn_in_years": CARE_BURN_IN,
            },
            "parameters": {code: asdict(p) for code, p in self.parameters.items()},
        }


def generate(
    councils: Sequence[str],
    years: Sequence[int],
    seed: int,
    scale: float = 1.0,
    interventions: Sequence[Intervention] = (),
) -> Generated:
    """Synthetic returns for these councils (new LA codes) and collection years (2017-2026),
    the same for the same arguments; `scale` multiplies every council's children."""
    chosen = tuple(dict.fromkeys(councils))
    wanted = tuple(sorted(set(years)))
    if not chosen or not wanted:
        raise WhatworksError("Give at least one council and one year")
    if wanted[0] < FIRST_YEAR or wanted[-1] > LAST_YEAR:
        raise WhatworksError(f"Years must be from {FIRST_YEAR} to {LAST_YEAR}; got {list(wanted)}")
    if not scale > 0:
        raise WhatworksError(f"scale must be above 0; got {scale}")
    parameters = {code: _parameters(_council(code), seed) for code in chosen}
    return Generated(chosen, wanted, seed, float(scale), tuple(interventions), parameters)


def write_returns(generated: Generated, out: Path) -> list[Path]:
    """Write every council's returns for every year, out/<council>/<year>/<table>.csv and
    cin_census.xml, and out/truth.json; returns the files written."""
    written = []
    for council in generated.councils:
        data = generated._returns(council, keep=False)
        for year in generated.years:
            folder = out / council / str(year)
            folder.mkdir(parents=True, exist_ok=True)
            for name, values in _ssda903(data, year).items():
                path = folder / f"{name}.csv"
                with path.open("w", encoding="utf-8", newline="") as handle:
                    writer = csv.writer(handle, lineterminator="\n")
                    writer.writerow(list(values))
                    writer.writerows(zip(*values.values(), strict=True))
                written.append(path)
            path = folder / "cin_census.xml"
            path.write_bytes(_cin_xml(data, year))
            written.append(path)
    path = out / "truth.json"
    path.write_text(json.dumps(generated.truth(), indent=2, sort_keys=True, default=float) + "\n")
    written.append(path)
    return written
