"""A token bucket per client address, for the login's start and collect.

In memory, per intake process: with N replicas behind a load balancer a client
gets up to N times the rate. That is enough to stop one address from starting
BankID orders in a loop or polling collect flat out; a shared limit belongs at
the edge (the reverse proxy) if one is needed."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    burst: int
    per_minute: float
    # The least recently seen addresses are forgotten beyond this (they get a full bucket back).
    max_clients: int = 100_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)  # tokens, at

    def take(self, client: str) -> float:
        """Take one token for `client`: 0 if allowed, else the seconds until one is there."""
        now = time.monotonic()
        rate = self.per_minute / 60
        tokens, at = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate if rate > 0 else 60.0
        self._buckets[client] = (tokens, now)  # most recently seen last
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait
