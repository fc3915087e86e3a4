"""Fixtures of notify's DB-backed tests: the service layer and the consumers'
handlers run against notify's own PostgreSQL database at its newest migration,
each test inside a transaction that is rolled back afterwards (so the running
notify's sender never sees a test's alerts). A missing PostgreSQL fails the
tests, it never skips them. "Now" is a `FakeClock` the test sets.

    async def test_...(world: World, clock: FakeClock) -> None:
        person = await world.person(sms=world.number())
        await world.deliver(person)
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from notify.alerts import repository
from notify.alerts import service as alerts
from notify.config import Settings
from notify.models import Alert, AlertHistory, AlertStatus, AlertTrigger
from notify.recipients import service as recipients
from shared.auth import User
from shared.contracts.casework import (
    AlertAddress,
    AlertRecipients,
    CaseworkerAssigned,
    EServiceSettingsChanged,
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.contracts.messaging import DeliveryKind, MessageDeliveredToEService
from shared.db import make_engine
from shared.events import Envelope, Event
from shared.personnummer import Personnummer

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure

CASEWORK_SOURCE = "/omsorg/casework"
MESSAGING_SOURCE = "/omsorg/messaging"
# A weekday noon in Stockholm (CET, UTC+1): outside the quiet hours.
NOON = datetime(2025, 3, 12, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def notify_database_url(infrastructure: Infrastructure) -> str:
    """Notify's database, migrated to head as deploy/omsorg.sh does, reached as the
    runtime role the service itself uses."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "notify")


