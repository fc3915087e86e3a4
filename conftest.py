"""Test infrastructure for every test under the repo: real Kafka and PostgreSQL,
and the five services as real processes for the journeys.

Where they come from (README, Test it; docs/architecture.md):
1. KAFKA_BOOTSTRAP_SERVERS and OMSORG_TEST_DATABASE_URL set: use them;
2. the local no-Docker infrastructure already running (`make up` / `make test`): use it;
3. a Docker engine: testcontainers starts Kafka and PostgreSQL;
4. else: start the local infrastructure with deploy/omsorg.sh.
Tests never skip for missing infrastructure: they fail saying what to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
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
# Notify's development mail server (HTTP side) and SMS gateway (docs/notify-local.md).
COUNTERPARTS = {"devmail": "http://127.0.0.1:8106/health", "devsms": "http://127.0.0.1:8107/health"}
ISSUER_URL = os.environ.get("OMSORG_ISSUER_URL", "http://127.0.0.1:8100")
LOCAL_KAFKA = "127.0.0.1:59092"
LOCAL_TEST_DB = "postgresql+asyncpg://omsorg_test@127.0.0.1:55432/omsorg_test"


# Tests import this module's helpers as `conftest`. Under --import-mode=importlib
# pytest drops sys.modules["conftest"] whenever it loads a conftest outside a
# package (services/*/tests/conftest.py); put this one back after each, and
# let those conftests import from it only inside fixtures.
_THIS_CONFTEST = sys.modules[__name__]


def pytest_plugin_registered(plugin: object) -> None:
    sys.modules["conftest"] = _THIS_CONFTEST


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
    result = subprocess.run(
        [str(OMSORG_SH), *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"deploy/omsorg.sh {' '.join(args)} failed:\n{result.stderr[-3000:]}", pytrace=False)


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
    # As deploy/omsorg.sh: <name>_owner owns the database and migrates it, <name> runs the service.
    for name in SERVICES:
        for sql in (
            f"CREATE ROLE {name}_owner LOGIN PASSWORD 'omsorg'",
            f"CREATE ROLE {name} LOGIN PASSWORD 'omsorg'",
            f"CREATE DATABASE {name} OWNER {name}_owner",
        ):
            postgres.exec(["psql", "-U", "omsorg", "-d", "omsorg_test", "-c", sql])
    bootstrap = kafka.get_bootstrap_server()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "OMSORG_DATABASE_URL_PATTERN": f"postgresql+asyncpg://{{name}}:omsorg@{host}:{port}/{{name}}",
        "OMSORG_MIGRATION_URL_PATTERN": f"postgresql+asyncpg://{{name}}_owner:omsorg@{host}:{port}/{{name}}",
    }
    subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            str(ROOT / "deploy/kafka_admin.py"),
            "create-topics",
            str(ROOT / "deploy/topics.txt"),
        ],
        env={**os.environ, **env},
        check=True,
    )
    return Infrastructure(bootstrap, f"postgresql+asyncpg://omsorg:omsorg@{host}:{port}/omsorg_test", env)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    started: list[str] = []  # what this session started, and so stops
    containers: list[Any] = []
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("OMSORG_TEST_DATABASE_URL"):
        infra = Infrastructure(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["OMSORG_TEST_DATABASE_URL"])
    elif _port_open(LOCAL_KAFKA) and _port_open("127.0.0.1:55432"):
        infra = Infrastructure(LOCAL_KAFKA, LOCAL_TEST_DB)
    elif _docker_engine():
        infra = _testcontainers_infrastructure(containers)
    else:
        started = [
            part
            for part, address in (("kafka", LOCAL_KAFKA), ("pg", "127.0.0.1:55432"))
            if not _port_open(address)
        ]
        _run("infra-up")
        infra = Infrastructure(LOCAL_KAFKA, LOCAL_TEST_DB)
    if not _port_open(infra.kafka_bootstrap):
        pytest.fail(f"Kafka is not reachable at {infra.kafka_bootstrap}: run `make up`.", pytrace=False)
    yield infra
    for container in reversed(containers):
        container.stop()
    if len(started) == 2:
        _run("down")  # all of it, services the stack fixture started included
    else:  # only the part that was missing: another session may be using the rest
        for part in started:
            _run(f"{part}-down")


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
        urls = [f"http://127.0.0.1:{p}/health/ready" for p in SERVICES.values()] + list(COUNTERPARTS.values())
        return all(httpx.get(url, timeout=3).status_code == 200 for url in urls)
    except httpx.HTTPError:
        return False


_MIGRATED: list[bool] = []  # deploy/omsorg.sh migrate has run in this test session


def service_database_url(infra: Infrastructure, service: str) -> str:
    """A service's own database at its newest migration, reached as the runtime role
    the service itself uses, for the DB-backed service tests (services/*/tests).
    Every service is migrated once per test session, not once per service."""
    env = {**os.environ, **infra.env}
    if not _MIGRATED:
        done = subprocess.run(
            [str(OMSORG_SH), "migrate"], env=env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            pytest.fail(f"migrating the service databases failed:\n{done.stderr[-2000:]}", pytrace=False)
        _MIGRATED.append(True)
    pattern = env.get("OMSORG_DATABASE_URL_PATTERN")
    return (
        pattern.replace("{name}", service)
        if pattern
        else f"postgresql+asyncpg://{service}@127.0.0.1:55432/{service}"
    )


# ---- DB-backed service tests (services/*/tests/conftest.py use these) ----------


