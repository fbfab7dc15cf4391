"""Synthetic agency datasets: the same children seen by council, school, health and police,
each agency's records with its own errors, and the truth (a person id) kept for evaluation.

API::

    data = generate(people=2000, seed=1, difficulty="standard",
                    agencies=("council", "health"))
    data.rows("council")            # [{field: text}, ...], FIELDS, with the truth in person_id
    data.true_pairs("council", "health")   # {(council record id, health record id), ...}
    data.write(folder)              # folder/<agency>.csv

Children live in families (a surname, an address and a postcode shared by siblings); some
siblings are twins (same date of birth, different first names). Each agency sees a child
with its own probability (`COVERAGE`) and holds the identifiers it would hold: health the
NHS number, schools the UPN, the council either for only some children, the police rarely
(`IDENTIFIERS`). Each record then gets errors at the difficulty's rates: typos in names,
nicknames (Bill for William), day and month transposed in the date of birth, a moved
address, a mistyped or missing postcode, a changed surname. "hard" has more common names,
more twins, siblings born closer together and about twice the errors. The council writes
dates dd/mm/yyyy, the others yyyy-mm-dd. Names come from `names.py` (a hand-made list).
Each record also carries the agency's need codes (`NEEDS`), ";"-separated and often empty,
drawn from a random stream of their own, so the identifying fields are the same with or
without them; a child's chance of each need rises with a risk of their own, the same at
every agency, so children with needs at one agency tend to have needs at others.
UPNs carry the DfE check letter (`returns.synthetic.upn_check_letter`) and NHS numbers the
modulus 11 check digit. The same arguments give the same records.

From a council's statutory returns::

    returns = read_returns(folder, "E09000003", 2025)   # written by `whatworks demo generate`
    data = from_returns(returns, seed=1)

The council's records are then exactly the children in need on the day (31 March by
default) in the council's CIN census and SSDA903 return, with their dates of birth, sexes
and UPNs, their status on the day as need codes, and their child id as the truth; they are
given names, families and NHS numbers, the rest of the area's children are made as
`generate` makes them, and school, health and police see them all (docs/sharing.md).
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from whatworks.core.errors import WhatworksError
from whatworks.returns import cin
from whatworks.returns.cin import MAX_BYTES as CIN_MAX_BYTES
from whatworks.returns.ssda903 import POSTCODE, read_limited
from whatworks.returns.synthetic import NATIONAL, upn_check_letter
from whatworks.sharing import names


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


AGENCIES = ("council", "school", "health", "police")
DIFFICULTIES = ("standard", "hard")
FIELDS = (
    "record_id",
    "person_id",
    "first_name",
    "surname",
    "dob",
    "sex",
    "postcode",
    "address",
    "upn",
    "nhs_number",
    "needs",
)
#: Children are aged 0-17 on this day.
REFERENCE_DAY = date(2025, 3, 31)
#: The chance an agency holds a record of a child (school: of a child aged 4 or over).
COVERAGE = {"council": 0.85, "school": 0.9, "health": 0.95, "police": 0.3}
#: The chance an agency's record holds each identifier.
IDENTIFIERS = {
    "council": {"upn": 0.7, "nhs_number": 0.5},
    "school": {"upn": 1.0, "nhs_number": 0.0},
    "health": {"upn": 0.0, "nhs_number": 1.0},
    "police": {"upn": 0.0, "nhs_number": 0.1},
}
#: The chance sex is missing or recorded as unknown.
_SEX_ERRORS = 0.01
#: Each agency's need codes: (code, chance for a child of average risk, youngest age, oldest).
NEEDS: dict[str, tuple[tuple[str, float, int, int], ...]] = {
    "council": (
        ("early help", 0.08, 0, 17),
        ("child in need", 0.05, 0, 17),
        ("child protection plan", 0.015, 0, 17),
        ("looked after", 0.01, 0, 17),
    ),
    "school": (
        ("SEN support", 0.13, 4, 17),
        ("EHC plan", 0.045, 4, 17),
        ("persistent absence", 0.18, 5, 17),
        ("suspension", 0.04, 7, 17),
    ),
    "health": (
        ("A&E attendance", 0.2, 0, 17),
        ("CAMHS", 0.06, 5, 17),
        ("health visiting", 0.9, 0, 4),
    ),
    "police": (
        ("missing episode", 0.08, 10, 17),
        ("domestic abuse household", 0.3, 0, 17),
        ("youth justice", 0.06, 10, 17),
    ),
}
_PREFIX = {"council": "C", "school": "S", "health": "H", "police": "P"}
_STREETS = _words(
    "Church Station Victoria Albert Park Mill Queens Kings Green Manor Grange Chapel "
    "Springfield Highfield Windsor York Oxford Beech Cedar Elm Willow Meadow Orchard"
)
_STREET_KINDS = ("Road", "Street", "Lane", "Close", "Avenue", "Way", "Drive")
_AREAS = ("N", "E", "SE", "SW", "NW", "B", "M", "L", "LS", "S", "BS", "NG", "LE", "CV")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True)
class Difficulty:
    """Rates that make linkage harder: shares of names, family shapes and record errors."""

    common_surname_share: float  # the rest of surnames are uncommon
    name_exponent: float  # Zipf exponent on first-name and surname rank
    twins: float  # chance a further child in a family is the previous one's twin
    sibling_gap_days: tuple[int, int]
    typo: float  # per name
    nickname: float
    transposed: float  # day and month swapped (where the day is 12 or less)
    dob_typo: float  # one digit of the day wrong
    moved: float  # a different address and postcode
    postcode_typo: float
    missing_postcode: float
    surname_change: float


LEVELS = {
    "standard": Difficulty(
        0.3, 0.9, 0.02, (400, 2500), 0.03, 0.05, 0.02, 0.01, 0.1, 0.02, 0.03, 0.01
    ),
    "hard": Difficulty(0.6, 1.2, 0.08, (280, 800), 0.07, 0.12, 0.05, 0.03, 0.25, 0.04, 0.08, 0.04),
}


@dataclass(frozen=True)
class Person:
    """A child as they are (the truth), before any agency records them."""

    person_id: str
    family_id: int
    twin_of: str | None
    first_name: str
    surname: str
    dob: date
    sex: str
    postcode: str
    address: str
    upn: str
    nhs_number: str


@dataclass
class AgencyData:
    """The children (truth) and each agency's records of them."""

    seed: int
    difficulty: str
    people: list[Person]
    records: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def rows(self, agency: str) -> list[dict[str, str]]:
        """An agency's records, each with every field in FIELDS ("" where not held)."""
        if agency not in self.records:
            raise WhatworksError(f"No records for {agency!r}; generated: {sorted(self.records)}")
        return self.records[agency]

    def true_pairs(self, left: str, right: str) -> set[tuple[str, str]]:
        """Every (left record id, right record id) of the same child."""
        by_person: dict[str, list[str]] = {}
        for row in self.rows(right):
            by_person.setdefault(row["person_id"], []).append(row["record_id"])
        return {
            (row["record_id"], other)
            for row in self.rows(left)
            for other in by_person.get(row["person_id"], [])
        }

    def write(self, folder: Path) -> list[Path]:
        """Write folder/<agency>.csv for every agency; returns the files written."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for agency, rows in self.records.items():
            path = folder / f"{agency}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=FIELDS, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
            written.append(path)
        return written


def generate(
    people: int,
    seed: int,
    difficulty: str = "standard",
    agencies: Sequence[str] = AGENCIES,
    la_code: str = "202",
) -> AgencyData:
    """`people` children in families and each agency's records of them; the same arguments
    give the same records. `la_code` is the old (3-digit) LA code inside UPNs."""
    _check(difficulty, agencies)
    if people < 1:
        raise WhatworksError(f"people must be at least 1; got {people}")
    level = LEVELS[difficulty]
    rng = random.Random(f"sharing:{seed}:{difficulty}")
    children = _children(rng, people, level, la_code)
    data = AgencyData(seed, difficulty, children)
    risk = _risks(random.Random(f"sharing:{seed}:{difficulty}:risk"), children)
    for agency in agencies:
        stream = random.Random(f"sharing:{seed}:{difficulty}:{agency}")
        data.records[agency] = _records(stream, agency, children, level)
        needs = random.Random(f"sharing:{seed}:{difficulty}:{agency}:needs")
        _add_needs(needs, agency, data.records[agency], children, risk)
    return data


def _check(difficulty: str, agencies: Sequence[str]) -> None:
    if difficulty not in LEVELS:
        raise WhatworksError(f"difficulty must be one of {', '.join(DIFFICULTIES)}")
    unknown = [a for a in agencies if a not in AGENCIES]
    if unknown or not agencies:
        raise WhatworksError(f"agencies must be some of {', '.join(AGENCIES)}; got {unknown}")


# --- children ----------------------------------------------------------------------------


def _zipf_weights(n: int, exponent: float) -> list[float]:
    return [1 / rank**exponent for rank in range(1, n + 1)]


def _postcode(rng: random.Random, area: str | None = None) -> str:
    area = area or rng.choice(_AREAS)
    inward = f"{rng.randrange(10)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
    return f"{area}{rng.randrange(1, 21)} {inward}"


def _address(rng: random.Random) -> str:
    return f"{rng.randrange(1, 180)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}"


def _nhs_number(rng: random.Random) -> str:
    """Nine digits and the modulus 11 check digit (a remainder giving 10 is never issued)."""
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 10:
            continue
        return "".join(map(str, digits)) + str(0 if check == 11 else check)


def _upn(rng: random.Random, la_code: str, dob: date) -> str:
    digits = (
        f"{la_code}{rng.randrange(2000, 7500)}{(dob.year + 5) % 100:02d}{rng.randrange(1000):03d}"
    )
    return upn_check_letter(digits) + digits


def _years_before(day: date, years: int) -> date:
    """The same day `years` years earlier (28 February for 29 February)."""
    if (day.month, day.day) == (2, 29):
        return date(day.year - years, 2, 28)
    return day.replace(year=day.year - years)


@dataclass(frozen=True)
class _Names:
    """Draws surnames and first names with the difficulty's Zipf weights on rank."""

    level: Difficulty
    boys: list[float]
    girls: list[float]
    common: list[float]
    rare: tuple[str, ...]

    @classmethod
    def of(cls, level: Difficulty) -> _Names:
        return cls(
            level,
            _zipf_weights(len(names.BOYS), level.name_exponent),
            _zipf_weights(len(names.GIRLS), level.name_exponent),
            _zipf_weights(len(names.COMMON_SURNAMES), level.name_exponent),
            names.rare_surnames(),
        )

    def surname(self, rng: random.Random) -> str:
        if rng.random() < self.level.common_surname_share:
            return rng.choices(names.COMMON_SURNAMES, self.common)[0]
        return rng.choice(self.rare)

    def first_name(self, rng: random.Random, sex: str, taken: set[str]) -> str:
        """A first name for the sex (M or F) not too like a sibling's; added to `taken`."""
        while True:
            first = rng.choices(
                *((names.BOYS, self.boys) if sex == "M" else (names.GIRLS, self.girls))
            )[0]
            if not any(
                first[:3] == other[:3] or first in other or other in first for other in taken
            ):
                break
        taken.add(first)
        return first


