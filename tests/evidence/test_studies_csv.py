"""CSV import of studies is all-or-nothing with errors naming file, row and column; an
export imports again unchanged."""

from __future__ import annotations

import io
import math

import pytest
from sqlalchemy import func, select

from whatworks.core.errors import ImportProblem, PermissionDenied
from whatworks.evidence import studies_csv
from whatworks.evidence.interventions import create_intervention
from whatworks.evidence.models import Study, StudyResult

HEADER = (
    "study_ref,intervention,title,year,design,maryland_level,risk_of_bias,independent,"
    "sample_size,outcome,direction,significant,is_primary,metric,ai,bi,ci,di,reported\n"
)
GOOD = HEADER + (
    "A,fgc,Trial one,2023,RCT,5,low,yes,400,Care entry,positive,yes,yes,RR,30,170,45,155,"
    "30 of 200 vs 45 of 200\n"
    "A,fgc,Trial one,2023,RCT,5,low,yes,400,Days in care,null,no,no,,,,,,No difference\n"
    "B,fgc,Trial two,2024,QED with comparison,3,some concerns,no,250,Care entry,null,,yes,,,,,,"
    "No difference\n"
)


def csv_file(text: str, name: str = "studies.csv") -> io.StringIO:
    handle = io.StringIO(text)
    handle.name = name
    return handle


def stored(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Study)),
        session.scalar(select(func.count()).select_from(StudyResult)),
    )


@pytest.fixture
def fgc(session, people):
    return create_intervention(session, people.researcher, "Family Group Conferencing", slug="fgc")


def test_a_good_file_is_stored_with_its_effects(session, people, fgc) -> None:
    summary = studies_csv.import_studies(session, people.researcher, csv_file(GOOD))
    assert (summary.studies, summary.results) == (2, 3)
    result = session.scalars(select(StudyResult).where(StudyResult.metric == "RR")).one()
    # log risk ratio and its variance, by hand: log((30/200)/(45/200)), 1/30-1/200+1/45-1/200
    assert result.yi == pytest.approx(math.log(30 / 45), abs=1e-12)
    assert result.vi == pytest.approx(1 / 30 - 1 / 200 + 1 / 45 - 1 / 200, abs=1e-12)
    assert result.raw_inputs == {"ai": 30.0, "bi": 170.0, "ci": 45.0, "di": 155.0}
    assert result.conversion == "from a 2x2 table"


def test_bad_input_names_row_and_column_and_stores_nothing(session, people, fgc) -> None:
    bad = GOOD.replace("Trial two,2024,QED with comparison,3,", "Trial two,2024,QED,seven,")
    bad = bad.replace("Days in care,null,no", "Days in care,unclear,no")
    bad += "C,nowhere,Trial three,2024,RCT,5,low,yes,90,Care entry,positive,yes,yes,RR,1,2,,,x\n"
    with pytest.raises(ImportProblem) as raised:
        studies_csv.import_studies(session, people.researcher, csv_file(bad, "mine.csv"))
    problems = raised.value.problems
    assert any(
        p.startswith("mine.csv, row 4, column 'maryland_level': 'seven' cannot be read")
        for p in problems
    )
    assert any(p.startswith("mine.csv, row 3, column 'direction': 'unclear'") for p in problems)
    assert any(p.startswith("mine.csv, row 5, column 'intervention': 'nowhere'") for p in problems)
    assert any(p.startswith("mine.csv, row 5, columns ai, bi:") for p in problems)
    assert "nothing from it was stored" in str(raised.value)
    assert stored(session) == (0, 0)


def test_a_study_must_agree_with_itself_and_columns_must_be_known(session, people, fgc) -> None:
    clash = GOOD.replace("Days in care,null", "Days in care,null").replace(
        "A,fgc,Trial one,2023,RCT,5,low,yes,400,Days",
        "A,fgc,Trial one,2023,RCT,5,high,yes,400,Days",
    )
    with pytest.raises(ImportProblem) as raised:
        studies_csv.import_studies(session, people.researcher, csv_file(clash))
    assert raised.value.problems == [
        "studies.csv, row 3, column 'risk_of_bias': differs from row 2 of the same study; "
        "give one value per study"
    ]
    with pytest.raises(ImportProblem, match="column 'desing' is not known"):
        studies_csv.import_studies(
            session, people.researcher, csv_file(GOOD.replace("design", "desing"))
        )
    assert stored(session) == (0, 0)


def test_only_researchers_import(session, people, fgc) -> None:
    with pytest.raises(PermissionDenied):
        studies_csv.import_studies(session, people.member, csv_file(GOOD))


def test_an_export_imports_again_unchanged(session, people, fgc) -> None:
    studies_csv.import_studies(session, people.researcher, csv_file(GOOD))
    out = io.StringIO()
    assert studies_csv.export_studies(session, out) == 3
    first = studies_csv.export_rows(session)
    session.execute(StudyResult.__table__.delete())
    session.execute(Study.__table__.delete())
    studies_csv.import_studies(session, people.researcher, csv_file(out.getvalue()))
    again = studies_csv.export_rows(session)
    strip = [{k: v for k, v in row.items() if k != "study_ref"} for row in first]
    assert [{k: v for k, v in row.items() if k != "study_ref"} for row in again] == strip
