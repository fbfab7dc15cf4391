"""The pandas baseline of benchmarks/returns.py: the sixteen headline measures of
`whatworks.returns.measures`, written in plain pandas as an analyst would write them.

The same definitions (docs/methods/returns-measures.md), the same stitching of years
(`whatworks.returns.store`: each return authoritative for its own year, rows open at the
start of the next stored year ended there, repeated rows taken from the newer return,
per-child facts from the newest return) and the same conventions (short breaks left out,
new carer = RNE S/P/T, temporary placements not placements, working days without bank
holidays), read from the same canonical Parquet files with `pd.read_parquet` and computed
with groupby, merge and shift. Only the columns the measures need are read.

It deliberately does not import whatworks' measures or store (so no Ibis or DuckDB is
loaded in the baseline's process): the code lists and date helpers are copied here, and
tests/test_benchmark_baseline.py checks they are the same and that the baseline gives
exactly the engine's numerators and denominators on the hand-worked council. Where SQL's
three-valued logic differs from pandas' (a null code is not "not in" a list in SQL), the
SQL meaning is kept, so both give the same numbers on any data.

    measures(store_root, councils, period_end_year) -> {(la, measure): (numerator, denominator)}

covers every council asked for (all councils in the store when None) and every measure,
filled as `measures.compute` fills them: a council with no rows has counts of 0 (and no
denominator) and rates of 0 / 0; a measure not applicable to the year has (None, None).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from whatworks.returns.calendar import FIRST, LAST, bank_holidays

SHORT_BREAKS = ("V3", "V4")
TEMPORARY = ("T0", "T1", "T2", "T3", "T4")
NEW_CARER = ("S", "P", "T")
EET = ("F1", "F2", "F3", "F4", "F5", "P1", "P2", "P3", "P4", "P5")
SUITABLE = tuple(f"{letter}1" for letter in "BCDEGHKRSTUVWXYZ")
SOCIAL_WORKER_FROM = date(2023, 4, 1)

#: Event tables: the columns that identify a row (its start last) and the column of its end.
EVENTS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "episodes": (("child", "decom"), "dec"),
    "missing": (("child", "missing", "mis_start"), "mis_end"),
    "social_worker": (("child", "sw_decom"), "sw_dec"),
    "cin_referrals": (("child", "referral_date"), "closure_date"),
    "cin_assessments": (("child", "referral_date", "assessment_start"), "assessment_authorised"),
    "cin_cp_plans": (("child", "plan_start"), "plan_end"),
}
PER_CHILD = ("header",)
PER_YEAR = ("oc2", "oc3")
#: The columns each measure needs, by table (with `la` and `return_year`, always read).
COLUMNS = {
    "episodes": ["child", "decom", "dec", "rne", "ls", "place", "rec"],
    "header": ["child", "dob"],
    "oc2": ["child", "dob", "sdq_score"],
    "oc3": ["child", "dob", "activ", "accom"],
    "missing": ["child", "missing", "mis_start", "mis_end"],
    "social_worker": ["child", "sw_decom", "sw_dec"],
    "cin_referrals": ["child", "referral_date", "closure_date", "referral_nfa"],
    "cin_assessments": ["child", "referral_date", "assessment_start", "assessment_authorised"],
    "cin_cp_plans": ["child", "plan_start", "plan_end", "previous_plans"],
}
Tables = dict[str, pd.DataFrame]
Found = dict[tuple[str, str], tuple[int | None, int | None]]


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise ValueError(day)


def ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day)


def not_in(column: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    """SQL's `NOT (column IN codes)`: false for a null, as a WHERE clause reads it."""
    return column.notna() & ~column.isin(codes)


# --- reading and stitching ----------------------------------------------------------------


def stored_years(root: Path, councils: list[str] | None) -> dict[str, list[int]]:
    """The imported years of each council (those with a manifest), oldest first."""
    if councils is None:
        councils = (
            sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[0] != ".")
            if root.exists()
            else []
        )
    found = {}
    for la in councils:
        folder = root / la
        found[la] = sorted(
            int(p.name)
            for p in (folder.iterdir() if folder.exists() else ())
            if p.name.isdigit() and (p / "manifest.json").exists()
        )
    return found


