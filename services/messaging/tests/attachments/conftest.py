"""Fixtures of the attachment store's DB-backed tests: the service layer against
messaging's own PostgreSQL database at its newest migration, each test in a
REPEATABLE READ transaction rolled back afterwards (so row counts before and
after an upload see no one else's commits). A missing PostgreSQL fails the
tests, it never skips them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from shared import audit
from shared.auth import User
from shared.db import make_engine
from shared.personnummer import Personnummer

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure


@pytest.fixture(scope="session")
def attachments_database_url(infrastructure: Infrastructure) -> str:
    """Messaging's database, migrated to head as deploy/omsorg.sh does, reached as the
    runtime role the service itself uses."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "messaging")


@pytest.fixture(scope="session")
async def attachments_engine(attachments_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(attachments_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(attachments_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with attachments_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test; like a request's session
    it collects refusals."""
    async with AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        audit.collect_refusals(session)
        yield session


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection, as the download stream opens them: they see its writes."""
    return async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


UserFactory = Callable[..., User]


@pytest.fixture
def make_user() -> UserFactory:
    """`make_user()` is a fresh caseworker; `make_user("citizen")` a fresh citizen."""

    def make(role: str = "caseworker") -> User:
        if role == "citizen":
            from conftest import new_personnummer  # the root conftest, loaded by now

            return User(
                sub=f"c-{uuid.uuid4().hex[:8]}",
                name="Annika Test",
                roles=frozenset({"citizen"}),
                pnr=Personnummer(new_personnummer()),
            )
        return User(
            sub=f"{role}-{uuid.uuid4().hex[:8]}",
            name="Marita Test",
            roles=frozenset({role}),
            units=("testenhet",),
        )

    return make


Counts = Callable[[], Awaitable[dict[str, int]]]


@pytest.fixture
def stored(session: AsyncSession) -> Counts:
    """How many rows the attachment tables hold, as this test's transaction sees them."""

    async def counts() -> dict[str, int]:
        row = (
            await session.execute(
                text("""
            SELECT (SELECT count(*) FROM attachments) AS attachments,
                   (SELECT count(*) FROM attachment_contents) AS contents,
                   (SELECT count(*) FROM attachment_chunks) AS chunks""")
            )
        ).one()
        return dict(row._mapping)

    return counts


AuditRows = Callable[[str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def audit_rows(session: AsyncSession) -> AuditRows:
    """The audit entries about one attachment, oldest first, the refusals collected so far included."""

    async def entries(object_id: str) -> list[dict[str, Any]]:
        await audit.write_refusals(session)
        audit.collect_refusals(session)
        rows = await session.execute(
            text("""
            SELECT actor, actor_role, action, object_type, object_id, subject_pnr, outcome FROM audit_log
            WHERE object_type = 'attachment' AND object_id = :id ORDER BY id"""),
            {"id": object_id},
        )
        return [dict(r._mapping) for r in rows]

    return entries
