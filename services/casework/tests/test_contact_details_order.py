"""Casework applying the citizen's contact details (ContactDetailsChanged) against
its real PostgreSQL, with the events arriving as a redelivery or a dead-letter
replay delivers them: ordered per field by the citizen profile's version, so a
stale replay changes nothing, while a newer change of the other field, however
late, still applies."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casework.models import CitizenContactDetails, Person
from casework.persons import service
from conftest import ROOT, Infrastructure, new_personnummer
from shared.contracts.intake import ContactDetailsChanged
from shared.db import make_engine, make_sessionmaker
from shared.events import Envelope

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_SETTINGS_VERSIONS = text("""
    SELECT (convert_from(payload, 'UTF8')::jsonb->>'version')::int FROM outbox
    WHERE key = :key AND headers->>'ce_type' = 'se.omsorg.casework.person.e-service-settings-changed.v1'
    ORDER BY id""")


def migrated_database(infra: Infrastructure, name: str) -> str:
    """The service's own database at its newest migration, as deploy/omsorg.sh configures it."""
    env = {**os.environ, **infra.env}
    done = subprocess.run(
        [str(ROOT / "deploy/omsorg.sh"), "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pattern = env.get("OMSORG_DATABASE_URL_PATTERN") or "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
    return pattern.replace("{name}", name)


@pytest.fixture(scope="module")
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_database(infrastructure, "casework"), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


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
            pnr=self.pnr,  # type: ignore[arg-type]
            changed=list(fields),
            changed_at=at,
            version=version,
            **current,
        )


async def in_casework(sessions: async_sessionmaker[AsyncSession], **values: Any) -> Citizen:
    citizen = Citizen()
    async with sessions() as session, session.begin():
        session.add(Person(id=citizen.person_id, pnr=citizen.pnr, name="Annika Test", **values))
    return citizen


async def deliver(sessions: async_sessionmaker[AsyncSession], event: ContactDetailsChanged) -> None:
    """Hand `event` to casework's handler as its consumer does: one transaction, a fresh ce_id."""
    envelope = Envelope(uuid.uuid4(), event.ce_type, "/omsorg/intake", datetime.now(UTC))
    async with sessions() as session, session.begin():
        await service.on_contact_details_changed(session, event, envelope)


async def person(sessions: async_sessionmaker[AsyncSession], citizen: Citizen) -> Person:
    async with sessions() as session:
        found = await session.get(Person, citizen.person_id)
        assert found is not None
        return found


async def test_a_stale_replay_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    citizen = await in_casework(
        sessions, phone1="+46701000000", messages_enabled=True, sms_alerts=True, sms_phone=1
    )
    first = citizen.changed(1, mobile="+46701111111")
    await deliver(sessions, first)
    await deliver(sessions, citizen.changed(2, at=T0 + timedelta(minutes=1), mobile="+46702222222"))
    assert (await person(sessions, citizen)).phone1 == "+46702222222"
    await deliver(sessions, first)  # replayed from the dead letters, after the newer one
    after = await person(sessions, citizen)
    assert after.phone1 == "+46702222222" and after.sms_alerts
    async with sessions() as session:
        # Alerts followed both real changes, in order, and nothing after the replay.
        assert list(await session.scalars(_SETTINGS_VERSIONS, {"key": str(citizen.person_id)})) == [1, 2]
        kept = await session.get(CitizenContactDetails, citizen.pnr)
        assert kept is not None and (kept.mobile, kept.mobile_version) == ("+46702222222", 2)


async def test_a_stale_replay_does_not_undo_a_caseworkers_later_edit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    citizen = await in_casework(sessions)
    first = citizen.changed(1, mobile="+46701111111", email="annika@example.se")
    await deliver(sessions, first)
    async with sessions() as session, session.begin():
        edited = await session.get(Person, citizen.person_id)
        assert edited is not None
        edited.phone1, edited.email = "+46703333333", "annika.ny@example.se"
    await deliver(sessions, first)
    after = await person(sessions, citizen)
    assert (after.phone1, after.email) == ("+46703333333", "annika.ny@example.se")


async def test_a_late_change_of_the_other_field_still_applies(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    citizen = await in_casework(sessions)
    mobile_v2 = citizen.changed(2, at=T0 + timedelta(minutes=2), mobile="+46702222222")
    email_v3 = citizen.changed(3, at=T0 + timedelta(minutes=1), email="annika@example.se")  # a skewed clock
    await deliver(sessions, email_v3)
    await deliver(sessions, mobile_v2)  # older, but the only news of the mobile
    after = await person(sessions, citizen)
    assert (after.phone1, after.email) == ("+46702222222", "annika@example.se")
    await deliver(sessions, citizen.changed(1, mobile="+46701111111", email="gammal@example.se"))
    after = await person(sessions, citizen)
    assert (after.phone1, after.email) == ("+46702222222", "annika@example.se")


async def test_an_event_without_a_version_never_overrides_a_versioned_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    citizen = await in_casework(sessions)
    await deliver(sessions, citizen.changed(1, mobile="+46701111111"))
    await deliver(sessions, citizen.changed(0, at=T0 + timedelta(days=1), mobile="+46709999999"))
    assert (await person(sessions, citizen)).phone1 == "+46701111111"
