"""Agency datasets on the real store: the mapping guessed from usual header names, the
data-quality profile of a small hand-made file worked out by hand, what the matching and
pseudonymised files keep, every hard error storing nothing (no row, no file), and uploads
refused with the reason when no agreement in force covers the agency; need codes checked
against the agency's list; no matching field's value in the analytics store; who may see a
dataset's profile, its need codes' counts under disclosure control."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.errors import ImportProblem, PermissionDenied
from whatworks.core.models import AuditEvent, Organisation, User
from whatworks.returns.pseudonymise import load_or_create_key
from whatworks.sharing import datasets, partnerships
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import AgencyDataset, Agreement, Partnership
from whatworks.sharing.partnerships import NewAgreement

PASSWORD = "a long test password"
ON = date(2026, 6, 15)
AGREEMENT = NewAgreement(
    title="Safeguarding in Barnet",
    purpose="To see which children are known to several services.",
    lawful_basis=partnerships.USUAL_BASIS,
    lawful_basis_detail="",
    agencies=("council", "health"),
    # every field but the address
    fields=tuple(f for f in partnerships.SHAREABLE_FIELDS if f != "address"),
    retention_months=12,
    start_date=date(2026, 1, 1),
    review_date=date(2026, 12, 31),
    end_date=date(2027, 12, 31),
)
# Five records with known problems (rows 2 to 6 of the file):
#   row 3: date of birth in the future; not a postcode; NHS number 9434765918 fails the
#          check (the check digit of 943476591 is 9, below)
#   row 4: no first name; born 1990-05-05, 36 on the day of upload (over 25); sex X (unknown)
#   row 5: surname with a digit; 31/02/2015 is not a date
#   row 6: sex Q is not a code; postcode in lower case (valid); NHS number with spaces (valid)
# NHS numbers by hand: 401023213: 4*10+0*9+1*8+0*7+2*6+3*5+2*4+1*3+3*2 = 92, 92 % 11 = 4,
# 11 - 4 = 7 -> 4010232137. 943476591: 90+36+24+28+42+30+20+27+2 = 299, 299 % 11 = 2,
# 11 - 2 = 9 -> 9434765919.
HAND_MADE = (
    "ID,Forename,Surname,Date of Birth,Gender,Post Code,NHS No,Needs\n"
    "C1,Amy,Smith,03/04/2015,F,N12 0AB,4010232137,early help\n"
    "C2,Ben,Jones,2030-01-01,M,NOTAPOSTCODE,9434765918,\n"
    'C3,,Brown,1990-05-05,X,,,"child in need; early help"\n'
    "C4,Cara,Sm1th,31/02/2015,Female,SW1A 1AA,,\n"
    "C5,Dan,Smith,2014-12-25,Q,n12 0ab,943 476 5919,looked after\n"
)
GUESSED = {
    "record_id": "ID",
    "first_name": "Forename",
    "surname": "Surname",
    "dob": "Date of Birth",
    "sex": "Gender",
    "postcode": "Post Code",
    "nhs_number": "NHS No",
    "needs": "Needs",
}


@pytest.fixture
def made(sessions) -> dict[str, int]:
    """Barnet Council and a health trust in a partnership; users of each, of Leeds, and an
    admin; the agreement above signed by both and active."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        health = get_or_create_organisation(session, "Barnet Health Trust", "partner")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        council_user = create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "nurse", PASSWORD, "member", organisation=health)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        admin = create_user(session, "admin", PASSWORD, "admin")
        partnership = partnerships.create_partnership(session, council_user, "Barnet SCP")
        # members without the partnership member role neither add members nor sign
        partnerships.add_member(session, admin, partnership, health.name, "health")
        agreement = partnerships.record_agreement(session, council_user, partnership, AGREEMENT)
        for organisation in (barnet, health):
            partnerships.sign(
                session, admin, agreement, organisation.id, "A Person", "Lead",
                date(2026, 1, 1), ON,
            )  # fmt: skip
        partnerships.activate(session, council_user, agreement, ON)
        return {"partnership": partnership.id, "agreement": agreement.id, "barnet": barnet.id}


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def write(folder: Path, text: str | bytes, name: str = "council.csv") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def stored_files(data_dir: Path) -> list[Path]:
    """Every dataset file under the data folder (matching files and records)."""
    return sorted(data_dir.glob("partnerships/p*/matching/*")) + sorted(
        data_dir.glob("analytics/sharing/p*/*")
    )


