"""Transactional outbox: events are rows written in the caller's transaction,
and a relay publishes them to Kafka afterwards.

Nothing is lost: a row is marked sent only after Kafka acknowledged it
(`acks=all`, idempotent producer), in the same transaction that claimed it; if
the relay, Kafka or PostgreSQL stops in between, the row is sent again and the
consumers' inbox drops the copy.

Nothing is reordered within a key: rows go out in id order, one relay at a time
holds the service's advisory lock, and the rows of one (topic, key) are sent
one after the other, each only once Kafka acknowledged the one before; when a
row fails, the rest of its key waits for the next pass. Different keys are sent
concurrently, so one slow or failing key does not hold up the others.

One bad row does not stop the outbox: a row Kafka refuses for good (its topic
does not exist, it is too large, the service may not write the topic) is
*parked* — kept, with the reason, visible in the `omsorg_outbox_parked` metric
and `python -m shared.outbox_admin list` — and the later rows of its key wait
behind it, while every other key and topic goes on. Rows Kafka acknowledged are
marked sent even when others of the same pass failed, so they are not sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.events import Envelope, Event
from shared.infra_tables import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

PUBLISHED = Counter("omsorg_outbox_published_total", "Outbox rows published to Kafka")
PARKED = Counter("omsorg_outbox_parkings_total", "Outbox rows parked after a permanent refusal", ["reason"])

_INSERT = text("""
    INSERT INTO outbox (event_id, topic, key, headers, payload)
    VALUES (:event_id, :topic, :key, CAST(:headers AS jsonb), :payload)
""")

# Unsent, unparked rows in id order, except those queued behind a parked row of
# the same topic and key (their order must hold until the parked one is replayed).
_CLAIM = text("""
    SELECT id, topic, key, headers, payload FROM outbox o
    WHERE sent_at IS NULL AND parked_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM outbox p
                      WHERE p.parked_at IS NOT NULL AND p.sent_at IS NULL
                        AND p.topic = o.topic AND p.key = o.key AND p.id < o.id)
    ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
""")

_MARK_SENT = text("UPDATE outbox SET sent_at = now() WHERE id = ANY(:ids)")
_PARK = text("UPDATE outbox SET parked_at = now(), park_reason = :reason WHERE id = :id")

# What lag and readiness are read from: rows waiting to be sent (pending, and
# the age of the oldest), parked rows, and rows held behind a parked one.
LAG_QUERY = text("""
    SELECT count(*) FILTER (WHERE NOT held) AS pending,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE NOT held)), 0)
               AS oldest_seconds,
           count(*) FILTER (WHERE held) AS held
    FROM (SELECT o.created_at, EXISTS (SELECT 1 FROM outbox p
                                       WHERE p.parked_at IS NOT NULL AND p.sent_at IS NULL
                                         AND p.topic = o.topic AND p.key = o.key AND p.id < o.id) AS held
          FROM outbox o WHERE o.sent_at IS NULL AND o.parked_at IS NULL) unsent
""")
PARKED_COUNT = text("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NOT NULL")

_DELETE_SENT = text("""
    DELETE FROM outbox WHERE id IN (
        SELECT id FROM outbox WHERE sent_at < now() - CAST(:age AS interval) LIMIT :limit)
""")
_DELETE_INBOX = text("""
    DELETE FROM inbox WHERE ctid IN (
        SELECT ctid FROM inbox WHERE processed_at < now() - CAST(:age AS interval) LIMIT :limit)
""")

# Refusals that sending again cannot cure: the row is parked.
_PERMANENT = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.InvalidTopicError,
    kafka_errors.CorruptRecordException,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.UnsupportedForMessageFormatError,
    kafka_errors.PolicyViolationError,
    kafka_errors.InvalidTimestampError,
)


async def add_event(session: AsyncSession, event: Event, source: str) -> Envelope:
    """Queue `event` for publishing when the caller's transaction commits."""
    envelope = Envelope.new(event, source)
    await session.execute(
        _INSERT,
        {
            "event_id": envelope.id,
            "topic": event.topic,
            "key": event.key(),
            "headers": json.dumps(envelope.headers()),
            "payload": event.model_dump_json().encode(),
        },
    )
    return envelope


@dataclass(frozen=True)
class RelayPass:
    """What one pass of the relay did."""

    sent: int = 0
    parked: int = 0
    failed: int = 0  # left for a later pass (Kafka away, a timeout)
    claimed: int = 0


