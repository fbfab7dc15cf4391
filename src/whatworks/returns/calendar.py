"""Working days in England: weekdays that are not England and Wales bank holidays.

Bank holidays come from the `holidays` package (UK, England), which includes the one-off
days (the 2022 Platinum Jubilee and State Funeral, the 2023 Coronation) and the "observed"
Mondays when Christmas or New Year fall at a weekend.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
import pyarrow as pa

FIRST, LAST = date(2005, 1, 1), date(2035, 12, 31)


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays from 2005 to 2035."""
    return frozenset(holidays.UK(subdiv="England", years=range(FIRST.year, LAST.year + 1)))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays()


def working_days_after(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += is_working_day(day)
    return days


@lru_cache(maxsize=1)
def table() -> pa.Table:
    """Every day with the running count of working days up to and including it, so the
    working days between two dates are the difference of their counts."""
    days, counts, running = [], [], 0
    day = FIRST
    while day <= LAST:
        running += is_working_day(day)
        days.append(day)
        counts.append(running)
        day += timedelta(days=1)
    return pa.table({"day": pa.array(days, pa.date32()), "working": pa.array(counts, pa.int64())})
