"""Inbox consumer: the one way a service consumes events.

Records come in batches (what one poll returned, up to `batch_size`). Each
record's CloudEvents envelope and contract are parsed, then in ONE database
transaction the batch's `(event id, consumer)` pairs are claimed in the inbox
with one statement and the handlers run in partition order for the claimed
ones; the offsets are committed only after that transaction committed. A
redelivered event finds its inbox row and changes nothing. One transaction per
batch instead of per record is what lets a consumer keep up at hundreds of
events a second.

A batch that cannot go through as a whole (a record that does not parse, a
handler that fails for a reason of its own) is rolled back entirely and handled
again record by record, each in its own transaction, so one bad record costs
only itself.

Every record ends up handled, ignored (another consumer's type) or in
`<topic>.dlq.<consumer>` — never skipped:
- a record that does not parse, or whose handler keeps failing for a reason of
  its own, is retried a bounded number of times and then dead-lettered;
- an infrastructure failure (PostgreSQL or Kafka away, the pool exhausted, a
  serialization conflict) is not the record's fault: the partition is rewound
  to the record and paused, then resumed after a growing pause, without limit.
  A dead-letter publish that fails counts as such a failure;
- nothing escapes to FastStream (which would log it and let the next commit
  move past the record): an unexpected error rewinds and pauses too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka import errors as kafka_errors
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import KNOWN_TYPES, ContractRegistry, Envelope, EnvelopeError, Event
from shared.infra_errors import is_infrastructure_error

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]

EVENTS = Counter(
    "omsorg_consumer_events_total", "Consumed records by outcome", ["consumer", "topic", "outcome"]
)
UNKNOWN_TYPES = Counter(
    "omsorg_consumer_unknown_types_total",
    "Records of a ce_type no contract here knows (a newer producer?)",
    ["consumer", "topic", "ce_type"],
)
PAUSED = Gauge(
    "omsorg_consumer_paused_partitions", "Partitions paused while the infrastructure is away", ["consumer"]
)

_CLAIM = text("""
    INSERT INTO inbox (event_id, consumer, ce_type, topic, partition, "offset")
    VALUES (:event_id, :consumer, :ce_type, :topic, :partition, :offset)
    ON CONFLICT DO NOTHING RETURNING 1
""")

# A whole batch in one round trip; the ids returned are the ones not seen before
# (a duplicate inside the batch itself is claimed once).
_CLAIM_BATCH = text("""
    INSERT INTO inbox (event_id, consumer, ce_type, topic, partition, "offset")
    SELECT event_id, :consumer, ce_type, topic, partition, "offset"
    FROM unnest(CAST(:event_ids AS uuid[]), CAST(:ce_types AS text[]), CAST(:topics AS text[]),
                CAST(:partitions AS integer[]), CAST(:offsets AS bigint[]))
         AS batch(event_id, ce_type, topic, partition, "offset")
    ON CONFLICT DO NOTHING RETURNING event_id
""")


def dlq_topic(topic: str, consumer: str) -> str:
    return f"{topic}.dlq.{consumer}"


def describe_error(exc: BaseException) -> str:
    """The error without input values or handler messages, which may quote
    personal data: field locations and error types for a validation error, our
    own header names for an envelope error, else the type name only."""
    if isinstance(exc, ValidationError):
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
        return f"ValidationError: {fields}"
    if isinstance(exc, EnvelopeError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    ignored: int = 0
    unknown: int = 0
    retried_later: int = 0  # records rewound behind a paused partition
    batches: int = 0  # transactions that handled a whole batch


@dataclass
class _Pause:
    since: float
    consumer: AIOKafkaConsumer
    failures: int = 0
    resume_handle: asyncio.TimerHandle | None = field(default=None, repr=False)


async def _tolerant_parser(
    records: tuple[ConsumerRecord[Any, Any], ...],
    original: Callable[[Any], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's parser decodes every header value as UTF-8 and would drop a
    batch with a broken or null one (Kafka allows null header values); such a
    batch is parsed with its headers made readable, so every record still
    reaches `process_batch` (which dead-letters the bad one), raw headers intact."""
    try:
        return await original(records)
    except Exception:
        readable = tuple(replace(r, headers=_readable(r.headers)) for r in records)
        message = await original(readable)
        message.raw_message = records
        return message


def _readable(headers: Any) -> list[tuple[str, bytes]]:
    return [(k, (v or b"").decode(errors="replace").encode()) for k, v in headers or ()]


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    """No decoding by FastStream: `content-type: application/json` would make it
    decode the body itself and drop a record that is not JSON."""
    return message.body


