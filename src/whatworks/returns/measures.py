"""Headline measures computed from councils' own child-level returns.

Each measure is defined once, as an Ibis expression, and runs unchanged on DuckDB or Spark.
Every measure gives, per council, a whole-number numerator and (for rates and averages)
denominator; the value is worked out from those in Python, so both engines give identical
figures to the digit. All the measures of a request are one query: their expressions are
unioned and run once, and measures that read the same rows share one pass over them (the
episodes of the period; the counts by day; the counts by date of birth).

**Facts.** The measures read the facts kept with each council's stitched history
(`<la>/history/facts/`, worked out by `facts` whenever the history is rebuilt on import;
`store.ReturnsStore`): what they need of the history that does not depend on the period,
such as the placement each episode begins, the child's last episode begun by a day, the
re-referrals and the children coming into need on each day, instead of window functions
and distinct counts over every episode and referral on every request. Each fact is what
the definition gives for any period, so the results are those of the definitions on any
rows (`tests/returns/test_measures_irregular.py` checks them on untidy records).

On DuckDB (the default) a request's SQL is compiled once per process and period
(`compiled`), over views with fixed names, and run on a connection of its own.

The definitions, their conventions and the choices where the DfE's own are not published
are in docs/methods/returns-measures.md; the notes below say the same in brief.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import holidays
import ibis
import ibis.backends.sql.compilers.duckdb  # what `ibis.to_sql` compiles with
import pyarrow as pa

from whatworks.core.analytics import connect
from whatworks.returns import calendar, canonical

if TYPE_CHECKING:
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


def _temporary(place: Any) -> Any:
    return place.isin(TEMPORARY)


def _in(column: Any, period: Period) -> Any:
    return column.between(_day(period.start), _day(period.end))


def _period_care(t: Tables, p: Period) -> Any:
    """The episodes of care the looked-after measures of a period read: those begun by its
    end and not ended before it began, each child's last begun by the end, and those that
    start or cease care in it (read once for every measure)."""
    care = t["facts/care"]
    end = _day(p.end)
    begun = care.decom <= end
    return care.filter(
        (begun & (care.dec.isnull() | (care.dec >= _day(p.start))))
        | (begun & (care.next_start.isnull() | (care.next_start > end)))
        | ((care.rne == "S") & _in(care.decom, p))
        | (care.ceases & _in(care.dec, p))
    )


def _children_at_end(t: Tables, p: Period) -> Any:
    """One row per child looked after at the end (a missing identifier once, as `distinct`
    gives it): the child's last episode begun by the end, when an episode begun by then is
    still open (the `next_start` and `until` facts). Its facts say when the child was first
    looked after, last started to be and last began a placement, up to the end."""
    care = _period_care(t, p)
    end = _day(p.end)
    return care.filter(
        (care.decom <= end)
        & (care.next_start.isnull() | (care.next_start > end))
        & (care.until.isnull() | (care.until > end))
    )


def _firsts_in(rows: Any, column: str, earlier: str, p: Period) -> Any:
    """Rows whose `column` is in the period and whose child's `earlier` one is not (or
    there is none): one per child with such a row."""
    return rows.filter(
        _in(rows[column], p)
        & rows.child.notnull()
        & (rows[earlier].isnull() | (rows[earlier] < _day(p.start)))
    )


def _children(rows: Any) -> Any:
    """Per council: the children of rows with one row per child (a missing identifier not
    counted)."""
    return rows.group_by("la").agg(numerator=rows.child.count(), denominator=ibis.null("int64"))


def _share(rows: Any, condition: Any) -> Any:
    """Per council: rows meeting `condition` over all rows."""
    flagged = rows.mutate(_yes=ibis.ifelse(condition, 1, 0))
    return flagged.group_by("la").agg(numerator=flagged._yes.sum(), denominator=flagged.count())


def _placements_in_period(care: Any, p: Period) -> Any:
    """Per child, the placements of the period counted episode by episode: the first
    episode of the period that is not a temporary placement, and each later one that begins
    a new placement (a new carer, not the return from a temporary placement)."""
    overlapping = care.filter(
        (care.decom <= _day(p.end)) & (care.dec.isnull() | (care.dec >= _day(p.start)))
    )
    ordered = ibis.window(group_by=["la", "child"], order_by="decom")
    marked = overlapping.mutate(_previous_place=overlapping.place.lag().over(ordered))
    lasting = marked.filter(~_temporary(marked.place))
    lasting = lasting.mutate(_n=ibis.row_number().over(ordered))
    counted = lasting.filter(
        (lasting._n == 0)
        | (
            lasting.rne.isin(NEW_CARER)
            & (lasting._previous_place.isnull() | ~_temporary(lasting._previous_place))
        )
    )
    return counted.group_by(["la", "child"]).agg(_placements=counted.count())


# --- the measures -------------------------------------------------------------------------


def cla_count(t: Tables, p: Period) -> Any:
    return _children(_children_at_end(t, p))


def cla_started(t: Tables, p: Period) -> Any:
    """Children with an episode starting in the period with RNE S: their first such
    episode in the period (`earlier_start`: the start of the child's previous one)."""
    care = _period_care(t, p)
    return _children(_firsts_in(care.filter(care.rne == "S"), "decom", "earlier_start", p))


def cla_ceased(t: Tables, p: Period) -> Any:
    """Children with an episode ending in the period with a reason for leaving care: their
    first such end in the period (`earlier_end`: the child's previous one)."""
    care = _period_care(t, p)
    return _children(_firsts_in(care.filter(care.ceases), "dec", "earlier_end", p))


def placements_3_plus(t: Tables, p: Period) -> Any:
    """Children looked after at the end with three or more placements in the period: the
    placement they were in at the start (or their first in the period) plus each new one.

    For a child whose episodes follow one another (the `in_sequence` fact), the episodes
    of any period are consecutive, so the count is one more than the placements begun
    after the first of them: the difference of the running count of placements (the
    `placements` fact) at the period's last and first episodes that are not temporary
    placements. Any other child's episodes are counted one by one (`_placements_in_period`)."""
    care = _period_care(t, p)
    overlapping = care.filter(
        (care.decom <= _day(p.end)) & (care.dec.isnull() | (care.dec >= _day(p.start)))
    )
    lasting = ~_temporary(overlapping.place)
    children = overlapping.group_by(["la", "child"]).agg(
        _at_end=(overlapping.dec.isnull() | (overlapping.dec > _day(p.end))).any(),
        _in_sequence=overlapping.in_sequence.all(),
        _low=overlapping.placements.min(where=lasting),
        _high=overlapping.placements.max(where=lasting),
    )
    children = children.filter(children._at_end)
    out_of_sequence = _placements_in_period(care.filter(~care.in_sequence), p)
    joined = children.left_join(out_of_sequence, ["la", "child"])
    joined = joined.select(
        "la",
        _placements=ibis.ifelse(
            joined._in_sequence,
            ibis.coalesce(1 + joined._high - joined._low, 0),
            ibis.coalesce(joined._placements, 0),
        ),
    )
    return _share(joined, joined._placements >= 3)


def long_term_stability(t: Tables, p: Period) -> Any:
    """Children under 16 at the end, looked after for 2.5 years or more, who have lived in
    the same placement for at least 2 years."""
    children = _children_at_end(t, p)
    children = children.mutate(
        _since=ibis.coalesce(children.care_start, children.first_start),
        _placed_on=ibis.coalesce(children.placed, children.first_start),
    )
    eligible = children.filter(
        (children.dob > _day(years_before(p.end, 16)))
        & (children._since <= _day(months_before(p.end, 30)))
    )
    return _share(eligible, eligible._placed_on <= _day(years_before(p.end, 2)))


def _day_counts(t: Tables, p: Period) -> Any:
    """Per council, from the counts by day (the `days` fact): referrals, re-referrals,
    plans, subsequent plans and timed assessments in the period, and children in need and
    on plans at its end (the children coming in less those leaving, up to the end)."""
    days = t["facts/days"]
    in_period = _in(days.day, p)
    so_far = days.day <= _day(p.end)
    totals = {
        f"_{column}": ibis.coalesce(
            days[column].sum(where=so_far if column in ("in_need", "on_plans") else in_period),
            0,
        )
        for column in DAY_COUNTS
    }
    return days.group_by("la").agg(**totals)


def _from_days(t: Tables, p: Period, numerator: str, denominator: str | None = None) -> Any:
    counts = _day_counts(t, p)
    return counts.select(
        "la",
        numerator=counts[f"_{numerator}"],
        denominator=counts[f"_{denominator}"] if denominator else ibis.null("int64"),
    )


def referrals(t: Tables, p: Period) -> Any:
    return _from_days(t, p, "referrals")


def rereferrals(t: Tables, p: Period) -> Any:
    """Referrals in the period within 12 months of the child's previous referral."""
    return _from_days(t, p, "rereferrals", "referrals")


def cin_at_end(t: Tables, p: Period) -> Any:
    """Children with a referral open at the end that was not closed with no further action."""
    return _from_days(t, p, "in_need")


def cpp_at_end(t: Tables, p: Period) -> Any:
    return _from_days(t, p, "on_plans")


def cpp_subsequent(t: Tables, p: Period) -> Any:
    """Plans starting in the period that are a second or subsequent plan: the census says
    so (NumberOfPreviousCPP above 0), or the child has an earlier plan in the history."""
    return _from_days(t, p, "subsequent_plans", "plans")


def assessments_45_days(t: Tables, p: Period) -> Any:
    """Assessments authorised in the period within 45 working days of their start."""
    return _from_days(t, p, "assessments_45_days", "assessments")


def _outcomes(t: Tables, p: Period) -> Any:
    """Per council, from the period's OC2 and OC3 return (the `outcomes` fact, by date of
    birth): children aged 5 to 16 at its end with an SDQ score and their scores; care
    leavers aged 19, 20 or 21 at its end (whose 19th, 20th or 21st birthday fell in the
    year), and those of them in education, employment or training and in suitable
    accommodation."""
    rows = t["facts/outcomes"]
    rows = rows.filter(rows.return_year == p.return_year)
    scored = (rows.dob > _day(years_before(p.end, 17))) & (rows.dob <= _day(years_before(p.end, 5)))
    leaving = (rows.dob > _day(years_before(p.end, 22))) & (
        rows.dob <= _day(years_before(p.end, 19))
    )
    totals = {
        f"_{column}": ibis.coalesce(rows[column].sum(where=scored), 0)
        for column in ("scored", "scores")
    }
    totals |= {
        f"_{column}": ibis.coalesce(rows[column].sum(where=leaving), 0)
        for column in ("leavers", "leavers_eet", "leavers_suitable")
    }
    return rows.group_by("la").agg(**totals)


def _from_outcomes(t: Tables, p: Period, numerator: str, denominator: str) -> Any:
    counts = _outcomes(t, p)
    return counts.select(
        "la", numerator=counts[f"_{numerator}"], denominator=counts[f"_{denominator}"]
    )


def care_leavers_eet(t: Tables, p: Period) -> Any:
    return _from_outcomes(t, p, "leavers_eet", "leavers")


def care_leavers_suitable(t: Tables, p: Period) -> Any:
    return _from_outcomes(t, p, "leavers_suitable", "leavers")


def sdq_average(t: Tables, p: Period) -> Any:
    """Average SDQ score of children aged 5 to 16 at the end in the period's OC2 return."""
    return _from_outcomes(t, p, "scores", "scored")


def missing_incidents(t: Tables, p: Period) -> Any:
    """Missing incidents (not "away") starting in the period per child who went missing
    (the child's first incident in the period: `earlier_start`, the child's previous one)."""
    rows = t["facts/missing"]
    rows = rows.filter(_in(rows.mis_start, p))
    first = rows.child.notnull() & (
        rows.earlier_start.isnull() | (rows.earlier_start < _day(p.start))
    )
    return rows.group_by("la").agg(numerator=rows.count(), denominator=rows.count(where=first))


def social_worker_changes(t: Tables, p: Period) -> Any:
    """Changes of social worker in the period per child looked after at its end: each
    social worker episode starting in the period that follows an earlier one (the `change`
    fact)."""
    rows = t["facts/social_workers"]
    changes = rows.filter(_in(rows.sw_decom, p) & rows.change)
    per_child = changes.group_by(["la", "child"]).agg(_changes=changes.count())
    children = _children_at_end(t, p).select("la", "child")
    children = children.left_join(per_child, ["la", "child"])
    children = children.select("la", _changes=ibis.coalesce(children._changes, 0))
    return children.group_by("la").agg(
        numerator=children._changes.sum(), denominator=children.count()
    )


# --- facts kept with each council's history -----------------------------------------------

#: Bumped whenever the facts change: a history built with other facts is rebuilt.
FACTS_VERSION = 1
#: Assessments are timely within this many working days.
TIMELY_ASSESSMENT = 45
#: The counts of the `outcomes` fact.
OUTCOME_COUNTS = ("scored", "scores", "leavers", "leavers_eet", "leavers_suitable")
#: The counts of the `days` fact.
DAY_COUNTS = (
    "referrals",
    "rereferrals",
    "in_need",
    "on_plans",
    "plans",
    "subsequent_plans",
    "assessments",
    "assessments_45_days",
)
_DATE, _TEXT, _FLAG, _WHOLE = pa.date32(), pa.string(), pa.bool_(), pa.int64()
#: The facts tables (`<la>/history/facts/<name>.parquet`) and their columns.
FACTS: dict[str, pa.Schema] = {
    "care": pa.schema(
        [
            ("la", _TEXT),
            ("child", _TEXT),
            ("decom", _DATE),
            ("dec", _DATE),
            ("rne", _TEXT),
            ("place", _TEXT),
            ("ceases", _FLAG),
            ("dob", _DATE),
            ("first_start", _DATE),
            ("earlier_start", _DATE),
            ("care_start", _DATE),
            ("placed", _DATE),
            ("placements", _WHOLE),
            ("next_start", _DATE),
            ("until", _DATE),
            ("earlier_end", _DATE),
            ("in_sequence", _FLAG),
        ]
    ),
    "days": pa.schema(
        [("la", _TEXT), ("day", _DATE), *((column, _WHOLE) for column in DAY_COUNTS)]
    ),
    "social_workers": pa.schema(
        [("la", _TEXT), ("child", _TEXT), ("sw_decom", _DATE), ("change", _FLAG)]
    ),
    "missing": pa.schema(
        [("la", _TEXT), ("child", _TEXT), ("mis_start", _DATE), ("earlier_start", _DATE)]
    ),
    "outcomes": pa.schema(
        [
            ("la", _TEXT),
            ("return_year", pa.int16()),
            ("dob", _DATE),
            *((column, _WHOLE) for column in OUTCOME_COUNTS),
        ]
    ),
}


def facts_version() -> str:
    """What the stored facts depend on besides the rows: their definitions, the codes and
    the threshold they apply, and the calendar the working days were counted with (its
    bank holidays come from the `holidays` package, so its version stands for them)."""
    codes = (SHORT_BREAKS, TEMPORARY, NEW_CARER, EET, SUITABLE, TIMELY_ASSESSMENT)
    digest = hashlib.sha256(repr(codes).encode()).hexdigest()[:16]
    span = f"{calendar.FIRST}..{calendar.LAST}"
    return f"facts {FACTS_VERSION} codes {digest}, holidays {holidays.__version__} {span}"


def facts(t: Tables) -> dict[str, Any]:
    """The facts of one council's stitched tables (`t`, with "calendar": `calendar.table`),
    as expressions whose rows are to be stored (`FACTS`). None depends on a period: each is
    what the measures would work out from the child's rows for any period.

    - `care`: the episodes of care (short breaks left out), each with the child's date of
      birth and, over the child's episodes in order of start: `first_start`, when the child
      was first looked after; `care_start`, `placed` and `placements`, the start of the
      latest episode with RNE S, the start of the latest new placement (a new carer, not a
      temporary placement, not the return from one) and the number of new placements, up to
      and including this episode; `earlier_start`, the start of the child's previous
      episode with RNE S; `next_start`, the start of the next episode; `until`, the latest
      end of this and every earlier episode (null while one is open); `ceases`, the episode
      ends with a reason for leaving care (not X1), and `earlier_end`, the end of the
      child's previous such episode; `in_sequence`, every episode of the child ends on or
      after its start and on or before the next one starts, and the child has an
      identifier.
    - `days`: per day, the referrals and re-referrals (within 12 months of the child's
      previous referral: on or after the same date a year earlier); the children coming
      into need less those leaving (spells of referrals not closed with no further action,
      overlapping ones joined) and the same for child protection plans; the plans starting
      and those of them that are a second or subsequent plan (NumberOfPreviousCPP above 0,
      or the child has an earlier plan); the assessments authorised with both dates in the
      calendar and those of them within 45 working days (after the start up to and
      including the authorisation).
    - `social_workers`: `change`, a social worker episode after the child's first.
    - `missing`: missing incidents (not "away"), each with `earlier_start`, the start of
      the child's previous one.
    - `outcomes`: per return year and date of birth, the OC2 children with an SDQ score and
      their scores, and the OC3 care leavers, those of them in education, employment or
      training and those in suitable accommodation.
    """
    return {
        "care": _care_facts(t),
        "days": _day_facts(t),
        "social_workers": _social_worker_facts(t),
        "missing": _missing_facts(t),
        "outcomes": _outcome_facts(t),
    }


def _order(start: Any) -> list[Any]:
    """Rows in order of `start`, rows without one last (they begin nothing)."""
    return [start.isnull(), start]


def _care_facts(t: Tables) -> Any:
    care = _care(t)
    by_child = ["la", "child"]
    ordered = ibis.window(group_by=by_child, order_by=_order(care.decom))
    forever = ibis.date(9999, 12, 31)
    care = care.mutate(
        _previous_place=care.place.lag().over(ordered),
        _previous_end=care.dec.lag().over(ordered),
        _first=ibis.row_number().over(ordered) == 0,
        next_start=care.decom.lead().over(ordered),
        first_start=care.decom.min().over(ibis.window(group_by=by_child)),
        ceases=ibis.coalesce(care.rec.notnull() & (care.rec != "X1"), False),
    )
    new_placement = ~_temporary(care.place) & care.rne.isin(NEW_CARER)
    new_placement &= care._previous_place.isnull() | ~_temporary(care._previous_place)
    follows = care._first | (care._previous_end <= care.decom)
    by_end = ibis.window(
        group_by=[*by_child, "ceases"], order_by=[care.dec.isnull(), care.dec, care.decom]
    )
    care = care.mutate(
        _new=care.decom.notnull() & ibis.coalesce(new_placement, False),
        _started=care.rne == "S",
        _end=ibis.coalesce(care.dec, forever),
        _follows=care.decom.isnull()
        | (ibis.coalesce(follows, False) & (care.dec.isnull() | (care.dec >= care.decom))),
        earlier_end=ibis.ifelse(care.ceases, care.dec.lag().over(by_end), ibis.null("date")),
    )
    so_far = ibis.cumulative_window(group_by=by_child, order_by=_order(care.decom))
    care = care.mutate(
        care_start=ibis.ifelse(care._started, care.decom, ibis.null("date")).max().over(so_far),
        placed=ibis.ifelse(care._new, care.decom, ibis.null("date")).max().over(so_far),
        placements=ibis.ifelse(care._new, 1, 0).sum().over(so_far),
        _until=care._end.max().over(so_far),
    )
    ordered = ibis.window(group_by=by_child, order_by=_order(care.decom))
    care = care.mutate(
        earlier_start=ibis.ifelse(
            care._started, care.care_start.lag().over(ordered), ibis.null("date")
        ),
        until=ibis.ifelse(care._until == forever, ibis.null("date"), care._until),
        in_sequence=care.child.notnull() & care._follows.all().over(ibis.window(group_by=by_child)),
    )
    header = t["header"].select("la", "child", "dob")
    joined = care.left_join(header, by_child)
    return joined.select(*FACTS["care"].names).order_by("child", "decom")


def _counted(rows: Any, day: Any, **counts: Any) -> Any:
    """Rows as counts on `day` (those not given are 0), for the `days` fact."""
    return rows.select(
        "la",
        day=day,
        **{
            column: ibis.literal(counts.get(column, 0), type="int64")
            if isinstance(counts.get(column, 0), int)
            else counts[column].cast("int64")
            for column in DAY_COUNTS
        },
    )


def _day_facts(t: Tables) -> Any:
    referrals = t["cin_referrals"]
    ordered = ibis.window(group_by=["la", "child"], order_by=_order(referrals.referral_date))
    previous = referrals.referral_date.lag().over(ordered)
    within = previous.notnull() & (
        _date_key(previous) >= _date_key(referrals.referral_date) - 10000
    )
    referrals = referrals.mutate(_again=ibis.ifelse(within, 1, 0))
    in_need = _spells(
        referrals.filter(referrals.referral_nfa.isnull() | ~referrals.referral_nfa),
        "referral_date",
        "closure_date",
    )
    plans = t["cin_cp_plans"]
    first = plans.plan_start.min().over(ibis.window(group_by=["la", "child"]))
    subsequent = (plans.plan_start > first) | (ibis.coalesce(plans.previous_plans, 0) > 0)
    starting = plans.filter(plans.child.notnull())
    on_plans = _spells(plans, "plan_start", "plan_end")
    timed = _assessments_timed(t)
    parts = [
        _counted(referrals, referrals.referral_date, referrals=1, rereferrals=referrals._again),
        _counted(in_need, in_need.start, in_need=1),
        _counted(in_need.filter(in_need.end.notnull()), in_need.end, in_need=-1),
        _counted(on_plans, on_plans.start, on_plans=1),
        _counted(on_plans.filter(on_plans.end.notnull()), on_plans.end, on_plans=-1),
        _counted(
            starting,
            starting.plan_start,
            plans=1,
            subsequent_plans=ibis.ifelse(subsequent, 1, 0),
        ),
        _counted(
            timed,
            timed.assessment_authorised,
            assessments=1,
            assessments_45_days=ibis.ifelse(timed.working_days <= TIMELY_ASSESSMENT, 1, 0),
        ),
    ]
    rows = ibis.union(*parts)
    rows = rows.filter(rows.day.notnull())
    days = rows.group_by(["la", "day"]).agg(**{column: rows[column].sum() for column in DAY_COUNTS})
    return days.order_by("day")


def _spells(rows: Any, start: str, end: str) -> Any:
    """Each child's rows (with a start, and a child) joined where they overlap or meet into
    spells (`start`, `end`; a null end is still open), those with a day in them: a day is in
    one of the child's spells when it is on or after a row's start and before its end."""
    rows = rows.filter(rows.child.notnull() & rows[start].notnull())
    forever = ibis.date(9999, 12, 31)
    rows = rows.select("la", "child", _start=rows[start], _end=ibis.coalesce(rows[end], forever))
    running = ibis.cumulative_window(group_by=["la", "child"], order_by="_start")
    rows = rows.mutate(_reach=rows._end.max().over(running))
    previous = rows._reach.lag().over(ibis.window(group_by=["la", "child"], order_by="_start"))
    rows = rows.mutate(_new=ibis.ifelse(previous.isnull() | (rows._start > previous), 1, 0))
    numbered = rows.mutate(_spell=rows._new.sum().over(running))
    spells = numbered.group_by(["la", "child", "_spell"]).agg(
        start=numbered._start.min(), _until=numbered._reach.max()
    )
    spells = spells.filter(spells._until > spells.start)
    return spells.select(
        "la",
        "start",
        end=ibis.ifelse(spells._until == forever, ibis.null("date"), spells._until),
    )


def _assessments_timed(t: Tables) -> Any:
    """Assessments with the working days they took (both dates in the calendar)."""
    rows = t["cin_assessments"]
    days = t["calendar"]
    started = days.rename(assessment_start="day", _start_count="working")
    authorised = days.rename(assessment_authorised="day", _end_count="working")
    timed = rows.join(started, "assessment_start").join(authorised, "assessment_authorised")
    return timed.select(
        "la", "assessment_authorised", working_days=timed._end_count - timed._start_count
    )


def _missing_facts(t: Tables) -> Any:
    rows = t["missing"]
    rows = rows.filter(rows.missing == "M")
    ordered = ibis.window(group_by=["la", "child"], order_by=_order(rows.mis_start))
    rows = rows.mutate(earlier_start=rows.mis_start.lag().over(ordered))
    return rows.select(*FACTS["missing"].names).order_by("child", "mis_start")


def _social_worker_facts(t: Tables) -> Any:
    rows = t["social_worker"]
    first = rows.sw_decom.min().over(ibis.window(group_by=["la", "child"]))
    rows = rows.mutate(change=rows.sw_decom > first)
    return rows.select(*FACTS["social_workers"].names).order_by("child", "sw_decom")


def _outcome_facts(t: Tables) -> Any:
    zero = ibis.literal(0, type="int64")
    oc2 = t["oc2"]
    oc2 = oc2.filter(oc2.sdq_score.notnull())
    oc2 = oc2.select(
        "la",
        "return_year",
        "dob",
        scored=ibis.literal(1, type="int64"),
        scores=oc2.sdq_score.cast("int64"),
        leavers=zero,
        leavers_eet=zero,
        leavers_suitable=zero,
    )
    oc3 = t["oc3"]
    oc3 = oc3.select(
        "la",
        "return_year",
        "dob",
        scored=zero,
        scores=zero,
        leavers=ibis.literal(1, type="int64"),
        leavers_eet=ibis.ifelse(oc3.activ.isin(EET), 1, 0).cast("int64"),
        leavers_suitable=ibis.ifelse(oc3.accom.isin(SUITABLE), 1, 0).cast("int64"),
    )
    rows = ibis.union(oc2, oc3)
    rows = rows.filter(rows.dob.notnull())
    counts = rows.group_by(["la", "return_year", "dob"]).agg(
        **{column: rows[column].sum() for column in OUTCOME_COUNTS}
    )
    return counts.order_by("return_year", "dob")


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


def table_schema(name: str) -> pa.Schema:
    """The schema of a table the measures read: a canonical table, or "facts/<name>"."""
    if name.startswith("facts/"):
        return FACTS[name.removeprefix("facts/")]
    return canonical.schemas()[name]


def view_name(name: str) -> str:
    """The name a table the measures read goes by in the compiled SQL."""
    return name.replace("/", "_")


class _Named(dict[str, Any]):
    """Tables standing for the views of a DuckDB request, by name (none are read)."""

    def __missing__(self, name: str) -> Any:
        schema = ibis.Schema.from_pyarrow(table_schema(name))
        self[name] = ibis.table(schema, name=view_name(name))
        return self[name]


_options = threading.Lock()


@lru_cache(maxsize=256)
def compiled(period: Period, ids: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The DuckDB SQL of the measures `ids` over `period`, and the tables it reads, compiled
    once per process: it names each table by `view_name`, whatever the councils. Selects
    are not fused, so rows several measures read (`_period_care`) stay one common table
    expression, which DuckDB reads once."""
    tables = _Named()
    with _options:
        fused = ibis.options.sql.fuse_selects
        ibis.options.sql.fuse_selects = False
        try:
            chosen = [BY_ID[i] for i in ids]
            sql = ibis.to_sql(expression(tables, period, chosen), "duckdb", pretty=False)
        finally:
            ibis.options.sql.fuse_selects = fused
    names = tuple(name for name in tables if name.startswith("facts/") or name in canonical.TABLES)
    return str(sql), names


def _on_duckdb(folders: list[Path], period: Period, wanted: Sequence[Measure]) -> list[Any]:
    """The rows of `compiled` SQL over the councils' histories, on a connection of its own."""
    sql, names = compiled(period, tuple(m.id for m in wanted))
    con = duckdb.connect()
    try:
        for name in names:
            view = view_name(name)
            if folders:
                files = ", ".join(_quoted(str(folder / f"{name}.parquet")) for folder in folders)
                con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{files}])")
            else:
                con.register(view, table_schema(name).empty_table())
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def compute(
    store: ReturnsStore,
    councils: Sequence[str],
    period: Period,
    engine: str = "duckdb",
    chosen: Sequence[Measure] = MEASURES,
    backend: Any = None,
) -> list[Result]:
    """Every chosen measure for each council over `period`, on `engine` (or `backend`, an
    Ibis backend)."""
    wanted = [m for m in chosen if applicable(m, period)]
    found: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    if wanted and councils:
        if backend is None and engine == "duckdb":
            rows = _on_duckdb(store.histories(list(councils)), period, wanted)
        else:
            con = backend if backend is not None else connect(engine)
            tables = store.stitched(con, list(councils))
            rows = list(con.execute(expression(tables, period, wanted)).itertuples(index=False))
        for la, measure_id, numerator, denominator in rows:
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
