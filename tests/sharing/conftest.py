"""Fixtures of information sharing: a partnership of council, school, health and police
with an agreement in force, its people, and agency datasets written where uploads put them.

`build(session, data_dir, rows_by_agency)` makes the partnership's rows (organisations,
members, an agreement signed by every member) and uploads each agency's rows as a CSV file
through `datasets.import_dataset`, as an administrator, which writes the matching fields
(`area.matching_path`) and the pseudonymised records (`area.records_path`). The agreement
is then given the status and end date asked for. The truth (each record's `person_id`) is
kept in the returned `Built`, never stored. The `people` fixture (the administrator who
uploads) comes first.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.models import User
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.sharing import area, datasets
from whatworks.sharing.models import (
    Agreement,
    Partnership,
    PartnershipMember,
    Signatory,
)

PASSWORD = "a long test password"
BARNET = "E09000003"
ORGANISATIONS = {
    "council": ("Barnet Council", "council", BARNET),
    "school": ("Barnet Schools Partnership", "partner", None),
    "health": ("North Central London Health", "partner", None),
    "police": ("Metropolitan Police North West", "partner", None),
}
#: The day the fixtures' datasets are uploaded (the agreement is in force).
UPLOADED = date(2024, 6, 1)
FIELDS = ["record_id", "first_name", "surname", "dob", "sex", "postcode", "address", "upn",
          "nhs_number", "needs"]  # fmt: skip


@dataclass
class Built:
    """What `build` made: ids, each record's pseudonym and the truth kept aside."""

    partnership_id: int
    agreement_id: int
    datasets: dict[str, int]  # agency -> dataset id
    pseudonyms: dict[tuple[str, str], str] = field(default_factory=dict)  # (agency, id)
    truth: dict[tuple[int, str], str] = field(default_factory=dict)  # (dataset, record)
    organisations: dict[str, int] = field(default_factory=dict)

    def record(self, agency: str, record_id: str) -> str:
        return self.pseudonyms[agency, record_id]