@contextlib.asynccontextmanager
async def rolled_back_session(engine: Any) -> AsyncIterator[Any]:
    """A session in a transaction rolled back afterwards: nothing it writes stays.
    Like a request's session it collects refusals (shared.audit), and services
    flush, so what they wrote is visible to the test's own queries. Run a call
    that should fail in `session.begin_nested()`."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared import audit

    async with engine.connect() as conn:
        transaction = await conn.begin()
        async with AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            audit.collect_refusals(session)
            yield session
        await transaction.rollback()


async def audit_entries(session: Any, subject_pnr: str) -> list[dict[str, Any]]:
    """The audit entries about one person, oldest first, the refusals collected so far included."""
    from sqlalchemy import text

    from shared import audit

    await audit.write_refusals(session)
    audit.collect_refusals(session)  # written now: start collecting anew
    rows = await session.execute(
        text("""
        SELECT actor, actor_role, action, object_type, object_id, outcome FROM audit_log
        WHERE subject_pnr = :pnr ORDER BY id"""),
        {"pnr": subject_pnr},
    )
    return [dict(r._mapping) for r in rows]


async def refused_entries(session: Any, actor: str) -> list[dict[str, Any]]:
    """The refused audit entries of one actor (a user's sub), oldest first, the
    refusals collected so far included."""
    from sqlalchemy import text

    from shared import audit

    await audit.write_refusals(session)
    audit.collect_refusals(session)  # written now: start collecting anew
    rows = await session.execute(
        text("""
        SELECT actor_role, action, object_type, object_id, subject_pnr FROM audit_log
        WHERE actor = :actor AND outcome = 'refused' ORDER BY id"""),
        {"actor": actor},
    )
    return [dict(r._mapping) for r in rows]


async def outbox_events(session: Any, ce_type: str, key: str) -> list[dict[str, Any]]:
    """The events of a type with a Kafka key queued in this session, oldest first, as JSON."""
    from sqlalchemy import text

    rows = await session.scalars(
        text("""
        SELECT convert_from(payload, 'UTF8')::jsonb FROM outbox
        WHERE key = :key AND headers->>'ce_type' = :ce_type ORDER BY id"""),
        {"key": key, "ce_type": ce_type},
    )
    return list(rows)


@pytest.fixture(scope="session")
def stack(infrastructure: Infrastructure) -> Iterator[Stack]:
    # Starts what is missing and leaves it running: another test session may be
    # using the same processes (`make test` stops what it started itself).
    if not _all_ready():
        _run("migrate", env=infrastructure.env)
        _run("services-up", env=infrastructure.env)
    if not _all_ready():
        pytest.fail("The services are not ready: see .run/logs/ (or run `make up`).", pytrace=False)
    yield Stack(infrastructure)


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
    nine = (
        f"{random.randint(30, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        f"{random.randint(0, 999):03d}"
    )
    return f"19{nine}{luhn_checksum_digit(nine)}"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


class TopicWatch:
    """Reads the events published on a topic from the moment it is opened, to
    assert what a service told the rest of the system."""

    def __init__(self, stack: Stack, topic: str) -> None:
        from aiokafka import AIOKafkaConsumer

        self.topic = topic
        self.bootstrap = stack.infra.kafka_bootstrap
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=stack.infra.kafka_bootstrap, enable_auto_commit=False
        )

    async def __aenter__(self) -> TopicWatch:
        from aiokafka import AIOKafkaProducer, TopicPartition
        from aiokafka.errors import KafkaError

        # The producer's metadata call is the public way to learn a topic's partitions.
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            ids = await producer.partitions_for(self.topic)
        except KafkaError:
            ids = set()
        finally:
            await producer.stop()
        await self.consumer.start()
        partitions = [TopicPartition(self.topic, p) for p in sorted(ids)]
        if not partitions:
            await self.consumer.stop()
            pytest.fail(f"topic {self.topic} does not exist: run deploy/kafka_admin.py create-topics")
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:  # pin the positions now, before the action under test
            await self.consumer.position(tp)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def next(self, ce_type: str, key: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next event of `ce_type` with Kafka key `key`, as {headers, key, data}."""
        import json

        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    if headers.get("ce_type") == ce_type and record.key == key.encode():
                        return {
                            "headers": headers,
                            "key": record.key.decode(),
                            "data": json.loads(record.value),
                        }
        pytest.fail(f"no {ce_type} with key {key} on {self.topic} within {timeout}s")


async def caseworker_token(
    stack: Stack,
    name: str = "Marita Aronsson",
    unit: str = "testenhet",
    extra_roles: tuple[str, ...] = (),
    sub: str | None = None,
) -> str:
    claims: dict[str, Any] = {"name": name, "units": [unit], "extra_roles": list(extra_roles)}
    if sub:
        claims["sub"] = sub
    return await stack.token("caseworker", **claims)


async def submit_application(
    http: httpx.AsyncClient,
    stack: Stack,
    citizen: str,
    entry: str = "sol",
    services: tuple[str, ...] = ("trygghetslarm",),
    description: str = "Jag trillar då och då och känner mig otrygg",
) -> dict[str, Any]:
    response = await http.post(
        f"{stack.url('intake')}/applications",
        headers=bearer(citizen),
        json={"entry": entry, "services": list(services), "description": description},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def arrived_in_casework(
    http: httpx.AsyncClient, stack: Stack, caseworker: str, application_id: str
) -> dict[str, Any]:
    """The e-application's detail, once casework has received it."""

    async def detail() -> dict[str, Any] | None:
        response = await http.get(
            f"{stack.url('casework')}/e-applications/{application_id}", headers=bearer(caseworker)
        )
        return response.json() if response.status_code == 200 else None

    return dict(await eventually(detail))


def link_form(caseworker_sub: str, **overrides: Any) -> dict[str, Any]:
    """The "Koppla ansökan" dialog as a caseworker fills it in for simplified handling."""
    return {
        "record_type": "Förenklad handläggning",
        "caseworker_id": caseworker_sub,
        "unit": "testenhet",
        "from_whom": "Den enskilde",
        "channel": "E-ansökan",
        **overrides,
    }


async def linked_person(
    http: httpx.AsyncClient,
    stack: Stack,
    citizen_pnr: str,
    citizen_name: str = "Annika Test",
    unit: str = "testenhet",
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A citizen who applied and whose application a caseworker of `unit` linked:
    (the link result, that caseworker's token, the application)."""
    citizen = await bankid_login(http, stack, citizen_pnr, citizen_name)
    application = await submit_application(http, stack, citizen)
    sub = f"cw-{uuid.uuid4().hex[:8]}"
    caseworker = await caseworker_token(stack, unit=unit, sub=sub)
    await arrived_in_casework(http, stack, caseworker, application["id"])
    response = await http.post(
        f"{stack.url('casework')}/e-applications/{application['id']}/link",
        headers=bearer(caseworker),
        json=link_form(sub, unit=unit),
    )
    assert response.status_code == 201, response.text
    return dict(response.json()), caseworker, application


async def investigation_started(
    http: httpx.AsyncClient,
    stack: Stack,
    link: dict[str, Any],
    caseworker: str,
    investigation_type: str = "Ansökan SoL",
) -> dict[str, Any]:
    """Start the investigation of the linked record (`link` as `linked_person` returns it):
    from then on related persons can be approved for the citizen (CW-7)."""
    response = await http.post(
        f"{stack.url('casework')}/intake-records/{link['record_id']}/investigation",
        headers=bearer(caseworker),
        json={"investigation_type": investigation_type},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def bankid_login(http: httpx.AsyncClient, stack: Stack, pnr: str, name: str) -> str:
    """Log in as a citizen through intake's BankID login (the simulator); the citizen token."""
    intake = stack.url("intake")
    started = await http.post(
        f"{intake}/login/bankid",
        json={"simulate": {"personnummer": pnr, "name": name, "outcome": "complete"}},
    )
    assert started.status_code == 201, started.text
    login_id = started.json()["login_id"]
    # The simulator answers pending once, then complete; no need to wait the two
    # seconds BankID asks for between collects.
    for _ in range(5):
        response = await http.post(f"{intake}/login/bankid/{login_id}/collect")
        assert response.status_code == 200, response.text
        result = response.json()
        if result["status"] == "complete":
            return str(result["access_token"])
        if result["status"] == "failed":
            pytest.fail(f"the BankID login failed ({result['hint_code']})")
    pytest.fail("the BankID login did not complete")


# A TCP proxy for outage drills: a real connection path to a real server that a
# test can cut (every open connection closed, new ones refused) and restore.
async def e_service_citizen(
    http: httpx.AsyncClient, stack: Stack, pnr: str, name: str
) -> tuple[dict[str, Any], str, str]:
    """A linked citizen whose caseworker turned the message function on, once
    messaging knows it and who their caseworker is: (link, caseworker token,
    citizen token)."""
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name=name)
    response = await http.put(
        f"{stack.url('casework')}/persons/{link['person_id']}/e-service",
        headers=bearer(caseworker),
        json={"messages_enabled": True},
    )
    assert response.status_code == 200, response.text
    citizen = await bankid_login(http, stack, pnr, name)

    async def known() -> bool:
        response = await http.get(f"{stack.url('messaging')}/e-service/mailbox", headers=bearer(citizen))
        return response.status_code == 200 and bool(response.json()["caseworkers"])

    await eventually(known)
    return link, caseworker, citizen


# ---- providers (journeys 9 and 10) ----------------------------------------------


@dataclass(frozen=True)
class Provider:
    """A provider as its staff use it: its id, one unit, its manager and one user."""

    id: str
    unit: str
    manager: str  # token
    manager_sub: str
    user: str  # token
    user_sub: str


def organisation_number() -> str:
    """A fresh organisation number (aktiebolag: starting 55, Luhn check digit)."""
    nine = f"55{random.randint(0, 9_999_999):07d}"
    return f"{nine}{luhn_checksum_digit(nine)}"


async def admin_token(stack: Stack) -> str:
    return await stack.token("admin", name="Ada Admin", units=["kansliet"])


async def registered_provider(http: httpx.AsyncClient, stack: Stack, label: str) -> Provider:
    """A LOV provider registered by the admin, with one unit and its first manager,
    who adds one member of staff to the unit."""
    provider, admin = stack.url("provider"), await admin_token(stack)
    tag = uuid.uuid4().hex[:8]
    manager_sub, user_sub = f"pm-{tag}", f"pu-{tag}"
    created = await http.post(
        f"{provider}/providers",
        headers=bearer(admin),
        json={
            "name": f"Omsorg {label} AB",
            "organisation_number": organisation_number(),
            "kind": "lov",
            "manager": {"sub": manager_sub, "name": f"Maja Chef {label}"},
        },
    )
    assert created.status_code == 201, created.text
    provider_id = created.json()["id"]
    unit = f"hemtjanst-{label.lower()}-{tag}"
    added = await http.post(
        f"{provider}/providers/{provider_id}/units",
        headers=bearer(admin),
        json={"code": unit, "name": f"Hemtjänst {label}"},
    )
    assert added.status_code == 201, added.text
    manager = await stack.token(
        "provider_manager", sub=manager_sub, name=f"Maja Chef {label}", provider_id=provider_id, units=[unit]
    )
    user_added = await http.post(
        f"{provider}/providers/{provider_id}/users",
        headers=bearer(manager),
        json={"sub": user_sub, "name": f"Ulla Utförare {label}"},
    )
    assert user_added.status_code == 201, user_added.text
    user = await stack.token(
        "provider", sub=user_sub, name=f"Ulla Utförare {label}", provider_id=provider_id, units=[unit]
    )
    return Provider(provider_id, unit, manager, manager_sub, user, user_sub)


# ---- the granted decision and its order ----------------------------------------


def journey_module(filename: str) -> Any:
    """Another journey test file, whose set-up a journey reuses, loaded once by path
    (the journeys are no package): `orders = journey_module("test_orders.py")`."""
    import importlib.util

    name = f"journey_{Path(filename).stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "journeys" / filename)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.up = True

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """The outage: drop every connection; new ones are closed at once."""
        self.up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, upstream_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(upstream_writer)