def cutoffs(years: dict[str, list[int]]) -> pd.DataFrame:
    """For each stored (council, year), the first day of the next stored year (NaT for the
    newest)."""
    rows = []
    for la, stored in years.items():
        for year, newer in zip(stored, [*stored[1:], None][: len(stored)], strict=True):
            rows.append((la, year, pd.Timestamp(newer - 1, 4, 1) if newer else pd.NaT))
    frame = pd.DataFrame(rows, columns=["la", "return_year", "cutoff"])
    frame["return_year"] = frame["return_year"].astype("int16")
    frame["cutoff"] = frame["cutoff"].astype("datetime64[ms]")
    return frame


def read(root: Path, years: dict[str, list[int]], name: str) -> pd.DataFrame:
    """Every stored year's rows of one table, dates as datetime64."""
    files = [root / la / str(year) / f"{name}.parquet" for la, ys in years.items() for year in ys]
    return pd.read_parquet(
        files,
        columns=["la", "return_year", *COLUMNS[name]],
        to_pandas_kwargs={"date_as_object": False},
    )


def newest_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("return_year", ascending=False, kind="stable")


def stitch(name: str, frame: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """One table's rows from every year as one history (the rule of whatworks' store)."""
    if name in PER_YEAR:
        return frame
    if name in PER_CHILD:
        return newest_first(frame).drop_duplicates(["la", "child"])
    keys, end = EVENTS[name]
    frame = frame.merge(cuts, on=["la", "return_year"])
    frame = frame[frame["cutoff"].isna() | (frame[keys[-1]] < frame["cutoff"])]
    if end is not None:
        overlaps = frame["cutoff"].notna() & (frame[end].isna() | (frame[end] >= frame["cutoff"]))
        frame = frame.assign(**{end: frame[end].mask(overlaps, frame["cutoff"])})
    return newest_first(frame).drop_duplicates(["la", *keys]).drop(columns="cutoff")


def load(root: Path, years: dict[str, list[int]]) -> Tables:
    cuts = cutoffs(years)
    return {name: stitch(name, read(root, years, name), cuts) for name in COLUMNS}


def load_history(root: Path, years: dict[str, list[int]]) -> Tables:
    """The stitched tables whatworks keeps per council (`<la>/history/`), read as they are."""
    councils = [la for la, stored in years.items() if stored]
    return {
        name: pd.read_parquet(
            [root / la / "history" / f"{name}.parquet" for la in councils],
            columns=["la", "return_year", *COLUMNS[name]],
            to_pandas_kwargs={"date_as_object": False},
        )
        for name in COLUMNS
    }


# --- building blocks ----------------------------------------------------------------------


def between(column: pd.Series, start: date, end: date) -> pd.Series:
    return (column >= ts(start)) & (column <= ts(end))


def care(t: Tables) -> pd.DataFrame:
    episodes = t["episodes"]
    return episodes[not_in(episodes["ls"], SHORT_BREAKS)]


def open_on(episodes: pd.DataFrame, day: date) -> pd.DataFrame:
    return episodes[
        (episodes["decom"] <= ts(day)) & (episodes["dec"].isna() | (episodes["dec"] > ts(day)))
    ]


def children_at_end(t: Tables, end: date) -> pd.DataFrame:
    return open_on(care(t), end)[["la", "child"]].drop_duplicates()


def count(rows: pd.DataFrame, distinct: bool = True) -> pd.DataFrame:
    by_la = rows.groupby("la")["child"]
    numerator = by_la.nunique() if distinct else by_la.size()
    return pd.DataFrame({"numerator": numerator, "denominator": np.nan})


def share(rows: pd.DataFrame, condition: pd.Series) -> pd.DataFrame:
    """Per council: rows meeting `condition` over all rows."""
    flagged = condition.fillna(False).astype("int64")
    out = flagged.groupby(rows["la"]).agg(["sum", "size"])
    return out.rename(columns={"sum": "numerator", "size": "denominator"})


def with_previous(rows: pd.DataFrame, order: str, column: str, name: str) -> pd.DataFrame:
    """Rows in (la, child, order) order with `name` the child's previous row's `column`."""
    rows = rows.sort_values(["la", "child", order], kind="stable")
    previous = rows.groupby(["la", "child"], sort=False, dropna=False)[column].shift()
    return rows.assign(**{name: previous})


def new_carer(rows: pd.DataFrame) -> pd.Series:
    """The episode begins a new placement, given `previous_place` (see `_placement_starts`)."""
    previous = rows["previous_place"]
    return rows["rne"].isin(NEW_CARER) & (previous.isna() | ~previous.isin(TEMPORARY))


@lru_cache(maxsize=1)
def working_days() -> pd.Series:
    """Running count of working days (weekdays, not bank holidays) by day."""
    days = pd.date_range(FIRST, LAST, freq="D", unit="ms")
    holidays = pd.DatetimeIndex(sorted(bank_holidays())).as_unit("ms")
    working = (days.day_of_week < 5) & ~days.isin(holidays)
    return pd.Series(np.cumsum(working), index=days)


def date_key(column: pd.Series) -> pd.Series:
    return column.dt.year * 10000 + column.dt.month * 100 + column.dt.day


# --- the measures -------------------------------------------------------------------------
# Each takes the stitched tables and the period (start, end) and gives, per council (the
# index), a numerator and a denominator (NaN where there is none).


def cla_count(t: Tables, start: date, end: date) -> pd.DataFrame:
    return count(open_on(care(t), end))


def cla_started(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = care(t)
    return count(rows[(rows["rne"] == "S") & between(rows["decom"], start, end)])


def cla_ceased(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = care(t)
    ceased = between(rows["dec"], start, end) & rows["rec"].notna() & (rows["rec"] != "X1")
    return count(rows[ceased])


def placements_3_plus(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = care(t)
    rows = rows[(rows["decom"] <= ts(end)) & (rows["dec"].isna() | (rows["dec"] >= ts(start)))]
    rows = with_previous(rows, "decom", "place", "previous_place")
    lasting = rows[not_in(rows["place"], TEMPORARY)]
    first = lasting.groupby(["la", "child"], sort=False, dropna=False).cumcount() == 0
    counted = lasting[first | new_carer(lasting)]
    per_child = counted.groupby(["la", "child"], dropna=False).size().rename("placements")
    children = children_at_end(t, end).merge(
        per_child.reset_index(), on=["la", "child"], how="left"
    )
    return share(children, children["placements"].fillna(0) >= 3)


def long_term_stability(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = care(t)
    rows = rows[rows["decom"] <= ts(end)]
    by_child = ["la", "child"]
    first_seen = rows.groupby(by_child)["decom"].min().rename("first").reset_index()
    care_start = (
        rows[rows["rne"] == "S"].groupby(by_child)["decom"].max().rename("care_start")
    ).reset_index()
    marked = with_previous(rows, "decom", "place", "previous_place")
    starts = marked[not_in(marked["place"], TEMPORARY) & new_carer(marked)]
    placed = starts.groupby(by_child)["decom"].max().rename("placed").reset_index()
    children = (
        children_at_end(t, end)
        .merge(t["header"][["la", "child", "dob"]], on=by_child)
        .merge(first_seen, on=by_child)
        .merge(care_start, on=by_child, how="left")
        .merge(placed, on=by_child, how="left")
    )
    since = children["care_start"].fillna(children["first"])
    placed_on = children["placed"].fillna(children["first"])
    eligible = (children["dob"] > ts(years_before(end, 16))) & (since <= ts(months_before(end, 30)))
    children = children[eligible]
    return share(children, placed_on[eligible] <= ts(years_before(end, 2)))


def referrals(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = t["cin_referrals"]
    return count(rows[between(rows["referral_date"], start, end)], distinct=False)


def rereferrals(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = with_previous(t["cin_referrals"], "referral_date", "referral_date", "previous")
    rows = rows[between(rows["referral_date"], start, end)]
    within = rows["previous"].notna() & (
        date_key(rows["previous"]) >= date_key(rows["referral_date"]) - 10000
    )
    return share(rows, within)


def cin_at_end(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = t["cin_referrals"]
    nfa = rows["referral_nfa"].astype("boolean").fillna(False)
    open_ = (
        (rows["referral_date"] <= ts(end))
        & (rows["closure_date"].isna() | (rows["closure_date"] > ts(end)))
        & ~nfa
    )
    return count(rows[open_])


def cpp_at_end(t: Tables, start: date, end: date) -> pd.DataFrame:
    plans = t["cin_cp_plans"]
    open_ = (plans["plan_start"] <= ts(end)) & (
        plans["plan_end"].isna() | (plans["plan_end"] > ts(end))
    )
    return count(plans[open_])


def cpp_subsequent(t: Tables, start: date, end: date) -> pd.DataFrame:
    plans = with_previous(t["cin_cp_plans"], "plan_start", "plan_start", "previous")
    plans = plans[between(plans["plan_start"], start, end)]
    return share(plans, plans["previous"].notna() | (plans["previous_plans"].fillna(0) > 0))


def assessments_45_days(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = t["cin_assessments"]
    rows = rows[
        between(rows["assessment_authorised"], start, end) & rows["assessment_start"].notna()
    ]
    counts = working_days()
    taken = rows["assessment_authorised"].map(counts) - rows["assessment_start"].map(counts)
    known = taken.notna()  # both days in the calendar (the engine joins on it)
    return share(rows[known], taken[known] <= 45)


def care_leavers(t: Tables, end: date, year: int) -> pd.DataFrame:
    rows = t["oc3"]
    return rows[
        (rows["return_year"] == year)
        & (rows["dob"] > ts(years_before(end, 22)))
        & (rows["dob"] <= ts(years_before(end, 19)))
    ]


def care_leavers_eet(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = care_leavers(t, end, end.year)
    return share(rows, rows["activ"].isin(EET))


def care_leavers_suitable(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = care_leavers(t, end, end.year)
    return share(rows, rows["accom"].isin(SUITABLE))


def sdq_average(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = t["oc2"]
    rows = rows[
        (rows["return_year"] == end.year)
        & rows["sdq_score"].notna()
        & (rows["dob"] > ts(years_before(end, 17)))
        & (rows["dob"] <= ts(years_before(end, 5)))
    ]
    out = rows.groupby("la")["sdq_score"].agg(["sum", "size"])
    return out.rename(columns={"sum": "numerator", "size": "denominator"})


def missing_incidents(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = t["missing"]
    rows = rows[(rows["missing"] == "M") & between(rows["mis_start"], start, end)]
    out = rows.groupby("la")["child"].agg(["size", "nunique"])
    return out.rename(columns={"size": "numerator", "nunique": "denominator"})


def social_worker_changes(t: Tables, start: date, end: date) -> pd.DataFrame:
    rows = with_previous(t["social_worker"], "sw_decom", "sw_decom", "previous")
    changes = rows[between(rows["sw_decom"], start, end) & rows["previous"].notna()]
    per_child = changes.groupby(["la", "child"], dropna=False).size().rename("changes")
    children = children_at_end(t, end).merge(
        per_child.reset_index(), on=["la", "child"], how="left"
    )
    out = children.assign(changes=children["changes"].fillna(0)).groupby("la")
    return (
        out["changes"]
        .agg(["sum", "size"])
        .rename(columns={"sum": "numerator", "size": "denominator"})
    )


Compute = Callable[[Tables, date, date], pd.DataFrame]
#: (id, whether it is a count (no denominator), how to compute it), in the engine's order
MEASURES: tuple[tuple[str, bool, Compute], ...] = (
    ("cla_count", True, cla_count),
    ("cla_started", True, cla_started),
    ("cla_ceased", True, cla_ceased),
    ("placements_3_plus_percent", False, placements_3_plus),
    ("long_term_stability_percent", False, long_term_stability),
    ("cin_at_end", True, cin_at_end),
    ("referrals", True, referrals),
    ("rereferral_percent", False, rereferrals),
    ("cpp_at_end", True, cpp_at_end),
    ("cpp_subsequent_percent", False, cpp_subsequent),
    ("assessments_45_days_percent", False, assessments_45_days),
    ("care_leavers_eet_19_21_percent", False, care_leavers_eet),
    ("care_leavers_suitable_19_21_percent", False, care_leavers_suitable),
    ("sdq_average_score", False, sdq_average),
    ("missing_incidents_per_child", False, missing_incidents),
    ("social_worker_changes_per_child", False, social_worker_changes),
)


def _whole(value: float) -> int | None:
    return None if pd.isna(value) else int(value)


def measures(
    store_root: Path, councils: list[str] | None, period_end_year: int, source: str = "years"
) -> Found:
    """Every measure for every council for the year to 31 March `period_end_year`, from the
    stored years stitched here (`source` "years", the baseline's own stitching) or from the
    stitched histories whatworks keeps ("history")."""
    start, end = date(period_end_year - 1, 4, 1), date(period_end_year, 3, 31)
    years = stored_years(store_root, councils)
    found: Found = {}
    loader = load_history if source == "history" else load
    tables = loader(store_root, years) if any(years.values()) else None
    for measure_id, counted, compute in MEASURES:
        if measure_id == "social_worker_changes_per_child" and start < SOCIAL_WORKER_FROM:
            for la in years:
                found[(la, measure_id)] = (None, None)
            continue
        per_la = compute(tables, start, end).to_dict("index") if tables is not None else {}
        for la in years:
            if la in per_la:
                row = per_la[la]
                found[(la, measure_id)] = (_whole(row["numerator"]), _whole(row["denominator"]))
            else:
                found[(la, measure_id)] = (0, None if counted else 0)
    return found


# --- importing a year's return ------------------------------------------------------------
# The baseline of the import benchmark: each SSDA903 CSV read with `pd.read_csv` (every cell
# as text) and checked column by column, vectorised, against the year's specification (the
# same checks as `whatworks.returns.ssda903.read_table`: the header, missing and extra
# columns, a child twice in the header table, blanks, dates, codes, whole numbers in range,
# postcodes; a row with too many values stops the file, but one with too few is padded
# with blanks by pandas and not told apart), identifiers pseudonymised with the same keyed
# HMAC, and the CIN census parsed with lxml, validated against the year's XSD and flattened
# into four frames; nothing is written unless no file has a problem, then one Parquet file
# per table. No DfE rules (`rules.validate`), no file hashes, no manifest.

POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
IDENTIFIERS = {
    "CHILD": "child",
    "UPN": "upn",
    "HOME_POST": "postcode",
    "PL_POST": "postcode",
    "SW_ID": "social worker",
}
SEX = {"1": "M", "2": "F"}


def pseudonymise(values: pd.Series, kind: str, key: bytes) -> pd.Series:
    """Each distinct identifier hashed once (keyed HMAC-SHA256, as whatworks does)."""
    from whatworks.returns.pseudonymise import pseudonym

    mapping = {value: pseudonym(key, kind, str(value)) for value in values.dropna().unique()}
    return values.map(mapping)


def _problems(rows: pd.Series, children: pd.Series, field: str, message: str) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "child": children, "field": field, "message": message})


def read_csv_table(
    path: Path, year: int, key: bytes
) -> tuple[str | None, pd.DataFrame, list[pd.DataFrame]]:
    """One SSDA903 table: (its name, its typed rows, its problems)."""
    from whatworks.returns import specs

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as error:  # e.g. too many values
        whole = _problems(pd.Series([None]), pd.Series([""]), "", str(error))
        return None, pd.DataFrame(), [whole]
    frame.columns = frame.columns.str.strip().str.upper()
    name = specs.identify(year, list(frame.columns))
    if name is None:
        whole = _problems(pd.Series([1]), pd.Series([""]), "", "not an SSDA903 table")
        return None, frame, [whole]
    columns = {c.name: c for c in specs.tables(year)[name]}
    found = [
        _problems(pd.Series([1]), pd.Series([""]), column, "column is missing")
        for column in columns
        if column not in frame.columns
    ]
    found += [
        _problems(pd.Series([1]), pd.Series([""]), column, "column is not in the specification")
        for column in frame.columns
        if column not in columns
    ]
    frame = frame.apply(lambda column: column.str.strip())
    frame = frame[(frame != "").any(axis=1)]
    line = pd.Series(frame.index + 2, index=frame.index)
    child = frame["CHILD"] if "CHILD" in frame else pd.Series("", index=frame.index)
    if name == "header":
        twice = (child != "") & child.duplicated()
        if twice.any():
            found.append(_problems(line[twice], child[twice], "CHILD", "child appears twice"))
    typed: dict[str, pd.Series] = {}
    for column_name, column in columns.items():
        if column_name not in frame:
            typed[column_name.lower()] = pd.Series(None, index=frame.index, dtype=object)
            continue
        cells = frame[column_name]
        blank = cells == ""
        if not column.blank_allowed and blank.any():
            found.append(
                _problems(line[blank], child[blank], column_name, f"{column_name} is blank")
            )
        if column.kind == "date":
            value = pd.to_datetime(cells.mask(blank), format="%d/%m/%Y", errors="coerce")
            bad = ~blank & value.isna()
        elif column.kind == "code":
            value = cells.replace(dict(column.aliases)) if column.aliases else cells
            bad = ~blank & ~value.isin(column.codes)
        elif column.kind == "number":
            whole = cells.str.fullmatch(r"\s*[+-]?\d+\s*")
            value = pd.to_numeric(cells.where(whole), errors="coerce").astype("Int64")
            bad = ~blank & value.isna()
            if column.minimum is not None:
                bad |= value.lt(column.minimum).fillna(False)
            if column.maximum is not None:
                bad |= value.gt(column.maximum).fillna(False)
        elif column.kind == "postcode":
            value = cells
            bad = ~blank & ~cells.str.match(POSTCODE, case=False)
        else:
            value, bad = cells, blank & False
        if bad.any():
            found.append(_problems(line[bad], child[bad], column_name, f"{column_name} invalid"))
        value = value.mask(blank | bad)
        if column_name in IDENTIFIERS:
            value = pseudonymise(value, IDENTIFIERS[column_name], key)
        if column_name == "SEX":
            value = value.replace(SEX)
        typed[column_name.lower()] = value
    return name, pd.DataFrame(typed), [p for p in found if len(p)]


def read_cin_census(path: Path, year: int, key: bytes) -> tuple[dict[str, pd.DataFrame], int]:
    """The census's four tables (children, referrals, assessments, plans) and the number of
    schema problems."""
    from lxml import etree

    from whatworks.returns.cin import schema

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.fromstring(path.read_bytes(), parser=parser)
    validator = schema(year)
    problems = 0 if validator.validate(document) else len(validator.error_log)
    children, referrals, assessments, plans = [], [], [], []
    for element in document.iterfind("Children/Child"):
        ids = element.find("ChildIdentifiers")
        if ids is None:
            continue
        child = ids.findtext("LAchildID")
        children.append(
            (child, ids.findtext("UPN"), ids.findtext("PersonBirthDate"), ids.findtext("Sex"))
        )
        for details in element.iterfind("CINdetails"):
            referral = details.findtext("CINreferralDate")
            referrals.append(
                (
                    child,
                    referral,
                    details.findtext("CINclosureDate"),
                    details.findtext("ReferralNFA"),
                    details.findtext("PrimaryNeedCode"),
                )
            )
            for a in details.iterfind("Assessments"):
                assessments.append(
                    (
                        child,
                        referral,
                        a.findtext("AssessmentActualStartDate"),
                        a.findtext("AssessmentAuthorisationDate"),
                    )
                )
            for p in details.iterfind("ChildProtectionPlans"):
                plans.append(
                    (
                        child,
                        referral,
                        p.findtext("CPPstartDate"),
                        p.findtext("CPPendDate"),
                        p.findtext("NumberOfPreviousCPP"),
                    )
                )
    frames = {
        "cin_children": pd.DataFrame(children, columns=["child", "upn", "dob", "sex"]),
        "cin_referrals": pd.DataFrame(
            referrals,
            columns=["child", "referral_date", "closure_date", "referral_nfa", "primary_need"],
        ),
        "cin_assessments": pd.DataFrame(
            assessments,
            columns=["child", "referral_date", "assessment_start", "assessment_authorised"],
        ),
        "cin_cp_plans": pd.DataFrame(
            plans, columns=["child", "referral_date", "plan_start", "plan_end", "previous_plans"]
        ),
    }
    for frame in frames.values():
        for column in frame.columns:
            if column in ("dob",) or column.endswith(("_date", "_start", "_end", "_authorised")):
                frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
        frame["child"] = pseudonymise(frame["child"], "child", key)
    children_frame = frames["cin_children"]
    children_frame["upn"] = pseudonymise(children_frame["upn"].replace("", None), "upn", key)
    children_frame["sex"] = children_frame["sex"].replace(SEX)
    referrals_frame = frames["cin_referrals"]
    nfa = referrals_frame["referral_nfa"].str.lower()
    referrals_frame["referral_nfa"] = nfa.map({"true": True, "1": True, "false": False, "0": False})
    plans_frame = frames["cin_cp_plans"]
    plans_frame["previous_plans"] = pd.to_numeric(
        plans_frame["previous_plans"], errors="coerce"
    ).astype("Int64")
    return frames, problems


def import_return(folder: Path, year: int, key: bytes, la: str, out: Path) -> dict[str, int]:
    """Read and check every file of one council's year, then (when no file has a problem)
    write one Parquet file per table to `out/<la>/<year>/`. Returns what it counted."""
    tables: dict[str, pd.DataFrame] = {}
    problems = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() == ".xml":
            census, schema_problems = read_cin_census(path, year, key)
            tables.update(census)
            problems += schema_problems
            continue
        name, frame, found = read_csv_table(path, year, key)
        problems += sum(len(p) for p in found)
        if name is not None:
            tables[name] = frame
    if problems == 0:
        target = out / la / str(year)
        target.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            frame.insert(0, "la", la)
            frame.insert(1, "return_year", year)
            frame["return_year"] = frame["return_year"].astype("int16")
            frame.to_parquet(target / f"{name}.parquet", index=False)
    return {"rows": sum(len(f) for f in tables.values()), "problems": problems}
