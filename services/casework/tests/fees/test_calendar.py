"""The fee calendar (CW-15, PR-7) as pure functions: days of execution in a month,
whole days without meals (the days strictly between leaving and coming back),
the 30-day rule, whole absence days in a month, and the first invoice month,
on month and year boundaries, a leap day and absences spanning months."""

from __future__ import annotations

from datetime import date

import pytest

from casework.fees.calendar import (
    Month,
    absence_days_in_month,
    execution_days_in_month,
    first_invoice_month,
    needs_manual_handling,
    runs_in_month,
    whole_days_without_meals,
)

FEB_2028 = Month(2028, 2)  # a leap year: 29 days
TODAY = date(2030, 1, 1)  # after every date below: no absence is open "so far"


def test_months_are_written_yyyy_mm_and_know_their_first_and_last_day() -> None:
    assert Month.parse("2026-11") == Month(2026, 11)
    assert (Month(2026, 11).first, Month(2026, 11).last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert (Month(2026, 12).last, Month(2026, 12).next()) == (date(2026, 12, 31), Month(2027, 1))
    assert (FEB_2028.last, Month(2027, 2).last) == (date(2028, 2, 29), date(2027, 2, 28))
    assert str(Month(2027, 1)) == "2027-01"
    for bad in ("2026-13", "2026-00", "2026-1", "26-11", "2026/11", "november"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_an_execution_counts_its_days_in_the_month_from_its_date_through_its_end() -> None:
    november = Month(2026, 11)
    assert execution_days_in_month(date(2026, 11, 15), None, november) == 16  # 15th..30th
    assert execution_days_in_month(date(2026, 11, 30), None, november) == 1  # the last day only
    assert execution_days_in_month(date(2026, 12, 1), None, november) == 0  # starts the next month
    assert execution_days_in_month(date(2026, 10, 1), None, november) == 30  # the whole month
    assert execution_days_in_month(date(2026, 10, 1), date(2026, 11, 1), november) == 1  # ends on the 1st
    assert execution_days_in_month(date(2026, 10, 1), date(2026, 10, 31), november) == 0  # ended before
    assert execution_days_in_month(date(2026, 11, 10), date(2026, 11, 10), november) == 1  # one day
    assert execution_days_in_month(date(2028, 2, 1), None, FEB_2028) == 29  # the leap day counts
    assert execution_days_in_month(date(2028, 2, 29), None, FEB_2028) == 1
    assert runs_in_month(date(2028, 2, 29), None, FEB_2028)
    assert not runs_in_month(date(2028, 3, 1), None, FEB_2028)


def test_whole_days_without_meals_are_the_days_between_leaving_and_coming_back() -> None:
    assert whole_days_without_meals(date(2026, 11, 2), date(2026, 11, 6), TODAY) == 3  # 3rd, 4th, 5th
    assert whole_days_without_meals(date(2026, 11, 2), date(2026, 11, 3), TODAY) == 0  # overnight
    assert whole_days_without_meals(date(2026, 11, 2), date(2026, 11, 2), TODAY) == 0  # a day out
    # Across the year's end and over a leap day.
    assert whole_days_without_meals(date(2026, 12, 30), date(2027, 1, 2), TODAY) == 2
    assert whole_days_without_meals(date(2028, 2, 28), date(2028, 3, 1), TODAY) == 1  # the 29th
    assert whole_days_without_meals(date(2027, 2, 28), date(2027, 3, 1), TODAY) == 0  # no leap day
    # An open absence counts its whole days so far: up to yesterday.
    assert whole_days_without_meals(date(2026, 11, 2), None, date(2026, 11, 10)) == 7  # 3rd..9th
    assert whole_days_without_meals(date(2026, 11, 9), None, date(2026, 11, 10)) == 0


def test_over_30_whole_days_without_meals_needs_manual_handling() -> None:
    # From the 1st to 1 Feb: 30 whole days (2nd..31st): not over 30.
    assert whole_days_without_meals(date(2027, 1, 1), date(2027, 2, 1), TODAY) == 30
    assert not needs_manual_handling(date(2027, 1, 1), date(2027, 2, 1), TODAY)
    assert whole_days_without_meals(date(2027, 1, 1), date(2027, 2, 2), TODAY) == 31
    assert needs_manual_handling(date(2027, 1, 1), date(2027, 2, 2), TODAY)
    # Over February of a leap year: 29 whole days in it, 31 with the days around it.
    assert whole_days_without_meals(date(2028, 1, 30), date(2028, 3, 2), TODAY) == 31
    assert needs_manual_handling(date(2028, 1, 30), date(2028, 3, 2), TODAY)
    # An open absence becomes one once it has lasted over 30 whole days.
    assert not needs_manual_handling(date(2026, 11, 1), None, date(2026, 12, 2))  # 2nd..1st: 30
    assert needs_manual_handling(date(2026, 11, 1), None, date(2026, 12, 3))


def test_an_absence_spanning_months_counts_its_whole_days_in_each() -> None:
    absence = [(date(2026, 11, 25), date(2026, 12, 5))]  # whole days 26 Nov .. 4 Dec
    running = (date(2026, 1, 1), None)
    assert absence_days_in_month(absence, *running, Month(2026, 11), TODAY) == 5  # 26th..30th
    assert absence_days_in_month(absence, *running, Month(2026, 12), TODAY) == 4  # 1st..4th
    assert absence_days_in_month(absence, *running, Month(2027, 1), TODAY) == 0
    # Over the leap day: every day of February 2028, the 29th too.
    leap = [(date(2028, 1, 20), date(2028, 3, 3))]
    assert absence_days_in_month(leap, date(2027, 1, 1), None, FEB_2028, TODAY) == 29
    assert absence_days_in_month(leap, date(2027, 1, 1), None, Month(2028, 3), TODAY) == 2  # 1st, 2nd
    assert absence_days_in_month(leap, date(2027, 1, 1), None, Month(2028, 1), TODAY) == 11  # 21st..31st


def test_absence_days_count_only_while_the_execution_runs_and_each_day_once() -> None:
    november = Month(2026, 11)
    absence = [(date(2026, 11, 1), date(2026, 11, 30))]  # whole days 2nd..29th
    assert absence_days_in_month(absence, date(2026, 11, 10), None, november, TODAY) == 20  # 10th..29th
    assert absence_days_in_month(absence, date(2026, 1, 1), date(2026, 11, 5), november, TODAY) == 4  # 2..5
    overlapping = [(date(2026, 11, 1), date(2026, 11, 10)), (date(2026, 11, 5), date(2026, 11, 15))]
    assert absence_days_in_month(overlapping, date(2026, 1, 1), None, november, TODAY) == 13  # 2nd..14th
    # An open absence counts up to yesterday, never ahead.
    assert (
        absence_days_in_month(
            [(date(2026, 11, 20), None)], date(2026, 1, 1), None, november, date(2026, 11, 25)
        )
        == 4
    )
    assert absence_days_in_month([(date(2026, 11, 20), None)], date(2026, 1, 1), None, november, TODAY) == 10


def test_the_first_invoice_comes_the_month_after_the_execution_starts() -> None:
    assert first_invoice_month(date(2026, 11, 15)) == Month(2026, 12)
    assert first_invoice_month(date(2026, 11, 1)) == Month(2026, 12)
    assert first_invoice_month(date(2026, 12, 31)) == Month(2027, 1)
    assert first_invoice_month(date(2028, 2, 29)) == Month(2028, 3)
    assert first_invoice_month(date(2028, 1, 31)) == Month(2028, 2)
