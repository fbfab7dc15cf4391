"""Small SSDA903 returns written as CSV files with the year's columns, for the tests."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest

from whatworks.returns import specs

HEADER_2025 = [
    {"CHILD": "A100", "SEX": "M", "DOB": "01/05/2012", "ETHNIC": "WBRI", "UPN": "A123456789012"},
    {"CHILD": "A200", "SEX": "F", "DOB": "01/01/2010", "ETHNIC": "WBRI", "UPN": "B123456789012"},
    {"CHILD": "A300", "SEX": "M", "DOB": "01/10/2019", "ETHNIC": "MWBC", "UPN": "C123456789012"},
]
EPISODES_2025 = [
    {
        "CHILD": "A100",
        "DECOM": "01/05/2024",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U4",
        "PLACE_PROVIDER": "PR1",
        "DEC": "01/08/2024",
        "REC": "X1",
        "REASON_PLACE_CHANGE": "CARPL",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 2CD",
    },
    {
        "CHILD": "A100",
        "DECOM": "01/08/2024",
        "RNE": "P",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U4",
        "PLACE_PROVIDER": "PR1",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 3EF",
    },
    {
        "CHILD": "A200",
        "DECOM": "01/01/2022",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N2",
        "PLACE": "U1",
        "PLACE_PROVIDER": "PR1",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 2CD",
    },
    {
        "CHILD": "A300",
        "DECOM": "01/10/2024",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U1",
        "PLACE_PROVIDER": "PR1",
        "DEC": "15/01/2025",
        "REC": "E4A",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 2CD",
    },
]


def write_table(folder: Path, year: int, name: str, rows: list[dict[str, str]]) -> Path:
    """One table as the council would export it: every column of the year, in order."""
    columns = [c.name for c in specs.tables(year)[name]]
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_return(folder: Path, year: int = 2025, **tables: list[dict[str, str]]) -> Path:
    """A folder with the header and episodes above (or the tables given)."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = tables or {"header": HEADER_2025, "episodes": EPISODES_2025}
    for name, rows in chosen.items():
        write_table(folder, year, name, rows)
    return folder


@pytest.fixture
def return_files() -> SimpleNamespace:
    """`.write(folder, year=2025, **tables)` writes a return's CSV files into a folder;
    `.header` and `.episodes` are the rows it writes by default."""
    return SimpleNamespace(write=write_return, header=HEADER_2025, episodes=EPISODES_2025)