def upload(sessions, settings, path: Path, mapping=GUESSED, who="barnet", agency="council", **kw):
    with transaction(sessions) as session:
        partnership = session.scalar(select(Partnership))
        dataset = datasets.import_dataset(
            session, settings, user(session, who), partnership, agency, path, mapping, on=ON, **kw
        )
        return dataset.id


def test_the_mapping_is_guessed_from_usual_header_names() -> None:
    columns = ["ID", "Forename", "Surname", "Date of Birth", "Gender", "Post Code", "NHS No",
               "Needs", "Pupil UPN", "Address Line 1", "person_id"]  # fmt: skip
    assert datasets.suggest_mapping(columns) == {
        **GUESSED,
        "upn": "Pupil UPN",
        "address": "Address Line 1",
    }
    assert datasets.suggest_mapping(columns, ("record_id", "dob")) == {
        "record_id": "ID", "dob": "Date of Birth"
    }  # fmt: skip
    # the standard names themselves, in any case
    assert datasets.suggest_mapping(["RECORD_ID", "First Name", "dob"]) == {
        "record_id": "RECORD_ID", "first_name": "First Name", "dob": "dob"
    }  # fmt: skip


def test_the_profile_of_a_hand_made_file(sessions, settings, made, tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff" + HAND_MADE)  # with a byte order mark
    dataset_id = upload(sessions, settings, path)
    with sessions() as session:
        dataset = session.get(AgencyDataset, dataset_id)
        assert dataset is not None
        profile = datasets.profile_of(dataset)
        assert dataset.row_count == 5 and dataset.status == "stored"
        assert dataset.retain_until == date(2027, 6, 15)  # 15 June 2026 + 12 months
        assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    fields = profile["fields"]
    assert profile["rows"] == 5 and profile["duplicate_record_ids"] == 0
    assert profile["unmapped_columns"] == []

    def figures(field: str) -> tuple:
        shown = fields[field]
        problems = [(p["reason"], p["count"], p["rows"]) for p in shown["problems"]]
        return (shown["filled"], shown["filled_pct"], shown["valid"], shown["valid_pct"],
                shown["distinct"], problems)  # fmt: skip

    assert figures("record_id") == (5, 100.0, None, None, 5, [])
    assert figures("first_name") == (4, 80.0, 4, 100.0, 4, [])
    assert figures("surname") == (5, 100.0, 4, 80.0, 4, [("contains digits", 1, [5])])
    assert fields["dob"]["filled"] == 5 and fields["dob"]["valid_pct"] == 40.0  # 2 of 5
    assert sorted((p["reason"], p["rows"]) for p in fields["dob"]["problems"]) == [
        ("in the future", [3]),
        ("more than 25 years before the upload", [4]),
        ("not a date (write yyyy-mm-dd or dd/mm/yyyy)", [5]),
    ]
    assert figures("sex")[:5] == (5, 100.0, 4, 80.0, 5)
    assert fields["sex"]["problems"][0]["rows"] == [6]
    # 4 filled of 5; 3 valid of 4; "N12 0AB" and "n12 0ab" are different as given
    assert figures("postcode") == (4, 80.0, 3, 75.0, 4, [("not a UK postcode", 1, [3])])
    assert figures("nhs_number") == (3, 60.0, 2, 66.7, 3, [("fails the modulus 11 check", 1, [3])])
    assert figures("needs") == (3, 60.0, None, None, 3, [])
    assert fields["needs"]["codes"] == {"early help": 2, "child in need": 1, "looked after": 1}
    assert fields["upn"] == {"column": None} and fields["address"] == {"column": None}


def test_what_the_matching_and_pseudonymised_files_keep(
    sessions, settings, made, tmp_path: Path
) -> None:
    dataset_id = upload(sessions, settings, write(tmp_path, HAND_MADE))
    with sessions() as session:
        dataset = session.get(AgencyDataset, dataset_id)
        matching = {r["record_id"]: r for r in datasets.matching_rows(settings.data_dir, dataset)}
        records = datasets.records_table(settings.analytics_dir, dataset).to_pylist()
        linked = datasets.linkage_rows(settings.data_dir, dataset)
    path = settings.data_dir / "partnerships" / f"p{made['partnership']}" / "matching"
    assert stat.S_IMODE((path / f"d{dataset_id}.parquet").stat().st_mode) == 0o600
    assert pq.read_schema(path / f"d{dataset_id}.parquet").names == [
        "record", "record_id", "first_name", "surname", "dob", "sex", "postcode", "address",
        "upn", "nhs_number",
    ]  # fmt: skip
    key = load_or_create_key(settings.data_dir)
    message = f"sharing record\x1f{made['partnership']}\x1f{made['barnet']}\x1fC1".encode()
    assert matching["C1"]["record"] == hmac.new(key, message, hashlib.sha256).hexdigest()[:20]
    shown = ("first_name", "dob", "sex", "postcode", "nhs_number")
    assert {k: matching["C1"][k] for k in shown} == {
        "first_name": "Amy", "dob": "2015-04-03", "sex": "F", "postcode": "N12 0AB",
        "nhs_number": "4010232137",
    }  # fmt: skip
    # an invalid NHS number is left out; an implausible date and a bad postcode are kept
    assert matching["C2"]["nhs_number"] is None and matching["C2"]["dob"] == "2030-01-01"
    assert matching["C2"]["postcode"] == "NOTAPOSTCODE"
    assert matching["C4"]["dob"] is None and matching["C4"]["surname"] == "Sm1th"
    assert matching["C3"]["first_name"] is None and matching["C3"]["sex"] == "U"
    assert matching["C5"]["sex"] is None and matching["C5"]["nhs_number"] == "9434765919"
    assert matching["C5"]["address"] is None and matching["C5"]["upn"] is None
    by_record = {r["record"]: r for r in records}
    assert list(records[0]) == ["record", "birth_month", "sex", "district", "needs"]
    first = by_record[matching["C1"]["record"]]
    assert first == {"record": first["record"], "birth_month": "2015-04", "sex": "F",
                     "district": "N12", "needs": "early help"}  # fmt: skip
    assert by_record[matching["C2"]["record"]]["birth_month"] is None  # in the future
    assert by_record[matching["C3"]["record"]]["birth_month"] is None  # over 25
    assert by_record[matching["C3"]["record"]]["needs"] == "child in need;early help"
    assert by_record[matching["C4"]["record"]]["needs"] == ""
    assert by_record[matching["C5"]["record"]]["district"] == "N12"
    assert "Amy" not in str(records)
    assert {r["record_id"] for r in linked} == {r["record"] for r in matching.values()}
    assert {r["first_name"] for r in linked} == {"Amy", "Ben", "", "Cara", "Dan"}


def nothing_stored(sessions, settings) -> None:
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AgencyDataset)) == 0
    assert stored_files(settings.data_dir) == []


