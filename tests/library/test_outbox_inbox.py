"""The delivery guarantees of shared.outbox and shared.inbox, against real
PostgreSQL and real Kafka: nothing lost, nothing reordered, nothing done twice,
poison goes to the dead-letter topic and the partition moves on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from alembic.migration import MigrationContext
from alembic.operations import Operations
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conftest import Infrastructure, eventually
from shared import dlq
from shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from shared.events import Envelope, Event
from shared.inbox import InboxConsumer, dlq_topic
from shared.infra_tables import create_infrastructure_tables
from shared.outbox import OutboxRelay, add_event


class Ping(Event):
    ce_type = "se.omsorg.test.ping.v1"
    topic = "unset"
    key_field = "aggregate"

    aggregate: str
    seq: int


def ping_on(topic_name: str) -> type[Ping]:
    return type("PingOnTopic", (Ping,), {"topic": topic_name})


@pytest.fixture(scope="module")
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infrastructure.test_database_url, pool_size=5)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))

        def create(sync_conn: Any) -> None:
            with Operations.context(MigrationContext.configure(sync_conn)):
                create_infrastructure_tables()

        await conn.run_sync(create)
        await conn.execute(text("CREATE TABLE effects (aggregate text PRIMARY KEY, n int NOT NULL)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def topic(infrastructure: Infrastructure) -> str:
    name = f"test.pings-{uuid.uuid4().hex[:10]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 3, 1), NewTopic(dlq_topic(name, "tester"), 1, 1)])
    finally:
        await admin.close()
    return name


def new_broker(infra: Infrastructure) -> KafkaBroker:
    return KafkaBroker(infra.kafka_bootstrap, acks="all", enable_idempotence=True,
                       allow_auto_create_topics=False)


async def read_all(infra: Infrastructure, topic: str, expected: int, timeout: float = 30
                   ) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def bump(session: AsyncSession, event: Ping, _envelope: Envelope) -> None:
    """The effect under test: a counter per aggregate."""
    if event.aggregate == "explode":
        raise RuntimeError("handler always fails for this one")
    await session.execute(text("""
        INSERT INTO effects (aggregate, n) VALUES (:a, 1)
        ON CONFLICT (aggregate) DO UPDATE SET n = effects.n + 1
    """), {"a": event.aggregate})


async def effect_count(sessionmaker: async_sessionmaker[AsyncSession], aggregate: str) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(
            text("SELECT coalesce(max(n), 0) FROM effects WHERE aggregate = :a"), {"a": aggregate}) or 0)


async def test_relay_restarted_mid_stream_loses_nothing_and_keeps_key_order(
        infrastructure: Infrastructure, engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession], topic: str) -> None:
    contract = ping_on(topic)
    keys = [f"agg-{uuid.uuid4().hex[:6]}-{i}" for i in range(6)]
    total = 600
    for start in range(0, total, 100):  # six transactions, as six requests would
        async with sessionmaker() as session, session.begin():
            for seq in range(start, start + 100):
                await add_event(session, contract(aggregate=keys[seq % 6], seq=seq), "/test")

    async def start_relay() -> tuple[KafkaBroker, OutboxRelay]:
        broker = new_broker(infrastructure)
        await broker.start()
        relay = OutboxRelay(engine, asyncpg_dsn(infrastructure.test_database_url), broker, "test",
                            batch_size=40)
        relay.start()
        return broker, relay

    broker, first = await start_relay()

    async def some_sent() -> bool:
        return first.published >= 120

    await eventually(some_sent)
    await first.stop()  # stopped mid-stream, possibly between publish and mark
    await broker.stop()
    assert first.published < total, "the relay was meant to stop before the end"

    broker, second = await start_relay()

    async def all_marked_sent() -> bool:
        async with sessionmaker() as session:
            return await session.scalar(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")) == 0

    await eventually(all_marked_sent, timeout=30)
    await second.stop()
    await broker.stop()

    records = await read_all(infrastructure, topic, total)
    seen: dict[str, list[int]] = {}
    ids = set()
    for record in records:
        headers = dict(record.headers)
        event = contract.model_validate_json(record.value)
        ids.add(headers["ce_id"].decode())
        assert record.key.decode() == event.aggregate
        if event.seq not in seen.setdefault(event.aggregate, []):
            seen[event.aggregate].append(event.seq)
    assert sum(len(v) for v in seen.values()) == total, "an event was lost"
    for key in keys:
        assert seen[key] == sorted(seen[key]), f"events of {key} were reordered"
    assert len(ids) == total


async def publish_raw(broker: KafkaBroker, topic: str, event: Event | None, *,
                      envelope: Envelope | None = None, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> Envelope | None:
    if event is not None:
        envelope = envelope or Envelope.new(event, "/test")
        await broker.publish(event.model_dump_json().encode(), topic, key=event.key().encode(),
                             headers=envelope.headers())
        return envelope
    await broker.publish(body or b"", topic, key=b"poison", headers=headers or {})
    return None


async def start_consumer(infra: Infrastructure, sessionmaker: async_sessionmaker[AsyncSession],
                         topic: str, handler: Any, **options: Any) -> tuple[KafkaBroker, InboxConsumer]:
    """A started broker with an inbox consumer in group "tester" on `topic`."""
    after_db_commit = options.pop("after_db_commit", None)
    broker = new_broker(infra)
    consumer = InboxConsumer(broker, sessionmaker, "tester", **options)
    consumer.after_db_commit = after_db_commit
    consumer.subscribe(topic, {ping_on(topic): handler})
    await broker.start()
    return broker, consumer


async def test_same_event_delivered_twice_changes_state_once(
        infrastructure: Infrastructure, sessionmaker: async_sessionmaker[AsyncSession],
        topic: str) -> None:
    contract = ping_on(topic)
    aggregate = f"dup-{uuid.uuid4().hex[:8]}"
    broker, consumer = await start_consumer(infrastructure, sessionmaker, topic, bump)
    try:
        event = contract(aggregate=aggregate, seq=1)
        envelope = await publish_raw(broker, topic, event)
        await publish_raw(broker, topic, event, envelope=envelope)  # the very same event again

        async def both_seen() -> bool:
            return consumer.stats.handled + consumer.stats.duplicates >= 2

        await eventually(both_seen)
    finally:
        await broker.stop()
    assert consumer.stats.duplicates == 1
    assert await effect_count(sessionmaker, aggregate) == 1


class SimulatedCrash(Exception):
    pass


async def test_crash_after_db_commit_before_offset_commit_does_not_double_the_effect(
        infrastructure: Infrastructure, sessionmaker: async_sessionmaker[AsyncSession],
        topic: str) -> None:
    contract = ping_on(topic)
    aggregate = f"crash-{uuid.uuid4().hex[:8]}"

    async def crash(_envelope: Envelope) -> None:
        raise SimulatedCrash

    first_broker, first = await start_consumer(infrastructure, sessionmaker, topic, bump,
                                               after_db_commit=crash)
    await publish_raw(first_broker, topic, contract(aggregate=aggregate, seq=1))

    async def handled_once() -> bool:
        return first.stats.handled == 1

    await eventually(handled_once)
    await first_broker.stop()  # the process "dies": its offset was never committed
    assert await effect_count(sessionmaker, aggregate) == 1

    second_broker, second = await start_consumer(infrastructure, sessionmaker, topic, bump)
    try:
        async def redelivered() -> bool:
            return second.stats.duplicates >= 1

        await eventually(redelivered, timeout=20)
    finally:
        await second_broker.stop()
    assert second.stats.handled == 0
    assert await effect_count(sessionmaker, aggregate) == 1


async def test_poison_events_go_to_the_dead_letter_topic_and_the_partition_moves_on(
        infrastructure: Infrastructure, sessionmaker: async_sessionmaker[AsyncSession],
        topic: str) -> None:
    contract = ping_on(topic)
    good = f"good-{uuid.uuid4().hex[:8]}"
    broker, consumer = await start_consumer(infrastructure, sessionmaker, topic, bump,
                                            max_attempts=3, backoff_seconds=0.01)
    try:
        # 1. no envelope at all; 2. an envelope but a body that is not the contract;
        # 3. a valid event whose handler always fails; 4. a good event after them.
        await publish_raw(broker, topic, None, body=b"not json at all")
        bad_body_headers = Envelope.new(contract(aggregate="x", seq=0), "/test").headers()
        await publish_raw(broker, topic, None, body=b'{"aggregate": 5}', headers=bad_body_headers)
        await publish_raw(broker, topic, contract(aggregate="explode", seq=1))
        await publish_raw(broker, topic, contract(aggregate=good, seq=2))

        async def all_dealt_with() -> bool:
            return consumer.stats.dead_lettered == 3 and consumer.stats.handled == 1

        await eventually(all_dealt_with, timeout=20)
    finally:
        await broker.stop()
    assert await effect_count(sessionmaker, good) == 1
    assert await effect_count(sessionmaker, "explode") == 0

    letters = await read_all(infrastructure, dlq_topic(topic, "tester"), 3)
    errors = sorted(dict(r.headers)["dlq_error"].decode() for r in letters)
    assert len(errors) == 3
    assert errors[0].startswith("handler failed 3 times: RuntimeError")
    assert errors[1].startswith("unparseable record: ValidationError: aggregate: string_type")
    assert errors[2].startswith("unparseable record: ValueError: missing header")
    assert all(dict(r.headers)["dlq_topic"].decode() == topic for r in letters)
    assert b"not json at all" in {r.value for r in letters}


async def test_dead_letters_are_listed_and_replayed_once_the_cause_is_fixed(
        infrastructure: Infrastructure, sessionmaker: async_sessionmaker[AsyncSession],
        topic: str) -> None:
    contract = ping_on(topic)
    aggregate = f"later-{uuid.uuid4().hex[:8]}"
    cause_fixed = False

    async def needs_fix(session: AsyncSession, event: Ping, envelope: Envelope) -> None:
        if not cause_fixed:
            raise LookupError("a precondition is missing")
        await bump(session, event, envelope)

    broker, consumer = await start_consumer(infrastructure, sessionmaker, topic, needs_fix,
                                            max_attempts=2, backoff_seconds=0.01)
    try:
        envelope = await publish_raw(broker, topic, contract(aggregate=aggregate, seq=1))

        async def dead_lettered() -> bool:
            return consumer.stats.dead_lettered == 1

        await eventually(dead_lettered)
        letters = await dlq.list_dead_letters(infrastructure.kafka_bootstrap, dlq_topic(topic, "tester"))
        assert [(d.ce_id, d.error) for d in letters] == [
            (str(envelope.id), "handler failed 2 times: LookupError")]  # type: ignore[union-attr]

        cause_fixed = True
        assert await dlq.replay(infrastructure.kafka_bootstrap, dlq_topic(topic, "tester")) == 1
        assert await dlq.replay(infrastructure.kafka_bootstrap, dlq_topic(topic, "tester")) == 0

        async def handled() -> bool:
            return consumer.stats.handled == 1

        await eventually(handled)
    finally:
        await broker.stop()
    assert await effect_count(sessionmaker, aggregate) == 1