@dataclass(frozen=True)
class Retention:
    """How long sent outbox rows (they hold personal data) and inbox rows (the
    duplicate filter) are kept. The inbox must outlive the consumed topics'
    retention and the dead-letter topics' (90 days): a replayed dead letter goes
    back to its topic, and every consumer of it must still recognise it."""

    sent_outbox: timedelta = timedelta(days=7)
    inbox: timedelta = timedelta(days=100)
    every_seconds: float = 3600.0
    batch: int = 5000


class OutboxRelay:
    """Publishes a service's outbox rows to Kafka, woken by LISTEN/NOTIFY."""

    def __init__(
        self,
        engine: AsyncEngine,
        listen_dsn: str,
        bootstrap_servers: str,
        service: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 2.0,
        producer_options: dict[str, Any] | None = None,
        retention: Retention | None = None,
        send_timeout: float = 10.0,
        missing_topic_grace: float = 30.0,
    ) -> None:
        self._engine = engine
        self._listen_dsn = listen_dsn
        self._producer_options = {
            "bootstrap_servers": bootstrap_servers,
            "acks": "all",
            "enable_idempotence": True,
            "client_id": f"omsorg-{service}-outbox",
            **(producer_options or {}),
        }
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._retention = retention or Retention()
        # One lock id per service database: the relay leader.
        self._lock_id = zlib.crc32(f"outbox-relay:{service}".encode())
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None
        self._producer: AIOKafkaProducer | None = None
        self._topics: frozenset[str] = frozenset()  # known to exist
        self._absent_since: dict[str, float] = {}
        self._send_timeout = send_timeout
        self._missing_topic_grace = missing_topic_grace
        self._cleaned_at = 0.0
        self._in_pass = asyncio.Event()  # set while a pass publishes and marks
        self._stopping = False
        self.published = 0
        # For readiness: when a pass last completed without an infrastructure error.
        self.last_success = time.monotonic()
        self.failing_since: float | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop after the pass under way has marked what Kafka acknowledged (at
        most `grace_seconds`), so a graceful shutdown sends nothing twice."""
        self._stopping = True
        self._wake.set()  # out of an idle wait at once
        if self._task and self._in_pass.is_set():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_listener()
        await self._close_producer()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self._ensure_listener()
                self._in_pass.set()
                try:
                    outcome = await self.relay_once()
                finally:
                    self._in_pass.clear()
                await self._maybe_clean()
                if outcome.failed and not outcome.sent:
                    # Nothing moved: Kafka is away or the only keys left keep
                    # failing. When some keys flow, go on without a pause.
                    raise _PassFailed
                failures = 0
                self.failing_since = None
                self.last_success = time.monotonic()
                if outcome.claimed >= self._batch_size or outcome.failed:
                    continue  # more waiting: no sleep
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_poll)
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or PostgreSQL away: back off, keep the rows
                failures += 1
                self.failing_since = self.failing_since or time.monotonic()
                log.warning("outbox relay: %s; retrying", type(exc).__name__)
                if not isinstance(exc, _PassFailed):
                    await self._close_listener()
                if failures % 2 == 0:
                    # A fresh client after repeated failures: after a whole cluster
                    # restarted, the old one kept timing out for minutes (docs/drills.md).
                    await self._close_producer()
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))

    async def relay_once(self) -> RelayPass:
        """Publish one batch of unsent rows: acknowledged rows are marked sent,
        permanently refused ones parked, the rest left for the next pass."""
        producer = await self._ensure_producer()
        async with self._engine.begin() as conn:
            got_lock = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": self._lock_id})
            if not got_lock:
                return RelayPass()
            rows = (await conn.execute(_CLAIM, {"limit": self._batch_size})).all()
            if not rows:
                return RelayPass()
            missing, absent = await self._missing_topics(producer, {row.topic for row in rows})
            by_key: dict[tuple[str, str], list[Any]] = {}
            for row in rows:
                by_key.setdefault((row.topic, row.key), []).append(row)
            results = await asyncio.gather(
                *(self._publish_in_order(producer, group, missing, absent) for group in by_key.values())
            )
            sent = [row_id for group in results for row_id in group.sent]
            parked = [p for group in results for p in group.parked]
            if sent:
                await conn.execute(_MARK_SENT, {"ids": sent})
            for row_id, reason in parked:
                await conn.execute(_PARK, {"id": row_id, "reason": reason})
        failed = sum(group.failed for group in results)
        self.published += len(sent)
        PUBLISHED.inc(len(sent))
        for _, reason in parked:
            PARKED.labels(reason.split(":")[0]).inc()
            log.error(
                "outbox: a row was parked (%s); later rows of its key wait. "
                "See python -m shared.outbox_admin list",
                reason,
            )
        return RelayPass(sent=len(sent), parked=len(parked), failed=failed, claimed=len(rows))

    async def _publish_in_order(
        self, producer: AIOKafkaProducer, rows: Sequence[Any], missing: frozenset[str], absent: frozenset[str]
    ) -> _GroupResult:
        """Send one key's rows one after the other; stop at the first that fails,
        so no later event of the key can overtake it. Each send waits at most
        `send_timeout` for Kafka's acknowledgement, so a partition without a
        leader delays the pass, and the other keys' marking, only that long."""
        result = _GroupResult()
        for row in rows:
            if row.topic in missing:
                result.parked.append((row.id, "missing-topic: the topic does not exist"))
                return result
            if row.topic in absent:
                result.failed = len(rows) - len(result.sent)  # not parked yet: maybe just created
                return result
            try:
                headers = [(k, str(v).encode()) for k, v in row.headers.items()]
                delivery = await producer.send(row.topic, row.payload, key=row.key.encode(), headers=headers)
                # shield: on a timeout the record may still be delivered; it is sent
                # again next pass (the inbox drops the copy), never before it.
                try:
                    await asyncio.wait_for(asyncio.shield(delivery), self._send_timeout)
                except TimeoutError:
                    # Its outcome no longer matters (the row goes again): read it
                    # when it comes, so it is not logged as never retrieved.
                    delivery.add_done_callback(_ignore_outcome)
                    raise
            except _PERMANENT as exc:
                result.parked.append((row.id, f"refused: {type(exc).__name__}"))
                return result
            except (kafka_errors.KafkaError, TimeoutError) as exc:
                log.warning("outbox: %s on a send; the key waits for the next pass", type(exc).__name__)
                result.failed = len(rows) - len(result.sent)
                return result
            result.sent.append(row.id)
        return result

    async def _missing_topics(
        self, producer: AIOKafkaProducer, topics: set[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """(missing for good, absent for now): topics the cluster's metadata has
        not listed for `missing_topic_grace` seconds, and those absent for less
        (a topic just created, a broker in failover). Fresh metadata is fetched
        whenever a topic is not known to exist; a failed fetch means Kafka is away."""
        if topics <= self._topics:
            return frozenset(), frozenset()
        metadata = await producer.client.fetch_all_metadata()
        self._topics = frozenset(metadata.topics())
        now = time.monotonic()
        for topic in self._topics:
            self._absent_since.pop(topic, None)
        missing: set[str] = set()
        absent: set[str] = set()
        for topic in topics - self._topics:
            since = self._absent_since.setdefault(topic, now)
            (missing if now - since >= self._missing_topic_grace else absent).add(topic)
        return frozenset(missing), frozenset(absent)

    async def _maybe_clean(self) -> None:
        """Delete sent outbox rows and old inbox rows past their retention, in
        small batches, at most once per `every_seconds`."""
        if time.monotonic() - self._cleaned_at < self._retention.every_seconds:
            return
        self._cleaned_at = time.monotonic()
        await clean(self._engine, self._retention)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(**self._producer_options)
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
            self._producer = None

    async def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = await asyncpg.connect(self._listen_dsn)
            await self._listener.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())

    async def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
            self._listener = None


async def clean(engine: AsyncEngine, retention: Retention) -> tuple[int, int]:
    """Delete sent outbox rows and inbox rows older than their retention;
    returns how many of each were deleted."""
    deleted = [0, 0]
    for i, (statement, age) in enumerate(
        ((_DELETE_SENT, retention.sent_outbox), (_DELETE_INBOX, retention.inbox))
    ):
        while True:
            async with engine.begin() as conn:
                n = (await conn.execute(statement, {"age": age, "limit": retention.batch})).rowcount
            deleted[i] += n
            if n < retention.batch:
                break
    return deleted[0], deleted[1]


@dataclass
class _GroupResult:
    sent: list[int] = field(default_factory=list)
    parked: list[tuple[int, str]] = field(default_factory=list)
    failed: int = 0


def _ignore_outcome(delivery: asyncio.Future[Any]) -> None:
    if not delivery.cancelled():
        delivery.exception()


class _PassFailed(Exception):
    """Some rows could not be sent this pass: back off before the next."""