@pytest.mark.parametrize(
    ("text", "mapping", "expected"),
    [
        (HAND_MADE, {**GUESSED, "dob": "Birthday"},
         "council.csv: there is no column 'Birthday' for dob"),
        (HAND_MADE.replace("C4,", "C2,"), GUESSED,
         "council.csv, row 5, column 'ID': record id 'C2' repeats row 3"),
        (HAND_MADE.replace("C3,", ","), GUESSED,
         "council.csv, row 4, column 'ID': the record id is empty"),
        (HAND_MADE.replace("C5,Dan", "C5,Dan,extra"), GUESSED,
         "council.csv, row 6: 9 values, but the header has 8 columns"),
        (HAND_MADE.replace("Needs", "Surname"), GUESSED,
         "column 'Surname' appears twice (columns 3 and 8)"),
        (HAND_MADE, {**GUESSED, "address": "Surname"},
         "council.csv, column 'Surname': the agreement 'Safeguarding in Barnet' does not cover "
         "address"),
        (HAND_MADE, {k: v for k, v in GUESSED.items() if k != "record_id"},
         "choose the column that holds the record id"),
        (HAND_MADE, {**GUESSED, "first_name": "Surname"},
         "column 'Surname' is mapped to both first_name and surname"),
        ("", GUESSED, "the file is empty"),
        ("ID,Forename\n", GUESSED, "council.csv has a header row but no records"),
        (HAND_MADE.encode("utf-8").replace(b"Ben", b"B\xe9n"), GUESSED,
         "line 3 is not UTF-8 text (byte 0xe9)"),
    ],
)  # fmt: skip
def test_every_hard_error_stores_nothing(
    sessions, settings, made, tmp_path: Path, text, mapping, expected
) -> None:
    with pytest.raises(ImportProblem) as refused:
        upload(sessions, settings, write(tmp_path, text), mapping)
    assert expected in str(refused.value)
    assert "nothing from it was stored" in str(refused.value)
    nothing_stored(sessions, settings)