@dataclass(frozen=True)
class _Household:
    """What siblings share."""

    family_id: int
    surname: str
    postcode: str
    address: str
    size: int


def _household(
    rng: random.Random, family_id: int, namer: _Names, home: Callable[[random.Random], str]
) -> _Household:
    surname = namer.surname(rng)
    postcode, address = home(rng), _address(rng)
    size = rng.choices((1, 2, 3, 4), (0.45, 0.33, 0.15, 0.07))[0]
    return _Household(family_id, surname, postcode, address, size)


def _sibling_dob(
    rng: random.Random, level: Difficulty, earliest: date, latest: date, day: date
) -> date:
    """A brother's or sister's date of birth: a gap after the youngest, or before the
    eldest when that would be after `day`."""
    gap = rng.randint(*level.sibling_gap_days)
    later = latest + timedelta(days=gap)
    return later if later <= day else earliest - timedelta(days=gap)


def _invented(
    rng: random.Random,
    namer: _Names,
    taken: set[str],
    person_id: str,
    household: _Household,
    twin_of: str | None,
    dob: date,
    la_code: str,
) -> Person:
    """A child of the household, with a sex, a first name, a UPN and an NHS number."""
    sex = rng.choice("MF")
    first = namer.first_name(rng, sex, taken)
    return Person(
        person_id=person_id,
        family_id=household.family_id,
        twin_of=twin_of,
        first_name=first,
        surname=household.surname,
        dob=dob,
        sex=sex,
        postcode=household.postcode,
        address=household.address,
        upn=_upn(rng, la_code, dob),
        nhs_number=_nhs_number(rng),
    )


