"""The calendar rules of fees (CW-15, PR-7), as pure functions of civil dates
(Europe/Stockholm), so they are tested on any calendar without a database.

- An execution runs from its execution date through its end date, both days
  included (an open one: on and on). Its days in a month are the month's days
  it runs on.
- An absence from `from_date` to `to_date` leaves the client without meals for
  the days strictly between: the day they leave and the day they come back they
  eat at least one meal where they live, so those are no whole days. An open
  absence (no `to_date`) has its whole days so far: the days after it began and
  before today (today is not over yet).
- An absence of more than 30 whole days without meals needs manual handling by
  the fee administrator, on its dates and its number of whole days (PR-7).
- The client's first invoice comes the month after the execution starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MANUAL_HANDLING_AFTER_DAYS = 30  # whole days without meals; more needs manual handling (PR-7)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month: `Month(2026, 11)`, written "2026-11"."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """ "YYYY-MM" as a month; ValueError otherwise."""
        found = _MONTH.match(text)
        if found is None:
            raise ValueError("a month is written YYYY-MM")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next().first - _DAY

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _days_between(first: date, last: date) -> int:
    """The number of days from `first` through `last`, both included (0 if none)."""
    return max(0, (last - first).days + 1)


def execution_days_in_month(execution_date: date, end_date: date | None, month: Month) -> int:
    """The month's days the execution runs on: from its execution date through its end date."""
    first = max(execution_date, month.first)
    last = month.last if end_date is None else min(end_date, month.last)
    return _days_between(first, last)


def whole_days(from_date: date, to_date: date | None, today: date) -> tuple[date, date] | None:
    """The first and last whole day without meals of an absence, or None if it has
    none (yet): the days strictly between its dates; an open one's up to yesterday."""
    first = from_date + _DAY
    last = (to_date if to_date is not None else today) - _DAY
    return (first, last) if first <= last else None


def whole_days_without_meals(from_date: date, to_date: date | None, today: date) -> int:
    """The absence's number of whole days without meals (antal hela dagar utan kost)."""
    span = whole_days(from_date, to_date, today)
    return 0 if span is None else _days_between(*span)


def needs_manual_handling(from_date: date, to_date: date | None, today: date) -> bool:
    """Whether the absence is over 30 whole days without meals: the fee administrator
    handles its deduction by hand (PR-7)."""
    return whole_days_without_meals(from_date, to_date, today) > MANUAL_HANDLING_AFTER_DAYS


def absence_days_in_month(
    absences: list[tuple[date, date | None]],
    execution_date: date,
    end_date: date | None,
    month: Month,
    today: date,
) -> int:
    """The month's whole days without meals during the execution: each day counted
    once, however many of the absences cover it."""
    first = max(execution_date, month.first)
    last = month.last if end_date is None else min(end_date, month.last)
    days: set[date] = set()
    for from_date, to_date in absences:
        span = whole_days(from_date, to_date, today)
        if span is None:
            continue
        day, until = max(span[0], first), min(span[1], last)
        while day <= until:
            days.add(day)
            day += _DAY
    return len(days)


def first_invoice_month(execution_date: date) -> Month:
    """The month of the client's first invoice: the one after the execution starts."""
    return Month.of(execution_date).next()


def runs_in_month(execution_date: date, end_date: date | None, month: Month) -> bool:
    """Whether the execution runs on any day of the month."""
    return execution_days_in_month(execution_date, end_date, month) > 0
