"""The services' connection pool (shared.db.make_engine) against real
PostgreSQL: a connection the server closed never fails a request, and a
connection used a moment ago is handed out without a round trip first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import Infrastructure, eventually
from shared import db
from shared.db import make_engine


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infrastructure.test_database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert isinstance(pid, int)
        return pid


async def test_a_pooled_connection_the_server_closed_is_replaced_before_use(engine: AsyncEngine) -> None:
    pooled = await backend_pid(engine)
    async with engine.connect() as conn:  # the same, pooled connection: pool_size=1
        raw: Any = (await conn.get_raw_connection()).driver_connection
    # What a PostgreSQL restart does to every pooled connection, done to one.
    async with make_engine(str(engine.url)).connect() as other:
        assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})

    async def closed() -> bool:
        return bool(raw.is_closed())

    await eventually(closed)

    assert await backend_pid(engine) != pooled  # no error: a new connection served it


async def last_statement_at(observer: AsyncEngine, pid: int) -> Any:
    """When the backend `pid` last began a statement, as PostgreSQL saw it."""
    async with observer.connect() as conn:
        query = text("SELECT query_start FROM pg_stat_activity WHERE pid = :pid")
        return await conn.scalar(query, {"pid": pid})


@pytest.fixture
async def observer(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infrastructure.test_database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_handed_out_without_a_round_trip(
    engine: AsyncEngine, observer: AsyncEngine
) -> None:
    pid = await backend_pid(engine)
    before = await last_statement_at(observer, pid)
    async with engine.connect():  # checked out: pool_pre_ping would have sent its ping by now
        assert await last_statement_at(observer, pid) == before


async def test_a_connection_idle_for_long_is_pinged_before_use(
    engine: AsyncEngine, observer: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = await backend_pid(engine)
    before = await last_statement_at(observer, pid)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # any idle counts as long
    async with engine.connect():
        assert await last_statement_at(observer, pid) > before