def _children(
    rng: random.Random,
    n: int,
    level: Difficulty,
    la_code: str,
    day: date = REFERENCE_DAY,
    home: Callable[[random.Random], str] = _postcode,
    first_number: int = 1,
    first_family: int = 1,
) -> list[Person]:
    """`n` children aged 0-17 on `day` in families, numbered P<first_number> on."""
    namer = _Names.of(level)
    oldest = (day - _years_before(day, 18)).days - 1
    children: list[Person] = []
    family = first_family - 1
    while len(children) < n:
        family += 1
        household = _household(rng, family, namer, home)
        dob = day - timedelta(days=rng.randrange(oldest))
        taken: set[str] = set()
        previous: Person | None = None
        earliest = latest = dob
        for _ in range(min(household.size, n - len(children))):
            twin = previous is not None and rng.random() < level.twins
            if previous is not None and not twin:
                dob = _sibling_dob(rng, level, earliest, latest, day)
                earliest, latest = min(earliest, dob), max(latest, dob)
            person = _invented(
                rng,
                namer,
                taken,
                f"P{first_number + len(children):06d}",
                household,
                previous.person_id if twin and previous is not None else None,
                dob,
                la_code,
            )
            children.append(person)
            previous = person
    return children


# --- an agency's records --------------------------------------------------------------------


