"""Kafka chores for deploy/omsorg.sh: wait until the broker answers a metadata
request, and create the topics listed in deploy/topics.txt (auto-create is off).

    python deploy/kafka_admin.py ready [--timeout 60]
    python deploy/kafka_admin.py create-topics deploy/topics.txt
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092")


async def ready(timeout: float) -> bool:
    """True once the broker answers a metadata request within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        except (KafkaError, OSError):
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    return False


def read_topics(path: Path) -> list[tuple[str, int]]:
    topics = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, partitions = line.split()
            topics.append((name, int(partitions)))
    return topics


async def create_topics(topics: list[tuple[str, int]], replication: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, p, replication) for n, p in topics if n not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another starter created them between our two calls
    finally:
        await admin.close()


def main() -> int:
    # aiokafka logs every refused connection while the broker boots; quiet it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("ready")
    r.add_argument("--timeout", type=float, default=60)
    c = sub.add_parser("create-topics")
    c.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.cmd == "ready":
        ok = asyncio.run(ready(args.timeout))
        if not ok:
            print(f"Kafka at {BOOTSTRAP} did not answer", file=sys.stderr)
        return 0 if ok else 1
    asyncio.run(create_topics(read_topics(args.file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
