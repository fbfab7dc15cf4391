"""Import of DfE 'explore education statistics' files: values as published, symbols kept,
idempotent, and all-or-nothing with the file, row and column of every problem named."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from whatworks.core.errors import ImportProblem
from whatworks.data import published_file
from whatworks.outcomes.models import PublishedDataset, PublishedValue
from whatworks.outcomes.published import (
    bundled_files,
    import_published,
    is_published_layout,
    parse_cell,
)

CLA = published_file("cla_number_and_rate_per_10k_children.csv")
HEADER = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,old_la_code,new_la_code,la_name,population_type,children_count,rate_per_10000"
)
GOOD_ROWS = [
    "2025,Reporting year,National,E92000001,England,,,,,,Children looked after,81770,67",
    "2025,Reporting year,Local authority,E92000001,England,E13000002,Outer London,302,"
    "E09000003,Barnet,Children looked after,343,37",
    "2024,Reporting year,Local authority,E92000001,England,E13000002,Outer London,302,"
    "E09000003,Barnet,Children looked after,c,x",
]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(PublishedDataset)),
        session.scalar(select(func.count()).select_from(PublishedValue)),
    )


def test_cells_are_numbers_durations_or_symbols() -> None:
    assert parse_cell("37") == (37.0, "value")
    assert parse_cell("-1.5") == (-1.5, "value")
    assert parse_cell(" 22.6 ") == (22.6, "value")
    assert parse_cell("01:04") == (16.0, "value")  # 1 year 4 months, in months
    for symbol in ("c", "x", "z", "k", "low", "u"):
        assert parse_cell(symbol) == (None, symbol)
    for broken in ("", "12a", "n/a", "1,234", "nan", "inf"):
        with pytest.raises(ValueError):
            parse_cell(broken)


def test_bundled_file_is_stored_exactly_as_published(session) -> None:
    [result] = import_published(session, [CLA])
    session.commit()
    with CLA.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert result.outcome == "added"
    assert result.rows == len(rows)
    measures = ["population_estimate", "children_count", "rate_per_10000"]
    assert result.values == len(measures) * len(rows)
    stored = {
        (v.row_number, v.measure): (v.value, v.status, v.raw)
        for v in session.scalars(select(PublishedValue))
    }
    for line, row in enumerate(rows, start=2):
        for measure in measures:
            value, status, raw = stored[(line, measure)]
            assert raw == row[measure]
            if row[measure] in {"c", "x", "z", "k", "low", "u"}:
                assert (value, status) == (None, row[measure])
            else:
                assert (value, status) == (float(row[measure]), "value")
    dataset = session.scalar(select(PublishedDataset))
    assert json.loads(dataset.measures) == measures
    assert json.loads(dataset.filters) == ["population_type"]


def test_suppression_symbols_are_kept_not_zero_or_blank(session, tmp_path) -> None:
    path = write(tmp_path, "small.csv", [HEADER, *GOOD_ROWS])
    import_published(session, [path])
    session.commit()
    suppressed = session.execute(
        select(PublishedValue.measure, PublishedValue.value, PublishedValue.status)
        .where(PublishedValue.period == "2024")
        .order_by(PublishedValue.measure)
    ).all()
    assert suppressed == [("children_count", None, "c"), ("rate_per_10000", None, "x")]


def test_every_bundled_file_in_the_layout_is_found() -> None:
    names = {p.name for p in bundled_files()}
    assert CLA.name in names
    assert "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv" in names
    assert "sn_model_2025_wide.csv" not in names  # a lookup, not in the EES layout
    assert all(is_published_layout(p) for p in bundled_files())


def test_importing_the_same_file_twice_changes_nothing(session, tmp_path) -> None:
    path = write(tmp_path, "small.csv", [HEADER, *GOOD_ROWS])
    import_published(session, [path])
    session.commit()
    before = session.execute(
        select(PublishedValue.id, PublishedValue.value, PublishedValue.status).order_by(
            PublishedValue.id
        )
    ).all()
    [again] = import_published(session, [path])
    session.commit()
    after = session.execute(
        select(PublishedValue.id, PublishedValue.value, PublishedValue.status).order_by(
            PublishedValue.id
        )
    ).all()
    assert again.outcome == "unchanged"
    assert after == before
    assert counts(session) == (1, 6)


def test_a_revised_file_replaces_its_earlier_values(session, tmp_path) -> None:
    path = write(tmp_path, "small.csv", [HEADER, *GOOD_ROWS])
    import_published(session, [path])
    session.commit()
    revised = [*GOOD_ROWS[:2], GOOD_ROWS[2].replace(",c,x", ",330,35")]
    write(tmp_path, "small.csv", [HEADER, *revised])
    [result] = import_published(session, [path])
    session.commit()
    assert result.outcome == "replaced"
    assert counts(session) == (1, 6)
    values = session.scalars(
        select(PublishedValue.value)
        .where(PublishedValue.period == "2024")
        .order_by(PublishedValue.measure)
    ).all()
    assert values == [330.0, 35.0]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["period,geographic_level,value", "2025,National,3"],
            "row 1 (header): this is not an 'explore education statistics' file; "
            "missing column(s) time_period, time_identifier, country_code",
        ),
        (
            [HEADER, GOOD_ROWS[0], GOOD_ROWS[1].replace(",343,", ",34x,")],
            "row 3, column children_count: '34x' is neither a number nor a DfE symbol",
        ),
        (
            [HEADER, GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[2].rsplit(",", 1)[0]],
            "row 4: has 12 values but the header has 13 columns",
        ),
        (
            [HEADER, GOOD_ROWS[0].replace("2025,", "last year,", 1)],
            "row 2, column time_period: 'last year' is not a year",
        ),
        (
            [HEADER, GOOD_ROWS[1].replace("E09000003", "Barnet-ish")],
            "row 2, column new_la_code: 'Barnet-ish' is not a local authority code",
        ),
        ([""], "the file is empty"),
    ],
)
def test_malformed_file_is_rejected_naming_row_and_column(
    session, tmp_path, lines: list[str], expected: str
) -> None:
    good = write(tmp_path, "good.csv", [HEADER, *GOOD_ROWS])
    import_published(session, [good])
    session.commit()
    before = counts(session)
    bad = write(tmp_path, "bad.csv", lines)
    with pytest.raises(ImportProblem) as caught:
        import_published(session, [bad])
    session.rollback()
    message = str(caught.value)
    assert message.startswith("bad.csv was not imported; nothing from it was stored.")
    assert expected in message
    assert counts(session) == before


def test_one_bad_file_stops_the_whole_import(session, tmp_path) -> None:
    good = write(tmp_path, "good.csv", [HEADER, *GOOD_ROWS])
    broken = GOOD_ROWS[1].replace(",37", ",thirty-seven")
    bad = write(tmp_path, "bad.csv", [HEADER, *GOOD_ROWS, broken])
    with pytest.raises(ImportProblem, match="row 5, column rate_per_10000"):
        import_published(session, [good, bad])
    session.rollback()
    assert counts(session) == (0, 0)


def test_a_file_that_is_not_utf8_is_rejected(session, tmp_path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + GOOD_ROWS[1].replace("Barnet", "Barnét")).encode("latin-1"))
    with pytest.raises(ImportProblem, match="not UTF-8"):
        import_published(session, [path])


def test_byte_order_mark_is_accepted(session, tmp_path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + GOOD_ROWS[0] + "\n").encode("utf-8"))
    [result] = import_published(session, [path])
    assert result.values == 2


def test_renamed_copy_is_a_separate_dataset(session, tmp_path) -> None:
    first = write(tmp_path, "first.csv", [HEADER, *GOOD_ROWS])
    second = tmp_path / "second.csv"
    shutil.copy(first, second)
    import_published(session, [first, second])
    session.commit()
    assert counts(session) == (2, 12)