def typo(rng: random.Random, word: str) -> str:
    """One keying error: a letter changed, dropped, doubled or swapped with the next."""
    if len(word) < 3:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:at] + rng.choice("aeiourstnl") + word[at + 1 :]
    if kind == 1:
        return word[:at] + word[at + 1 :]
    if kind == 2:
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def _recorded_dob(rng: random.Random, dob: date, level: Difficulty) -> date:
    if dob.day <= 12 and dob.day != dob.month and rng.random() < level.transposed:
        return date(dob.year, dob.day, dob.month)
    if rng.random() < level.dob_typo:
        day = dob.day + rng.choice((-10, -1, 1, 10))
        if 1 <= day <= 28:
            return dob.replace(day=day)
    return dob


def _records(
    rng: random.Random,
    agency: str,
    children: list[Person],
    level: Difficulty,
    day: date = REFERENCE_DAY,
    coverage: float | None = None,
    move: Callable[[random.Random, str], str] | None = None,
) -> list[dict[str, str]]:
    """The agency's records of the children it sees (each with chance `coverage`, by default
    the agency's `COVERAGE`), with errors at the difficulty's rates, in random order. A
    child who moved has the postcode `move` gives for their own (by default a postcode
    in a random area, or in their own area with a district drawn anew)."""
    held = IDENTIFIERS[agency]
    chance = COVERAGE[agency] if coverage is None else coverage
    seen = []
    for person in children:
        if agency == "school" and (day - person.dob).days < 4 * 365:
            continue
        if rng.random() >= chance:
            continue
        first, surname = person.first_name, person.surname
        if first in names.NICKNAMES and rng.random() < level.nickname:
            first = rng.choice(names.NICKNAMES[first])
        if rng.random() < level.typo:
            first = typo(rng, first)
        if rng.random() < level.surname_change:
            surname = rng.choice(names.rare_surnames())
        if rng.random() < level.typo:
            surname = typo(rng, surname)
        postcode, address = person.postcode, person.address
        if rng.random() < level.moved:
            postcode = (
                move(rng, postcode)
                if move is not None
                else _postcode(rng, rng.choice((None, postcode.split()[0][:-1])))
            )
            address = _address(rng)
        if rng.random() < level.postcode_typo:
            postcode = postcode[:-1] + rng.choice(_INWARD_LETTERS)
        if rng.random() < level.missing_postcode:
            postcode = ""
        dob = _recorded_dob(rng, person.dob, level)
        seen.append(
            {
                "person_id": person.person_id,
                "first_name": first,
                "surname": surname,
                "dob": dob.strftime("%d/%m/%Y") if agency == "council" else dob.isoformat(),
                "sex": person.sex if rng.random() >= _SEX_ERRORS else rng.choice(("", "U")),
                "postcode": postcode,
                "address": address,
                "upn": person.upn if rng.random() < held["upn"] else "",
                "nhs_number": person.nhs_number if rng.random() < held["nhs_number"] else "",
            }
        )
    rng.shuffle(seen)
    return [{"record_id": f"{_PREFIX[agency]}{i + 1:06d}", **row} for i, row in enumerate(seen)]


# --- the agency's need codes ----------------------------------------------------------------


def _risks(
    rng: random.Random, children: list[Person], in_need: frozenset[str] = frozenset()
) -> dict[str, float]:
    """Each child's risk: a multiplier of every need's chance, log-normal with mean 1, so
    the chances in NEEDS are those of a child of average risk. A child known to be in need
    (`in_need`, by person id) has the risk of children in need: as a need's chance is
    proportional to the risk, their risk's distribution is the log-normal weighted by
    itself, the log mean raised by the log variance (mean e, not 1)."""
    return {
        p.person_id: rng.lognormvariate(0.5 if p.person_id in in_need else -0.5, 1.0)
        for p in children
    }


def _add_needs(
    rng: random.Random,
    agency: str,
    rows: list[dict[str, str]],
    children: list[Person],
    risk: dict[str, float],
    day: date = REFERENCE_DAY,
) -> None:
    """Give every record its agency's need codes ("" for none), in the records' order."""
    dob = {p.person_id: p.dob for p in children}
    for row in rows:
        born = dob[row["person_id"]]
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        codes = [
            code
            for code, chance, youngest, oldest in NEEDS[agency]
            if rng.random()
            < min(0.95, chance * (1 if code == "health visiting" else risk[row["person_id"]]))
            and youngest <= age <= oldest
        ]
        row["needs"] = ";".join(codes)


# --- agency data from a council's statutory returns ------------------------------------------

#: The council's need codes of a child in the returns (every one of them is a child in need).
RETURNS_NEEDS = ("child in need", "child protection plan", "looked after")
#: The chance a further brother or sister of a child in the returns is another child in the
#: returns (where one of a fitting age is there), not a child unknown to children's social care.
SIBLINGS_IN_NEED = 0.5
#: How far (days) a child in the returns may be born from the sibling date of birth drawn.
SIBLING_TOLERANCE = 90
#: A postcode area is the council's own when it holds at least this share of the home
#: postcodes in the returns (the rest are homes elsewhere).
OWN_AREA_SHARE = 0.05
_PERSON_ID = re.compile(r"^P\d{6}$")