def test_a_file_over_the_limit_is_refused_by_its_size(
    sessions, settings, made, tmp_path: Path
) -> None:
    path = write(tmp_path, HAND_MADE)
    size = path.stat().st_size
    with pytest.raises(ImportProblem) as refused:
        upload(sessions, settings, path, max_bytes=size - 1)
    assert f"the file is {size:,} bytes; the limit is {size - 1:,}" in str(refused.value)
    nothing_stored(sessions, settings)


def test_files_are_removed_when_the_transaction_is_rolled_back(
    sessions, settings, made, tmp_path: Path
) -> None:
    with sessions() as session:
        partnership = session.scalar(select(Partnership))
        datasets.import_dataset(
            session, settings, user(session, "barnet"), partnership, "council",
            write(tmp_path, HAND_MADE), GUESSED, on=ON,
        )  # fmt: skip
        assert len(stored_files(settings.data_dir)) == 2
        session.rollback()
    nothing_stored(sessions, settings)


def _agreement(sessions, **change) -> None:
    with transaction(sessions) as session:
        agreement = session.scalar(select(Agreement))
        for name, value in change.items():
            setattr(agreement, name, value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "draft"}, "it is draft, not active"),
        ({"start_date": date(2026, 7, 1)}, "it starts on 2026-07-01"),
        ({"end_date": date(2026, 6, 1)}, "it ended on 2026-06-01"),
        ({"status": "ended"}, "it is ended, not active"),
        ({"agencies": '["health"]'}, "it does not cover council data"),
    ],
)
def test_an_upload_without_an_agreement_in_force_is_refused_with_the_reason(
    sessions, settings, made, tmp_path: Path, change, reason
) -> None:
    _agreement(sessions, **change)
    with pytest.raises(AgreementNeeded) as refused:
        upload(sessions, settings, write(tmp_path, HAND_MADE))
    assert "No data-sharing agreement of Barnet SCP is in force on 2026-06-15" in str(refused.value)
    assert f"'Safeguarding in Barnet': {reason}" in str(refused.value)
    nothing_stored(sessions, settings)


