"""Headline measures computed from councils' own child-level returns.

Each measure is defined once, as an Ibis expression over the stitched canonical tables
(`store.ReturnsStore.stitched`), and runs unchanged on DuckDB or Spark. Every measure gives,
per council, a whole-number numerator and (for rates and averages) denominator; the value
is worked out from those in Python, so both engines give identical figures to the digit.
All the measures of a request are one query: their expressions are unioned and run once.

The definitions, their conventions and the choices where the DfE's own are not published
are in docs/methods/returns-measures.md; the notes below say the same in brief.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis

from whatworks.core.analytics import connect
from whatworks.returns import calendar
from whatworks.returns.store import ReturnsStore

Tables = dict[str, Any]
#: Legal statuses of short breaks (respite): not counted as looked after in any measure.
SHORT_BREAKS = ("V3", "V4")
#: Temporary placements (holidays, hospital, short absences): not counted as placements.
TEMPORARY = ("T0", "T1", "T2", "T3", "T4")
#: Reasons for a new episode that mean a new carer: a new placement for stability measures.
#: L (legal status only), B and U (placement changed but the carer stayed) are not moves.
NEW_CARER = ("S", "P", "T")
#: Activities of care leavers counted as education, employment or training.
EET = ("F1", "F2", "F3", "F4", "F5", "P1", "P2", "P3", "P4", "P5")
#: Accommodation judged suitable (codes ending in 1; ending in 2 is unsuitable).
SUITABLE = tuple(f"{letter}1" for letter in "BCDEGHKRSTUVWXYZ")
#: Social worker episodes are collected from the 2023 to 2024 return.
SOCIAL_WORKER_FROM = date(2023, 4, 1)


@dataclass(frozen=True)
class Period:
    """The year to 31 March, or the twelve months up to an "as at" date (in-year)."""

    start: date
    end: date
    kind: str  # "year" or "as at"

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year - 1, 4, 1), date(year, 3, 31), "year")

    @classmethod
    def as_at(cls, day: date) -> Period:
        return cls(years_before(day, 1) + timedelta(days=1), day, "as at")

    @property
    def return_year(self) -> int:
        """The collection year the period ends in."""
        return self.end.year + (1 if self.end >= date(self.end.year, 4, 1) else 0)

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"year to 31 March {self.end.year}"
        return f"12 months to {self.end:%-d %B %Y}"

    @property
    def period(self) -> str:
        """The key the outcomes store uses: "2025" for a year, an ISO date for "as at"."""
        return str(self.end.year) if self.kind == "year" else self.end.isoformat()


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (28 February for 29 February in a non-leap year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, or the last day of that month."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise ValueError(day)


# --- building blocks ----------------------------------------------------------------------


def _day(value: date) -> Any:
    return ibis.literal(value, type="date")


def _date_key(column: Any) -> Any:
    """A date as yyyymmdd, so "a year earlier" is minus 10000 on every engine."""
    return column.year() * 10000 + column.month() * 100 + column.day()


def _care(t: Tables) -> Any:
    episodes = t["episodes"]
    return episodes.filter(~episodes.ls.isin(SHORT_BREAKS))


def _open_on(episodes: Any, day: date) -> Any:
    return episodes.filter(
        (episodes.decom <= _day(day)) & (episodes.dec.isnull() | (episodes.dec > _day(day)))
    )


def _in(column: Any, period: Period) -> Any:
    return column.between(_day(period.start), _day(period.end))


def _children_at_end(t: Tables, period: Period) -> Any:
    return _open_on(_care(t), period.end).select("la", "child").distinct()


def _count(rows: Any, distinct_children: bool = True) -> Any:
    numerator = rows.child.nunique() if distinct_children else rows.count()
    return rows.group_by("la").agg(numerator=numerator, denominator=ibis.null("int64"))


def _share(rows: Any, condition: Any) -> Any:
    """Per council: rows meeting `condition` over all rows."""
    flagged = rows.mutate(_yes=ibis.ifelse(condition, 1, 0))
    return flagged.group_by("la").agg(numerator=flagged._yes.sum(), denominator=flagged.count())


def _placement_starts(episodes: Any) -> Any:
    """Episodes that begin a new placement: a new carer, not a temporary placement, and not
    the return from a temporary placement."""
    ordered = ibis.window(group_by=["la", "child"], order_by="decom")
    with_previous = episodes.mutate(_previous_place=episodes.place.lag().over(ordered))
    return with_previous.filter(
        ~with_previous.place.isin(TEMPORARY)
        & with_previous.rne.isin(NEW_CARER)
        & (with_previous._previous_place.isnull() | ~with_previous._previous_place.isin(TEMPORARY))
    )


# --- the measures -------------------------------------------------------------------------


def cla_count(t: Tables, p: Period) -> Any:
    return _count(_open_on(_care(t), p.end))


def cla_started(t: Tables, p: Period) -> Any:
    care = _care(t)
    return _count(care.filter((care.rne == "S") & _in(care.decom, p)))


def cla_ceased(t: Tables, p: Period) -> Any:
    care = _care(t)
    return _count(care.filter(_in(care.dec, p) & care.rec.notnull() & (care.rec != "X1")))


def placements_3_plus(t: Tables, p: Period) -> Any:
    """Children looked after at the end with three or more placements in the period: the
    placement they were in at the start (or their first in the period) plus each new one."""
    care = _care(t)
    overlapping = care.filter(
        (care.decom <= _day(p.end)) & (care.dec.isnull() | (care.dec >= _day(p.start)))
    )
    ordered = ibis.window(group_by=["la", "child"], order_by="decom")
    marked = overlapping.mutate(_previous_place=overlapping.place.lag().over(ordered))
    lasting = marked.filter(~marked.place.isin(TEMPORARY))
    lasting = lasting.mutate(_n=ibis.row_number().over(ordered))
    counted = lasting.filter(
        (lasting._n == 0)
        | (
            lasting.rne.isin(NEW_CARER)
            & (lasting._previous_place.isnull() | ~lasting._previous_place.isin(TEMPORARY))
        )
    )
    per_child = counted.group_by(["la", "child"]).agg(_placements=counted.count())
    children = _children_at_end(t, p)
    joined = children.left_join(per_child, ["la", "child"]).select(
        "la", "child", _placements=ibis.coalesce(ibis._["_placements"], 0)
    )
    return _share(joined, joined._placements >= 3)


def long_term_stability(t: Tables, p: Period) -> Any:
    """Children under 16 at the end, looked after for 2.5 years or more, who have lived in
    the same placement for at least 2 years."""
    care = _care(t).filter(ibis._.decom <= _day(p.end))
    by_child = care.group_by(["la", "child"])
    first_seen = by_child.agg(_first=care.decom.min())
    care_start = (
        care.filter(care.rne == "S").group_by(["la", "child"]).agg(_care_start=ibis._.decom.max())
    )
    starts = _placement_starts(care)
    placement_start = starts.group_by(["la", "child"]).agg(_placed=starts.decom.max())
    header = t["header"].select("la", "child", "dob")
    children = (
        _children_at_end(t, p)
        .join(header, ["la", "child"])
        .join(first_seen, ["la", "child"])
        .left_join(care_start, ["la", "child"])
        .left_join(placement_start, ["la", "child"])
    )
    children = children.select(
        "la",
        "child",
        "dob",
        _since=ibis.coalesce(children._care_start, children._first),
        _placed=ibis.coalesce(children._placed, children._first),
    )
    eligible = children.filter(
        (children.dob > _day(years_before(p.end, 16)))
        & (children._since <= _day(months_before(p.end, 30)))
    )
    return _share(eligible, eligible._placed <= _day(years_before(p.end, 2)))


def referrals(t: Tables, p: Period) -> Any:
    rows = t["cin_referrals"]
    return _count(rows.filter(_in(rows.referral_date, p)), distinct_children=False)


def rereferrals(t: Tables, p: Period) -> Any:
    """Referrals in the period within 12 months of the child's previous referral. Only
    referrals from a year before the period can be that previous one: the window is
    computed over those (an older previous referral is not within 12 months either way)."""
    rows = t["cin_referrals"]
    earliest = years_before(p.start, 1) - timedelta(days=1)
    rows = rows.filter(rows.referral_date.between(_day(earliest), _day(p.end)))
    ordered = ibis.window(group_by=["la", "child"], order_by="referral_date")
    rows = rows.mutate(_previous=rows.referral_date.lag().over(ordered))
    in_period = rows.filter(_in(rows.referral_date, p))
    within = in_period._previous.notnull() & (
        _date_key(in_period._previous) >= _date_key(in_period.referral_date) - 10000
    )
    return _share(in_period, within)


def cin_at_end(t: Tables, p: Period) -> Any:
    """Children with a referral open at the end that was not closed with no further action."""
    rows = t["cin_referrals"]
    open_ = rows.filter(
        (rows.referral_date <= _day(p.end))
        & (rows.closure_date.isnull() | (rows.closure_date > _day(p.end)))
        & (rows.referral_nfa.isnull() | ~rows.referral_nfa)
    )
    return _count(open_)


def cpp_at_end(t: Tables, p: Period) -> Any:
    plans = t["cin_cp_plans"]
    return _count(
        plans.filter(
            (plans.plan_start <= _day(p.end))
            & (plans.plan_end.isnull() | (plans.plan_end > _day(p.end)))
        )
    )


def cpp_subsequent(t: Tables, p: Period) -> Any:
    """Plans starting in the period that are a second or subsequent plan: the census says
    so (NumberOfPreviousCPP above 0), or the child has an earlier plan in the history."""
    plans = t["cin_cp_plans"]
    first = plans.group_by(["la", "child"]).agg(_first=plans.plan_start.min())
    starting = plans.filter(_in(plans.plan_start, p)).join(first, ["la", "child"])
    return _share(
        starting,
        (starting.plan_start > starting._first) | (ibis.coalesce(starting.previous_plans, 0) > 0),
    )


def assessments_45_days(t: Tables, p: Period) -> Any:
    """Assessments authorised in the period within 45 working days of their start."""
    rows = t["cin_assessments"]
    rows = rows.filter(_in(rows.assessment_authorised, p) & rows.assessment_start.notnull())
    days = ibis.memtable(calendar.table())
    started = days.rename(assessment_start="day", _start_count="working")
    authorised = days.rename(assessment_authorised="day", _end_count="working")
    timed = rows.join(started, "assessment_start").join(authorised, "assessment_authorised")
    return _share(timed, (timed._end_count - timed._start_count) <= 45)


def _care_leavers(t: Tables, p: Period) -> Any:
    """OC3 rows of the period's return for care leavers aged 19, 20 or 21 at its end (whose
    19th, 20th or 21st birthday fell in the year)."""
    rows = t["oc3"]
    return rows.filter(
        (rows.return_year == p.return_year)
        & (rows.dob > _day(years_before(p.end, 22)))
        & (rows.dob <= _day(years_before(p.end, 19)))
    )


def care_leavers_eet(t: Tables, p: Period) -> Any:
    rows = _care_leavers(t, p)
    return _share(rows, rows.activ.isin(EET))


def care_leavers_suitable(t: Tables, p: Period) -> Any:
    rows = _care_leavers(t, p)
    return _share(rows, rows.accom.isin(SUITABLE))


def sdq_average(t: Tables, p: Period) -> Any:
    """Average SDQ score of children aged 5 to 16 at the end in the period's OC2 return."""
    rows = t["oc2"]
    rows = rows.filter(
        (rows.return_year == p.return_year)
        & rows.sdq_score.notnull()
        & (rows.dob > _day(years_before(p.end, 17)))
        & (rows.dob <= _day(years_before(p.end, 5)))
    )
    return rows.group_by("la").agg(numerator=rows.sdq_score.sum(), denominator=rows.count())