@dataclass(frozen=True)
class ReturnsChild:
    """A child in need on the day, as a council's statutory returns show them."""

    child_id: str  # the council's child id (LAchildID in the CIN census, CHILD in SSDA903)
    dob: date
    sex: str  # M, F or U
    upn: str  # "" where the returns hold none
    protection_plan: bool  # on a child protection plan on the day
    looked_after: bool  # looked after on the day

    @property
    def needs(self) -> tuple[str, ...]:
        """The council's need codes: "child in need", and the plan and care on the day."""
        return tuple(
            code
            for code, held in zip(
                RETURNS_NEEDS, (True, self.protection_plan, self.looked_after), strict=True
            )
            if held
        )


@dataclass(frozen=True)
class ReturnsChildren:
    """The children in need on a day in one council's returns for one collection year."""

    la: str  # new LA code, such as E09000003
    la_code: str  # old (3-digit) LA code, inside UPNs
    year: int  # the collection year to 31 March `year`
    on: date
    children: tuple[ReturnsChild, ...]
    #: Postcode districts of the homes in the returns (SSDA903 HOME_POST), in the council's
    #: own areas, one for each child looked after in the year (the common ones come more
    #: often); families live in these districts.
    home_districts: tuple[str, ...] = ()
    #: Children in need per 10,000 children the returns were made for (truth.json), if known.
    cin_per_10k: float | None = None

    def area_children(self) -> int:
        """The area's children, from the children in need and their rate per 10,000 (the
        national rate when the returns do not say)."""
        rate = self.cin_per_10k or NATIONAL["cin_per_10k"]
        return max(len(self.children), round(len(self.children) * 10_000 / rate))


def from_returns(
    returns: ReturnsChildren,
    seed: int,
    difficulty: str = "standard",
    agencies: Sequence[str] = AGENCIES,
    people: int | None = None,
) -> AgencyData:
    """Agency data in which the council's records are exactly the children in need on the
    day in the council's returns, each with their date of birth, sex and UPN from the
    returns, their need codes their status on the day (`ReturnsChild.needs`) and their child
    id as the truth (`person_id`). They are given names, families (with brothers and sisters,
    some of them children in the returns too), homes in the council's postcode districts and
    NHS numbers; the rest of the area's children are made as `generate` makes them, up to
    `people` in all (default `returns.area_children()`). School, health and police records,
    and every record's errors, are as in `generate`, on the day `returns.on`. The same
    returns and arguments give the same records."""
    _check(difficulty, agencies)
    ids = [child.child_id for child in returns.children]
    if not ids:
        raise WhatworksError(
            f"{returns.la}'s {returns.year} returns have no child in need on "
            f"{returns.on.isoformat()}, so there are no council records to make"
        )
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        raise WhatworksError(f"Children appear twice in the returns: {', '.join(repeated[:10])}")
    clashing = [i for i in ids if _PERSON_ID.match(i)]
    if clashing:
        raise WhatworksError(
            f"Child ids {', '.join(clashing[:10])} look like the ids of invented children "
            "(P and six digits); give the returns' children other ids"
        )
    wanted = returns.area_children() if people is None else people
    if wanted < len(ids):
        raise WhatworksError(
            f"people must be at least the {len(ids):,} children in need in the returns; "
            f"got {wanted:,}"
        )
    level = LEVELS[difficulty]
    rng = random.Random(f"sharing:returns:{seed}:{difficulty}")
    districts = returns.home_districts

    def home(stream: random.Random) -> str:
        if not districts:
            return _postcode(stream)
        inward = (
            f"{stream.randrange(10)}{stream.choice(_INWARD_LETTERS)}"
            f"{stream.choice(_INWARD_LETTERS)}"
        )
        return f"{stream.choice(districts)} {inward}"

    def move(stream: random.Random, _: str) -> str:
        """A new home: in the council's area or, as often, anywhere."""
        return home(stream) if stream.random() < 0.5 else _postcode(stream)

    in_need = frozenset(ids)
    known = _returns_families(rng, returns, level, home)
    invented = sum(p.person_id not in in_need for p in known)
    rest = _children(
        rng,
        max(0, wanted - len(known)),
        level,
        returns.la_code,
        returns.on,
        home,
        first_number=invented + 1,
        first_family=max(p.family_id for p in known) + 1,
    )
    population = known + rest
    data = AgencyData(seed, difficulty, population)
    risk = _risks(random.Random(f"sharing:returns:{seed}:{difficulty}:risk"), population, in_need)
    status = {child.child_id: child for child in returns.children}
    for agency in agencies:
        stream = random.Random(f"sharing:returns:{seed}:{difficulty}:{agency}")
        if agency == "council":
            seen = [p for p in population if p.person_id in in_need]
            rows = _records(stream, agency, seen, level, returns.on, 1.0, move)
            for row in rows:
                row["needs"] = ";".join(status[row["person_id"]].needs)
        else:
            rows = _records(stream, agency, population, level, returns.on, move=move)
            needs = random.Random(f"sharing:returns:{seed}:{difficulty}:{agency}:needs")
            _add_needs(needs, agency, rows, population, risk, returns.on)
        data.records[agency] = rows
    return data