def test_an_agreement_not_signed_by_a_new_member_refuses_uploads(
    sessions, settings, made, tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        partnership = session.scalar(select(Partnership))
        partnerships.add_member(session, user(session, "admin"), partnership, "A School", "school")
    with pytest.raises(AgreementNeeded) as refused:
        upload(sessions, settings, write(tmp_path, HAND_MADE))
    assert "it is draft, not active; 1 member organisation(s) have not signed it" in str(
        refused.value
    )
    nothing_stored(sessions, settings)


def test_only_the_agency_s_own_organisation_uploads_its_records(
    sessions, settings, made, tmp_path: Path
) -> None:
    path = write(tmp_path, HAND_MADE)
    with pytest.raises(PermissionDenied):  # not a member
        upload(sessions, settings, path, who="leeds")
    with pytest.raises(PermissionDenied) as refused:  # the health trust's user
        upload(sessions, settings, path, who="nurse")
    assert "only its council members upload council records" in str(refused.value)
    nothing_stored(sessions, settings)
    dataset_id = upload(sessions, settings, path, who="admin")  # the only council member
    with sessions() as session:
        dataset = session.get(AgencyDataset, dataset_id)
        organisation = session.get(Organisation, dataset.organisation_id)
        assert organisation is not None and organisation.name == "Barnet Council"
        assert dataset.uploaded_by == "admin"


def test_the_same_record_keeps_its_pseudonym_across_uploads(
    sessions, settings, made, tmp_path: Path
) -> None:
    first = upload(sessions, settings, write(tmp_path, HAND_MADE))
    again = upload(sessions, settings, write(tmp_path, HAND_MADE.replace("Amy", "Aimee"), "b.csv"))
    with sessions() as session:
        one, two = (
            {r["record_id"]: r["record"] for r in datasets.matching_rows(
                settings.data_dir, session.get(AgencyDataset, i))}
            for i in (first, again)
        )  # fmt: skip
    assert one == two and len(set(one.values())) == 5


def test_months_are_added_to_the_last_day_of_a_shorter_month() -> None:
    assert datasets.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert datasets.add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert datasets.add_months(date(2026, 6, 15), 18) == date(2027, 12, 15)


def test_checks_of_identifiers() -> None:
    assert datasets.nhs_number_problem("9434765919") == ""
    assert datasets.nhs_number_problem("9434765918") == "fails the modulus 11 check"
    assert datasets.nhs_number_problem("94347659") == "not 10 digits"
    # 123456789: 10+18+24+28+30+30+28+24+18 = 210, 210 % 11 = 1, 11 - 1 = 10: never issued
    assert datasets.nhs_number_problem("1234567890") == "fails the modulus 11 check"
    # UPN check letter: digits 2 0 2 1 2 3 4 2 6 0 0 1 weighted 2 to 13: 4+0+8+5+12+21+32+18
    # +60+0+0+13 = 173, 173 % 23 = 12 -> letter 12 (from 0) of ABCDEFGHJKLMNPQRTUVWXYZ, N
    assert datasets.upn_problem("N202123426001") == ""
    assert datasets.upn_problem("A202123426001") == "the check letter does not match"
    assert datasets.upn_problem("N20212342600") == "not a letter followed by 12 digits"


def test_the_import_command_guesses_the_rest_and_prints_the_profile(
    sessions, settings, made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from whatworks.cli import app

    monkeypatch.setattr("whatworks.sharing.cli.settings", lambda: settings)
    with transaction(sessions) as session:  # the agreement is in force today
        session.scalar(select(Agreement)).end_date = date.today() + timedelta(days=30)
    text = HAND_MADE.replace("Forename", "Given name")  # not a usual name: mapped by hand
    path = write(tmp_path, text)
    args = ["sharing", "import", "--partnership", str(made["partnership"]), "--agency",
            "council", "--file", str(path), "--map", "first_name=Given name",
            "--title", "Test"]  # fmt: skip
    done = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "Imported dataset" in done.output and "council.csv: 5 records" in done.output
    assert "fails the modulus 11 check: 1 (rows 3)" in done.output
    with sessions() as session:
        dataset = session.scalar(select(AgencyDataset))
        assert datasets.mapping_of(dataset) == {**GUESSED, "first_name": "Given name"}
        # audited as the operating-system user running the command, as `run` is
        actor = f"{getpass.getuser()} (command line)"
        assert dataset.title == "Test" and dataset.uploaded_by == actor
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "import agency dataset")
        )
        assert (event.username, event.user_id) == (actor, None)
        assert session.scalar(select(User).where(User.username == "cli")) is None
    refused = CliRunner().invoke(app, [*args[:-2], "--map", "address=Surname"])
    assert refused.exit_code != 0
    assert "does not cover address" in str(refused.exception)


