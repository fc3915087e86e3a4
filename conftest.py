"""Test infrastructure for every test under the repo: real Kafka and PostgreSQL,
and the five services as real processes for the journeys.

Where they come from (DESIGN.md, Tests):
1. KAFKA_BOOTSTRAP_SERVERS and OMSORG_TEST_DATABASE_URL set: use them;
2. the local no-Docker infrastructure already running (`make up` / `make test`): use it;
3. a Docker engine: testcontainers starts Kafka and PostgreSQL;
4. else: start the local infrastructure with deploy/omsorg.sh.
Tests never skip for missing infrastructure: they fail saying what to start.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.personnummer import luhn_checksum_digit

ROOT = Path(__file__).resolve().parent
OMSORG_SH = ROOT / "deploy" / "omsorg.sh"
SERVICES = {"intake": 8101, "casework": 8102, "messaging": 8103, "provider": 8104, "notify": 8105}
ISSUER_URL = os.environ.get("OMSORG_ISSUER_URL", "http://127.0.0.1:8100")
LOCAL_KAFKA = "127.0.0.1:59092"
LOCAL_TEST_DB = "postgresql+asyncpg://omsorg_test@127.0.0.1:55432/omsorg_test"


@dataclass
class Infrastructure:
    kafka_bootstrap: str
    test_database_url: str
    env: dict[str, str] = field(default_factory=dict)  # for processes we start


def _port_open(hostport: str) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0


def _run(*args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(OMSORG_SH), *args], env={**os.environ, **(env or {})},
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"deploy/omsorg.sh {' '.join(args)} failed:\n{result.stderr[-3000:]}",
                    pytrace=False)


def _testcontainers_infrastructure(stack: list[Any]) -> Infrastructure:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:15", username="omsorg", password="omsorg", dbname="omsorg_test")
    kafka = KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft()
    postgres.start()
    stack.append(postgres)
    kafka.start()
    stack.append(kafka)
    host, port = postgres.get_container_host_ip(), postgres.get_exposed_port(5432)
    for name in SERVICES:
        postgres.exec(["psql", "-U", "omsorg", "-d", "omsorg_test", "-c", f"CREATE DATABASE {name}"])
    bootstrap = kafka.get_bootstrap_server()
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "OMSORG_DATABASE_URL_PATTERN": f"postgresql+asyncpg://omsorg:omsorg@{host}:{port}/{{name}}"}
    subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "deploy/kafka_admin.py"), "create-topics",
                    str(ROOT / "deploy/topics.txt")], env={**os.environ, **env}, check=True)
    return Infrastructure(bootstrap, f"postgresql+asyncpg://omsorg:omsorg@{host}:{port}/omsorg_test", env)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    started_local = False
    containers: list[Any] = []
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("OMSORG_TEST_DATABASE_URL"):
        infra = Infrastructure(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["OMSORG_TEST_DATABASE_URL"])
    elif _port_open(LOCAL_KAFKA) and _port_open("127.0.0.1:55432"):
        infra = Infrastructure(LOCAL_KAFKA, LOCAL_TEST_DB)
    elif _docker_engine():
        infra = _testcontainers_infrastructure(containers)
    else:
        _run("infra-up")
        started_local = True
        infra = Infrastructure(LOCAL_KAFKA, LOCAL_TEST_DB)
    if not _port_open(infra.kafka_bootstrap):
        pytest.fail(f"Kafka is not reachable at {infra.kafka_bootstrap}: run `make up`.", pytrace=False)
    yield infra
    for container in reversed(containers):
        container.stop()
    if started_local:
        _run("down")


@dataclass
class Stack:
    """The running system: the five services and the token issuer."""

    infra: Infrastructure

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICES[service]}"

    async def token(self, role: str, **claims: Any) -> str:
        body = {"role": role, "sub": claims.pop("sub", f"{role}-{uuid.uuid4().hex[:8]}"), **claims}
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{ISSUER_URL}/token", json=body)
        response.raise_for_status()
        return str(response.json()["access_token"])


def _all_ready() -> bool:
    try:
        return all(httpx.get(f"http://127.0.0.1:{p}/health/ready", timeout=3).status_code == 200
                   for p in SERVICES.values())
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def stack(infrastructure: Infrastructure) -> Iterator[Stack]:
    started = False
    if not _all_ready():
        _run("migrate", env=infrastructure.env)
        _run("services-up", env=infrastructure.env)
        started = True
    if not _all_ready():
        pytest.fail("The services are not ready: see .run/logs/ (or run `make up`).", pytrace=False)
    yield Stack(infrastructure)
    if started:
        _run("services-down")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async `check` until it returns something truthy, or fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not true within {timeout}s: {getattr(check, '__name__', check)}")
        await asyncio.sleep(interval)


def new_personnummer() -> str:
    """A fresh valid personnummer, so runs against a long-lived system never collide."""
    nine = f"{random.randint(30, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 28):02d}" \
           f"{random.randint(0, 999):03d}"
    return f"19{nine}{luhn_checksum_digit(nine)}"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
