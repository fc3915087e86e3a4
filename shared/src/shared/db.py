"""Async engine, sessions, and the request dependency that owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar, TypeVarTuple

from fastapi import Depends, Request
from sqlalchemy import MetaData, Select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


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