class InboxConsumer:
    """Subscribes one consumer group to topics and runs handlers exactly-once in effect."""

    def __init__(
        self,
        broker: KafkaBroker,
        sessionmaker: async_sessionmaker[AsyncSession],
        consumer: str,
        max_attempts: int = 5,
        backoff_seconds: float = 0.2,
        max_pause_seconds: float = 30.0,
        dlq_timeout_seconds: float = 15.0,
        batch_size: int = 200,
        batch_wait_ms: int = 20,
    ) -> None:
        self.broker = broker
        self.sessionmaker = sessionmaker
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_pause_seconds = max_pause_seconds
        self.dlq_timeout_seconds = dlq_timeout_seconds
        # At most this many records per transaction; a poll that finds nothing
        # waits `batch_wait_ms` (and FastStream as long again) before the next,
        # which bounds the latency an idle consumer adds.
        self.batch_size = batch_size
        self.batch_wait_ms = batch_wait_ms
        self.stats = ConsumerStats()
        self.subscribers: list[Any] = []
        self._pauses: dict[TopicPartition, _Pause] = {}
        self._warned_types: set[str] = set()
        # Test seam for crash drills: called after the DB commit, before the
        # offset commit. Raising here simulates a crash between the two.
        self.after_db_commit: Callable[[Envelope], Awaitable[None]] | None = None

    def subscribe(self, topic: str, handlers: dict[type[Event], Handler]) -> None:
        registry = ContractRegistry(*handlers)
        by_type = {contract.ce_type: handler for contract, handler in handlers.items()}

        subscriber = self.broker.subscriber(
            topic,
            group_id=self.consumer,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self.batch_size,
            batch_timeout_ms=self.batch_wait_ms,
            parser=_tolerant_parser,
            decoder=_raw_body,
            title=f"{topic}:{self.consumer}",
            description=f"Consumed by {self.consumer} through its inbox: " + ", ".join(sorted(by_type)),
        )

        @subscriber
        async def on_batch(msg: KafkaMessage) -> None:
            records = cast("tuple[ConsumerRecord[Any, Any], ...]", msg.raw_message)
            consumer = cast(AIOKafkaConsumer, msg.consumer)
            try:
                held = await self.process_batch(records, registry, by_type)
            except Exception as exc:  # our own bug: never skip a record for it
                log.error(
                    "consumer %s: unexpected %s on a batch of %d from %s; it will be retried",
                    self.consumer,
                    type(exc).__name__,
                    len(records),
                    topic,
                )
                held = _first_per_partition(records)
            for record in held.values():
                self._rewind_and_pause(consumer, record)
            for tp in {TopicPartition(r.topic, r.partition) for r in records} - held.keys():
                self._resumed(tp)
            try:
                # Commits every partition's position: past the batch, or back
                # at the record a held partition is rewound to.
                await msg.ack()
            except kafka_errors.KafkaError as exc:
                # Handled and in the inbox: a redelivery after this is a duplicate.
                log.warning("consumer %s: offset commit failed (%s)", self.consumer, type(exc).__name__)

        self.subscribers.append(subscriber)

    # -- health ------------------------------------------------------------

    def problems(self, stuck_after_seconds: float) -> list[str]:
        """What readiness reports: stopped subscribers, partitions paused too long."""
        found = [
            f"consumer {self.consumer} stopped on {', '.join(s.topic_names)}"
            for s in self.subscribers
            if not s.running
        ]
        for tp, pause in list(self._pauses.items()):
            if tp not in pause.consumer.assignment():  # taken over by another replica
                self._resumed(tp)
        now = time.monotonic()
        found += [
            f"consumer {self.consumer} paused on {tp.topic}/{tp.partition} for {int(now - pause.since)} s"
            for tp, pause in self._pauses.items()
            if now - pause.since > stuck_after_seconds
        ]
        return found

    # -- a batch -----------------------------------------------------------

    async def process_batch(
        self,
        records: Sequence[ConsumerRecord[Any, Any]],
        registry: ContractRegistry,
        by_type: dict[str, Handler],
    ) -> dict[TopicPartition, ConsumerRecord[Any, Any]]:
        """Handle a batch in one transaction, or record by record when it cannot
        go through whole. Returns the partitions to retry later (infrastructure
        away), each with the record to start again from; empty when all is done."""
        ours: list[tuple[ConsumerRecord[Any, Any], Envelope, Event]] = []
        not_ours: list[tuple[ConsumerRecord[Any, Any], str]] = []
        for record in records:
            try:
                envelope = Envelope.from_headers({k: v for k, v in (record.headers or ())})
                contract = registry.get(envelope.type)
                if contract is None:
                    not_ours.append((record, envelope.type))
                    continue
                ours.append((record, envelope, contract.model_validate_json(record.value or b"")))
            except (EnvelopeError, ValidationError):
                # A record to dead-letter: let each record take its own path.
                return await self._one_by_one(records, registry, by_type)
        if ours:
            try:
                duplicates = await self._handle_batch(ours, by_type)
            except Exception as exc:
                if is_infrastructure_error(exc):
                    log.warning(
                        "consumer %s: %s (infrastructure) on a batch of %d; pausing",
                        self.consumer,
                        type(exc).__name__,
                        len(records),
                    )
                    return _first_per_partition(records)
                log.warning(
                    "consumer %s: %s in a batch of %d; handling it record by record",
                    self.consumer,
                    type(exc).__name__,
                    len(records),
                )
                return await self._one_by_one(records, registry, by_type)
        else:
            duplicates = []
        for record, ce_type in not_ours:
            self._not_ours(record, ce_type)
        for (record, _, _), duplicate in zip(ours, duplicates, strict=True):
            if duplicate:
                self.stats.duplicates += 1
            else:
                self.stats.handled += 1
            EVENTS.labels(self.consumer, record.topic, "duplicate" if duplicate else "handled").inc()
        if ours:
            self.stats.batches += 1
        if self.after_db_commit is not None:
            for _, envelope, _ in ours:
                await self.after_db_commit(envelope)
        return {}

    async def _handle_batch(
        self, ours: list[tuple[ConsumerRecord[Any, Any], Envelope, Event]], by_type: dict[str, Handler]
    ) -> list[bool]:
        """Claim the batch's events in the inbox and run the handlers of the
        claimed ones, in order, in one transaction. Returns, per record, whether
        it was a duplicate."""
        async with self.sessionmaker() as session, session.begin():
            claimed = set(
                (
                    await session.scalars(
                        _CLAIM_BATCH,
                        {
                            "consumer": self.consumer,
                            "event_ids": [envelope.id for _, envelope, _ in ours],
                            "ce_types": [envelope.type for _, envelope, _ in ours],
                            "topics": [record.topic for record, _, _ in ours],
                            "partitions": [record.partition for record, _, _ in ours],
                            "offsets": [record.offset for record, _, _ in ours],
                        },
                    )
                ).all()
            )
            duplicates: list[bool] = []
            for _, envelope, event in ours:
                duplicates.append(envelope.id not in claimed)
                if envelope.id in claimed:
                    claimed.discard(envelope.id)  # the same event twice in one batch runs once
                    await by_type[envelope.type](session, event, envelope)
        return duplicates

    async def _one_by_one(
        self,
        records: Sequence[ConsumerRecord[Any, Any]],
        registry: ContractRegistry,
        by_type: dict[str, Handler],
    ) -> dict[TopicPartition, ConsumerRecord[Any, Any]]:
        """Each record in its own transaction; a partition whose record must wait
        for the infrastructure holds the rest of its records back."""
        held: dict[TopicPartition, ConsumerRecord[Any, Any]] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            if tp in held:
                continue
            try:
                done = await self.process(record, registry, by_type)
            except Exception as exc:  # our own bug: never skip the record for it
                log.error(
                    "consumer %s: unexpected %s on %s/%d@%d; it will be retried",
                    self.consumer,
                    type(exc).__name__,
                    record.topic,
                    record.partition,
                    record.offset,
                )
                done = False
            if not done:
                held[tp] = record
        return held

    # -- one record --------------------------------------------------------

    async def process(
        self, record: ConsumerRecord[Any, Any], registry: ContractRegistry, by_type: dict[str, Handler]
    ) -> bool:
        """Handle one record. True once it is handled, a duplicate, ignored or
        dead-lettered; False when it must be retried later (infrastructure away)."""
        body: bytes = record.value or b""
        headers = {k: v for k, v in (record.headers or ())}
        try:
            envelope = Envelope.from_headers(headers)
            contract = registry.get(envelope.type)
            if contract is None:
                self._not_ours(record, envelope.type)
                return True
            event = contract.model_validate_json(body)
        except (EnvelopeError, ValidationError) as exc:
            return await self._dead_letter(record, body, f"unparseable record: {describe_error(exc)}")

        handler = by_type[envelope.type]
        for attempt in range(1, self.max_attempts + 1):
            try:
                duplicate = await self._handle_once(record, envelope, event, handler)
                break
            except Exception as exc:
                if is_infrastructure_error(exc):
                    log.warning(
                        "consumer %s: %s (infrastructure); pausing %s/%d",
                        self.consumer,
                        type(exc).__name__,
                        record.topic,
                        record.partition,
                    )
                    return False
                if attempt == self.max_attempts:
                    return await self._dead_letter(
                        record, body, f"handler failed {attempt} times: {describe_error(exc)}"
                    )
                log.warning(
                    "consumer %s: %s on attempt %d, retrying", self.consumer, type(exc).__name__, attempt
                )
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        if duplicate:
            self.stats.duplicates += 1
        else:
            self.stats.handled += 1
        EVENTS.labels(self.consumer, record.topic, "duplicate" if duplicate else "handled").inc()
        if self.after_db_commit is not None:
            await self.after_db_commit(envelope)
        return True

    def _not_ours(self, record: ConsumerRecord[Any, Any], ce_type: str) -> None:
        if ce_type in KNOWN_TYPES:  # another consumer's event on a shared topic
            self.stats.ignored += 1
            EVENTS.labels(self.consumer, record.topic, "ignored").inc()
            return
        self.stats.unknown += 1
        UNKNOWN_TYPES.labels(self.consumer, record.topic, ce_type[:200]).inc()
        if ce_type not in self._warned_types:  # once per type, not per record
            self._warned_types.add(ce_type)
            log.warning(
                "consumer %s: unknown ce_type %r on %s, skipped (a newer producer?)",
                self.consumer,
                ce_type[:200],
                record.topic,
            )

    async def _handle_once(
        self, record: ConsumerRecord[Any, Any], envelope: Envelope, event: Event, handler: Handler
    ) -> bool:
        async with self.sessionmaker() as session, session.begin():
            claimed = await session.scalar(
                _CLAIM,
                {
                    "event_id": envelope.id,
                    "consumer": self.consumer,
                    "ce_type": envelope.type,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                },
            )
            if claimed is None:
                return True
            await handler(session, event, envelope)
        return False

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], body: bytes, error: str) -> bool:
        """Publish the record to its dead-letter topic; False if Kafka did not
        confirm it in time (the record is then retried later, never skipped)."""
        headers = {k: (v or b"").decode(errors="replace") for k, v in (record.headers or ())}
        headers.update(
            {
                "dlq_error": error[:1000],
                "dlq_consumer": self.consumer,
                "dlq_topic": record.topic,
                "dlq_partition": str(record.partition),
                "dlq_offset": str(record.offset),
            }
        )
        try:
            # Awaited with confirmation: the offset moves on only once the dead
            # letter is safely in Kafka.
            await asyncio.wait_for(
                self.broker.publish(
                    body, dlq_topic(record.topic, self.consumer), key=record.key, headers=headers
                ),
                self.dlq_timeout_seconds,
            )
        except Exception as exc:
            log.warning(
                "consumer %s: dead-letter publish for %s/%d@%d failed (%s); pausing",
                self.consumer,
                record.topic,
                record.partition,
                record.offset,
                type(exc).__name__,
            )
            return False
        self.stats.dead_lettered += 1
        EVENTS.labels(self.consumer, record.topic, "dead_lettered").inc()
        log.error(
            "consumer %s: record %s/%d@%d dead-lettered (%s)",
            self.consumer,
            record.topic,
            record.partition,
            record.offset,
            error,
        )
        return True

    # -- pausing -----------------------------------------------------------

    def _rewind_and_pause(self, consumer: AIOKafkaConsumer, record: ConsumerRecord[Any, Any]) -> None:
        """Point the partition back at `record` and stop fetching it for a while;
        the next commit cannot move past it, and the record comes again."""
        tp = TopicPartition(record.topic, record.partition)
        self.stats.retried_later += 1
        EVENTS.labels(self.consumer, record.topic, "retried_later").inc()
        if tp not in consumer.assignment():
            # Revoked while the record was in hand: its new owner starts at the
            # committed offset, which is not past this record.
            self._resumed(tp)
            return
        consumer.seek(tp, record.offset)
        consumer.pause(tp)
        pause = self._pauses.setdefault(tp, _Pause(since=time.monotonic(), consumer=consumer))
        delay = min(self.backoff_seconds * 2**pause.failures, self.max_pause_seconds)
        pause.failures += 1
        PAUSED.labels(self.consumer).set(len(self._pauses))
        if pause.resume_handle is not None:
            pause.resume_handle.cancel()
        pause.resume_handle = asyncio.get_running_loop().call_later(delay, self._resume, consumer, tp)

    def _resume(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        if tp in consumer.paused():
            consumer.resume(tp)

    def _resumed(self, tp: TopicPartition) -> None:
        pause = self._pauses.pop(tp, None)
        if pause is not None:
            if pause.resume_handle is not None:
                pause.resume_handle.cancel()
            PAUSED.labels(self.consumer).set(len(self._pauses))
            log.info(
                "consumer %s: %s/%d flows again after %.1f s",
                self.consumer,
                tp.topic,
                tp.partition,
                time.monotonic() - pause.since,
            )


def _first_per_partition(
    records: Sequence[ConsumerRecord[Any, Any]],
) -> dict[TopicPartition, ConsumerRecord[Any, Any]]:
    """The earliest record of each partition in a batch: where to start again."""
    first: dict[TopicPartition, ConsumerRecord[Any, Any]] = {}
    for record in records:
        first.setdefault(TopicPartition(record.topic, record.partition), record)
    return first