def missing_incidents(t: Tables, p: Period) -> Any:
    """Missing incidents (not "away") starting in the period per child who went missing."""
    rows = t["missing"]
    rows = rows.filter((rows.missing == "M") & _in(rows.mis_start, p))
    return rows.group_by("la").agg(numerator=rows.count(), denominator=rows.child.nunique())


def social_worker_changes(t: Tables, p: Period) -> Any:
    """Changes of social worker in the period per child looked after at its end: each
    social worker episode starting in the period that follows an earlier one."""
    rows = t["social_worker"]
    first = rows.group_by(["la", "child"]).agg(_first=rows.sw_decom.min())
    starting = rows.filter(_in(rows.sw_decom, p)).join(first, ["la", "child"])
    changes = starting.filter(starting.sw_decom > starting._first)
    per_child = changes.group_by(["la", "child"]).agg(_changes=changes.count())
    children = _children_at_end(t, p).left_join(per_child, ["la", "child"])
    children = children.select("la", _changes=ibis.coalesce(children._changes, 0))
    return children.group_by("la").agg(
        numerator=children._changes.sum(), denominator=children.count()
    )


@dataclass(frozen=True)
class Measure:
    """A headline measure: how to compute it and how to show it."""

    id: str
    title: str
    unit: str  # "children", "referrals", "%", "score", "per child"
    compute: Callable[[Tables, Period], Any]
    #: The outcomes catalogue indicator it reconciles with, where there is one.
    indicator: str | None = None
    #: Per-year only: built from OC2/OC3, collected once a year.
    annual: bool = False
    available_from: date | None = None
    notes: tuple[str, ...] = field(default=())

    def value(self, numerator: int | None, denominator: int | None) -> float | None:
        if numerator is None:
            return None
        if self.unit in ("children", "referrals"):
            return float(numerator)
        if not denominator:
            return None
        if self.unit == "%":
            return round(100 * numerator / denominator, 1)
        return round(numerator / denominator, 1 if self.unit == "score" else 2)


