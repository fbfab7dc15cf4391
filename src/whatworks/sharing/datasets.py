"""Agency datasets: an agency's CSV file of children's records, uploaded into a partnership
under a data-sharing agreement in force that covers the agency.

    upload = read_upload(path)                      # or ImportProblem, nothing stored
    mapping = suggest_mapping(upload.columns)       # {standard field: CSV column}
    dataset = import_dataset(session, settings, user, partnership, "health", path, mapping)
    matching_rows(settings.data_dir, dataset)       # the matching fields, for linkage
    linkage_rows(settings.data_dir, dataset)        # the same, as linkage.link reads them

The file: UTF-8 (with or without a byte order mark) CSV with a header row, at most
`MAX_BYTES` (refused by its size before it is read). Its columns are mapped onto the
standard fields (`partnerships.SHAREABLE_FIELDS`); a record id column is required, and
every record id must be present and unique.

**Hard errors** stop the import and store nothing (no row, no file), each naming the file,
row and column: an unreadable, empty or oversized file, text that is not UTF-8, a row with
more or fewer values than the header, a column named twice in the header, a mapped column
the file does not have, a column mapped to two fields, a field the agreement does not
cover, no record id column, an empty or repeated record id, a need code not in the
agency's code list (`NEED_CODES`; an "other" agency may use any code of any list).

**Soft problems** are counted in the data-quality profile, by field, with the rows they are
on, and the record is kept: a date of birth that is not a date, in the future or more than
25 years before the upload; a postcode that is not a UK postcode; an NHS number failing the
modulus 11 check; a UPN whose check letter does not match; a name without letters or with
digits; a sex that is not a recognised code. In the matching file, names, postcodes and
addresses are kept as given (trimmed); a date of birth that is a date is written
yyyy-mm-dd (an implausible one too, since it may be a day and month transposed that
linkage recognises), and one that is not a date is left empty; sex is written M, F or U
(an unrecognised value is left empty); an NHS number or UPN that fails its check is left
empty, since linkage takes agreement on an identifier as near-certain. In the pseudonymised
records only valid values are used: the birth month of a plausible date of birth and the
district of a valid postcode.

The import writes the matching file (the partnership's own area, 0600) and the records
(the analytics store) to temporary files renamed into place, then the dataset's row. If
anything fails, or the caller's transaction is rolled back instead of committed, the files
are removed: no file and no row remain.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import secrets
import stat
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from whatworks.config import Settings
from whatworks.core import audit
from whatworks.core.auth import has_role
from whatworks.core.disclosure import control_count
from whatworks.core.errors import ImportProblem, NotFound, PermissionDenied, WhatworksError
from whatworks.core.models import Organisation, User
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.returns.ssda903 import POSTCODE
from whatworks.returns.synthetic import upn_check_letter
from whatworks.sharing import access, area
from whatworks.sharing.linkage import STANDARD_FIELDS, _clean_dob
from whatworks.sharing.models import AgencyDataset, Partnership
from whatworks.sharing.partnerships import AGENCY_KINDS, PURPOSE, SHAREABLE_FIELDS

#: Files larger than this are refused by their size, without being read.
MAX_BYTES = 200 * 1024 * 1024
#: Oldest age (in whole years at the upload) a plausible date of birth gives.
OLDEST_AGE = 25
#: How many rows each soft problem lists in the profile.
ROWS_LISTED = 20
#: Header names (lower case, letters and digits only) that usually hold each field.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "record_id": ("recordid", "id", "clientid", "childid", "caseid", "patientid", "localid",
                  "reference", "ref", "pupilid", "personref", "systemid"),
    "first_name": ("firstname", "forename", "forenames", "givenname", "givennames", "first"),
    "surname": ("surname", "lastname", "familyname", "legalsurname", "last"),
    "dob": ("dob", "dateofbirth", "birthdate", "dateofbirthddmmyyyy", "birth"),
    "sex": ("sex", "gender", "sexcode"),
    "postcode": ("postcode", "homepostcode", "pcode", "postalcode"),
    "address": ("address", "addressline1", "address1", "homeaddress", "street", "addressline"),
    "upn": ("upn", "pupilupn", "uniquepupilnumber"),
    "nhs_number": ("nhsnumber", "nhsno", "nhs", "nhsnum"),
    "needs": ("needs", "needcodes", "needscodes", "flags", "needsflags"),
}  # fmt: skip
#: Sex as written -> the code kept (M, F or U); the DfE's 1 and 2, 0 and 9 too.
SEX_CODES = {
    "M": "M", "MALE": "M", "1": "M", "F": "F", "FEMALE": "F", "2": "F",
    "U": "U", "UNKNOWN": "U", "0": "U", "9": "U", "X": "U", "I": "U", "INDETERMINATE": "U",
    "NOT KNOWN": "U", "NOT STATED": "U",
}  # fmt: skip
UPN = re.compile(r"^[A-Z][0-9]{12}$")
NHS_NUMBER = re.compile(r"^[0-9]{10}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: Pending uploads (between the upload and the mapping step) older than this are deleted.
PENDING_SECONDS = 24 * 3600
#: The need codes each kind of agency may use in its "needs" field (";"-separated), the
#: codes of the synthetic agency data (`synthetic.NEEDS`, and the council's codes of a child
#: in the statutory returns, `synthetic.RETURNS_NEEDS`). Case and spelling must match; a
#: code not in the agency's list is a hard error. An "other" agency may use any code of
#: any list (`allowed_need_codes`).
NEED_CODES: dict[str, tuple[str, ...]] = {
    "council": ("early help", "child in need", "child protection plan", "looked after"),
    "school": ("SEN support", "EHC plan", "persistent absence", "suspension"),
    "health": ("A&E attendance", "CAMHS", "health visiting"),
    "police": ("missing episode", "domestic abuse household", "youth justice"),
}


# --- reading the file --------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A CSV file as read: its header and rows of text (row 2 is the first record)."""

    filename: str
    sha256: str
    columns: list[str]
    rows: list[list[str]]


