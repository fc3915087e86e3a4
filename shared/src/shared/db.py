"""Async engine, sessions, and the request dependency that owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from shared import audit

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def declarative_base() -> type[DeclarativeBase]:
    """A fresh declarative base per service, with the shared constraint names."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return Base


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN of an SQLAlchemy URL, for asyncpg's LISTEN connection."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    # One transaction per request: committed when the endpoint returns, rolled
    # back when it raises. Services flush, never commit (CONVENTIONS habit 2).
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