MEASURES: tuple[Measure, ...] = (
    Measure("cla_count", "Children looked after at the end of the period", "children",
            cla_count, "cla_count"),
    Measure("cla_started", "Children who started to be looked after", "children",
            cla_started, "cla_started"),
    Measure("cla_ceased", "Children who ceased to be looked after", "children", cla_ceased),
    Measure("placements_3_plus_percent",
            "Children looked after with 3 or more placements in the period", "%",
            placements_3_plus, "placements_3_plus_percent"),
    Measure("long_term_stability_percent",
            "Children under 16 looked after 2.5 years or more, in the same placement 2 years",
            "%", long_term_stability, "long_term_stability_percent"),
    Measure("cin_at_end", "Children in need at the end of the period", "children",
            cin_at_end, "cin_at_31_march"),
    Measure("referrals", "Referrals in the period", "referrals", referrals, "referrals"),
    Measure("rereferral_percent", "Referrals within 12 months of a previous referral", "%",
            rereferrals, "rereferral_percent"),
    Measure("cpp_at_end", "Children on a child protection plan at the end of the period",
            "children", cpp_at_end, "cpp_at_31_march"),
    Measure("cpp_subsequent_percent",
            "Child protection plans that are a second or subsequent plan", "%",
            cpp_subsequent, "cpp_subsequent_percent"),
    Measure("assessments_45_days_percent",
            "Assessments completed within 45 working days", "%", assessments_45_days),
    Measure("care_leavers_eet_19_21_percent",
            "Care leavers aged 19 to 21 in education, employment or training", "%",
            care_leavers_eet, "care_leavers_eet_19_21_percent", annual=True),
    Measure("care_leavers_suitable_19_21_percent",
            "Care leavers aged 19 to 21 in suitable accommodation", "%",
            care_leavers_suitable, "care_leavers_suitable_19_21_percent", annual=True),
    Measure("sdq_average_score", "Average SDQ score (aged 5 to 16, looked after 12 months+)",
            "score", sdq_average, "sdq_average_score", annual=True),
    Measure("missing_incidents_per_child",
            "Missing incidents per child looked after who went missing", "per child",
            missing_incidents),
    Measure("social_worker_changes_per_child",
            "Changes of social worker per child looked after", "per child",
            social_worker_changes, available_from=SOCIAL_WORKER_FROM),
)  # fmt: skip
BY_ID = {measure.id: measure for measure in MEASURES}


