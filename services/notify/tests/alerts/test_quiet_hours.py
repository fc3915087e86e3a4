"""SMS quiet hours as a rule of Swedish civil time: inside them an SMS waits for
their end (summer time included); outside them, and for e-mail, nothing moves."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest

from notify.alerts.quiet_hours import due_time, out_of_quiet_hours
from notify.config import TIME_ZONE

START, END = time(21, 0), time(8, 0)


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TIME_ZONE).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (_local(2025, 3, 12, 20, 59), _local(2025, 3, 12, 20, 59)),
        (_local(2025, 3, 12, 21, 0), _local(2025, 3, 13, 8, 0)),
        (_local(2025, 3, 12, 23, 59), _local(2025, 3, 13, 8, 0)),
        (_local(2025, 3, 13, 0, 30), _local(2025, 3, 13, 8, 0)),
        (_local(2025, 3, 13, 7, 59), _local(2025, 3, 13, 8, 0)),
        (_local(2025, 3, 13, 8, 0), _local(2025, 3, 13, 8, 0)),
        # The night summer time begins (30 March 2025, 02:00 -> 03:00): 08:00 is 06:00 UTC.
        (_local(2025, 3, 29, 22, 0), datetime(2025, 3, 30, 6, 0, tzinfo=UTC)),
        # The night it ends (26 October 2025): 08:00 is 07:00 UTC again.
        (_local(2025, 10, 25, 22, 0), datetime(2025, 10, 26, 7, 0, tzinfo=UTC)),
    ],
)
def test_an_sms_inside_the_quiet_hours_waits_for_their_end(at: datetime, due: datetime) -> None:
    assert out_of_quiet_hours(at, START, END) == due


def test_quiet_hours_within_one_day_work_too() -> None:
    assert out_of_quiet_hours(_local(2025, 3, 12, 13, 0), time(12, 0), time(14, 0)) == _local(
        2025, 3, 12, 14, 0
    )
    assert out_of_quiet_hours(_local(2025, 3, 12, 14, 0), time(12, 0), time(14, 0)) == _local(
        2025, 3, 12, 14, 0
    )


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    at = _local(2025, 3, 12, 23, 0)
    assert out_of_quiet_hours(at, time(21, 0), time(21, 0)) == at


def test_email_is_never_held(notify_settings: Any) -> None:
    at = _local(2025, 3, 12, 23, 0)
    assert due_time("email", at, notify_settings) == at
    assert due_time("sms", at, notify_settings) == _local(2025, 3, 13, 8, 0)