def _returns_families(
    rng: random.Random,
    returns: ReturnsChildren,
    level: Difficulty,
    home: Callable[[random.Random], str],
) -> list[Person]:
    """Every child in the returns in a family: each child not yet placed starts one (drawn
    as `_children` draws them), whose further children are twins (invented), or a child in
    the returns born near the drawn date (with chance SIBLINGS_IN_NEED, if one fits), or
    invented children (numbered P000001 on)."""
    namer = _Names.of(level)
    order = sorted(returns.children, key=lambda c: c.child_id)
    rng.shuffle(order)
    unplaced = sorted((c.dob, c.child_id) for c in order)
    by_id = {c.child_id: c for c in order}
    placed: set[str] = set()
    people: list[Person] = []
    invented = families = 0

    def invent(household: _Household, taken: set[str], twin_of: str | None, dob: date) -> Person:
        nonlocal invented
        invented += 1
        return _invented(
            rng, namer, taken, f"P{invented:06d}", household, twin_of, dob, returns.la_code
        )

    for anchor in order:
        if anchor.child_id in placed:
            continue
        families += 1
        household = _household(rng, families, namer, home)
        taken: set[str] = set()
        unplaced.remove((anchor.dob, anchor.child_id))
        placed.add(anchor.child_id)
        previous = _from_returns_child(rng, namer, taken, anchor, household, returns.la_code)
        family = [previous]
        earliest = latest = anchor.dob
        for _ in range(household.size - 1):
            if rng.random() < level.twins:
                person = invent(household, taken, previous.person_id, previous.dob)
            else:
                dob = _sibling_dob(rng, level, earliest, latest, returns.on)
                found = None
                if rng.random() < SIBLINGS_IN_NEED:
                    found = _near(unplaced, dob, [p.dob for p in family], level)
                if found is None:
                    person = invent(household, taken, None, dob)
                else:
                    placed.add(found)
                    child = by_id[found]
                    person = _from_returns_child(
                        rng, namer, taken, child, household, returns.la_code
                    )
                earliest, latest = min(earliest, person.dob), max(latest, person.dob)
            family.append(person)
            previous = person
        people.extend(family)
    return people


def _near(
    unplaced: list[tuple[date, str]], dob: date, family: list[date], level: Difficulty
) -> str | None:
    """Take from `unplaced` (sorted by date of birth) the child born nearest `dob`, within
    SIBLING_TOLERANCE days and at least the smallest sibling gap from each of the family."""
    at = bisect.bisect_left(unplaced, (dob, ""))
    best: tuple[int, int] | None = None
    for i in range(max(0, at - 20), min(len(unplaced), at + 20)):
        born = unplaced[i][0]
        distance = abs((born - dob).days)
        if distance > SIBLING_TOLERANCE or any(
            abs((born - other).days) < level.sibling_gap_days[0] for other in family
        ):
            continue
        if best is None or distance < best[0]:
            best = (distance, i)
    return None if best is None else unplaced.pop(best[1])[1]


def _from_returns_child(
    rng: random.Random,
    namer: _Names,
    taken: set[str],
    child: ReturnsChild,
    household: _Household,
    la_code: str,
) -> Person:
    """A child in the returns as a person: their own date of birth, sex and UPN (one made
    up if the returns hold none), a first name and the household's surname and home."""
    first = namer.first_name(rng, child.sex if child.sex in ("M", "F") else rng.choice("MF"), taken)
    return Person(
        person_id=child.child_id,
        family_id=household.family_id,
        twin_of=None,
        first_name=first,
        surname=household.surname,
        dob=child.dob,
        sex=child.sex,
        postcode=household.postcode,
        address=household.address,
        upn=child.upn or _upn(rng, la_code, child.dob),
        nhs_number=_nhs_number(rng),
    )


# --- reading the returns ---------------------------------------------------------------------


