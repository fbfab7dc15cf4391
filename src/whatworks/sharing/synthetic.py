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
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from whatworks.core.errors import WhatworksError
from whatworks.returns.synthetic import upn_check_letter
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
    if difficulty not in LEVELS:
        raise WhatworksError(f"difficulty must be one of {', '.join(DIFFICULTIES)}")
    unknown = [a for a in agencies if a not in AGENCIES]
    if unknown or not agencies:
        raise WhatworksError(f"agencies must be some of {', '.join(AGENCIES)}; got {unknown}")
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


def _children(rng: random.Random, n: int, level: Difficulty, la_code: str) -> list[Person]:
    boys = _zipf_weights(len(names.BOYS), level.name_exponent)
    girls = _zipf_weights(len(names.GIRLS), level.name_exponent)
    common = _zipf_weights(len(names.COMMON_SURNAMES), level.name_exponent)
    rare = names.rare_surnames()
    oldest = (REFERENCE_DAY - date(REFERENCE_DAY.year - 18, 4, 1)).days
    children: list[Person] = []
    family = 0
    while len(children) < n:
        family += 1
        if rng.random() < level.common_surname_share:
            surname = rng.choices(names.COMMON_SURNAMES, common)[0]
        else:
            surname = rng.choice(rare)
        postcode, address = _postcode(rng), _address(rng)
        size = rng.choices((1, 2, 3, 4), (0.45, 0.33, 0.15, 0.07))[0]
        dob = REFERENCE_DAY - timedelta(days=rng.randrange(oldest))
        taken: set[str] = set()
        previous: Person | None = None
        earliest = latest = dob
        for _ in range(min(size, n - len(children))):
            twin = previous is not None and rng.random() < level.twins
            if previous is not None and not twin:
                gap = rng.randint(*level.sibling_gap_days)
                later = latest + timedelta(days=gap)
                dob = later if later <= REFERENCE_DAY else earliest - timedelta(days=gap)
                earliest, latest = min(earliest, dob), max(latest, dob)
            sex = rng.choice("MF")
            while True:
                first = rng.choices(*((names.BOYS, boys) if sex == "M" else (names.GIRLS, girls)))[
                    0
                ]
                if not any(
                    first[:3] == other[:3] or first in other or other in first for other in taken
                ):
                    break
            taken.add(first)
            person = Person(
                person_id=f"P{len(children) + 1:06d}",
                family_id=family,
                twin_of=previous.person_id if twin and previous is not None else None,
                first_name=first,
                surname=surname,
                dob=dob,
                sex=sex,
                postcode=postcode,
                address=address,
                upn=_upn(rng, la_code, dob),
                nhs_number=_nhs_number(rng),
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
    rng: random.Random, agency: str, children: list[Person], level: Difficulty
) -> list[dict[str, str]]:
    held = IDENTIFIERS[agency]
    seen = []
    for person in children:
        if agency == "school" and (REFERENCE_DAY - person.dob).days < 4 * 365:
            continue
        if rng.random() >= COVERAGE[agency]:
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
            postcode, address = (
                _postcode(rng, rng.choice((None, postcode.split()[0][:-1]))),
                _address(rng),
            )
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


def _risks(rng: random.Random, children: list[Person]) -> dict[str, float]:
    """Each child's risk: a multiplier of every need's chance, log-normal with mean 1, so
    the chances in NEEDS are those of a child of average risk."""
    return {p.person_id: rng.lognormvariate(-0.5, 1.0) for p in children}


def _add_needs(
    rng: random.Random,
    agency: str,
    rows: list[dict[str, str]],
    children: list[Person],
    risk: dict[str, float],
) -> None:
    """Give every record its agency's need codes ("" for none), in the records' order."""
    dob = {p.person_id: p.dob for p in children}
    for row in rows:
        born = dob[row["person_id"]]
        age = (
            REFERENCE_DAY.year
            - born.year
            - ((REFERENCE_DAY.month, REFERENCE_DAY.day) < (born.month, born.day))
        )
        codes = [
            code
            for code, chance, youngest, oldest in NEEDS[agency]
            if rng.random()
            < min(0.95, chance * (1 if code == "health visiting" else risk[row["person_id"]]))
            and youngest <= age <= oldest
        ]
        row["needs"] = ";".join(codes)