def _problem(filename: str, message: str) -> ImportProblem:
    return ImportProblem(filename, [message])


def read_upload(path: Path, filename: str | None = None, max_bytes: int = MAX_BYTES) -> Upload:
    """The file's header and rows, or ImportProblem naming the file, row and column."""
    name = filename or path.name
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _problem(name, "this is not a file (a folder or a device); upload a file")
        if info.st_size > max_bytes:
            raise _problem(
                name,
                f"the file is {info.st_size:,} bytes; the limit is {max_bytes:,} "
                f"({max_bytes / 1024 / 1024:,.0f} MB)",
            )
        with path.open("rb") as handle:
            content = handle.read(info.st_size + 1)
    except OSError as error:
        raise _problem(
            name, f"the file could not be read ({error.strerror or error}); upload it again"
        ) from None
    if len(content) != info.st_size:
        raise _problem(name, "the file changed while it was being read; upload it again")
    if not content.strip():
        raise _problem(name, "the file is empty: it needs a header row and at least one record")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise _problem(
            name,
            f"line {line} is not UTF-8 text (byte 0x{content[error.start]:02x}); save the file "
            "as 'CSV UTF-8' and upload it again",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    rows: list[list[str]] = []
    try:
        columns = [c.strip() for c in next(reader)]
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines
            rows.append(cells)
            if len(cells) != len(columns):
                problems.append(
                    f"{name}, row {len(rows) + 1}: {len(cells)} values, but the header has "
                    f"{len(columns)} columns"
                )
    except csv.Error as error:
        raise _problem(
            name, f"line {reader.line_num} cannot be read as CSV ({error}); check its quotes"
        ) from None
    seen: dict[str, int] = {}
    for number, column in enumerate(columns, start=1):
        if column and column in seen:
            problems.append(
                f"{name}, header: column {column!r} appears twice (columns {seen[column]} and "
                f"{number}); rename one"
            )
        seen.setdefault(column, number)
    if not rows:
        problems.append(f"{name} has a header row but no records")
    if problems:
        raise ImportProblem(name, problems)
    return Upload(name, hashlib.sha256(content).hexdigest(), columns, rows)


def _header_key(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def suggest_mapping(
    columns: Sequence[str], allowed: Iterable[str] = SHAREABLE_FIELDS
) -> dict[str, str]:
    """A mapping guessed from the header: each field takes the first column whose name
    (ignoring case, spaces and punctuation) is a usual name for it, such as "Forename",
    "Date of Birth", "NHS No", "Post Code", "Pupil UPN" or "ID". Only `allowed` fields."""
    wanted = [f for f in SHAREABLE_FIELDS if f in set(allowed)]
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for field in wanted:
        names = (field.replace("_", ""), *HEADER_NAMES[field])
        for name in names:
            found = next(
                (c for c in columns if c not in taken and c and _header_key(c) == name), None
            )
            if found is not None:
                mapping[field] = found
                taken.add(found)
                break
    return mapping


def mapping_problems(
    upload: Upload, mapping: Mapping[str, str], allowed: Iterable[str], agreement_title: str = ""
) -> list[str]:
    """Hard errors of the mapping: unknown or uncovered fields, missing columns, a column
    mapped twice, no record id column."""
    name, covered = upload.filename, set(allowed)
    problems: list[str] = []
    used: dict[str, str] = {}
    for field, column in mapping.items():
        if field not in SHAREABLE_FIELDS:
            problems.append(f"{name}: {field!r} is not a field; use {', '.join(SHAREABLE_FIELDS)}")
            continue
        if field not in covered:
            which = f"the agreement {agreement_title!r}" if agreement_title else "the agreement"
            shared = ", ".join(f for f in SHAREABLE_FIELDS if f in covered)
            problems.append(
                f"{name}, column {column!r}: {which} does not cover {field} (it shares "
                f"{shared}); leave the column unmapped"
            )
        if column not in upload.columns:
            problems.append(
                f"{name}: there is no column {column!r} for {field}; its columns are "
                f"{', '.join(repr(c) for c in upload.columns if c)}"
            )
        elif column in used:
            problems.append(
                f"{name}, column {column!r} is mapped to both {used[column]} and {field}"
            )
        used.setdefault(column, field)
    if "record_id" not in mapping:
        problems.append(f"{name}: choose the column that holds the record id (every row needs one)")
    return problems


def record_id_problems(upload: Upload, column: str) -> tuple[list[str], int]:
    """Empty and repeated record ids (hard errors), and how many rows repeat an earlier id."""
    at = upload.columns.index(column)
    first: dict[str, int] = {}
    problems: list[str] = []
    repeats = 0
    for number, cells in enumerate(upload.rows, start=2):
        value = cells[at].strip() if at < len(cells) else ""
        if not value:
            problems.append(
                f"{upload.filename}, row {number}, column {column!r}: the record id is empty"
            )
        elif value in first:
            repeats += 1
            problems.append(
                f"{upload.filename}, row {number}, column {column!r}: record id {value!r} "
                f"repeats row {first[value]}"
            )
        else:
            first[value] = number
    return problems, repeats


def allowed_need_codes(
    agency: str, codes: Mapping[str, Sequence[str]] = NEED_CODES
) -> tuple[str, ...]:
    """The need codes the agency may use: its own list, or for "other" every list's codes."""
    if agency in codes:
        return tuple(codes[agency])
    if agency == "other":
        return tuple(dict.fromkeys(c for listed in codes.values() for c in listed))
    return ()


def need_code_problems(
    upload: Upload, column: str, agency: str, codes: Mapping[str, Sequence[str]] = NEED_CODES
) -> list[str]:
    """A need code that is not the agency's (a hard error), naming file, row and column."""
    allowed = allowed_need_codes(agency, codes)
    at = upload.columns.index(column)
    problems: list[str] = []
    for number, cells in enumerate(upload.rows, start=2):
        value = cells[at] if at < len(cells) else ""
        for code in (part.strip() for part in value.split(";")):
            if code and code not in allowed:
                problems.append(
                    f"{upload.filename}, row {number}, column {column!r}: {code!r} is not a "
                    f"{agency} need code; use {', '.join(repr(c) for c in allowed)} "
                    "(separated by ;), or leave the cell empty"
                )
    return problems


# --- checking values ----------------------------------------------------------------------


def age_on(born: date, on: date) -> int:
    """Whole years of age on the day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def nhs_number_problem(value: str) -> str:
    """Why the NHS number is not valid ("" if it is): ten digits, the last the modulus 11
    check digit of the first nine (weights 10 to 2; 11 gives 0, 10 is never issued)."""
    if not NHS_NUMBER.match(value):
        return "not 10 digits"
    digits = [int(d) for d in value]
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    if check == 10 or digits[9] != (0 if check == 11 else check):
        return "fails the modulus 11 check"
    return ""


def upn_problem(value: str) -> str:
    """Why the UPN is not valid ("" if it is): a check letter and 12 digits, the letter the
    DfE's of the digits."""
    if not UPN.match(value):
        return "not a letter followed by 12 digits"
    if upn_check_letter(value[1:]) != value[0]:
        return "the check letter does not match"
    return ""


def _name_problem(value: str) -> str:
    if not re.search(r"[^\W\d_]", value):
        return "has no letters"
    if re.search(r"\d", value):
        return "contains digits"
    return ""


@dataclass(frozen=True)
class Checked:
    """One value: what the matching file keeps (None: empty), what the pseudonymised record
    keeps, and why it is not valid ("" if it is; None when the field has no check)."""

    matching: str | None
    record: str | None
    problem: str | None


def check(field: str, raw: str, on: date) -> Checked:
    """A filled value of a field, checked and normalised (see the module's docstring)."""
    value = raw.strip()
    if field in ("first_name", "surname"):
        return Checked(value, None, _name_problem(value))
    if field == "dob":
        cleaned = _clean_dob(value)
        if cleaned is None:
            return Checked(None, None, "not a date (write yyyy-mm-dd or dd/mm/yyyy)")
        born = date.fromisoformat(cleaned)
        if born > on:
            return Checked(cleaned, None, "in the future")
        if age_on(born, on) > OLDEST_AGE:
            return Checked(cleaned, None, f"more than {OLDEST_AGE} years before the upload")
        return Checked(cleaned, cleaned[:7], "")
    if field == "sex":
        code = SEX_CODES.get(value.upper())
        if code is None:
            return Checked(None, None, "not a recognised code (M, F, U, 1, 2, 0 or 9)")
        return Checked(code, code, "")
    if field == "postcode":
        upper = value.upper()
        if not POSTCODE.match(upper):
            return Checked(value, None, "not a UK postcode")
        compact = upper.replace(" ", "")
        return Checked(value, compact[:-3], "")
    if field == "upn":
        upn = re.sub(r"\s", "", value).upper()
        why = upn_problem(upn)
        return Checked(None if why else upn, None, why)
    if field == "nhs_number":
        number = re.sub(r"[\s-]", "", value)
        why = nhs_number_problem(number)
        return Checked(None if why else number, None, why)
    if field == "needs":
        codes = ";".join(p.strip() for p in value.split(";") if p.strip())
        return Checked(None, codes, None)
    return Checked(value, None, None)  # record_id, address: no check


# --- the profile ----------------------------------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class _Tally:
    filled: int = 0
    valid: int = 0
    values: set[str] = dataclasses.field(default_factory=set)
    problems: dict[str, list[int]] = dataclasses.field(default_factory=dict)


@dataclass
class Prepared:
    """An upload mapped and checked: the profile, the matching rows (by standard field,
    record id included) and the pseudonymised records' values (without the pseudonym)."""

    profile: dict[str, Any]
    matching: list[dict[str, str | None]]
    records: list[dict[str, str | None]]


def prepare(upload: Upload, mapping: Mapping[str, str], on: date) -> Prepared:
    """The data-quality profile per standard field and the values to store. The mapping
    must already be free of hard errors for the stored values to be used."""
    index = {field: upload.columns.index(c) for field, c in mapping.items() if c in upload.columns}
    total = len(upload.rows)
    counts = {f: _Tally() for f in index}
    codes: Counter[str] = Counter()
    matching: list[dict[str, str | None]] = []
    records: list[dict[str, str | None]] = []
    for number, cells in enumerate(upload.rows, start=2):
        kept: dict[str, str | None] = dict.fromkeys(STANDARD_FIELDS)
        record: dict[str, str | None] = {"birth_month": None, "sex": None, "district": None,
                                         "needs": None}  # fmt: skip
        for field, at in index.items():
            raw = cells[at] if at < len(cells) else ""
            if field == "needs":
                record["needs"] = ""
            if not raw.strip():
                continue
            tally = counts[field]
            tally.filled += 1
            tally.values.add(raw.strip())
            checked = check(field, raw, on)
            if checked.problem:
                tally.problems.setdefault(checked.problem, []).append(number)
            else:
                tally.valid += 1
            if field in kept:
                kept[field] = checked.matching
            if field == "dob":
                record["birth_month"] = checked.record
            elif field == "postcode":
                record["district"] = checked.record
            elif field in ("sex", "needs"):
                record[field] = checked.record
            if field == "needs" and checked.record:
                codes.update(checked.record.split(";"))
        matching.append(kept)
        records.append(record)
    fields: dict[str, Any] = {}
    for field in SHAREABLE_FIELDS:
        if field not in index:
            fields[field] = {"column": mapping.get(field)}
            continue
        tally = counts[field]
        filled = tally.filled
        has_check = field not in ("record_id", "address", "needs")
        fields[field] = {
            "column": mapping[field],
            "filled": filled,
            "filled_pct": _pct(filled, total),
            "valid": tally.valid if has_check else None,
            "valid_pct": _pct(tally.valid, filled) if has_check else None,
            "distinct": len(tally.values),
            "problems": [
                {"reason": reason, "count": len(rows), "rows": rows[:ROWS_LISTED]}
                for reason, rows in sorted(tally.problems.items(), key=lambda i: -len(i[1]))
            ],
        }
        if field == "needs":
            fields[field]["codes"] = dict(sorted(codes.items(), key=lambda i: (-i[1], i[0])))
    record_column = mapping.get("record_id")
    repeats = 0
    if record_column in upload.columns:
        _, repeats = record_id_problems(upload, record_column)
    profile = {
        "file": upload.filename,
        "rows": total,
        "as_at": on.isoformat(),
        "columns": upload.columns,
        "unmapped_columns": [c for c in upload.columns if c and c not in mapping.values()],
        "duplicate_record_ids": repeats,
        "fields": fields,
    }
    return Prepared(profile, matching, records)


# --- who uploads, under which agreement ---------------------------------------------------------


def uploading_organisation(
    session: Session,
    user: User | None,
    partnership: Partnership,
    agency: str,
    organisation_id: int | None = None,
) -> Organisation:
    """The member organisation whose records these are: the user's own, when it takes part
    as that agency; for an administrator, or a command run on the server (`user` None), the
    one named, or the only member of that agency."""
    if agency not in AGENCY_KINDS:
        raise WhatworksError(f"agency must be one of {', '.join(AGENCY_KINDS)}, not {agency!r}")
    ids = [m.organisation_id for m in partnership.members if m.agency == agency]
    if not ids:
        raise WhatworksError(
            f"No member of {partnership.name} takes part as {agency}; add the organisation as "
            f"a {agency} member first."
        )
    admin = user is None or has_role(user, "admin")
    own = None if user is None else user.organisation_id
    if organisation_id is not None:
        if organisation_id not in ids:
            raise WhatworksError(
                f"Organisation {organisation_id} is not a {agency} member of {partnership.name}."
            )
        if not admin and organisation_id != own:
            raise PermissionDenied("Only the organisation's own users upload its records.")
        chosen = organisation_id
    elif own is not None and own in ids:
        chosen = own
    elif admin and len(ids) == 1:
        chosen = ids[0]
    elif admin:
        raise WhatworksError(
            f"{partnership.name} has {len(ids)} {agency} members; say which organisation's "
            "records these are."
        )
    else:
        raise PermissionDenied(
            f"Your organisation does not take part in {partnership.name} as {agency}; only "
            f"its {agency} members upload {agency} records."
        )
    found = session.get(Organisation, chosen)
    assert found is not None
    return found


# --- storing ------------------------------------------------------------------------------------


_WRITTEN = "whatworks.sharing.written"


def _kept(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info[_WRITTEN] = []


def _undo(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for path in session.info.get(_WRITTEN, []):
            path.unlink(missing_ok=True)
        session.info[_WRITTEN] = []


def _remove_unless_committed(session: Session, paths: list[Path]) -> None:
    """Remove the files if the session's transaction ends without a commit."""
    if _WRITTEN not in session.info:
        session.info[_WRITTEN] = []
        event.listen(session, "after_commit", _kept)
        event.listen(session, "after_transaction_end", _undo)
    session.info[_WRITTEN].extend(paths)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write the table to a temporary file (0600) beside `path`, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _table(columns: Sequence[str], rows: list[dict[str, str | None]]) -> pa.Table:
    return pa.table({c: pa.array([row.get(c) for row in rows], type=pa.string()) for c in columns})


def import_dataset(
    session: Session,
    settings: Settings,
    user: User | audit.Actor | None,
    partnership: Partnership,
    agency: str,
    path: Path,
    mapping: Mapping[str, str],
    title: str = "",
    *,
    filename: str | None = None,
    organisation_id: int | None = None,
    on: date | None = None,
    max_bytes: int = MAX_BYTES,
    need_codes: Mapping[str, Sequence[str]] = NEED_CODES,
) -> AgencyDataset:
    """Import an agency's CSV file into the partnership, all or nothing (module docstring).

    `user` is a signed-in user (a member of the partnership, or an administrator), or an
    `audit.Actor`: a command run on the server, which acts for the member organisation named
    (or the only one of that agency), as an administrator would. Refused with
    AgreementNeeded (why each agreement does not do) unless an agreement is in force on the
    day and covers the agency; with ImportProblem for any hard error, a need code outside
    `need_codes` for the agency included."""
    if isinstance(user, audit.Actor):
        actor = user
        organisation = uploading_organisation(session, None, partnership, agency, organisation_id)
    else:
        who = access.require_member(session, user, partnership)
        actor = audit.Actor.of(who)
        organisation = uploading_organisation(session, who, partnership, agency, organisation_id)
    on = on or date.today()
    agreement = access.agreement_for(session, partnership, on, [agency])
    upload = read_upload(path, filename, max_bytes)
    covered = access.fields_of(agreement)
    problems = mapping_problems(upload, mapping, covered, agreement.title)
    if not problems:
        problems, _ = record_id_problems(upload, mapping["record_id"])
        if "needs" in mapping:
            problems += need_code_problems(upload, mapping["needs"], agency, need_codes)
    if problems:
        raise ImportProblem(upload.filename, problems)
    prepared = prepare(upload, mapping, on)
    title = title.strip() or f"{organisation.name}: {agency} records, {on.isoformat()}"
    dataset = AgencyDataset(
        partnership_id=partnership.id,
        agreement_id=agreement.id,
        organisation_id=organisation.id,
        agency=agency,
        title=title[:200],
        filename=upload.filename[:300],
        sha256=upload.sha256,
        row_count=len(upload.rows),
        mapping=json.dumps(dict(mapping), sort_keys=True),
        profile=json.dumps(prepared.profile),
        uploaded_by=actor.username,
        retain_until=add_months(on, agreement.retention_months),
        status="stored",
    )
    session.add(dataset)
    session.flush()
    key = load_or_create_key(settings.data_dir)
    pseudonyms = [
        area.record_pseudonym(key, partnership.id, organisation.id, row["record_id"] or "")
        for row in prepared.matching
    ]
    matching = [{"record": p, **row} for p, row in zip(pseudonyms, prepared.matching, strict=True)]
    records = [{"record": p, **row} for p, row in zip(pseudonyms, prepared.records, strict=True)]
    targets = [
        area.matching_path(settings.data_dir, partnership.id, dataset.id),
        area.records_path(settings.analytics_dir, partnership.id, dataset.id),
    ]
    written: list[Path] = []
    try:
        for target, columns, rows in zip(
            targets, (area.MATCHING_COLUMNS, area.RECORD_COLUMNS), (matching, records), strict=True
        ):
            written.append(target)
            write_parquet(_table(columns, rows), target)
        audit.record(
            session, actor, "import agency dataset", f"dataset:{dataset.id}",
            PURPOSE, partnership_id=partnership.id, agreement_id=agreement.id,
            organisation=organisation.name, agency=agency, rows=dataset.row_count,
            file=upload.filename, sha256=upload.sha256,
        )  # fmt: skip
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        raise
    _remove_unless_committed(session, written)
    return dataset


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        with contextlib.suppress(ValueError):
            return date(year, month, min(day.day, last))
    raise AssertionError("unreachable")


# --- reading a stored dataset -------------------------------------------------------------------


def get_dataset(session: Session, dataset_id: int) -> AgencyDataset:
    found = session.get(AgencyDataset, dataset_id)
    if found is None:
        raise NotFound(f"There is no dataset {dataset_id}. Check the address.")
    return found


def member_dataset(session: Session, user: User | None, dataset_id: int) -> AgencyDataset:
    """The dataset, if the user belongs to its partnership (or is an administrator)."""
    dataset = get_dataset(session, dataset_id)
    partnership = session.get(Partnership, dataset.partnership_id)
    assert partnership is not None
    access.require_member(session, user, partnership)
    return dataset


def may_view(session: Session, user: User | None, dataset: AgencyDataset) -> bool:
    """Whether the user may see the dataset's profile: a user of the organisation that
    uploaded it (any role), a member holding linked access (the partnership member role in a
    member organisation), or an administrator."""
    if user is None:
        return False
    if has_role(user, "admin"):
        return True
    partnership = session.get(Partnership, dataset.partnership_id)
    assert partnership is not None
    if not access.is_member(session, user, partnership):
        return False
    return user.organisation_id == dataset.organisation_id or user.role == "partnership_member"


def view_dataset(session: Session, user: User | None, dataset_id: int) -> AgencyDataset:
    """The dataset whose profile the user is about to see (`may_view`), the viewing in the
    audit log; PermissionDenied for anybody else in the partnership or outside it."""
    dataset = get_dataset(session, dataset_id)
    partnership = session.get(Partnership, dataset.partnership_id)
    assert partnership is not None
    who = access.require_member(session, user, partnership)
    if not may_view(session, who, dataset):
        raise PermissionDenied(
            f"A dataset's profile is for the organisation that uploaded it and for "
            f"{partnership.name}'s partnership members; your role is {who.role}."
        )
    audit.record(
        session, audit.Actor.of(who), "view agency dataset", f"dataset:{dataset.id}", PURPOSE,
        partnership_id=dataset.partnership_id,
    )  # fmt: skip
    return dataset


def datasets_of(session: Session, partnership: Partnership) -> list[AgencyDataset]:
    """The partnership's datasets, newest first."""
    return list(
        session.scalars(
            select(AgencyDataset)
            .where(AgencyDataset.partnership_id == partnership.id)
            .order_by(AgencyDataset.id.desc())
        )
    )


def profile_of(dataset: AgencyDataset) -> dict[str, Any]:
    return dict(json.loads(dataset.profile))


def mapping_of(dataset: AgencyDataset) -> dict[str, str]:
    return dict(json.loads(dataset.mapping))


def controlled_codes(codes: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Each need code's count of records after disclosure control (`control_count`: 1 to 5
    shown as "c", the rest rounded to the nearest 10): {code: {value, status, shown}}."""
    shown: dict[str, dict[str, Any]] = {}
    for code, count in codes.items():
        controlled = control_count(count)
        text = controlled.status if controlled.value is None else f"{controlled.value:,.0f}"
        shown[code] = {"value": controlled.value, "status": controlled.status, "shown": text}
    return shown


def shown_profile(dataset: AgencyDataset) -> dict[str, Any]:
    """The profile as pages and JSON show it: the need codes' counts after disclosure
    control (`controlled_codes`)."""
    profile = profile_of(dataset)
    needs = profile.get("fields", {}).get("needs")
    if needs and "codes" in needs:
        needs["codes"] = controlled_codes(needs["codes"])
    return profile


def dataset_json(dataset: AgencyDataset, organisation: str = "") -> dict[str, Any]:
    """The dataset's row and profile as plain data (no record's values)."""
    return {
        "id": dataset.id,
        "partnership_id": dataset.partnership_id,
        "agreement_id": dataset.agreement_id,
        "organisation_id": dataset.organisation_id,
        "organisation": organisation,
        "agency": dataset.agency,
        "title": dataset.title,
        "filename": dataset.filename,
        "sha256": dataset.sha256,
        "row_count": dataset.row_count,
        "mapping": mapping_of(dataset),
        "uploaded_by": dataset.uploaded_by,
        "uploaded_at": dataset.uploaded_at.isoformat(),
        "retain_until": dataset.retain_until.isoformat(),
        "status": dataset.status,
        "identifiers_deleted_at": (
            dataset.identifiers_deleted_at.isoformat() if dataset.identifiers_deleted_at else None
        ),
        "profile": shown_profile(dataset),
    }


def matching_table(data_dir: Path, dataset: AgencyDataset) -> pa.Table:
    """The dataset's matching fields in clear (area.MATCHING_COLUMNS). The caller audits the
    read (core.audit.record) and checks the agreement (access.agreement_for) first. Refused
    once the identifiers have been deleted at the end of retention."""
    path = area.matching_path(data_dir, dataset.partnership_id, dataset.id)
    if dataset.status != "stored" or not path.exists():
        raise WhatworksError(
            f"The identifiers of dataset {dataset.id} ({dataset.title}) were deleted at the end "
            "of their retention; only its pseudonymised records remain."
        )
    return pq.read_table(path)


def matching_rows(data_dir: Path, dataset: AgencyDataset) -> list[dict[str, str | None]]:
    """The dataset's matching rows, {column: value or None} (see `matching_table`)."""
    return list(matching_table(data_dir, dataset).to_pylist())


def linkage_rows(data_dir: Path, dataset: AgencyDataset) -> list[dict[str, str]]:
    """The matching rows as `linkage.link` reads them: every standard field as text ("" where
    empty), with the record's pseudonym as its `record_id`, so links name records only by
    pseudonym (the agency's own id stays in the matching file)."""
    return [
        {
            "record_id": row["record"] or "",
            **{f: row[f] or "" for f in STANDARD_FIELDS if f != "record_id"},
        }
        for row in matching_rows(data_dir, dataset)
    ]


def records_table(analytics_dir: Path, dataset: AgencyDataset) -> pa.Table:
    """The dataset's pseudonymised records (area.RECORD_COLUMNS); kept after retention."""
    return pq.read_table(area.records_path(analytics_dir, dataset.partnership_id, dataset.id))


# --- pending uploads (between the upload and the mapping step on the web) -------------------------


def pending_folder(data_dir: Path, partnership_id: int) -> Path:
    """Where uploads wait for their mapping: in the partnership's own area (0700)."""
    folder = area.partnership_area(data_dir, partnership_id) / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def new_pending(data_dir: Path, partnership_id: int, meta: Mapping[str, Any]) -> tuple[str, Path]:
    """A new empty pending upload (0600) and its token; `meta` (who, which agency, the
    file's name) is kept beside it."""
    sweep_pending(data_dir)
    token = secrets.token_urlsafe(18)
    folder = pending_folder(data_dir, partnership_id)
    path = folder / f"{token}.csv"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    fd = os.open(folder / f"{token}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(meta), handle)
    return token, path


def pending(data_dir: Path, partnership_id: int, token: str) -> tuple[Path, dict[str, Any]]:
    """A pending upload's file and meta, or NotFound."""
    folder = area.partnership_area(data_dir, partnership_id) / "uploads"
    path, meta = folder / f"{token}.csv", folder / f"{token}.json"
    if not _TOKEN.match(token) or not path.exists() or not meta.exists():
        raise NotFound(
            "That upload is no longer here (uploads are kept for a day); upload the file again."
        )
    return path, dict(json.loads(meta.read_text(encoding="utf-8")))


def discard_pending(data_dir: Path, partnership_id: int, token: str) -> None:
    if not _TOKEN.match(token):
        return
    folder = area.partnership_area(data_dir, partnership_id) / "uploads"
    for suffix in (".csv", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def sweep_pending(data_dir: Path, older_than: float = PENDING_SECONDS) -> int:
    """Delete pending uploads older than `older_than` seconds; returns how many files."""
    cutoff = time.time() - older_than
    removed = 0
    for path in (data_dir / "partnerships").glob("p*/uploads/*"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