def write_csv(path: Path, rows: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The rows as an agency's CSV file; returns the mapping of its columns (each field's
    own name; the truth column person_id is left unmapped)."""
    columns = [c for c in ("person_id", *FIELDS) if any(c in row for row in rows)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return {c: c for c in columns if c in FIELDS}


def build(
    session: Session,
    data_dir: Path,
    rows_by_agency: Mapping[str, Sequence[Mapping[str, str]]],
    *,
    name: str = "Barnet Safeguarding Partnership",
    la_code: str | None = BARNET,
    status: str = "active",
    end_date: date = date(2030, 12, 31),
) -> Built:
    """A partnership of every agency in `rows_by_agency`, an agreement (active and signed by
    default) and one dataset per agency, committed."""
    partnership = Partnership(name=name, la_code=la_code, created_by="test")
    session.add(partnership)
    session.flush()
    organisations = {}
    for agency in rows_by_agency:
        org_name, kind, code = ORGANISATIONS[agency]
        organisation = get_or_create_organisation(session, org_name, kind, code)
        organisations[agency] = organisation.id
        session.add(
            PartnershipMember(
                partnership_id=partnership.id, organisation_id=organisation.id, agency=agency
            )
        )
    agreement = Agreement(
        partnership_id=partnership.id,
        title="Safeguarding information sharing agreement",
        purpose="To see which children are known to several agencies and to plan services",
        lawful_basis="UK GDPR Article 6(1)(e) public task",
        agencies=json.dumps(sorted(rows_by_agency)),
        fields=json.dumps(FIELDS),
        retention_months=24,
        start_date=date(2024, 1, 1),
        review_date=date(2026, 1, 1),
        end_date=date(2030, 12, 31),
        status="active",
        created_by="test",
    )
    session.add(agreement)
    session.flush()
    for organisation_id in organisations.values():
        session.add(
            Signatory(
                agreement_id=agreement.id,
                organisation_id=organisation_id,
                name="Sam Signer",
                job_title="Caldicott guardian",
                signed_on=date(2024, 1, 1),
                recorded_by="test",
            )
        )
    built = Built(partnership.id, agreement.id, {}, organisations=organisations)
    settings = Settings(data_dir, "", "", "duckdb", False)
    uploader = session.scalar(select(User).where(User.username == "admin"))
    key = load_or_create_key(data_dir)
    uploads = data_dir / "uploads"
    uploads.mkdir(exist_ok=True)
    for agency, rows in rows_by_agency.items():
        path = uploads / f"p{partnership.id}-{agency}.csv"
        mapping = write_csv(path, rows)
        dataset = datasets.import_dataset(
            session, settings, uploader, partnership, agency, path, mapping,
            f"{ORGANISATIONS[agency][0]} records", on=UPLOADED, need_codes=NEED_CODES,
        )  # fmt: skip
        built.datasets[agency] = dataset.id
        for row in rows:
            pseudonym = area.record_pseudonym(
                key, partnership.id, organisations[agency], row["record_id"]
            )
            built.pseudonyms[agency, row["record_id"]] = pseudonym
            if row.get("person_id"):
                built.truth[dataset.id, pseudonym] = row["person_id"]
    agreement.status, agreement.end_date = status, end_date
    session.commit()
    return built


def add_agreement(
    session: Session,
    built: Built,
    agencies: Sequence[str],
    fields: Sequence[str] = FIELDS,
    *,
    title: str = "Second information sharing agreement",
) -> Agreement:
    """Another agreement of the built partnership, active and signed by every member, for
    the agencies and fields given (committed)."""
    agreement = Agreement(
        partnership_id=built.partnership_id,
        title=title,
        purpose="To see which children are known to several agencies and to plan services",
        lawful_basis="UK GDPR Article 6(1)(e) public task",
        agencies=json.dumps(sorted(agencies)),
        fields=json.dumps(list(fields)),
        retention_months=24,
        start_date=date(2024, 1, 1),
        review_date=date(2026, 1, 1),
        end_date=date(2030, 12, 31),
        status="active",
        created_by="test",
    )
    session.add(agreement)
    session.flush()
    for organisation_id in built.organisations.values():
        session.add(
            Signatory(
                agreement_id=agreement.id,
                organisation_id=organisation_id,
                name="Sam Signer",
                job_title="Caldicott guardian",
                signed_on=date(2024, 1, 1),
                recorded_by="test",
            )
        )
    session.commit()
    return agreement


_FIRST = ["Aaliyah", "Bartholomew", "Cressida", "Dmitri", "Esmeralda", "Fitzgerald", "Gwendolyn",
          "Horatio", "Ingrid", "Jebediah", "Katarina", "Leopold", "Marisol", "Nikolai", "Ophelia",
          "Percival", "Quintessa", "Rutherford", "Saoirse", "Thaddeus", "Ursula", "Valentin",
          "Wilhelmina", "Xavier", "Yevgenia", "Zebedee", "Anastasia", "Barnaby", "Clementine",
          "Desmond", "Evangeline", "Florian", "Guinevere", "Hamish", "Isadora", "Jolyon",
          "Kassandra", "Lysander", "Marguerite", "Napoleon", "Octavia", "Peregrine", "Rosalind",
          "Sebastian", "Tabitha", "Ulysses", "Violetta"]  # fmt: skip
_SURNAME = ["Abernathy", "Blackwood", "Castellano", "Drummond", "Ellsworth", "Fairweather",
            "Gallagher", "Hawthorne", "Ingleby", "Jaworski", "Kowalczyk", "Lindqvist",
            "Montgomery", "Nightingale", "Oyelaran", "Pemberton", "Quaresma", "Rasmussen",
            "Szczepanski", "Thistlewood", "Underhill", "Vanderbilt", "Whitlock", "Xiong",
            "Yardley", "Zielinski", "Ashcombe", "Bellingham", "Carrington", "Delacroix",
            "Everington", "Fotheringham", "Grimaldi", "Hetherington", "Iwasaki", "Jacobsen",
            "Kilpatrick", "Lockhart", "Macpherson", "Northcott", "Okonkwo", "Pendleton",
            "Quartermaine", "Rothwell", "Stanislawski", "Tremayne", "Umberfield"]  # fmt: skip
#: Hand-made groups of children: how many, and the agencies that know each of them.
GROUPS = [(8, ("council",)), (14, ("council", "police")),
          (12, ("council", "police", "school")), (7, ("health",)),
          (6, ("council", "school", "health", "police"))]  # fmt: skip


def grouped_rows() -> dict[str, list[dict[str, str]]]:
    """47 children with names, dates of birth and postcodes all different, each held in the
    same form by every agency of their group (GROUPS): by hand, 15 known to one agency, 14
    to two, 12 to three and 6 to four; council 40, police 32, school 18, health 13; council
    and police 32, council and school 18, police and school 18, health and each other 6."""
    rows: dict[str, list[dict[str, str]]] = {"council": [], "school": [], "health": [],
                                             "police": []}  # fmt: skip
    child = 0
    for size, agencies in GROUPS:
        for _ in range(size):
            fields = {
                "first_name": _FIRST[child],
                "surname": _SURNAME[child],
                "dob": f"{2008 + child % 9}-{1 + child % 12:02d}-{1 + child % 27:02d}",
                "sex": "F" if child % 2 else "M",
                "postcode": f"N{1 + child % 20} {child % 9}A{chr(65 + child % 26)}",
            }
            for agency in agencies:
                prefix = agency[0].upper()
                rows[agency].append(
                    {"record_id": f"{prefix}{child}", "person_id": f"P{child}", **fields}
                )
            child += 1
    return {agency: found for agency, found in rows.items() if found}


def add_people(session: Session) -> dict[str, str]:
    """A partnership member with linked access, a council member without it, a partnership
    member of an organisation outside the partnership, and an administrator."""
    council = get_or_create_organisation(session, *ORGANISATIONS["council"])
    leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
    create_user(session, "linked", PASSWORD, "partnership_member", "Lin Linked", council)
    create_user(session, "plain", PASSWORD, "member", "Pat Plain", council)
    create_user(session, "outsider", PASSWORD, "partnership_member", "Oz Outsider", leeds)
    create_user(session, "admin", PASSWORD, "admin", "Ada Admin")
    session.commit()
    return dict.fromkeys(("linked", "plain", "outsider", "admin"), PASSWORD)


#: The need codes `build` accepts: the standard lists and TINY's short codes.
NEED_CODES = {
    kind: (*datasets.NEED_CODES.get(kind, ()), *{"council": ("CIN", "CP"), "health": ("MH",)}
           .get(kind, ()))
    for kind in ("council", "school", "health", "police")
}  # fmt: skip


#: A tiny hand-made set: council C1, C2; health H1, H2, H3. C1 and H1 are Amelia Brown
#: (the same fields), C2 and H2 are Oliver Smith (the same fields), H3 is Isla Jones.
TINY = {
    "council": [
        {"record_id": "C1", "first_name": "Amelia", "surname": "Brown", "dob": "2012-05-14",
         "sex": "F", "postcode": "N12 8AB", "needs": "CIN;CP"},
        {"record_id": "C2", "first_name": "Oliver", "surname": "Smith", "dob": "2019-02-03",
         "sex": "M", "postcode": "N3 1XY", "needs": "CIN"},
    ],
    "health": [
        {"record_id": "H1", "first_name": "Amelia", "surname": "Brown", "dob": "2012-05-14",
         "sex": "F", "postcode": "N12 8AB", "needs": "MH"},
        {"record_id": "H2", "first_name": "Oliver", "surname": "Smith", "dob": "2019-02-03",
         "sex": "M", "postcode": "N3 1XY", "needs": ""},
        {"record_id": "H3", "first_name": "Isla", "surname": "Jones", "dob": "2008-11-30",
         "sex": "F", "postcode": "NW9 4QT", "needs": "MH"},
    ],
}  # fmt: skip


@pytest.fixture
def builder() -> Callable[..., Built]:
    """`build(session, data_dir, rows_by_agency, **options)` (module docstring)."""
    return build


@pytest.fixture
def another_agreement() -> Callable[..., Agreement]:
    """`add_agreement(session, built, agencies, fields=FIELDS)`: a second agreement in force."""
    return add_agreement


@pytest.fixture
def grouped() -> dict[str, list[dict[str, str]]]:
    """The 47 hand-made children of `grouped_rows`, by agency."""
    return grouped_rows()


@pytest.fixture
def people(session: Session) -> dict[str, str]:
    return add_people(session)


@pytest.fixture
def tiny() -> dict[str, list[dict[str, str]]]:
    return {agency: [dict(r) for r in rows] for agency, rows in TINY.items()}