def test_the_demo_data_command_writes_each_agency_with_needs(tmp_path: Path) -> None:
    import csv

    from typer.testing import CliRunner

    from whatworks.cli import app

    done = CliRunner().invoke(
        app, ["sharing", "demo-data", "--out", str(tmp_path), "--people", "200", "--seed", "3"]
    )
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == [
        "council.csv", "health.csv", "police.csv", "school.csv"
    ]  # fmt: skip
    with (tmp_path / "school.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-1] == "needs"
    codes = {c for r in rows for c in r["needs"].split(";") if c}
    assert codes <= {"SEN support", "EHC plan", "persistent absence", "suspension"}
    assert any(r["needs"] == "" for r in rows) and codes


def test_a_need_code_not_in_the_agency_s_list_is_a_hard_error(
    sessions, settings, made, tmp_path: Path
) -> None:
    text = HAND_MADE.replace("C3,,Brown", "C3,Cy,Brown").replace(
        '"child in need; early help"', '"child in need;CIN"'
    ).replace("C5,Dan,Smith,2014-12-25,Q,n12 0ab,943 476 5919,looked after",
              "C5,Dan,Smith,2014-12-25,Q,n12 0ab,943 476 5919,CAMHS")  # fmt: skip
    with pytest.raises(ImportProblem) as refused:
        upload(sessions, settings, write(tmp_path, text))
    problems = refused.value.problems
    allowed = "'early help', 'child in need', 'child protection plan', 'looked after'"
    assert problems == [
        f"council.csv, row 4, column 'Needs': 'CIN' is not a council need code; use {allowed} "
        "(separated by ;), or leave the cell empty",
        f"council.csv, row 6, column 'Needs': 'CAMHS' is not a council need code; use {allowed} "
        "(separated by ;), or leave the cell empty",
    ]
    nothing_stored(sessions, settings)
    # the health trust's code is fine for health, and for an "other" agency any list's code
    assert "CAMHS" in datasets.allowed_need_codes("health")
    assert {"CAMHS", "early help", "youth justice", "EHC plan"} <= set(
        datasets.allowed_need_codes("other")
    )


def test_an_other_agency_may_use_any_list_s_codes(sessions, settings, made, tmp_path) -> None:
    with transaction(sessions) as session:
        partnership = session.scalar(select(Partnership))
        partnerships.add_member(session, user(session, "admin"), partnership, "Youth Club", "other")
        agreement = session.scalar(select(Agreement))
        agreement.agencies = '["council", "health", "other"]'
        club = session.scalar(select(Organisation).where(Organisation.name == "Youth Club"))
        partnerships.sign(
            session, user(session, "admin"), agreement, club.id, "Al", "Lead", date(2026, 1, 1), ON
        )
        partnerships.activate(session, user(session, "admin"), agreement, ON)
    good = "ID,Needs\nY1,CAMHS;early help\nY2,youth justice\nY3,\n"
    dataset_id = upload(
        sessions, settings, write(tmp_path, good, "club.csv"),
        {"record_id": "ID", "needs": "Needs"}, who="admin", agency="other",
    )  # fmt: skip
    with sessions() as session:
        dataset = session.get(AgencyDataset, dataset_id)
        codes = datasets.profile_of(dataset)["fields"]["needs"]["codes"]
    assert codes == {"CAMHS": 1, "early help": 1, "youth justice": 1}
    with pytest.raises(ImportProblem) as refused:
        upload(sessions, settings, write(tmp_path, "ID,Needs\nY9,MH\n", "bad.csv"),
               {"record_id": "ID", "needs": "Needs"}, who="admin", agency="other")  # fmt: skip
    assert "bad.csv, row 2, column 'Needs': 'MH' is not a other need code" in str(refused.value)


def test_the_synthetic_agencies_codes_are_all_allowed() -> None:
    from whatworks.sharing import synthetic

    for agency, needs in synthetic.NEEDS.items():
        assert {code for code, *_ in needs} <= set(datasets.allowed_need_codes(agency))
    assert set(synthetic.RETURNS_NEEDS) <= set(datasets.allowed_need_codes("council"))


#: A file with every matching field, each value distinct and long enough not to turn up by
#: chance inside a pseudonym: record ids, names, dates of birth in two writings, postcodes,
#: NHS numbers (check digits worked out above) and UPNs (check letters worked out above).
EVERY_FIELD = (
    "ID,Forename,Surname,Date of Birth,Gender,Post Code,NHS No,UPN,Needs\n"
    "REF-77123,Perpetua,Oyelaran-Whitfield,03/04/2015,F,N12 0AB,4010232137,N202123426001,"
    "early help\n"
    "REF-77124,Bartholomew,Quayle,2014-12-25,M,SW1A 1AA,943 476 5919,,\n"
)


def test_no_matching_value_reaches_the_analytics_store(
    sessions, settings, made, tmp_path: Path
) -> None:
    mapping = {**GUESSED, "upn": "UPN"}
    dataset_id = upload(sessions, settings, write(tmp_path, EVERY_FIELD), mapping)
    with sessions() as session:
        dataset = session.get(AgencyDataset, dataset_id)
        assert dataset is not None
        path = settings.analytics_dir / "sharing" / f"p{dataset.partnership_id}"
    [stored] = sorted(path.glob("*.parquet"))
    table = pq.read_table(stored)
    text = [str(name) for name in table.column_names] + [
        str(value) for column in table.columns for value in column.to_pylist()
    ]
    # every value of every matching field, as written and as the matching file keeps it
    values = [
        "REF-77123", "REF-77124", "Perpetua", "Bartholomew", "Oyelaran-Whitfield", "Quayle",
        "03/04/2015", "2015-04-03", "2014-12-25", "N12 0AB", "N120AB", "SW1A 1AA", "SW1A1AA",
        "4010232137", "943 476 5919", "9434765919", "N202123426001",
    ]  # fmt: skip
    leaks = [(v, cell) for v in values for cell in text if v.lower() in cell.lower()]
    assert leaks == []
    assert table.num_rows == 2  # the records are there, only pseudonymised
    assert sorted(str(v) for v in table.column("birth_month").to_pylist()) == ["2014-12", "2015-04"]


def test_who_sees_a_dataset_s_profile(sessions, settings, made, tmp_path: Path) -> None:
    dataset_id = upload(sessions, settings, write(tmp_path, HAND_MADE))
    with transaction(sessions) as session:
        health = session.scalar(
            select(Organisation).where(Organisation.name == "Barnet Health Trust")
        )
        create_user(session, "doctor", PASSWORD, "partnership_member", organisation=health)
    with transaction(sessions) as session:
        dataset = session.get(AgencyDataset, dataset_id)
        # the uploading council's plain member, a partnership member elsewhere, an admin
        for who in ("barnet", "doctor", "admin"):
            assert datasets.view_dataset(session, user(session, who), dataset_id) is dataset
        # the health trust's plain member, and an outsider
        for who in ("nurse", "leeds"):
            assert not datasets.may_view(session, user(session, who), dataset)
            with pytest.raises(PermissionDenied):
                datasets.view_dataset(session, user(session, who), dataset_id)
    with sessions() as session:
        viewers = session.scalars(
            select(AuditEvent.username).where(AuditEvent.action == "view agency dataset")
        ).all()
    assert viewers == ["barnet", "doctor", "admin"]


def test_need_code_counts_are_shown_under_disclosure_control(
    sessions, settings, made, tmp_path: Path
) -> None:
    # 17 records with early help (rounds to 20), 3 looked after (suppressed), 0 otherwise
    rows = [f"E{n},Amy,Smith,2015-04-03,F,N12 0AB,,early help" for n in range(17)]
    rows += [f"L{n},Ben,Jones,2016-05-06,M,N12 0AB,,looked after" for n in range(3)]
    text = "ID,Forename,Surname,Date of Birth,Gender,Post Code,NHS No,Needs\n" + "\n".join(rows)
    dataset_id = upload(sessions, settings, write(tmp_path, text + "\n"))
    with sessions() as session:
        dataset = session.get(AgencyDataset, dataset_id)
        shown = datasets.dataset_json(dataset)["profile"]["fields"]["needs"]["codes"]
    assert shown == {
        "early help": {"value": 20.0, "status": "value", "shown": "20"},
        "looked after": {"value": None, "status": "c", "shown": "c"},
    }
    assert "17" not in json.dumps(shown) and '"3"' not in json.dumps(shown)
