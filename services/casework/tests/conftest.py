"""Fixtures of casework's DB-backed tests: its own PostgreSQL database at the newest
migration, and a session whose work is rolled back after each test, so a rule of
the service layer is tested in milliseconds, without Kafka or HTTP.

A test that needs committed transactions (a race between two of them) takes
`casework_database_url` and makes its own engine. Missing PostgreSQL fails the
test (the root conftest's `infrastructure`), it never skips it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from casework.models import IntakeRecord, Person, RecordStatus
from shared import audit
from shared.auth import User
from shared.db import make_engine
from shared.events import Envelope, Event

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure


def _new_personnummer() -> str:
    from conftest import new_personnummer  # the root conftest, loaded by now

    return str(new_personnummer())


DEFAULT_URL_PATTERN = "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
_AUDIT = text("""
    SELECT actor, actor_role, action, object_type, object_id, outcome FROM audit_log
    WHERE subject_pnr = :pnr ORDER BY id""")
_EVENTS = text("SELECT headers->>'ce_type' FROM outbox WHERE key = :key ORDER BY id")


@pytest.fixture(scope="session")
def casework_database_url(infrastructure: Infrastructure) -> str:
    """Casework's own database, migrated to head as deploy/omsorg.sh configures it."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "casework")


@pytest.fixture(scope="session")
async def engine(casework_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(casework_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in a transaction rolled back after the test: nothing it writes stays.
    Run a call that should fail in `session.begin_nested()`: what it wrote is rolled
    back, as its request's transaction would be, and the test goes on."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        async with AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            audit.collect_refusals(session)  # as a request's session does: see `audit_of`
            yield session
        await transaction.rollback()


def _caseworker_in(*units: str) -> User:
    return User(
        sub=f"cw-{uuid.uuid4().hex[:8]}", name="Marita Test", roles=frozenset({"caseworker"}), units=units
    )


@pytest.fixture
def make_caseworker() -> Callable[[], User]:
    """Make a caseworker of a unit of their own, so rows of other tests never match."""
    return lambda: _caseworker_in(f"unit-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def caseworker(make_caseworker: Callable[[], User]) -> User:
    return make_caseworker()


@pytest.fixture
def linked_person(session: AsyncSession) -> Callable[..., Awaitable[Person]]:
    """Make a person with an intake record in `user`'s first unit (so the user may reach them)."""

    async def make(user: User, **person: Any) -> Person:
        created = Person(id=uuid.uuid4(), pnr=_new_personnummer(), name="Annika Test", **person)
        session.add(created)
        await session.flush()
        session.add(
            IntakeRecord(
                person_id=created.id,
                record_type="Förenklad handläggning",
                lss_services=[],
                caseworker_id=user.sub,
                caseworker_name=user.name,
                unit=user.units[0],
                from_whom="Den enskilde",
                channel="E-ansökan",
                note="",
                status=RecordStatus.IN_PROGRESS,
                created_by=user.sub,
                created_at=datetime.now(UTC),
            )
        )
        await session.flush()
        return created

    return make


@pytest.fixture
def new_pnr() -> Callable[[], str]:
    """Make a fresh valid personnummer, so runs against a long-lived database never collide."""
    return _new_personnummer


@pytest.fixture
def envelope() -> Callable[[Event], Envelope]:
    """The CloudEvents attributes a consumer hands the handler with an event from intake."""
    return lambda event: Envelope(uuid.uuid4(), event.ce_type, "/omsorg/intake", datetime.now(UTC))


@pytest.fixture
def audit_of(session: AsyncSession) -> Callable[[str], Awaitable[list[tuple[Any, ...]]]]:
    """(actor, actor_role, action, object_type, object_id, outcome) of a person's audit
    rows, in order, with the refusals collected so far (written as a request does)."""

    async def rows(pnr: str) -> list[tuple[Any, ...]]:
        await audit.write_refusals(session)
        audit.collect_refusals(session)  # written now: collect anew
        return [tuple(row) for row in await session.execute(_AUDIT, {"pnr": pnr})]

    return rows


@pytest.fixture
def events_of(session: AsyncSession) -> Callable[[uuid.UUID], Awaitable[list[str]]]:
    """The ce_types of the outbox rows with this key (an aggregate id), in order."""

    async def types(key: uuid.UUID) -> list[str]:
        return list(await session.scalars(_EVENTS, {"key": str(key)}))

    return types