@pytest.fixture(scope="session")
async def notify_engine(notify_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(notify_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(notify_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test (the root conftest's
    `rolled_back_session`): nothing stays; it collects refusals like a request's."""
    from conftest import rolled_back_session

    async with rolled_back_session(notify_engine) as session:
        yield session


def new_personnummer() -> str:
    """A fresh valid personnummer (the root conftest's)."""
    from conftest import new_personnummer as fresh  # the root conftest, loaded by now

    return fresh()


def new_number() -> str:
    """A fresh Swedish mobile number in E.164, unique enough that tests never share one."""
    return f"+4670{random.randint(0, 9_999_999):07d}"


def new_email() -> str:
    """A fresh e-mail address."""
    return f"t{uuid.uuid4().hex[:10]}@example.se"


@dataclass
class FakeClock:
    """An injectable clock (notify.clock.Clock): returns `now`, which the test moves."""

    now: datetime = NOON

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def notify_settings(notify_database_url: str) -> Settings:
    """Notify's settings at their defaults (window 300 s, quiet hours 21:00 to
    08:00, retry deadline 4 h), in the test environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMSORG_ENVIRONMENT", os.environ.get("OMSORG_ENVIRONMENT") or "test")
        return Settings(database_url=notify_database_url)


EnvelopeFactory = Callable[..., Envelope]
StaffFactory = Callable[..., User]
AuditLog = Callable[[str], Awaitable[list[dict[str, Any]]]]
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def make_envelope() -> EnvelopeFactory:
    """The CloudEvents attributes the consumer hands a handler with an event: a fresh ce_id."""

    def make(event: Event, source: str = CASEWORK_SOURCE) -> Envelope:
        return Envelope(uuid.uuid4(), event.ce_type, source, datetime.now(UTC), event.subject())

    return make


@pytest.fixture
def make_staff() -> StaffFactory:
    """Logged-in staff: `make_staff()` is a fresh caseworker of unit testenhet."""

    def make(units: tuple[str, ...] = ("testenhet",), roles: tuple[str, ...] = ("caseworker",)) -> User:
        return User(
            sub=f"staff-{uuid.uuid4().hex[:8]}", name="Marita Aronsson", roles=frozenset(roles), units=units
        )

    return make


@dataclass
class Related:
    """A related person's alert flags as casework sends them."""

    pnr: str = field(default_factory=new_personnummer)
    sms_number: str | None = None
    email: str | None = None

    def address(self) -> AlertAddress:
        return AlertAddress(
            related_pnr=Personnummer(self.pnr),
            name="Bo Närstående",
            sms_number=self.sms_number,
            email=self.email,
        )


@dataclass
class Person:
    """A citizen as casework knows them, with their alert settings as last sent."""

    person_id: uuid.UUID
    pnr: str
    version: int = 0
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    """Casework's and messaging's facts, handed to notify's handlers as its consumer would."""

    session: AsyncSession
    envelope: EnvelopeFactory
    clock: FakeClock
    settings: Settings

    number = staticmethod(new_number)
    email = staticmethod(new_email)

    @staticmethod
    def related(sms_number: str | None = None, email: str | None = None) -> Related:
        """A fresh related person with these alert channels."""
        return Related(new_personnummer(), sms_number, email)

    @staticmethod
    def unknown_person() -> Person:
        """A person casework has sent no settings of yet (the first set_settings sends all)."""
        return Person(
            uuid.uuid4(),
            new_personnummer(),
            settings={
                "sms": None,
                "email": None,
                "recipients": "citizen",
                "related": [],
                "protected_identity": False,
                "messages_enabled": True,
            },
        )

    async def person(
        self,
        *,
        sms: str | None = None,
        email: str | None = None,
        recipients: AlertRecipients = "citizen",
        related: list[Related] | None = None,
        protected_identity: bool = False,
        messages_enabled: bool = True,
    ) -> Person:
        """A person with these e-service settings (version 1)."""
        person = self.unknown_person()
        await self.set_settings(
            person,
            sms=sms,
            email=email,
            recipients=recipients,
            related=related or [],
            protected_identity=protected_identity,
            messages_enabled=messages_enabled,
        )
        return person

    def settings_event(self, person: Person, version: int, **changes: Any) -> EServiceSettingsChanged:
        """The person's settings event at `version`, with `changes` over the last sent ones."""
        values = {**person.settings, **changes}
        return EServiceSettingsChanged(
            person_id=person.person_id,
            pnr=Personnummer(person.pnr),
            name="Annika Test",
            messages_enabled=values["messages_enabled"],
            sms_number=values["sms"],
            email=values["email"],
            alert_recipients=values["recipients"],
            related_alerts=[r.address() for r in values["related"]],
            protected_identity=values["protected_identity"],
            changed_at=datetime.now(UTC),
            version=version,
        )

    async def set_settings(self, person: Person, **changes: Any) -> None:
        """Casework's next settings event of the person (the version counted up)."""
        person.version += 1
        event = self.settings_event(person, person.version, **changes)
        person.settings = {**person.settings, **changes}
        handler = alerts.settings_handler(self.settings, self.clock)
        await handler(self.session, event, self.envelope(event))

    def _approval_facts(
        self,
        person: Person,
        related: Related,
        approval_id: uuid.UUID,
        valid_from: date,
        valid_to: date,
        version: int,
    ) -> dict[str, Any]:
        return {
            "approval_id": approval_id,
            "person_id": person.person_id,
            "citizen_pnr": Personnummer(person.pnr),
            "citizen_name": "Annika Test",
            "related_pnr": Personnummer(related.pnr),
            "related_name": "Bo Närstående",
            "valid_from": valid_from,
            "valid_to": valid_to,
            "version": version,
        }

    def today(self) -> date:
        return recipients.swedish_date(self.clock())

    async def approve(
        self, person: Person, related: Related, valid_from: date | None = None, valid_to: date | None = None
    ) -> uuid.UUID:
        """Casework approved the related person (by default from yesterday for a year)."""
        start = valid_from or self.today() - timedelta(days=1)
        event = RelatedPersonApproved(
            **self._approval_facts(
                person, related, uuid.uuid4(), start, valid_to or start + timedelta(days=365), 1
            ),
            approved_at=datetime.now(UTC),
        )
        await recipients.on_approved(self.session, event, self.envelope(event))
        return event.approval_id

    async def change_approval(
        self,
        person: Person,
        related: Related,
        approval_id: uuid.UUID,
        valid_from: date,
        valid_to: date,
        version: int,
    ) -> None:
        event = RelatedPersonApprovalChanged(
            **self._approval_facts(person, related, approval_id, valid_from, valid_to, version),
            changed_at=datetime.now(UTC),
        )
        await recipients.on_approved(self.session, event, self.envelope(event))

    async def revoke(
        self, person: Person, related: Related, approval_id: uuid.UUID, version: int = 2
    ) -> None:
        start = self.today() - timedelta(days=1)
        event = RelatedPersonApprovalRevoked(
            **self._approval_facts(person, related, approval_id, start, start + timedelta(days=365), version),
            revoked_at=datetime.now(UTC),
        )
        await recipients.on_revoked(self.session, event, self.envelope(event))

    async def assign(self, person: Person, unit: str = "testenhet") -> None:
        """A caseworker of `unit` became responsible for one of the person's records."""
        event = CaseworkerAssigned(
            record_id=uuid.uuid4(),
            person_id=person.person_id,
            citizen_pnr=Personnummer(person.pnr),
            caseworker_id=f"cw-{uuid.uuid4().hex[:6]}",
            caseworker_name="Marita Aronsson",
            unit=unit,
            assigned_at=datetime.now(UTC),
        )
        await recipients.on_caseworker_assigned(self.session, event, self.envelope(event))

    def delivery(self, person: Person, kind: DeliveryKind = "message") -> MessageDeliveredToEService:
        """A delivery into the person's e-service mailbox, now."""
        return MessageDeliveredToEService(
            message_id=uuid.uuid4(),
            mailbox_id=uuid.uuid4(),
            person_id=person.person_id,
            kind=kind,
            delivered_at=self.clock(),
        )

    async def deliver(
        self, person: Person, kind: DeliveryKind = "message", event: MessageDeliveredToEService | None = None
    ) -> MessageDeliveredToEService:
        """Messaging delivered into the person's mailbox: notify plans, as its consumer would."""
        event = event or self.delivery(person, kind)
        handler = alerts.delivered_handler(self.settings, self.clock)
        await handler(self.session, event, self.envelope(event, MESSAGING_SOURCE))
        return event

    async def sent(self, person: Person) -> None:
        """The sender took every queued alert of the person and the gateway accepted it."""
        now = self.clock()
        for alert in await self.alerts(person):
            if alert.status == AlertStatus.QUEUED:
                await repository.change_status(
                    self.session, alert, AlertStatus.SENDING, now, attempts=alert.attempts + 1
                )
                await repository.change_status(
                    self.session, alert, AlertStatus.ACCEPTED, now, accepted_at=now
                )

    async def alerts(self, person: Person) -> list[Alert]:
        """The person's alerts, oldest first (by due time, then channel)."""
        query = (
            select(Alert)
            .where(Alert.person_id == person.person_id)
            .order_by(Alert.due_at, Alert.created_at, Alert.channel)
            .execution_options(populate_existing=True)
        )
        return list(await self.session.scalars(query))

    async def triggers(self, alert: Alert) -> list[uuid.UUID]:
        """The message ids an alert tells about."""
        query = select(AlertTrigger.message_id).where(AlertTrigger.alert_id == alert.id)
        return list(await self.session.scalars(query))

    async def history(self, alert: Alert) -> list[AlertHistory]:
        query = select(AlertHistory).where(AlertHistory.alert_id == alert.id).order_by(AlertHistory.id)
        return list(await self.session.scalars(query))


@pytest.fixture
def world(
    session: AsyncSession, make_envelope: EnvelopeFactory, clock: FakeClock, notify_settings: Settings
) -> World:
    return World(session, make_envelope, clock, notify_settings)


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
