"""The clock notify plans and sends by: injected so tests set "now"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# Returns an aware UTC datetime.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC (the default clock)."""
    return datetime.now(UTC)
