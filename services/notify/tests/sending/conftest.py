"""Fixtures of the sender's tests: the sender commits (claims, outcomes), so these
tests cannot run in a rolled-back transaction, and in notify's own database the
running notify's sender would take their alerts (and theirs this one's). They
run in a schema of their own in the test database (`notify_sending_<pid>`, one
per test run), migrated with notify's real migrations once per run and emptied
of alerts before each test.

Everything else is real: the development SMS gateway (127.0.0.1:8107) and mail
server (SMTP 2525, HTTP 8106) that `make up` starts, through notify's own
clients, and the delivery reports the gateway posts back over HTTP to the
delivery-report endpoint, served here on a port of its own. Missing
counterparts fail the tests; they never skip them.

    async def test_...(world: World, session: AsyncSession, sender: SenderFactory,
                       gateway: SmsGateway, clock: FakeClock) -> None:
        person = await world.person(sms=number)
        await world.deliver(person)
        await session.commit()
        await sender().run_once()
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from notify.channels.email import EmailClient
from notify.channels.sms import SmsClient
from notify.config import DEV_MAIL_HTTP_PORT, DEV_SMS_GATEWAY_PORT, Settings
from notify.models import Base
from notify.sending.endpoints import router as delivery_reports_router
from notify.sending.worker import SenderWorker
from shared import audit
from shared.problems import install_problem_handlers

if TYPE_CHECKING:
    from conftest import Infrastructure

SCHEMA_PREFIX = "notify_sending_"  # + the pid of the test run
SERVICE_DIR = Path(__file__).resolve().parents[2]
GATEWAY_URL = f"http://127.0.0.1:{DEV_SMS_GATEWAY_PORT}"
MAIL_URL = f"http://127.0.0.1:{DEV_MAIL_HTTP_PORT}"

SenderFactory = Callable[..., SenderWorker]


def _migrate(connection: Connection) -> None:
    """Notify's migrations up to head, on `connection` (whose search_path is the test schema)."""
    config = Config(str(SERVICE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(SERVICE_DIR / "migrations"))
    script = ScriptDirectory.from_config(config)

    def upgrade(revision: Any, context: Any) -> Any:
        return script._upgrade_revs("head", revision)

    with EnvironmentContext(config, script, fn=upgrade) as environment:
        environment.configure(connection=connection, target_metadata=Base.metadata)
        with environment.begin_transaction():
            environment.run_migrations()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


async def _drop_stale_schemas(admin: AsyncEngine) -> None:
    """Drop the schemas of earlier runs whose process is gone (one killed mid-run keeps its own)."""
    async with admin.connect() as conn:
        names = list(
            await conn.scalars(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": "notify_sending%"}
            )
        )
    for name in names:
        pid = name.removeprefix(f"{SCHEMA_PREFIX}")
        if pid.isdigit() and _alive(int(pid)):
            continue
        try:
            async with admin.begin() as conn:
                # A schema a hung run still holds is left for a later run.
                await conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        except DBAPIError:
            pass


@pytest.fixture(scope="session")
async def sending_engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    """The test database with this run's own schema first on the search path, migrated
    afresh: two runs at once (two people, or two terminals) never share a queue."""
    schema = f"{SCHEMA_PREFIX}{os.getpid()}"
    admin = create_async_engine(infrastructure.test_database_url)
    await _drop_stale_schemas(admin)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_async_engine(
        infrastructure.test_database_url,
        pool_size=10,
        max_overflow=10,
        connect_args={"server_settings": {"search_path": schema}},
    )
    async with engine.connect() as conn:
        await conn.run_sync(_migrate)
        await conn.commit()
    yield engine
    await engine.dispose()
    try:
        async with admin.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    except DBAPIError:
        pass  # still in use (a report in flight): the next run drops it
    await admin.dispose()


@pytest.fixture
def sessionmaker(sending_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(sending_engine, expire_on_commit=False)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session on the test schema whose work the test commits (the sender reads
    only what is committed). The alerts of earlier tests are gone first, so no
    sender here takes another test's alert."""
    async with sessionmaker() as cleaner, cleaner.begin():
        # alerts first: a late delivery report of an earlier test locks it first too
        # (then its history), so the two wait for each other instead of deadlocking.
        await cleaner.execute(text("TRUNCATE alerts, alert_triggers, alert_history"))
    async with sessionmaker() as session:
        audit.collect_refusals(session)
        yield session


class CallbackServer:
    """notify's delivery-report endpoint on a port of its own, for the gateway to post to."""

    def __init__(self) -> None:
        self.app = FastAPI()
        install_problem_handlers(self.app)
        self.app.include_router(delivery_reports_router)
        self.url = ""


@pytest.fixture(scope="session")
async def callback_server(sending_engine: AsyncEngine) -> AsyncIterator[CallbackServer]:
    """Serves until the end of the run; stopped (waiting for the reports in flight)
    before the schema it writes to is dropped."""
    callback = CallbackServer()
    server = uvicorn.Server(
        uvicorn.Config(callback.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the server failed to start: say why
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    callback.url = f"http://127.0.0.1:{port}/sms/delivery-reports"
    yield callback
    server.should_exit = True
    await task


@pytest.fixture
def notify_settings(infrastructure: Infrastructure, callback_server: CallbackServer) -> Iterator[Settings]:
    """Notify's defaults (retries from 30 s up to 30 min over 4 h, quiet hours 21-08),
    the development gateway and mail server, and delivery reports to this test's
    callback endpoint with fresh credentials."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMSORG_ENVIRONMENT", os.environ.get("OMSORG_ENVIRONMENT") or "test")
        yield Settings(
            database_url=infrastructure.test_database_url,
            sms_callback_url=callback_server.url,
            callback_username="gateway",
            callback_password=SecretStr(secrets.token_urlsafe(16)),
        )


@pytest.fixture
def callback_app(
    callback_server: CallbackServer,
    notify_settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Any,
) -> FastAPI:
    """The delivery-report endpoint's app, set up as notify's lifespan does, on this test's clock."""
    state = callback_server.app.state
    state.settings = notify_settings
    state.sessionmaker = sessionmaker
    state.clock = clock
    return callback_server.app


@pytest.fixture
def callback_url(callback_app: FastAPI, callback_server: CallbackServer) -> str:
    """The delivery-report endpoint's URL, set up for this test."""
    return callback_server.url


@pytest.fixture
async def sender(
    sessionmaker: async_sessionmaker[AsyncSession],
    notify_settings: Settings,
    clock: Any,
    callback_app: FastAPI,
) -> AsyncIterator[SenderFactory]:
    """Senders on this test's clock, with notify's real clients: `sender()`, or
    `sender(sender_concurrency=2)` for other settings, `sender(rand=lambda: 0.5)`
    for a chosen jitter. Stopped after the test."""
    made: list[SenderWorker] = []

    def make(rand: Callable[[], float] = random.random, **overrides: Any) -> SenderWorker:
        settings = notify_settings.model_copy(update=overrides) if overrides else notify_settings
        sms, email = SmsClient(settings), EmailClient(settings)
        worker = SenderWorker(
            sessionmaker, settings, sms, email, clock=clock, rand=rand, closers=(sms.aclose, email.aclose)
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop()


class SmsGateway:
    """The development SMS gateway: per-number rules, and what it received."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def rule(self, number: str, send: str = "ok", dlr: str = "delivered", delay: float = 0.0) -> None:
        """How sends to `number` are answered (ok, fail: 503, refuse: 400) and reported."""
        response = await self.client.post(
            f"{GATEWAY_URL}/control/numbers/{number}", json={"send": send, "dlr": dlr, "delay_seconds": delay}
        )
        response.raise_for_status()

    async def received(self, number: str) -> list[dict[str, Any]]:
        """The SMS the gateway took for `number`, oldest first."""
        response = await self.client.get(f"{GATEWAY_URL}/messages", params={"to": number})
        response.raise_for_status()
        return list(response.json())


class MailServer:
    """The development mail server: per-address answers, and what it received."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def rule(self, address: str, reply: str) -> None:
        """How RCPT to `address` is answered: ok, temporary (451), permanent (550)."""
        response = await self.client.post(f"{MAIL_URL}/control/addresses/{address}", json={"reply": reply})
        response.raise_for_status()

    async def received(self, address: str) -> list[dict[str, Any]]:
        """The mails the server took for `address`, oldest first."""
        response = await self.client.get(f"{MAIL_URL}/messages", params={"to": address})
        response.raise_for_status()
        return list(response.json())


@pytest.fixture(scope="session")
async def counterparts() -> AsyncIterator[httpx.AsyncClient]:
    """A client for the local counterparts, which must be running (`make up`)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for name, url in (("SMS gateway", GATEWAY_URL), ("mail server", MAIL_URL)):
            try:
                (await client.get(f"{url}/health")).raise_for_status()
            except httpx.HTTPError:
                pytest.fail(f"the development {name} is not running at {url}: run `make up`", pytrace=False)
        yield client


@pytest.fixture
def gateway(counterparts: httpx.AsyncClient) -> SmsGateway:
    return SmsGateway(counterparts)


@pytest.fixture
def mail(counterparts: httpx.AsyncClient) -> MailServer:
    return MailServer(counterparts)
