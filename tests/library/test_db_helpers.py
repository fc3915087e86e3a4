"""The shared helpers for locking reads, projection upserts and the audit entry
of a consumer, against real PostgreSQL. Each test runs in a transaction that is
rolled back, the pattern the services' own DB-backed tests follow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Integer, String, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conftest import Infrastructure
from shared import audit
from shared.db import get_locked, locked, make_engine, new_metadata
from shared.events import Envelope
from shared.projection import newer_version, upsert


class Base(DeclarativeBase):
    metadata = new_metadata()


class Fact(Base):
    __tablename__ = "helper_test_facts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer)


@pytest.fixture(scope="module")
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infrastructure.test_database_url, pool_size=3)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in a transaction rolled back after the test: nothing stays."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        async with AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            yield session
        await transaction.rollback()


async def test_a_newer_fact_wins_and_an_older_one_changes_nothing(session: AsyncSession) -> None:
    fact_id = uuid.uuid4()
    when = newer_version(Fact)
    assert await upsert(session, Fact, {"id": fact_id, "value": "v2", "version": 2}, key=["id"], when=when)
    assert not await upsert(
        session, Fact, {"id": fact_id, "value": "v1", "version": 1}, key=["id"], when=when
    ), "a replayed older fact must change nothing"
    assert not await upsert(
        session, Fact, {"id": fact_id, "value": "again", "version": 2}, key=["id"], when=when
    ), "the same version twice is not newer"
    assert await upsert(session, Fact, {"id": fact_id, "value": "v3", "version": 3}, key=["id"], when=when)
    stored = await session.scalar(text("SELECT value FROM helper_test_facts WHERE id = :id"), {"id": fact_id})
    assert stored == "v3"


async def test_a_locked_read_sees_what_another_transaction_committed_meanwhile(engine: AsyncEngine) -> None:
    fact_id = uuid.uuid4()
    async with AsyncSession(engine) as setup, setup.begin():
        setup.add(Fact(id=fact_id, value="before", version=1))
    try:
        async with AsyncSession(engine, expire_on_commit=False) as reader, reader.begin():
            stale = await reader.get(Fact, fact_id)  # read before the other change
            assert stale is not None and stale.value == "before"
            async with AsyncSession(engine) as writer, writer.begin():
                await writer.execute(
                    text("UPDATE helper_test_facts SET value = 'after' WHERE id = :id"), {"id": fact_id}
                )
            fresh = await get_locked(reader, Fact, fact_id)
            assert fresh is stale and fresh.value == "after", "the identity map must be refreshed"
            again = (await reader.scalars(locked(select(Fact).where(Fact.id == fact_id)))).one()
            assert again.value == "after"
    finally:
        async with AsyncSession(engine) as cleanup, cleanup.begin():
            await cleanup.execute(text("DELETE FROM helper_test_facts WHERE id = :id"), {"id": fact_id})


async def test_a_locked_read_waits_for_the_lock(engine: AsyncEngine) -> None:
    fact_id = uuid.uuid4()
    async with AsyncSession(engine) as setup, setup.begin():
        setup.add(Fact(id=fact_id, value="x", version=1))
    try:
        async with AsyncSession(engine) as holder, holder.begin():
            await get_locked(holder, Fact, fact_id)

            async def second() -> None:
                async with AsyncSession(engine) as other, other.begin():
                    await get_locked(other, Fact, fact_id)

            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.5)
            assert not waiting.done(), "a second locked read must wait for the first transaction"
        await asyncio.wait_for(waiting, 5)
    finally:
        async with AsyncSession(engine) as cleanup, cleanup.begin():
            await cleanup.execute(text("DELETE FROM helper_test_facts WHERE id = :id"), {"id": fact_id})


def test_a_consumers_audit_entry_names_the_producing_service_as_system() -> None:
    envelope = Envelope(uuid.uuid4(), "se.omsorg.test.v1", "/casework", datetime.now(UTC))
    entry = audit.from_event(envelope, "update", "representation", uuid.UUID(int=7), "191212121212")
    assert (entry.actor, entry.actor_role, entry.object_id, entry.subject_pnr) == (
        "event:/casework",
        "system",
        str(uuid.UUID(int=7)),
        "191212121212",
    )