def read_returns(
    folder: Path, la: str | None = None, year: int | None = None, on: date | None = None
) -> ReturnsChildren:
    """The children in need on the day `on` (default 31 March `year`, and it must be in the
    collection year) in the returns a council made for a year, from a folder written by
    `whatworks demo generate` (`folder/<la>/<year>/`: `cin_census.xml`, `header.csv`,
    `episodes.csv`, and `folder/truth.json` if there). `la` may be left out when the folder
    holds one council, `year` for the latest year.

    A child is in need on the day with a referral in the CIN census that is not "no further
    action", begun on or before the day and not closed by it; on a child protection plan with
    a plan begun on or before the day and not ended by it; looked after with an SSDA903
    episode begun on or before the day and not ended by it (these are the DfE's counts at
    31 March: a referral, plan or episode ending on the day is over). Children on a plan or
    looked after are children in need too. Children with no date of birth (unborn), or born
    after the day, are left out. Identifiers (child id, UPN) come from the CIN census, or
    the SSDA903 header for a child looked after who is not in it."""
    la = la or _only(folder, "council", lambda p: p.is_dir() and p.name[:1].isalpha())
    council = folder / la
    if not council.is_dir():
        raise WhatworksError(
            f"{folder} has no returns of {la}: there is no folder {council}. "
            f"Its councils: {', '.join(_listing(folder, str.isalnum)) or 'none'}"
        )
    year = year or int(_only(council, "year", lambda p: p.name.isdigit(), latest=True))
    base = council / str(year)
    if not base.is_dir():
        raise WhatworksError(
            f"{council} has no returns for {year}: there is no folder {base}. "
            f"Its years: {', '.join(_listing(council, str.isdigit)) or 'none'}"
        )
    first, last = date(year - 1, 4, 1), date(year, 3, 31)
    on = on or last
    if not first <= on <= last:
        raise WhatworksError(
            f"The day {on.isoformat()} is not in the collection year {year - 1}-{year % 100:02d} "
            f"({first.isoformat()} to {last.isoformat()}) that the {year} returns describe"
        )
    census, la_code = _census_on(base / "cin_census.xml", year, on)
    header = _csv_rows(base / "header.csv", ("CHILD", "SEX", "DOB", "UPN"))
    episodes = _csv_rows(base / "episodes.csv", ("CHILD", "DECOM", "DEC", "HOME_POST"))
    looked_after: set[str] = set()
    homes: dict[str, str] = {}
    for line, row in episodes:
        start = _uk_date(row["DECOM"], base / "episodes.csv", line, "DECOM")
        end = _uk_date(row["DEC"], base / "episodes.csv", line, "DEC") if row["DEC"] else None
        if start <= on and (end is None or end > on):
            looked_after.add(row["CHILD"])
        postcode = row["HOME_POST"].replace(" ", "").upper()
        if POSTCODE.match(postcode):
            homes[row["CHILD"]] = postcode[:-3]
    details = {
        row["CHILD"]: (
            _uk_date(row["DOB"], base / "header.csv", line, "DOB"),
            _sex(row["SEX"]),
            row["UPN"].strip().upper(),
        )
        for line, row in header
    }
    missing = sorted(looked_after - set(census) - set(details))
    if missing:
        raise WhatworksError(
            f"{base / 'episodes.csv'}: children {', '.join(missing[:10])} are looked after on "
            f"{on.isoformat()} but are in neither the CIN census nor {base / 'header.csv'}"
        )
    children = []
    for child_id in sorted(set(census) | looked_after):
        in_need, plan, dob, sex, upn = census.get(child_id, (False, False, None, "", ""))
        if child_id in details:
            header_dob, header_sex, header_upn = details[child_id]
            dob, sex, upn = dob or header_dob, sex or header_sex, upn or header_upn
        cared = child_id in looked_after
        if not (in_need or plan or cared) or dob is None or dob > on:
            continue
        children.append(ReturnsChild(child_id, dob, sex or "U", upn, plan, cared))
    return ReturnsChildren(
        la,
        la_code or _la_code_of(children),
        year,
        on,
        tuple(children),
        _own_districts(list(homes.values())),
        _truth_rate(folder / "truth.json", la),
    )


def _listing(folder: Path, wanted: Callable[[str], bool]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and wanted(p.name))


def _only(folder: Path, what: str, fits: Callable[[Path], bool], latest: bool = False) -> str:
    """The one sub-folder that fits (or the latest, by name), or an error naming them."""
    if not folder.is_dir():
        raise WhatworksError(
            f"{folder} is not a folder; give the folder `whatworks demo generate --out` wrote"
        )
    found = sorted(p.name for p in folder.iterdir() if fits(p))
    if not found:
        raise WhatworksError(
            f"{folder} holds no {what} folders; give the folder `whatworks demo generate "
            "--out` wrote"
        )
    if len(found) > 1 and not latest:
        raise WhatworksError(
            f"{folder} holds returns of {len(found)} councils ({', '.join(found[:10])}"
            f"{', ...' if len(found) > 10 else ''}); choose one (--la on the command line)"
        )
    return found[-1]