@dataclass(frozen=True)
class Result:
    """One measure for one council and period."""

    la: str
    measure: Measure
    period: Period
    numerator: int | None
    denominator: int | None
    value: float | None
    status: str  # "value"; "x" not available; "z" not applicable

    def as_dict(self) -> dict[str, Any]:
        return {
            "la": self.la,
            "measure": self.measure.id,
            "title": self.measure.title,
            "unit": self.measure.unit,
            "period": self.period.period,
            "period_label": self.period.label,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "status": self.status,
        }


def applicable(measure: Measure, period: Period) -> bool:
    if measure.annual and period.kind != "year":
        return False
    return measure.available_from is None or period.start >= measure.available_from


def expression(tables: Tables, period: Period, chosen: Sequence[Measure] = MEASURES) -> Any:
    """One Ibis expression giving (la, measure, numerator, denominator) for every measure."""
    parts = []
    for measure in chosen:
        part = measure.compute(tables, period)
        parts.append(
            part.select(
                "la",
                measure=ibis.literal(measure.id),
                numerator=part.numerator.cast("int64"),
                denominator=part.denominator.cast("int64"),
            )
        )
    return ibis.union(*parts)


def compute(
    store: ReturnsStore,
    councils: Sequence[str],
    period: Period,
    engine: str = "duckdb",
    chosen: Sequence[Measure] = MEASURES,
    backend: Any = None,
) -> list[Result]:
    """Every chosen measure for each council over `period`, on `engine`."""
    wanted = [m for m in chosen if applicable(m, period)]
    found: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    if wanted and councils:
        con = backend if backend is not None else connect(engine)
        tables = store.stitched(con, list(councils))
        frame = con.execute(expression(tables, period, wanted))
        for la, measure_id, numerator, denominator in frame.itertuples(index=False):
            found[(la, measure_id)] = (_whole(numerator), _whole(denominator))
    results = []
    for la in councils:
        for measure in chosen:
            if not applicable(measure, period):
                results.append(Result(la, measure, period, None, None, None, "z"))
                continue
            counted = measure.unit in ("children", "referrals")
            numerator, denominator = found.get((la, measure.id), (0, None if counted else 0))
            value = measure.value(numerator, denominator)
            status = "value" if value is not None else "x"
            results.append(Result(la, measure, period, numerator, denominator, value, status))
    return results


def _whole(value: Any) -> int | None:
    try:
        return None if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return None
