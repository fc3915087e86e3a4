"""Operations command for dead letters: list them, and replay them to the topic
they came from once the cause is fixed. Payloads are never printed (personal
data); the listing shows position, type, event id and the recorded error.

    .venv/bin/python -m shared.dlq list intake.applications.v1.dlq.casework
    .venv/bin/python -m shared.dlq replay intake.applications.v1.dlq.casework

Replay reads with its own consumer group (`dlq-replay`) and commits after each
record is republished, so a dead letter is replayed once; the consumer's inbox
drops it should it ever arrive twice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.kafka_security import env_client_kwargs

REPLAY_GROUP = "dlq-replay"
DLQ_HEADERS = ("dlq_error", "dlq_consumer", "dlq_topic", "dlq_partition", "dlq_offset")


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    ce_type: str
    ce_id: str
    error: str
    origin: str


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: (v or b"").decode(errors="replace") for k, v in (record.headers or ())}


async def _assign_all(consumer: AIOKafkaConsumer, bootstrap: str, topic: str) -> list[TopicPartition]:
    # A producer asks the broker for one topic's partitions; a consumer without
    # a subscription would not know them.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **env_client_kwargs())
    await producer.start()
    try:
        numbers = await asyncio.wait_for(producer.partitions_for(topic), 10)
    except TimeoutError:
        raise SystemExit(f"no such topic: {topic}") from None
    finally:
        await producer.stop()
    partitions = [TopicPartition(topic, p) for p in sorted(numbers)]
    consumer.assign(partitions)
    return partitions


async def _drain(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> list[ConsumerRecord]:
    """Every record up to the end offsets at the time of the call."""
    ends = await consumer.end_offsets(partitions)
    records: list[ConsumerRecord] = []

    async def behind() -> bool:
        return any([await consumer.position(tp) < ends[tp] for tp in partitions])

    while await behind():
        batch = await consumer.getmany(timeout_ms=1000)
        for partition_records in batch.values():
            records.extend(partition_records)
    return records


async def list_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        **env_client_kwargs(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = await _assign_all(consumer, bootstrap, topic)
        await consumer.seek_to_beginning(*partitions)
        records = await _drain(consumer, partitions)
    finally:
        await consumer.stop()
    letters = []
    for record in records:
        h = _headers(record)
        letters.append(
            DeadLetter(
                record.offset,
                h.get("ce_type", "?"),
                h.get("ce_id", "?"),
                h.get("dlq_error", "?"),
                f"{h.get('dlq_topic')}/{h.get('dlq_partition')}@{h.get('dlq_offset')}",
            )
        )
    return letters


async def replay(bootstrap: str, topic: str) -> int:
    """Republish the dead letters not replayed before; returns how many."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        **env_client_kwargs(),
        group_id=REPLAY_GROUP,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, **env_client_kwargs(), acks="all", enable_idempotence=True
    )
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        for record in await _drain(consumer, await _assign_all(consumer, bootstrap, topic)):
            headers = _headers(record)
            origin = headers.get("dlq_topic")
            if not origin:
                continue
            kept = [(k, v.encode()) for k, v in headers.items() if k not in DLQ_HEADERS]
            await producer.send_and_wait(origin, record.value, key=record.key, headers=kept)
            tp = TopicPartition(record.topic, record.partition)
            await consumer.commit({tp: record.offset + 1})
            replayed += 1
    finally:
        await producer.stop()
        await consumer.stop()
    return replayed


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.dlq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("topic", help="a dead-letter topic, <topic>.dlq.<consumer>")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092"))
    args = parser.parse_args()
    if ".dlq." not in args.topic:
        parser.error("the topic must be a dead-letter topic (<topic>.dlq.<consumer>)")
    if args.command == "list":
        for letter in asyncio.run(list_dead_letters(args.bootstrap, args.topic)):
            print(f"{letter.offset}\t{letter.ce_type}\t{letter.ce_id}\t{letter.origin}\t{letter.error}")
    else:
        print(f"replayed {asyncio.run(replay(args.bootstrap, args.topic))} dead letter(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