def _sex(code: str) -> str:
    return {"M": "M", "1": "M", "F": "F", "2": "F"}.get(code.strip().upper(), "")


def _uk_date(text: str, path: Path, line: int, column: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise WhatworksError(
            f"{path}, row {line}, {column}: {text!r} is not a date written dd/mm/yyyy"
        ) from None


def _csv_rows(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """A CSV file's rows (with their line, the header being line 1), checked for columns."""
    content = read_limited(path, CIN_MAX_BYTES)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise WhatworksError(f"{path} is not UTF-8 text ({error}); save it as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    found = [c.strip().upper() for c in reader.fieldnames or []]
    absent = [c for c in columns if c not in found]
    if absent:
        raise WhatworksError(
            f"{path} has no column {', '.join(absent)}; its columns are "
            f"{', '.join(found) or 'none'}. Give the folder `whatworks demo generate` wrote"
        )
    reader.fieldnames = found
    rows = []
    for line, row in enumerate(reader, start=2):
        if None in row or any(value is None for value in row.values()):
            raise WhatworksError(
                f"{path}, row {line}: the row has a different number of values from the header"
            )
        rows.append((line, {c: (row[c] or "").strip() for c in columns}))
    return rows


def _census_on(
    path: Path, year: int, on: date
) -> tuple[dict[str, tuple[bool, bool, date | None, str, str]], str]:
    """Each child in a CIN census file: (in need on the day, on a plan on the day, date of
    birth, sex, UPN); and the census's old LA code. The file is parsed as `cin.read_census`
    parses it (no DTD or entities, checked against the year's XSD)."""
    content = read_limited(path, CIN_MAX_BYTES)
    try:
        cin.refuse_declarations(content)
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        document = etree.fromstring(content, parser=parser)
    except Exception as error:  # expat's and lxml's errors, and a declaration refused
        reason = str(error) or "it declares a DTD, entities or external references"
        raise WhatworksError(
            f"{path} is not a CIN census file that can be read safely ({reason}); "
            "give the cin_census.xml `whatworks demo generate` wrote"
        ) from None
    validator = cin.schema(year)
    if not validator.validate(document):
        shown = "; ".join(f"line {e.line}: {e.message}" for e in list(validator.error_log)[:5])
        raise WhatworksError(f"{path} does not follow the {year} CIN census schema: {shown}")

    def day(element: Any, tag: str) -> date | None:
        text = (element.findtext(tag) or "").strip()
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise WhatworksError(
                f"{path}, line {element.sourceline}, {tag}: {text!r} is not a date"
            ) from None

    def open_on(start: date | None, end: date | None) -> bool:
        return start is not None and start <= on and (end is None or end > on)

    children = {}
    for child in document.iterfind("Children/Child"):
        ids = child.find("ChildIdentifiers")
        if ids is None:
            continue
        child_id = (ids.findtext("LAchildID") or "").strip()
        in_need = plan = False
        for referral in child.iterfind("CINdetails"):
            nfa = (referral.findtext("ReferralNFA") or "").strip().lower() in ("1", "true")
            in_need |= not nfa and open_on(
                day(referral, "CINreferralDate"), day(referral, "CINclosureDate")
            )
            for cp in referral.iterfind("ChildProtectionPlans"):
                plan |= open_on(day(cp, "CPPstartDate"), day(cp, "CPPendDate"))
        sex = ids.findtext("Sex") or ids.findtext("GenderCurrent") or ""
        children[child_id] = (
            in_need,
            plan,
            day(ids, "PersonBirthDate"),
            _sex(sex),
            (ids.findtext("UPN") or "").strip().upper(),
        )
    return children, (document.findtext("Header/Source/LEA") or "").strip()


def _la_code_of(children: Sequence[ReturnsChild]) -> str:
    """The old LA code inside the children's UPNs (the commonest), or 202."""
    codes = Counter(c.upn[1:4] for c in children if len(c.upn) == 13)
    return codes.most_common(1)[0][0] if codes else "202"


def _own_districts(districts: list[str]) -> tuple[str, ...]:
    """The districts in the postcode areas holding at least OWN_AREA_SHARE of them."""
    areas = Counter(_area(d) for d in districts)
    own = {a for a, n in areas.items() if n >= OWN_AREA_SHARE * len(districts)}
    return tuple(sorted(d for d in districts if _area(d) in own))


def _area(district: str) -> str:
    """A postcode district's area: its leading letters (NW of NW12)."""
    return "".join(itertools.takewhile(str.isalpha, district))


def _truth_rate(path: Path, la: str) -> float | None:
    """Children in need per 10,000 that the returns generator aimed at for the council."""
    if not path.is_file():
        return None
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        rate = truth["parameters"][la]["targets"]["cin_per_10k"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(rate) if isinstance(rate, int | float) and rate > 0 else None
