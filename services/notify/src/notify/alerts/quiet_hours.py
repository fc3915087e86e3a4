"""SMS quiet hours (default 21:00 to 08:00 Europe/Stockholm): an SMS due inside them
is held to their end; e-mail is never held. The clock times are Swedish civil
time, so the UTC hour of the end moves with summer time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from notify.config import TIME_ZONE, Settings
from notify.models import Channel


def _inside(local: time, start: time, end: time) -> bool:
    if start == end:
        return False  # no quiet hours
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def out_of_quiet_hours(at: datetime, start: time, end: time) -> datetime:
    """`at`, or the end of the quiet period it falls in (aware UTC either way)."""
    local = at.astimezone(TIME_ZONE)
    if not _inside(local.time(), start, end):
        return at.astimezone(UTC)
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=TIME_ZONE).astimezone(UTC)


def due_time(channel: Channel | str, at: datetime, settings: Settings) -> datetime:
    """When an alert on `channel` wanting to go at `at` may go: SMS are held past
    the quiet hours (retries, follow-ups and fallbacks too); e-mail is not."""
    if channel == Channel.SMS:
        return out_of_quiet_hours(at, settings.quiet_start, settings.quiet_end)
    return at.astimezone(UTC)


def deadline(due_at: datetime, settings: Settings) -> datetime:
    """The moment after which an alert is given up instead of retried: counted from
    its due time, so an SMS held overnight does not expire while held."""
    return due_at + timedelta(seconds=settings.retry_deadline_seconds)
