"""Hostile and malformed input to the readers of child-level returns.

The acceptance criteria: bad input is rejected with a clear report and nothing from it is
kept (missing column, bad date, unknown code, duplicated child, wrong year, truncated file,
XML with an external entity or an entity expansion bomb, a 2 GB file refused by its size),
and malformed input only ever raises our own error type, never anything else.

A reader "rejects" a file either by raising ImportProblem (the file cannot be read at all)
or by returning it with blocking problems (code "structure" or "schema"), which the import
turns into a refusal.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.returns import specs
from whatworks.returns.cin import Census, read_census
from whatworks.returns.ssda903 import Problem, Table, read_table

KEY = bytes(range(32))
TWO_GB = 2 * 1024**3
BLOCKING = ("structure", "schema")

EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
EPISODE = "566910,15/02/2016,L,C2,N3,T2,PR0,14/08/2017,X1,CLOSE,EG19 7TT,WV27 9FW,4244474"
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
SOCIAL_WORKER = "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON"
SOCIAL_WORKER_ROW = "566910,01/01/2010,SW1,01/04/2023,,"

#: The smallest CIN census that the 2024 schema accepts without a problem.
CENSUS = """<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails>
      <Collection>CIN</Collection><Year>2024</Year><ReferenceDate>2024-03-31</ReferenceDate>
    </CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>201</LEA></Source>
  </Header>
  <Children>
    {children}
  </Children>
