"""Async engine, sessions, and the request dependency that owns the transaction."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar, TypeVarTuple

from fastapi import Depends, Request
from sqlalchemy import MetaData, Select, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from shared import audit

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """The metadata of one service's models, with the shared constraint names.
    Each service declares `class Base(DeclarativeBase): metadata = new_metadata()`,
    so its models are typed (`Mapped[...]`) and its tables its own."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def locked(query: Select[*Ts]) -> Select[*Ts]:
    """`query` with a row lock (FOR UPDATE), refreshing any copy of the rows the
    session already holds: without populate_existing, a row read earlier in the
    transaction keeps its stale values even after waiting for the lock."""
    return query.with_for_update().execution_options(populate_existing=True)


async def get_locked(session: AsyncSession, model: type[T], ident: Any) -> T | None:
    """The row of `model` with primary key `ident`, locked and freshly read."""
    return await session.get(model, ident, with_for_update=True, populate_existing=True)


# A pooled connection is replaced at checkout once it is this old (no round
# trip: a new connection is opened instead), so one that a firewall or NAT
# silently dropped, or a server-side idle timeout, cannot linger for ever.
POOL_RECYCLE_SECONDS = 1800
# A connection idle in the pool longer than this is pinged before use: after a
# quiet spell nothing has exercised it, and one round trip then costs nothing
# that matters. Under load connections come back within milliseconds and are
# never pinged.
PING_AFTER_IDLE_SECONDS = 30.0
_CHECKED_IN_AT = "omsorg_checked_in_at"
# How long a checkout waits for a free connection, and how long opening a new
# one may take, before the caller gets an error: an HTTP request then answers
# 503 with Retry-After (shared.problems), a consumer retries later
# (shared.inbox), instead of every request hanging for SQLAlchemy's 30 s (or
# asyncpg's 60 s connect timeout, against a host that drops packets).
POOL_TIMEOUT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 3.0


def make_engine(
    url: str,
    pool_size: int = 10,
    pool_timeout: float = POOL_TIMEOUT_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> AsyncEngine:
    """An async engine whose pool keeps dead connections from failing requests
    without a round trip per checkout.

    SQLAlchemy's pool_pre_ping costs three round trips on asyncpg (BEGIN, an
    empty query, ROLLBACK) on every checkout: on intake's submit, as many as the
    request's own statements. Instead, at checkout:
    - a connection whose socket the server closed (PostgreSQL restarted, the
      backend was terminated) is known closed to asyncpg already, because the
      event loop read the server's goodbye while the connection sat in the
      pool: it is replaced, for free, before anyone uses it;
    - one idle longer than PING_AFTER_IDLE_SECONDS is pinged (see above);
    - one older than POOL_RECYCLE_SECONDS is replaced (pool_recycle).
    What is left, a connection that dies mid-request, fails that request, as it
    did with pre-ping; SQLAlchemy then invalidates the whole pool (every older
    connection is replaced at its next checkout), and consumers retry it as an
    infrastructure error (shared.inbox).

    A checkout waits at most `pool_timeout` seconds for a connection, and a new
    connection may take at most `connect_timeout` to open: past either the
    caller fails fast (sqlalchemy.exc.TimeoutError, TimeoutError), which the
    HTTP edge answers with 503 and Retry-After."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_timeout=pool_timeout,
        connect_args={"timeout": connect_timeout},
    )
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check_alive(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        # Raising DisconnectionError makes the pool replace this connection and
        # check out again (SQLAlchemy's documented checkout hook).
        if _is_closed(dbapi_connection):
            raise exc.DisconnectionError("the server closed this pooled connection")
        idle = time.monotonic() - record.info.get(_CHECKED_IN_AT, time.monotonic())
        if idle > PING_AFTER_IDLE_SECONDS:
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as error:  # whatever the driver raised: the connection is no good
                raise exc.DisconnectionError("a pooled connection idle for long did not answer") from error

    return engine


def _is_closed(dbapi_connection: Any) -> bool:
    """Whether asyncpg already knows the connection closed (a local check, no round trip)."""
    raw = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(raw, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN of an SQLAlchemy URL, for asyncpg's LISTEN connection."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    # One transaction per request: committed when the endpoint returns, rolled
    # back when it raises. Services flush, never commit (docs/module-template.md).
    # Refusals (shared.audit.refuse) are written last: with the commit, or in
    # a transaction of their own after the rollback, so they always stay.
    async with request.app.state.sessionmaker() as session:
        audit.collect_refusals(session)
        try:
            async with session.begin():
                yield session
                await audit.write_refusals(session)
        except Exception:
            if audit.has_refusals(session):
                async with session.begin():
                    await audit.write_refusals(session)
            raise


# scope="function": commit before the response leaves, so a 201 means saved.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
