"""The canonical tables of the analytics store: one schema per table, whatever the year.

SSDA903 tables keep the DfE's column names in lower case, with the union of every year's
columns (a column a year does not have is null), typed by the specification: dates as
dates, numbers as integers, everything else as text. The CIN census, a tree in XML, is
flattened into four tables: children, referrals, assessments and child protection plans,
each keyed by the child's pseudonym and the referral date. Sex is stored as M/F/U in every
year (the 903's 1/2 before 2024/25 become M/F).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import pyarrow as pa

from whatworks.returns import specs

SSDA903_TABLES = (
    "header",
    "episodes",
    "reviews",
    "uasc",
    "oc2",
    "oc3",
    "ad1",
    "placed_adoption",
    "prev_perm",
    "missing",
    "social_worker",
)
CIN_TABLES = ("cin_children", "cin_referrals", "cin_assessments", "cin_cp_plans")
TABLES = SSDA903_TABLES + CIN_TABLES
#: Columns every stored table has: the council and the return the row came from.
PROVENANCE = [pa.field("la", pa.string()), pa.field("return_year", pa.int16())]
_KINDS = {"date": pa.date32(), "number": pa.int64()}
_CIN = {
    "cin_children": [
        ("child", pa.string()),
        ("upn", pa.string()),
        ("dob", pa.date32()),
        ("sex", pa.string()),
    ],
    "cin_referrals": [
        ("child", pa.string()),
        ("referral_date", pa.date32()),
        ("closure_date", pa.date32()),
        ("referral_nfa", pa.bool_()),
        ("primary_need", pa.string()),
    ],
    "cin_assessments": [
        ("child", pa.string()),
        ("referral_date", pa.date32()),
        ("assessment_start", pa.date32()),
        ("assessment_authorised", pa.date32()),
    ],
    "cin_cp_plans": [
        ("child", pa.string()),
        ("referral_date", pa.date32()),
        ("plan_start", pa.date32()),
        ("plan_end", pa.date32()),
        ("previous_plans", pa.int64()),
    ],
}
SEX = {"1": "M", "2": "F"}


@lru_cache(maxsize=1)
def schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of every canonical table."""
    columns: dict[str, dict[str, pa.DataType]] = {name: {} for name in SSDA903_TABLES}
    for year in range(specs.FIRST_YEAR, specs.LAST_YEAR + 1):
        for table, spec_columns in specs.tables(year).items():
            for column in spec_columns:
                kind = _KINDS.get(column.kind, pa.string())
                columns[table].setdefault(column.name.lower(), kind)
    result = {
        name: pa.schema([*PROVENANCE, *(pa.field(c, t) for c, t in cols.items())])
        for name, cols in columns.items()
    }
    for name, cin_columns in _CIN.items():
        result[name] = pa.schema([*PROVENANCE, *(pa.field(c, t) for c, t in cin_columns)])
    return result


def empty(name: str) -> pa.Table:
    """A table with the canonical schema and no rows."""
    return schemas()[name].empty_table()


def ssda903_table(name: str, rows: Iterable[dict[str, Any]], la: str, year: int) -> pa.Table:
    """Rows as read by `ssda903.read_table` as a canonical table, built column by column."""
    schema = schemas()[name]
    rows = list(rows)
    columns: dict[str, Any] = {
        "la": pa.array([la] * len(rows), pa.string()),
        "return_year": pa.array([year] * len(rows), schema.field("return_year").type),
    }
    for field in schema:
        if field.name in columns:
            continue
        key = field.name.upper()
        values = [row.get(key) for row in rows]
        if field.name == "sex":
            values = [None if v is None else SEX.get(str(v), v) for v in values]
        columns[field.name] = pa.array(values, field.type)
    return pa.Table.from_arrays(list(columns.values()), schema=schema)


def _nfa(text: str) -> bool | None:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    return None


def cin_tables(children: Iterable[dict[str, Any]], la: str, year: int) -> dict[str, pa.Table]:
    """A CIN census as read by `cin.read_census` as the four canonical tables."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in CIN_TABLES}
    base = {"la": la, "return_year": year}
    for child in children:
        pseudonym = child["child"]
        rows["cin_children"].append(
            {
                **base,
                "child": pseudonym,
                "upn": child.get("upn"),
                "dob": child.get("birth_date"),
                "sex": SEX.get(child.get("sex") or "", child.get("sex") or None),
            }
        )
        for referral in child.get("referrals", []):
            key = {**base, "child": pseudonym, "referral_date": referral["referral_date"]}
            rows["cin_referrals"].append(
                {
                    **key,
                    "closure_date": referral.get("closure_date"),
                    "referral_nfa": _nfa(referral.get("referral_nfa") or ""),
                    "primary_need": referral.get("primary_need") or None,
                }
            )
            for assessment in referral.get("assessments", []):
                rows["cin_assessments"].append(
                    {
                        **key,
                        "assessment_start": assessment.get("start"),
                        "assessment_authorised": assessment.get("authorised"),
                    }
                )
            for plan in referral.get("cp_plans", []):
                given = plan.get("previous_plans")
                previous = "" if given is None else str(given).strip()
                rows["cin_cp_plans"].append(
                    {
                        **key,
                        "plan_start": plan.get("start"),
                        "plan_end": plan.get("end"),
                        "previous_plans": int(previous) if previous.isdigit() else None,
                    }
                )
    return {
        name: pa.Table.from_pylist(records, schema=schemas()[name])
        for name, records in rows.items()
    }
