"""Topic configs from deploy/topics.txt (issue 12, point 14): dead-letter
topics keep their records 90 days, and `kafka_admin.py create-topics` sets a
listed config on a topic that already exists, so a running broker gets it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from conftest import ROOT, Infrastructure

KAFKA_ADMIN = ROOT / "deploy" / "kafka_admin.py"
TOPICS = ROOT / "deploy" / "topics.txt"
NINETY_DAYS_MS = 90 * 24 * 3600 * 1000


def kafka_admin_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kafka_admin", KAFKA_ADMIN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("kafka_admin", module)
    spec.loader.exec_module(module)
    return module


def create_topics(bootstrap: str, file: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(KAFKA_ADMIN), "create-topics", str(file)],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


async def topic_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    return {
        name: {entry[0]: entry[1] for entry in entries}
        for response in responses
        for _code, _message, _type, name, entries in response.resources
    }


def dead_letter_topics() -> list[str]:
    return [t.name for t in kafka_admin_module().read_topics(TOPICS) if t.is_dead_letter]


def test_every_dead_letter_topic_asks_for_at_least_ninety_days() -> None:
    topics = kafka_admin_module().read_topics(TOPICS)
    dead_letters = [t for t in topics if t.is_dead_letter]
    assert dead_letters
    for topic in dead_letters:
        assert int(topic.configs.get("retention.ms", "0")) >= NINETY_DAYS_MS, topic.name


async def test_create_topics_gives_the_dead_letter_topics_on_the_broker_their_long_retention(
    infrastructure: Infrastructure,
) -> None:
    create_topics(infrastructure.kafka_bootstrap, TOPICS)

    configs = await topic_configs(infrastructure.kafka_bootstrap, dead_letter_topics())
    assert {name: c["retention.ms"] for name, c in configs.items()} == {
        name: str(NINETY_DAYS_MS) for name in dead_letter_topics()
    }
    # Business topics keep the broker's default (7 days).
    assert (await topic_configs(infrastructure.kafka_bootstrap, ["intake.applications.v1"]))[
        "intake.applications.v1"
    ]["retention.ms"] == str(7 * 24 * 3600 * 1000)


async def test_create_topics_fixes_the_config_of_a_topic_that_already_exists(
    infrastructure: Infrastructure, tmp_path: Path
) -> None:
    name = f"test.retention.v1.dlq.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        # As an older topics.txt made it: the default retention, and a config of its own.
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": "500000"})])
        file = tmp_path / "topics.txt"
        file.write_text(f"# one topic\n{name}  1  retention.ms={NINETY_DAYS_MS}\n")

        output = create_topics(infrastructure.kafka_bootstrap, file)
        configs = (await topic_configs(infrastructure.kafka_bootstrap, [name]))[name]
        assert configs["retention.ms"] == str(NINETY_DAYS_MS)
        assert configs["max.message.bytes"] == "500000", "an unlisted config must stay as it was"
        assert f"set {name} retention.ms={NINETY_DAYS_MS}" in output

        # Already right: nothing to change the second time.
        assert name not in create_topics(infrastructure.kafka_bootstrap, file)
    finally:
        await admin.delete_topics([name])
        await admin.close()
