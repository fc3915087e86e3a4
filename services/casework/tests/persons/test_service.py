"""The person record, e-service settings and the citizen's contact details at the
service layer, against casework's real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import Person
from casework.persons import service
from casework.persons.schemas import EServiceUpdate
from shared.auth import User
from shared.contracts.intake import ContactDetailsChanged
from shared.events import Envelope, Event
from shared.personnummer import Personnummer
from shared.problems import InvalidInput, NotAllowed

Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
LinkedPerson = Callable[..., Awaitable[Person]]


async def test_a_caseworker_of_another_unit_is_refused_and_the_refusal_audited(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    linked_person: LinkedPerson,
    audit_of: Audit,
) -> None:
    person = await linked_person(caseworker)
    outsider = make_caseworker()
    with pytest.raises(NotAllowed):
        await service.get_person(session, outsider, person.id)
    assert (await service.get_person(session, caseworker, person.id)).id == person.id
    assert {row[:3] + row[5:] for row in await audit_of(person.pnr)} == {
        (outsider.sub, "caseworker", "read", "refused"),
        (caseworker.sub, "caseworker", "read", "allowed"),
    }


async def test_e_service_settings_are_refused_without_a_mobile(
    session: AsyncSession,
    caseworker: User,
    linked_person: LinkedPerson,
    events_of: Callable[[uuid.UUID], Awaitable[list[str]]],
) -> None:
    person_id = (await linked_person(caseworker)).id
    sms_to_phone_1 = EServiceUpdate(messages_enabled=True, sms_alerts=True, sms_phone=1)
    with pytest.raises(InvalidInput, match="phone 1, but the person has none"):
        async with session.begin_nested():
            await service.set_e_service(session, caseworker, person_id, sms_to_phone_1)
    assert await events_of(person_id) == []
    person = await session.get(Person, person_id)
    assert person is not None and not person.messages_enabled and not person.sms_alerts


async def test_the_audit_entry_of_contact_details_changed_has_role_system(
    session: AsyncSession,
    caseworker: User,
    linked_person: LinkedPerson,
    envelope: Callable[[Event], Envelope],
    audit_of: Audit,
) -> None:
    person = await linked_person(caseworker)
    event = ContactDetailsChanged(
        citizen_id=uuid.uuid4(),
        pnr=Personnummer(person.pnr),
        changed=["mobile"],
        mobile="+46701234567",
        email=None,
        changed_at=datetime.now(UTC),
        version=1,
    )
    await service.on_contact_details_changed(session, event, envelope(event))
    assert person.phone1 == "+46701234567"
    assert await audit_of(person.pnr) == [
        ("event:/omsorg/intake", "system", "update", "person", str(person.id), "allowed")
    ]
