"""Transactional outbox: events are rows written in the caller's transaction,
and a relay publishes them to Kafka afterwards.

Nothing is lost: a row is marked sent only after Kafka acknowledged it
(`acks=all`, idempotent producer), in the same transaction that claimed it; if
the relay, Kafka or PostgreSQL stops in between, the row is sent again and the
consumers' inbox drops the copy. Nothing is reordered: rows go out in id order
and one relay at a time holds the service's advisory lock, so two replicas
never interleave one key's events; rows are also claimed `FOR UPDATE SKIP
LOCKED`, so a replay tool or a second relay never takes a row being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib

import asyncpg
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.events import Envelope, Event
from shared.infra_tables import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

_INSERT = text("""
    INSERT INTO outbox (event_id, topic, key, headers, payload)
    VALUES (:event_id, :topic, :key, CAST(:headers AS jsonb), :payload)
""")

_CLAIM = text("""
    SELECT id, topic, key, headers, payload FROM outbox
    WHERE sent_at IS NULL ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
""")

_MARK_SENT = text("UPDATE outbox SET sent_at = now() WHERE id = ANY(:ids)")


async def add_event(session: AsyncSession, event: Event, source: str) -> Envelope:
    """Queue `event` for publishing when the caller's transaction commits."""
    envelope = Envelope.new(event, source)
    await session.execute(_INSERT, {
        "event_id": envelope.id,
        "topic": event.topic,
        "key": event.key(),
        "headers": json.dumps(envelope.headers()),
        "payload": event.model_dump_json().encode(),
    })
    return envelope


class OutboxRelay:
    """Publishes a service's outbox rows to Kafka, woken by LISTEN/NOTIFY."""

    def __init__(self, engine: AsyncEngine, listen_dsn: str, broker: KafkaBroker, service: str,
                 batch_size: int = 500, idle_poll_seconds: float = 2.0) -> None:
        self._engine = engine
        self._listen_dsn = listen_dsn
        self._broker = broker
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        # One lock id per service database: the relay leader.
        self._lock_id = zlib.crc32(f"outbox-relay:{service}".encode())
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None
        self.published = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_listener()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._ensure_listener()
                sent = await self.relay_once()
                failures = 0
                if sent >= self._batch_size:
                    continue  # more waiting: no sleep
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_poll)
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or PostgreSQL away: back off, keep the rows
                failures += 1
                log.warning("outbox relay: %s; retrying", type(exc).__name__)
                await self._close_listener()
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many were sent."""
        async with self._engine.begin() as conn:
            got_lock = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"),
                                         {"id": self._lock_id})
            if not got_lock:
                return 0
            rows = (await conn.execute(_CLAIM, {"limit": self._batch_size})).all()
            if not rows:
                return 0
            pending = [
                await self._broker.publish(row.payload, row.topic, key=row.key.encode(),
                                           headers=row.headers, no_confirm=True)
                for row in rows
            ]
            # All acknowledged, or the exception rolls back and the rows stay unsent.
            await asyncio.gather(*pending)
            await conn.execute(_MARK_SENT, {"ids": [row.id for row in rows]})
        self.published += len(rows)
        return len(rows)

    async def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = await asyncpg.connect(self._listen_dsn)
            await self._listener.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())

    async def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
            self._listener = None
