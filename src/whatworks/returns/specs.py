"""SSDA903 table specifications by collection year: the 2017 base and each year's changes.

The specifications in `specs/` are Social Finance's (liia-tools-pipeline, MIT licence),
describing the DfE's SSDA903 return: for each table its columns, and for each column its
type (text, date dd/mm/yyyy, number, postcode or a code list) and whether it may be blank.
A year's diff file replaces or adds parts of the map, named by a dotted path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from whatworks.core.errors import WhatworksError

FIRST_YEAR, LAST_YEAR = 2017, 2026
BASE = "liia-pipeline_SSDA903_schema_2017.yml"
DIFF_YEARS = (2019, 2022, 2024, 2025, 2026)
#: The spec names some tables differently from the DfE's own words.
TABLE_NAMES = {"social_worker": "social worker episodes"}


@dataclass(frozen=True)
class Column:
    """One column of a table: its kind ("text", "date", "number", "postcode", "code"),
    whether it may be blank, and its codes or numeric range."""

    name: str
    kind: str
    blank_allowed: bool
    codes: frozenset[str] = frozenset()
    aliases: tuple[tuple[str, str], ...] = ()  # (old value, code) e.g. ("1", "M")
    minimum: float | None = None
    maximum: float | None = None


def _read(name: str) -> dict[str, Any]:
    text = files("whatworks.returns").joinpath("specs", name).read_text(encoding="utf-8")
    # libyaml's loader where it is built in: the same result, several times faster
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: dict[str, Any] = yaml.load(text, Loader=loader)
    return loaded


def _column(name: str, spec: dict[str, Any]) -> Column:
    blank = spec.get("canbeblank") in (True, "yes")
    if "date" in spec:
        return Column(name, "date", blank)
    if "category" in spec:
        codes, aliases = set(), []
        for entry in spec["category"]:
            code = str(entry["code"])
            codes.add(code)
            names = entry.get("name")
            for alias in names if isinstance(names, list) else []:
                if str(alias).isdigit():
                    aliases.append((str(alias), code))
        return Column(name, "code", blank, frozenset(codes), tuple(aliases))
    if "numeric" in spec:
        numeric = spec["numeric"] or {}
        return Column(
            name,
            "number",
            blank,
            minimum=numeric.get("min_value"),
            maximum=numeric.get("max_value"),
        )
    if spec.get("string") == "postcode":
        return Column(name, "postcode", blank)
    return Column(name, "text", blank)


@lru_cache(maxsize=16)
def tables(year: int) -> dict[str, tuple[Column, ...]]:
    """Every SSDA903 table of the collection year ending 31 March `year`, by name."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WhatworksError(
            f"There is no SSDA903 specification for {year}; years {FIRST_YEAR} to {LAST_YEAR} "
            "are known."
        )
    column_map = copy.deepcopy(_read(BASE)["column_map"])
    for diff_year in DIFF_YEARS:
        if diff_year > year:
            break
        for path, change in _read(f"liia-pipeline_SSDA903_schema_{diff_year}.diff.yml").items():
            keys = path.split(".")[1:]  # drop "column_map"
            target = column_map
            for key in keys[:-1]:
                target = target[key]
            target[keys[-1]] = change["value"]
    return {
        table: tuple(_column(name, spec) for name, spec in columns.items())
        for table, columns in column_map.items()
    }


def identify(year: int, header: list[str]) -> str | None:
    """The table whose columns are exactly these, or failing that the one that shares most."""
    wanted = {h.strip().upper() for h in header}
    best, best_shared = None, 0
    for table, columns in tables(year).items():
        names = {c.name for c in columns}
        if names == wanted:
            return table
        shared = len(names & wanted)
        if shared > best_shared and shared >= len(names) - 2 and shared > 2:
            best, best_shared = table, shared
    return best
