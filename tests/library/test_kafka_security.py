"""Kafka with authentication and ACLs (issue 12, point 14; docs/kafka-security.md).

A second, SASL/SCRAM-SHA-512 broker is started here on free ports in a
temporary folder, prepared exactly as `OMSORG_KAFKA_SECURITY=sasl deploy/omsorg.sh
up` prepares the local one (`kafka_admin.py sasl-init`, `create-topics`,
`apply-acls`); the normal local broker stays PLAINTEXT. Each service connects
as its own principal through shared.kafka_security and may touch only its own
topics and its own consumer group."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from conftest import ROOT
from shared.kafka_security import broker_security, client_kwargs
from shared.settings import ServiceSettings

KAFKA_ADMIN = ROOT / "deploy" / "kafka_admin.py"
TOPICS = ROOT / "deploy" / "topics.txt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SaslBroker:
    bootstrap: str
    secrets: Path

    def admin_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_USERNAME": "admin",
            "KAFKA_SASL_PASSWORD_FILE": str(self.secrets / "admin.password"),
        }

    def admin(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(KAFKA_ADMIN), *args],
            env=self.admin_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"kafka_admin.py {args[0]}: {result.stderr[-2000:]}"
        return result.stdout + result.stderr

    def settings(self, service: str, **overrides: object) -> ServiceSettings:
        """A service's settings as deploy/omsorg.sh gives them in SASL mode."""
        values: dict[str, object] = {
            "database_url": "postgresql+asyncpg://unused@127.0.0.1:1/unused",
            "kafka_bootstrap_servers": self.bootstrap,
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_username": service,
            "kafka_sasl_password_file": self.secrets / f"{service}.password",
        }
        return ServiceSettings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    run_dir = tmp_path_factory.mktemp("kafka-sasl")
    port, controller_port = free_port(), free_port()
    broker = SaslBroker(f"127.0.0.1:{port}", run_dir / "secrets")
    setup = subprocess.run(
        [
            sys.executable,
            str(KAFKA_ADMIN),
            "sasl-init",
            str(run_dir),
            "--topics",
            str(TOPICS),
            "--port",
            str(port),
            "--controller-port",
            str(controller_port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr[-2000:]
    properties = Path(setup.stdout.strip())
    assert oct(properties.stat().st_mode & 0o777) == "0o600", "the properties hold passwords"
    sys.path.insert(0, str(KAFKA_ADMIN.parent))
    try:
        from kafka_admin import kafka_java  # the command deploy/omsorg.sh runs too
    finally:
        sys.path.remove(str(KAFKA_ADMIN.parent))
    with open(run_dir / "broker.log", "w") as log:
        process = subprocess.Popen(
            kafka_java(run_dir, "kafka.Kafka", str(properties)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = subprocess.run(
            [sys.executable, str(KAFKA_ADMIN), "ready", "--timeout", "60"],
            env=broker.admin_env(),
            capture_output=True,
            text=True,
            timeout=90,
        )
        if ready.returncode != 0:
            logs = "\n".join(
                p.read_text()[-3000:]
                for p in (run_dir / "broker.log", run_dir / "logs" / "server.log")
                if p.exists()
            )
            pytest.fail(f"the SASL broker did not become ready:\n{logs}")
        broker.admin("create-topics", str(TOPICS))
        broker.admin("apply-acls", str(TOPICS))
        yield broker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMSORG_ENVIRONMENT", "test")


async def produce(settings: ServiceSettings, topic: str) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10000,
        **client_kwargs(settings),
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"k")
    finally:
        await producer.stop()


async def test_a_service_may_write_its_own_topics_only(sasl_broker: SaslBroker) -> None:
    intake = sasl_broker.settings("intake")
    # Through FastStream, as the services' broker does (shared.service_app).
    broker = KafkaBroker(
        intake.kafka_bootstrap_servers,
        security=broker_security(intake),
        acks="all",
        enable_idempotence=True,
        allow_auto_create_topics=False,
    )
    await broker.start()
    try:
        assert await broker.ping(timeout=5), "readiness pings the broker as the service's principal"
        await broker.publish(b"{}", "intake.applications.v1", key=b"k")
        with pytest.raises(TopicAuthorizationFailedError):
            await broker.publish(b"{}", "casework.persons.v1", key=b"k")
    finally:
        await broker.stop()
    # Through a raw aiokafka producer, as the outbox relay does; its own dead letters too.
    await produce(intake, "intake.citizens.v1")
    await produce(intake, "casework.persons.v1.dlq.intake")
    for topic in ("casework.applications.v1", "intake.applications.v1.dlq.casework"):
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(intake, topic)
    await produce(sasl_broker.settings("casework"), "casework.persons.v1")


async def test_a_wrong_password_is_refused(sasl_broker: SaslBroker) -> None:
    wrong = sasl_broker.settings(
        "intake", kafka_sasl_password_file=None, kafka_sasl_password=SecretStr("not-the-password")
    )
    with pytest.raises(KafkaError) as refused:
        await produce(wrong, "intake.applications.v1")
    assert isinstance(refused.value, (SaslAuthenticationFailed, KafkaConnectionError)), repr(refused.value)
    assert "not-the-password" not in str(refused.value)
    # And without credentials at all.
    with pytest.raises(KafkaConnectionError):
        await produce(
            sasl_broker.settings("intake", kafka_security_protocol="PLAINTEXT"), "intake.applications.v1"
        )


async def consume_one_poll(settings: ServiceSettings, topic: str, group: str) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=10000,
        **client_kwargs(settings),
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=3000)
        await consumer.commit()
    finally:
        await consumer.stop()


async def test_a_service_reads_what_it_consumes_with_its_own_group_only(sasl_broker: SaslBroker) -> None:
    intake = sasl_broker.settings("intake")
    await consume_one_poll(intake, "casework.persons.v1", "intake")
    with pytest.raises(GroupAuthorizationFailedError):
        await consume_one_poll(intake, "casework.persons.v1", "casework")
    with pytest.raises(TopicAuthorizationFailedError):
        await consume_one_poll(intake, "intake.applications.v1", "intake")


def test_the_acls_on_the_broker_are_exactly_those_topics_txt_implies(
    sasl_broker: SaslBroker, tmp_path: Path
) -> None:
    assert "added" not in sasl_broker.admin("apply-acls", str(TOPICS)), "a second run changes nothing"
    # A topic dropped from topics.txt loses its ACL on the next run.
    fewer = tmp_path / "topics.txt"
    fewer.write_text(
        "\n".join(
            line for line in TOPICS.read_text().splitlines() if not line.startswith("intake.citizens.v1 ")
        )
    )
    acl = "User:intake ALLOW WRITE TOPIC intake.citizens.v1"
    assert f"removed {acl}" in sasl_broker.admin("apply-acls", str(fewer))
    assert f"added {acl}" in sasl_broker.admin("apply-acls", str(TOPICS))


def test_the_acl_plan_gives_each_service_its_own_topics() -> None:
    output = subprocess.run(
        [sys.executable, str(KAFKA_ADMIN), "acls", str(TOPICS)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    intake = {line for line in output if line.startswith("User:intake ")}
    consumed = ("persons", "applications", "cases")
    assert intake == {
        "User:intake ALLOW WRITE TOPIC intake.applications.v1",
        "User:intake ALLOW WRITE TOPIC intake.citizens.v1",
        "User:intake ALLOW READ GROUP intake",
        *{f"User:intake ALLOW READ TOPIC casework.{t}.v1" for t in consumed},
        *{f"User:intake ALLOW WRITE TOPIC casework.{t}.v1.dlq.intake" for t in consumed},
    }
    casework_writes = {
        line.rsplit(" ", 1)[1] for line in output if line.startswith("User:casework ALLOW WRITE")
    }
    assert {"casework.applications.v1", "casework.cases.v1", "casework.persons.v1"} <= casework_writes
    assert not any("*" in line for line in output), "no wildcards"


def test_sasl_settings_need_a_user_and_one_password_source(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"database_url": "postgresql+asyncpg://x@127.0.0.1:1/x", "kafka_security_protocol": "SASL_SSL"}
    with pytest.raises(ValueError, match="needs kafka_sasl_username") as refused:
        ServiceSettings(**base, kafka_sasl_password="pw-never-printed")  # type: ignore[arg-type]
    assert "pw-never-printed" not in str(refused.value)
    with pytest.raises(ValueError, match="exactly one"):
        ServiceSettings(**base, kafka_sasl_username="intake")  # type: ignore[arg-type]
    settings = ServiceSettings(**base, kafka_sasl_username="intake", kafka_sasl_password="s3cret")  # type: ignore[arg-type]
    options = client_kwargs(settings)
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    assert "s3cret" not in repr(settings)
    assert client_kwargs(ServiceSettings(database_url="postgresql+asyncpg://x@127.0.0.1:1/x")) == {}
    assert broker_security(ServiceSettings(database_url="postgresql+asyncpg://x@127.0.0.1:1/x")) is None
