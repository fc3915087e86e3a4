"""The queue gauges, read from the database at scrape time (shared.health's
scrape hooks): how many alerts wait and how long the oldest due one has waited."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncConnection

from notify.alerts import repository
from notify.clock import system_clock

QUEUE_DEPTH = Gauge("omsorg_notify_queue_depth", "Alerts queued, awaiting a retry, or being sent")
OLDEST_PENDING = Gauge(
    "omsorg_notify_oldest_pending_seconds", "How long the longest-waiting due alert has been due (0: none)"
)


async def observe_queue(connection: AsyncConnection) -> None:
    """Set the queue gauges from the alerts table."""
    depth = await repository.queue_depth(connection, system_clock())
    QUEUE_DEPTH.set(depth.pending)
    OLDEST_PENDING.set(depth.oldest_pending_seconds)
