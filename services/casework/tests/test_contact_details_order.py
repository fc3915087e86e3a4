"""Casework applying the citizen's contact details (ContactDetailsChanged) against
its real PostgreSQL, with the events arriving as a redelivery or a dead-letter
replay delivers them: ordered per field by the citizen profile's version, so a
stale replay changes nothing, while a newer change of the other field, however
late, still applies. Each delivery is a transaction of its own (a savepoint of
the test's rolled-back transaction)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import CitizenContactDetails, Person
from casework.persons import service
from conftest import new_personnummer
from shared.contracts.intake import ContactDetailsChanged
from shared.events import Envelope
from shared.personnummer import Personnummer

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_SETTINGS_VERSIONS = text("""
    SELECT (convert_from(payload, 'UTF8')::jsonb->>'version')::int FROM outbox
    WHERE key = :key AND headers->>'ce_type' = 'se.omsorg.casework.person.e-service-settings-changed.v1'
    ORDER BY id""")


class Citizen:
    """A person in casework and the ContactDetailsChanged events of their profile in intake."""

    def __init__(self) -> None:
        self.pnr = new_personnummer()
        self.citizen_id = uuid.uuid4()
        self.person_id = uuid.uuid4()

    def changed(self, version: int, at: datetime = T0, **fields: str | None) -> ContactDetailsChanged:
        current: dict[str, Any] = {"mobile": None, "email": None, **fields}
        return ContactDetailsChanged(
            citizen_id=self.citizen_id,
            pnr=Personnummer(self.pnr),
            changed=list(fields),
            changed_at=at,
            version=version,
            **current,
        )


async def in_casework(session: AsyncSession, **values: Any) -> Citizen:
    citizen = Citizen()
    session.add(Person(id=citizen.person_id, pnr=citizen.pnr, name="Annika Test", **values))
    await session.flush()
    return citizen


async def deliver(session: AsyncSession, event: ContactDetailsChanged) -> None:
    """Hand `event` to casework's handler as its consumer does: one transaction, a fresh ce_id."""
    envelope = Envelope(uuid.uuid4(), event.ce_type, "/omsorg/intake", datetime.now(UTC))
    async with session.begin_nested():
        await service.on_contact_details_changed(session, event, envelope)


async def person(session: AsyncSession, citizen: Citizen) -> Person:
    found = await session.get(Person, citizen.person_id, populate_existing=True)
    assert found is not None
    return found


async def test_a_stale_replay_changes_nothing(session: AsyncSession) -> None:
    citizen = await in_casework(
        session, phone1="+46701000000", messages_enabled=True, sms_alerts=True, sms_phone=1
    )
    first = citizen.changed(1, mobile="+46701111111")
    await deliver(session, first)
    await deliver(session, citizen.changed(2, at=T0 + timedelta(minutes=1), mobile="+46702222222"))
    assert (await person(session, citizen)).phone1 == "+46702222222"
    await deliver(session, first)  # replayed from the dead letters, after the newer one
    after = await person(session, citizen)
    assert after.phone1 == "+46702222222" and after.sms_alerts
    # Alerts followed both real changes, in order, and nothing after the replay.
    assert list(await session.scalars(_SETTINGS_VERSIONS, {"key": str(citizen.person_id)})) == [1, 2]
    kept = await session.get(CitizenContactDetails, citizen.pnr)
    assert kept is not None and (kept.mobile, kept.mobile_version) == ("+46702222222", 2)


async def test_a_stale_replay_does_not_undo_a_caseworkers_later_edit(
    session: AsyncSession,
) -> None:
    citizen = await in_casework(session)
    first = citizen.changed(1, mobile="+46701111111", email="annika@example.se")
    await deliver(session, first)
    edited = await person(session, citizen)
    edited.phone1, edited.email = "+46703333333", "annika.ny@example.se"
    await session.flush()
    await deliver(session, first)
    after = await person(session, citizen)
    assert (after.phone1, after.email) == ("+46703333333", "annika.ny@example.se")


async def test_a_late_change_of_the_other_field_still_applies(
    session: AsyncSession,
) -> None:
    citizen = await in_casework(session)
    mobile_v2 = citizen.changed(2, at=T0 + timedelta(minutes=2), mobile="+46702222222")
    email_v3 = citizen.changed(3, at=T0 + timedelta(minutes=1), email="annika@example.se")  # a skewed clock
    await deliver(session, email_v3)
    await deliver(session, mobile_v2)  # older, but the only news of the mobile
    after = await person(session, citizen)
    assert (after.phone1, after.email) == ("+46702222222", "annika@example.se")
    await deliver(session, citizen.changed(1, mobile="+46701111111", email="gammal@example.se"))
    after = await person(session, citizen)
    assert (after.phone1, after.email) == ("+46702222222", "annika@example.se")


async def test_an_event_without_a_version_never_overrides_a_versioned_state(
    session: AsyncSession,
) -> None:
    citizen = await in_casework(session)
    await deliver(session, citizen.changed(1, mobile="+46701111111"))
    await deliver(session, citizen.changed(0, at=T0 + timedelta(days=1), mobile="+46709999999"))
    assert (await person(session, citizen)).phone1 == "+46701111111"
