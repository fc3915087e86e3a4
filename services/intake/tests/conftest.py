"""Fixtures of intake's DB-backed tests: the service layer and the consumers'
handlers run against intake's own PostgreSQL database at its newest migration,
each test inside a transaction that is rolled back afterwards. A rule is tested
in milliseconds, without Kafka or the running services; a missing PostgreSQL
fails the tests, it never skips them.

    async def test_...(session: AsyncSession, make_citizen: CitizenFactory) -> None:
        await service.update_profile(session, make_citizen(), ProfileUpdate(mobile="0701234567"))
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.auth import User
from shared.db import make_engine
from shared.events import Envelope, Event
from shared.personnummer import Personnummer

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure


CASEWORK_SOURCE = "/omsorg/casework"


@pytest.fixture(scope="session")
def intake_database_url(infrastructure: Infrastructure) -> str:
    """Intake's database, migrated to head as deploy/omsorg.sh does, reached as the
    runtime role the service itself uses."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "intake")


@pytest.fixture(scope="session")
async def intake_engine(intake_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(intake_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(intake_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test (the root conftest's
    `rolled_back_session`): nothing stays; it collects refusals like a request's."""
    from conftest import rolled_back_session

    async with rolled_back_session(intake_engine) as session:
        yield session


CitizenFactory = Callable[..., User]
EnvelopeFactory = Callable[..., Envelope]
AuditLog = Callable[[str], Awaitable[list[dict[str, Any]]]]
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def make_citizen() -> CitizenFactory:
    """Logged-in citizens: `make_citizen()` is a fresh person no other test has used."""

    def make(pnr: str | None = None, name: str = "Annika Test") -> User:
        return User(
            sub=f"c-{uuid.uuid4().hex[:8]}",
            name=name,
            roles=frozenset({"citizen"}),
            pnr=Personnummer(pnr or _new_personnummer()),
        )

    return make


def _new_personnummer() -> str:
    from conftest import new_personnummer  # the root conftest, loaded by now

    return new_personnummer()


@pytest.fixture
def make_envelope() -> EnvelopeFactory:
    """The CloudEvents attributes the consumer hands a handler with an event: a fresh ce_id."""

    def make(event: Event, source: str = CASEWORK_SOURCE) -> Envelope:
        return Envelope(uuid.uuid4(), event.ce_type, source, datetime.now(UTC), event.subject())

    return make


@pytest.fixture
def audit_log(session: AsyncSession) -> AuditLog:
    """The audit entries about one person, oldest first, the refusals collected so far included."""
    from conftest import audit_entries

    async def entries(subject_pnr: str) -> list[dict[str, Any]]:
        return await audit_entries(session, subject_pnr)

    return entries


@pytest.fixture
def outbox(session: AsyncSession) -> Outbox:
    """The events of a type with a Kafka key queued in this test, oldest first, as JSON."""
    from conftest import outbox_events

    async def events(ce_type: str, key: str) -> list[dict[str, Any]]:
        return await outbox_events(session, ce_type, key)

    return events
