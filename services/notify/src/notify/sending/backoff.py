"""When a temporarily failed alert is tried again: exponential backoff with full
jitter, so alerts that failed together (a gateway outage) do not all retry in
the same second when it recovers."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

# 2**60 times any base is far past every cap; beyond it the float would only grow.
_MAX_EXPONENT = 60


def retry_delay(
    attempt: int, base_seconds: float, max_seconds: float, rand: Callable[[], float] = random.random
) -> timedelta:
    """The wait after failed attempt number `attempt` (1 = the first): uniform in
    [0, min(max, base * 2^(attempt-1))) ("full jitter")."""
    ceiling = min(max_seconds, base_seconds * 2 ** min(max(attempt - 1, 0), _MAX_EXPONENT))
    return timedelta(seconds=ceiling * rand())