</Message>
"""
CHILD = """<Child>
      <ChildIdentifiers>
        <LAchildID>{id}</LAchildID>
        <UPN>A123456789123</UPN>
        <PersonBirthDate>{birth}</PersonBirthDate>
        <GenderCurrent>1</GenderCurrent>
      </ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>{ethnicity}</Ethnicity></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2023-10-06</CINreferralDate>
        <ReferralSource>1A</ReferralSource>
        <PrimaryNeedCode>N4</PrimaryNeedCode>
        <ReferralNFA>0</ReferralNFA>
      </CINdetails>
    </Child>"""


def child(id: str = "DfEX0000001", birth: str = "2015-03-27", ethnicity: str = "WBRI") -> str:
    return CHILD.format(id=id, birth=birth, ethnicity=ethnicity)


def census(*children: str) -> str:
    return CENSUS.format(children="\n    ".join(children or (child(),)))


def csv_file(tmp_path: Path, *lines: str, name: str = "episodes.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def xml_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "census.xml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(reader: Callable[..., Any], path: Path, *args: Any, **kwargs: Any) -> str:
    """The reader's refusal of the file: an ImportProblem that names the file and says what
    to do. Returns its text."""
    with pytest.raises(ImportProblem) as raised:
        reader(path, *args, **kwargs)
    message = str(raised.value)
    assert raised.value.path == path.name
    assert message.startswith(f"{path.name} was not imported; nothing from it was stored.")
    assert "Correct the file and import it again." in message
    assert raised.value.problems
    return message


def blocking(found: Table | Census) -> list[Problem]:
    return [p for p in found.problems if p.code in BLOCKING]


# --- SSDA903 tables ------------------------------------------------------------------------


def test_table_missing_column(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES.replace(",LS", ""), EPISODE.replace(",C2", ""))
    [problem] = blocking(read_table(path, 2024, KEY))
    assert (problem.table, problem.row, problem.field) == ("episodes", 1, "LS")
    assert problem.message == "column LS is missing"


def test_table_bad_date(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE.replace("15/02/2016", "31/02/2016"))
    [problem] = blocking(read_table(path, 2024, KEY))
    assert (problem.row, problem.child, problem.field) == (2, "566910", "DECOM")
    assert "'31/02/2016' is not a date written dd/mm/yyyy" in problem.message


def test_table_unknown_code(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE.replace(",T2,", ",ZZ,"))
    [problem] = blocking(read_table(path, 2024, KEY))
    assert (problem.row, problem.child, problem.field) == (2, "566910", "PLACE")
    assert "'ZZ' is not one of the codes for this year" in problem.message


def test_table_duplicated_child(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        HEADER,
        "1,1,01/01/2010,WBRI,A123456789012,,",
        "2,2,01/01/2011,WBRI,A123456789013,,",
        "1,2,01/01/2011,WBRI,A123456789014,,",
        name="header.csv",
    )
    [problem] = blocking(read_table(path, 2024, KEY))
    assert (problem.row, problem.child, problem.field) == (4, "1", "CHILD")
    assert "appears twice" in problem.message


def test_table_of_another_year_refused(tmp_path: Path) -> None:
    # The social worker table (SW_ID, SW_DECOM, ...) only exists from 2023/24.
    path = csv_file(tmp_path, SOCIAL_WORKER, SOCIAL_WORKER_ROW, name="sw.csv")
    assert read_table(path, 2024, KEY).name == "social_worker"
    message = refused(read_table, path, 2023, KEY)
    assert "not an SSDA903 table of 2023" in message and "SW_ID" in message


def test_table_with_a_column_of_another_year(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES + ",SW_ID", EPISODE + ",SW1")
    [problem] = blocking(read_table(path, 2022, KEY))
    assert (problem.row, problem.field) == (1, "SW_ID")
    assert problem.message == "column SW_ID is not in the 2022 specification"


def test_table_codes_of_another_year(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, "1,M,01/01/2010,WBRI,A123456789012,,", name="header.csv")
    assert read_table(path, 2025, KEY).problems == []  # M/F/U arrived in 2024/25
    [problem] = blocking(read_table(path, 2024, KEY))
    assert problem.field == "SEX"


def test_table_year_without_a_specification(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE)
    with pytest.raises(WhatworksError, match="no SSDA903 specification for 2012"):
        read_table(path, 2012, KEY)


def test_table_truncated_mid_row(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_text(f"{EPISODES}\n{EPISODE}\n{EPISODE[:30]}", encoding="utf-8")
    [problem] = blocking(read_table(path, 2024, KEY))
    assert (problem.row, problem.child) == (3, "566910")
    assert "the row has 7 values but the header has 13 columns" in problem.message


def test_table_truncated_inside_a_quoted_value(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    quoted = EPISODE.replace("4244474", '"4244474"')
    path.write_text(f"{EPISODES}\n{EPISODE}\n{quoted[:-3]}", encoding="utf-8")
    message = refused(read_table, path, 2024, KEY)
    assert "line 3: the file ends inside a quoted value: it is cut short" in message


def test_table_with_stray_text_after_a_quoted_value(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE.replace(",L,", ',"L"x,'))
    message = refused(read_table, path, 2024, KEY)
    assert "line 2: a quoted value is followed by other characters" in message


def test_table_with_a_nul_byte(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_bytes(f"{EPISODES}\n{EPISODE}\n".encode() + b"5669\x0011" + EPISODE[6:].encode())
    message = refused(read_table, path, 2024, KEY)
    assert "line 3 has a NUL byte" in message and "save it as CSV UTF-8" in message


def test_table_with_a_field_over_the_csv_limit(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE.replace("CLOSE", "X" * 200_000))
    message = refused(read_table, path, 2024, KEY)
    assert "line 2: a value is longer than 131,072 characters" in message
    # An unclosed quote swallows the rest of the file into one value: the same refusal.
    path = csv_file(tmp_path, EPISODES, '"' + EPISODE, *[EPISODE] * 20_000)
    assert "a quote is probably not closed" in refused(read_table, path, 2024, KEY)


def test_table_long_values_are_cut_short_in_the_report(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE.replace(",T2,", f",{'Z' * 100_000},"))
    [problem] = blocking(read_table(path, 2024, KEY))
    assert problem.field == "PLACE"
    assert "(100,000 characters) is not one of the codes" in problem.message
    assert len(problem.message) < 1_000
    path = csv_file(tmp_path, f"{EPISODES},{'X' * 100_000}", f"{EPISODE},1")
    [problem] = blocking(read_table(path, 2024, KEY))
    assert problem.message.endswith("... (100,000 characters) is not in the 2024 specification")
    assert len(problem.message) < 1_000 and len(problem.field) < 100


def test_table_with_a_huge_header_is_reported_briefly(tmp_path: Path) -> None:
    path = csv_file(tmp_path, ",".join(f"COLUMN{n}" for n in range(100_000)))
    message = refused(read_table, path, 2024, KEY)
    assert "COLUMN19 and 99,980 more" in message and len(message) < 1_000


def test_table_not_utf8_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_bytes(f"{EPISODES}\n{EPISODE}\n".encode("utf-16"))
    assert "not UTF-8 text (byte 0)" in refused(read_table, path, 2024, KEY)
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    assert "the file is empty" in refused(read_table, path, 2024, KEY)


@pytest.mark.parametrize(("reader", "name"), [(read_table, "x.csv"), (read_census, "x.xml")])
def test_a_path_that_is_not_a_readable_file(
    tmp_path: Path, reader: Callable[..., Any], name: str
) -> None:
    assert "could not be read" in refused(reader, tmp_path / name, 2024, KEY)
    folder = tmp_path / name
    folder.mkdir()
    assert "this is not a file" in refused(reader, folder, 2024, KEY)


# --- both readers: size -------------------------------------------------------------------


@pytest.mark.parametrize(("reader", "name"), [(read_table, "big.csv"), (read_census, "big.xml")])
def test_a_2gb_file_is_refused_by_size_without_reading_it(
    tmp_path: Path, reader: Callable[..., Any], name: str
) -> None:
    big = tmp_path / name
    with big.open("wb") as handle:  # sparse: 2 GB on paper, next to nothing on disk
        handle.write(b"<" if name.endswith(".xml") else b"CHILD,")
        handle.truncate(TWO_GB)
    assert big.stat().st_size == TWO_GB
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refused(reader, big, 2024, KEY)  # the default limit
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"the file is {TWO_GB:,} bytes; the limit is {200 * 1024**2:,}" in message
    assert elapsed < 1.0
    assert peak < 1024**2  # nothing of the content was read into memory


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("reader", [read_table, read_census])
def test_a_device_is_refused_without_reading_it(reader: Callable[..., Any]) -> None:
    # A device reports size 0 and never ends: reading it would fill the memory.
    assert "this is not a file" in refused(reader, Path("/dev/zero"), 2024, KEY)


def test_a_file_just_over_a_smaller_limit_is_refused(tmp_path: Path) -> None:
    path = csv_file(tmp_path, EPISODES, EPISODE)
    size = path.stat().st_size
    assert read_table(path, 2024, KEY, max_bytes=size).rows
    message = refused(read_table, path, 2024, KEY, max_bytes=size - 1)
    assert f"the file is {size:,} bytes; the limit is {size - 1:,}" in message


# --- CIN census ---------------------------------------------------------------------------


def test_census_sample_of_the_right_year_has_no_problems(tmp_path: Path) -> None:
    found = read_census(xml_file(tmp_path, census()), 2024, KEY)
    assert found.problems == [] and len(found.children) == 1 and found.la == "201"


def test_census_missing_element(tmp_path: Path) -> None:
    text = census().replace("<LAchildID>DfEX0000001</LAchildID>", "")
    problems = blocking(read_census(xml_file(tmp_path, text), 2024, KEY))
    assert problems and all(p.code == "schema" and p.row for p in problems)
    assert any("LAchildID" in p.message for p in problems), problems


def test_census_bad_date(tmp_path: Path) -> None:
    text = census(child(birth="27/03/2015"))
    [problem] = blocking(read_census(xml_file(tmp_path, text), 2024, KEY))
    assert problem.field == "PersonBirthDate" and problem.row == 14
    assert "'27/03/2015' is not a valid value of the atomic type 'xs:date'" in problem.message


def test_census_unknown_code(tmp_path: Path) -> None:
    text = census(child(ethnicity="ZZZZ"))
    [problem] = blocking(read_census(xml_file(tmp_path, text), 2024, KEY))
    assert problem.field == "Ethnicity" and "'ZZZZ'" in problem.message


def test_census_duplicated_child(tmp_path: Path) -> None:
    text = census(child("DfEX0000001"), child("DfEX0000002"), child("DfEX0000001"))
    [problem] = blocking(read_census(xml_file(tmp_path, text), 2024, KEY))
    assert (problem.child, problem.field, problem.code) == ("DfEX0000001", "LAchildID", "structure")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "<Child>"]
    assert problem.row == lines[2]  # the line of the second <Child> for that child
    assert "appears twice in the census" in problem.message


def test_census_validated_against_another_year(tmp_path: Path) -> None:
    # 2024/25 replaced GenderCurrent (1/2/0/9) with Sex (M/F/U).
    path = xml_file(tmp_path, census())
    assert read_census(path, 2024, KEY).problems == []
    problems = blocking(read_census(path, 2025, KEY))
    assert problems and problems[0].field == "GenderCurrent"
    assert "Expected is one of ( ExpectedPersonBirthDate, Sex )" in problems[0].message
    with pytest.raises(WhatworksError, match="no CIN census schema for 2012"):
        read_census(path, 2012, KEY)


def test_census_truncated_mid_element(tmp_path: Path) -> None:
    text = census()
    cut = text[: text.index("<ReferralSource>") + len("<ReferralSou")]
    assert "not well-formed XML" in refused(read_census, xml_file(tmp_path, cut), 2024, KEY)
    path = tmp_path / "census.xml"
    path.write_bytes(b"")
    assert "not well-formed XML" in refused(read_census, path, 2024, KEY)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>',
        '<!DOCTYPE Message SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ],
)
def test_census_external_entity_is_refused_without_fetching(tmp_path: Path, doctype: str) -> None:
    text = census().replace("<Message>", f"{doctype}\n<Message>").replace("DfEX0000001", "&e;")
    started = time.perf_counter()
    message = refused(read_census, xml_file(tmp_path, text), 2024, KEY)
    assert "declares a DTD, entities or external references, which are not allowed" in message
    assert "root:" not in message
    assert time.perf_counter() - started < 1.0


def test_census_xinclude_is_not_followed(tmp_path: Path) -> None:
    include = (
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
        'parse="text"/>'
    )
    text = census().replace("DfEX0000001", include)
    found = read_census(xml_file(tmp_path, text), 2024, KEY)
    assert blocking(found)  # an element the schema does not allow
    assert "root:" not in repr(found)


@pytest.mark.parametrize("kind", ["billion laughs", "quadratic blowup"])
def test_census_entity_expansion_bomb_is_refused_without_expanding(
    tmp_path: Path, kind: str
) -> None:
    if kind == "billion laughs":
        entities = '<!ENTITY a0 "lol">' + "".join(
            f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
        )
        use = "&a9;"  # 10**9 times "lol" if expanded
    else:
        entities = f'<!ENTITY a "{"x" * 100_000}">'
        use = "&a;" * 20_000  # 2 GB if expanded
    text = f'<?xml version="1.0"?>\n<!DOCTYPE Message [{entities}]>\n<Message>{use}</Message>'
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refused(read_census, xml_file(tmp_path, text), 2024, KEY)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "declares a DTD, entities or external references, which are not allowed" in message
    assert elapsed < 2.0 and peak < 50 * 1024**2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'<?xml version="1.0" encoding="bogus"?><Message/>', "encoding cannot be read"),
        (b'<?xml version="1.0" encoding="UTF-32"?><Message/>', "encoding cannot be read"),
        (b'<?xml version="1.0" encoding="cp500"?><Message/>', "not well-formed XML"),
        (b"<Message>\xff\xfe</Message>", "not well-formed XML"),
        (b"<Message><Children>&#0;</Children></Message>", "not well-formed XML"),
        (b"<Message>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</Message>", "not well-formed"),
        (b"PK\x03\x04\x14\x00\x06\x00", "not well-formed XML"),  # a spreadsheet, not XML
    ],
)
def test_census_that_is_not_readable_xml(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "census.xml"
    path.write_bytes(content)
    assert expected in refused(read_census, path, 2024, KEY)


# --- property-based: malformed input only ever raises our own error -----------------------

PROPERTIES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def only_our_error(reader: Callable[..., Any], path: Path, content: bytes) -> Any:
    """What the reader makes of the content: a result, or our own error; anything else
    propagates and fails the test."""
    path.write_bytes(content)
    try:
        return reader(path, 2024, KEY)
    except ImportProblem as error:
        assert error.path == path.name and error.problems
        return error
    except WhatworksError as error:
        return error


TABLE_HEADERS = [",".join(c.name for c in cols) for cols in specs.tables(2024).values()]
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            '"',
            '""',
            '"a""b"',
            '"open',
            'x"y',
            '"q"tail',
            '"a,b"',
            '"line\nbreak"',
            "\x00",
            "\ufeff",
            "\r",
            "\t",
            "01/01/2010",
            "31/02/2016",
            "M",
            "T2",
            "EG19 7TT",
            "1" * 5000,
            "-1",
            "١٢",
        ]
    ),
    st.sampled_from([131_072, 131_073, 140_000]).map(
        lambda n: "9" * n
    ),  # at and over csv's field limit
)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\n\r", ""])


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """CSV-ish files: a real or garbled header, rows of odd cells with mixed line endings,
    perhaps a BOM, another encoding, or cut short."""
    header = draw(st.one_of(st.sampled_from(TABLE_HEADERS), st.lists(CELLS).map(",".join)))
    rows = draw(st.lists(st.lists(CELLS, max_size=15), max_size=6))
    lines = [header, *(draw(st.sampled_from([",", ";", "\t"])).join(row) for row in rows)]
    text = draw(st.sampled_from(["", "\ufeff", "\ufeff\ufeff"])) + "".join(
        line + draw(LINE_ENDS) for line in lines
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1", "cp1252"]))
    content = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        content = content[: draw(st.integers(0, len(content)))]
    return content


@PROPERTIES
@given(st.binary(max_size=2000))
def test_table_arbitrary_bytes(tmp_path: Path, content: bytes) -> None:
    found = only_our_error(read_table, tmp_path / "x.csv", content)
    assert isinstance(found, Table | WhatworksError)


@PROPERTIES
@given(st.text(max_size=2000))
def test_table_arbitrary_text(tmp_path: Path, text: str) -> None:
    content = text.encode("utf-8", errors="surrogatepass")
    found = only_our_error(read_table, tmp_path / "x.csv", content)
    assert isinstance(found, Table | WhatworksError)


@PROPERTIES
@given(csv_bytes())
def test_table_malformed_csv(tmp_path: Path, content: bytes) -> None:
    found = only_our_error(read_table, tmp_path / "x.csv", content)
    if isinstance(found, Table):  # every problem names the row and is readable
        assert all(p.row is not None and len(p.message) < 2_000 for p in found.problems)


XML_TOKENS = st.sampled_from(
    [
        "<",
        ">",
        "</",
        "/>",
        "=",
        '"',
        "'",
        "&",
        ";",
        "&amp;",
        "&#0;",
        "&#x110000;",
        "&#65;",
        "&e;",
        "<!DOCTYPE Message [",
        "<!ENTITY e 'x'>",
        '<!ENTITY e SYSTEM "file:///etc/passwd">',
        "]>",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?xml version='1.0'?>",
        "<?xml version='1.0' encoding='utf-16'?>",
        "<?xml version='1.0' encoding='nope'?>",
        "<?pi x?>",
        "Message",
        "Header",
        "Source",
        "LEA",
        "Children",
        "Child",
        "ChildIdentifiers",
        "LAchildID",
        "PersonBirthDate",
        "CINdetails",
        "CINreferralDate",
        "Assessments",
        "ChildProtectionPlans",
        'xmlns="urn:x"',
        "xmlns:a='u'",
        "a:",
        "2024-02-30",
        "2015-03-27",
        "201",
        " ",
        "\n",
        "\r",
        "\x00",
        "\ufeff",
        "é",
    ]
)


@st.composite
def mangled_census(draw: st.DrawFn) -> bytes:
    """A valid census with a few bytes cut, inserted or replaced, or the whole cut short."""
    content = census(child(), child("DfEX0000002", "2016-01-01")).encode()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(content)))
        change = draw(st.sampled_from(["cut", "insert", "replace", "truncate"]))
        if change == "truncate":
            content = content[:at]
        elif change == "cut":
            content = content[:at] + content[at + draw(st.integers(1, 40)) :]
        else:
            new = draw(st.one_of(st.binary(max_size=8), XML_TOKENS.map(str.encode)))
            skip = len(new) if change == "replace" else 0
            content = content[:at] + new + content[at + skip :]
    return content


@PROPERTIES
@given(st.binary(max_size=2000))
def test_census_arbitrary_bytes(tmp_path: Path, content: bytes) -> None:
    found = only_our_error(read_census, tmp_path / "x.xml", content)
    assert isinstance(found, Census | WhatworksError)


@PROPERTIES
@given(st.lists(XML_TOKENS, max_size=60).map("".join))
def test_census_xml_like_text(tmp_path: Path, text: str) -> None:
    found = only_our_error(read_census, tmp_path / "x.xml", text.encode())
    assert isinstance(found, Census | WhatworksError)


@PROPERTIES
@given(mangled_census())
def test_census_mangled(tmp_path: Path, content: bytes) -> None:
    found = only_our_error(read_census, tmp_path / "x.xml", content)
    if isinstance(found, Census):
        assert all(p.row for p in found.problems)
