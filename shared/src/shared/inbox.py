"""Inbox consumer: the one way a service consumes events.

For each Kafka record: parse the CloudEvents envelope and the contract, then in
ONE database transaction record `(event id, consumer)` in the inbox and run the
handler; commit the offset only after that transaction committed. A redelivered
event finds its inbox row and changes nothing. A handler that keeps failing is
retried with backoff a bounded number of times; then, as for a record that does
not parse, the record goes to `<topic>.dlq.<consumer>` with the error and the
partition moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import ContractRegistry, Envelope, Event

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]

_CLAIM = text("""
    INSERT INTO inbox (event_id, consumer, ce_type, topic, partition, "offset")
    VALUES (:event_id, :consumer, :ce_type, :topic, :partition, :offset)
    ON CONFLICT DO NOTHING RETURNING 1
""")


def dlq_topic(topic: str, consumer: str) -> str:
    return f"{topic}.dlq.{consumer}"


def describe_error(exc: BaseException) -> str:
    """The error without the input values, which may be personal data."""
    if isinstance(exc, ValidationError):
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
        return f"ValidationError: {fields}"
    if isinstance(exc, ValueError):  # envelope errors: our own messages about headers
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__  # a handler's message may quote personal data


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    ignored: int = 0


class InboxConsumer:
    """Subscribes one consumer group to topics and runs handlers exactly-once in effect."""

    def __init__(self, broker: KafkaBroker, sessionmaker: async_sessionmaker[AsyncSession],
                 consumer: str, max_attempts: int = 5, backoff_seconds: float = 0.2) -> None:
        self.broker = broker
        self.sessionmaker = sessionmaker
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.stats = ConsumerStats()
        # Test seam for crash drills: called after the DB commit, before the
        # offset commit. Raising here simulates a crash between the two.
        self.after_db_commit: Callable[[Envelope], Awaitable[None]] | None = None

    def subscribe(self, topic: str, handlers: dict[type[Event], Handler]) -> None:
        registry = ContractRegistry(*handlers)
        by_type = {contract.ce_type: handler for contract, handler in handlers.items()}

        @self.broker.subscriber(
            topic, group_id=self.consumer, ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest", title=f"{topic}:{self.consumer}",
            description=f"Consumed by {self.consumer} through its inbox: "
                        + ", ".join(sorted(by_type)),
        )
        async def on_record(msg: KafkaMessage) -> None:
            record: ConsumerRecord[Any, Any] = msg.raw_message  # type: ignore[assignment]
            await self.process(record, msg.body, registry, by_type)
            await msg.ack()

    async def process(self, record: ConsumerRecord[Any, Any], body: bytes, registry: ContractRegistry,
                      by_type: dict[str, Handler]) -> None:
        """Handle one record; returns once it is handled, a duplicate, ignored or dead-lettered."""
        headers = {k: v for k, v in (record.headers or ())}
        try:
            envelope = Envelope.from_headers(headers)
            contract = registry.get(envelope.type)
            if contract is None:
                # Another consumer's event type on a shared topic: not ours.
                self.stats.ignored += 1
                return
            event = contract.model_validate_json(body)
        except (ValueError, ValidationError) as exc:
            await self._dead_letter(record, body, f"unparseable record: {describe_error(exc)}")
            return

        handler = by_type[envelope.type]
        for attempt in range(1, self.max_attempts + 1):
            try:
                duplicate = await self._handle_once(record, envelope, event, handler)
                break
            except Exception as exc:
                if attempt == self.max_attempts:
                    await self._dead_letter(record, body, f"handler failed {attempt} times: "
                                            f"{describe_error(exc)}")
                    return
                log.warning("consumer %s: %s on attempt %d, retrying", self.consumer,
                            type(exc).__name__, attempt)
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        if duplicate:
            self.stats.duplicates += 1
        else:
            self.stats.handled += 1
        if self.after_db_commit is not None:
            await self.after_db_commit(envelope)

    async def _handle_once(self, record: ConsumerRecord[Any, Any], envelope: Envelope, event: Event,
                           handler: Handler) -> bool:
        async with self.sessionmaker() as session, session.begin():
            claimed = await session.scalar(_CLAIM, {
                "event_id": envelope.id, "consumer": self.consumer, "ce_type": envelope.type,
                "topic": record.topic, "partition": record.partition, "offset": record.offset,
            })
            if claimed is None:
                return True
            await handler(session, event, envelope)
        return False

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], body: bytes, error: str) -> None:
        headers = {k: (v.decode(errors="replace") if isinstance(v, bytes) else str(v))
                   for k, v in (record.headers or ())}
        headers.update({
            "dlq_error": error[:1000],
            "dlq_consumer": self.consumer,
            "dlq_topic": record.topic,
            "dlq_partition": str(record.partition),
            "dlq_offset": str(record.offset),
        })
        # Awaited with confirmation: the offset moves on only once the dead
        # letter is safely in Kafka.
        await self.broker.publish(body, dlq_topic(record.topic, self.consumer),
                                  key=record.key, headers=headers)
        self.stats.dead_lettered += 1
        log.error("consumer %s: record %s/%d@%d dead-lettered (%s)", self.consumer, record.topic,
                  record.partition, record.offset, error)
