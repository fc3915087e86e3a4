"""Fixtures of messaging's DB-backed tests: the service layer and the consumers'
handlers run against messaging's own PostgreSQL database at its newest
migration, each test inside a transaction that is rolled back afterwards. A
missing PostgreSQL fails the tests, it never skips them.

    async def test_...(session: AsyncSession, make_staff: StaffFactory, world: World) -> None:
        person = await world.citizen_with_e_service(caseworker=make_staff())
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from messaging.mailboxes import service as mailboxes
from messaging.rights import service as rights
from shared.auth import User
from shared.contracts.casework import (
    CaseworkerAssigned,
    EServiceSettingsChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.db import make_engine
from shared.events import Envelope, Event
from shared.personnummer import Personnummer

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure

CASEWORK_SOURCE = "/omsorg/casework"


@pytest.fixture(scope="session")
def messaging_database_url(infrastructure: Infrastructure) -> str:
    """Messaging's database, migrated to head as deploy/omsorg.sh does, reached as the
    runtime role the service itself uses."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "messaging")


@pytest.fixture(scope="session")
async def messaging_engine(messaging_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(messaging_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(messaging_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test (the root conftest's
    `rolled_back_session`): nothing stays; it collects refusals like a request's."""
    from conftest import rolled_back_session

    async with rolled_back_session(messaging_engine) as session:
        yield session


def _new_personnummer() -> str:
    from conftest import new_personnummer  # the root conftest, loaded by now

    return new_personnummer()


StaffFactory = Callable[..., User]
CitizenFactory = Callable[..., User]
EnvelopeFactory = Callable[..., Envelope]
AuditLog = Callable[[str], Awaitable[list[dict[str, Any]]]]
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def make_staff() -> StaffFactory:
    """Logged-in staff: `make_staff()` is a fresh caseworker of unit testenhet."""

    def make(
        name: str = "Marita Aronsson",
        units: tuple[str, ...] = ("testenhet",),
        roles: tuple[str, ...] = ("caseworker",),
        provider_id: str | None = None,
    ) -> User:
        return User(
            sub=f"staff-{uuid.uuid4().hex[:8]}",
            name=name,
            roles=frozenset(roles),
            units=units,
            provider_id=provider_id,
        )

    return make


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


@pytest.fixture
def make_envelope() -> EnvelopeFactory:
    """The CloudEvents attributes the consumer hands a handler with an event: a fresh ce_id."""

    def make(event: Event, source: str = CASEWORK_SOURCE) -> Envelope:
        return Envelope(uuid.uuid4(), event.ce_type, source, datetime.now(UTC), event.subject())

    return make


@dataclass
class Person:
    """A citizen as casework knows them: the person id and their login."""

    person_id: uuid.UUID
    user: User
    version: int = 0


@dataclass
class World:
    """Casework's facts, handed to messaging's handlers as its consumer would."""

    session: AsyncSession
    envelope: EnvelopeFactory

    async def e_service(self, person: Person, enabled: bool) -> None:
        person.version += 1
        event = EServiceSettingsChanged(
            person_id=person.person_id,
            pnr=person.user.pnr or Personnummer(_new_personnummer()),
            name=person.user.name,
            messages_enabled=enabled,
            sms_number=None,
            email=None,
            alert_recipients="citizen",
            protected_identity=False,
            changed_at=datetime.now(UTC),
            version=person.version,
        )
        await mailboxes.on_e_service_settings_changed(self.session, event, self.envelope(event))

    async def assign(self, person: Person, caseworker: User, at: datetime | None = None) -> uuid.UUID:
        assert person.user.pnr is not None
        event = CaseworkerAssigned(
            record_id=uuid.uuid4(),
            person_id=person.person_id,
            citizen_pnr=person.user.pnr,
            caseworker_id=caseworker.sub,
            caseworker_name=caseworker.name,
            unit=caseworker.units[0] if caseworker.units else "testenhet",
            assigned_at=at or datetime.now(UTC),
        )
        await rights.on_caseworker_assigned(self.session, event, self.envelope(event))
        return event.record_id

    async def citizen(
        self, make: CitizenFactory, caseworker: User | None = None, enabled: bool = True
    ) -> Person:
        """A person with the message function on (or off) and, if given, their caseworker."""
        person = Person(uuid.uuid4(), make())
        await self.e_service(person, enabled)
        if caseworker is not None:
            await self.assign(person, caseworker)
        return person

    async def approve(
        self, person: Person, related: User, valid_from: date | None = None, days: int = 365
    ) -> uuid.UUID:
        assert person.user.pnr is not None and related.pnr is not None
        start = valid_from or datetime.now(UTC).date() - timedelta(days=1)
        event = RelatedPersonApproved(
            approval_id=uuid.uuid4(),
            person_id=person.person_id,
            citizen_pnr=person.user.pnr,
            citizen_name=person.user.name,
            related_pnr=related.pnr,
            related_name=related.name,
            valid_from=start,
            valid_to=start + timedelta(days=days),
            version=1,
            approved_at=datetime.now(UTC),
        )
        await rights.on_approved(self.session, event, self.envelope(event))
        return event.approval_id

    async def revoke(self, person: Person, related: User, approval_id: uuid.UUID) -> None:
        assert person.user.pnr is not None and related.pnr is not None
        today = datetime.now(UTC).date()
        event = RelatedPersonApprovalRevoked(
            approval_id=approval_id,
            person_id=person.person_id,
            citizen_pnr=person.user.pnr,
            citizen_name=person.user.name,
            related_pnr=related.pnr,
            related_name=related.name,
            valid_from=today - timedelta(days=1),
            valid_to=today + timedelta(days=364),
            version=2,
            revoked_at=datetime.now(UTC),
        )
        await rights.on_revoked(self.session, event, self.envelope(event))


@pytest.fixture
def world(session: AsyncSession, make_envelope: EnvelopeFactory) -> World:
    return World(session, make_envelope)


@pytest.fixture
def audit_log(session: AsyncSession) -> AuditLog:
    """The audit entries about one person, oldest first, the refusals collected so far included."""
    from conftest import audit_entries

    async def entries(subject_pnr: str) -> list[dict[str, Any]]:
        return await audit_entries(session, subject_pnr)

    return entries


@pytest.fixture
def refusals(session: AsyncSession) -> Callable[[str], Awaitable[list[dict[str, Any]]]]:
    """The refused entries of one actor, the ones collected so far included."""

    async def entries(actor: str) -> list[dict[str, Any]]:
        from conftest import refused_entries

        return await refused_entries(session, actor)

    return entries


@pytest.fixture
def outbox(session: AsyncSession) -> Outbox:
    """The events of a type with a Kafka key queued in this test, oldest first, as JSON."""
    from conftest import outbox_events

    async def events(ce_type: str, key: str) -> list[dict[str, Any]]:
        return await outbox_events(session, ce_type, key)

    return events
