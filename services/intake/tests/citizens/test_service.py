"""Mina sidor at the service layer, against intake's real PostgreSQL: the
profile's numbered ContactDetailsChanged events, and the contacts kept from
casework's assignments."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake.citizens import service
from intake.citizens.schemas import ProfileUpdate
from shared.auth import User
from shared.contracts.casework import CaseworkerAssigned
from shared.contracts.intake import ContactDetailsChanged
from shared.events import Envelope, Event
from shared.personnummer import Personnummer

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def test_each_change_of_the_profile_carries_the_next_version(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    outbox: Callable[[str, str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    updates = [
        {"mobile": "0701111111"},
        {"mobile": "0701111111"},  # no change: no event, no version
        {"email": "annika@example.se"},
        {"mobile": None, "email": None},
    ]
    for update in updates:
        profile = await service.update_profile(session, user, ProfileUpdate.model_validate(update))
    events = await outbox(ContactDetailsChanged.ce_type, str(profile.citizen_id))
    assert [(e["version"], e["changed"]) for e in events] == [
        (1, ["mobile"]),
        (2, ["email"]),
        (3, ["mobile", "email"]),
    ]


async def test_a_profile_update_that_changes_nothing_emits_no_event(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    outbox: Callable[[str, str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    first = await service.update_profile(session, user, ProfileUpdate(mobile="0702222222"))
    again = await service.update_profile(session, user, ProfileUpdate(mobile="0702222222"))
    cleared = await service.update_profile(session, user, ProfileUpdate(email=None))  # it had none
    assert again.updated_at == first.updated_at == cleared.updated_at
    assert len(await outbox(ContactDetailsChanged.ce_type, str(first.citizen_id))) == 1


async def test_a_citizen_without_a_profile_sees_an_empty_one(
    session: AsyncSession, make_citizen: Callable[..., User]
) -> None:
    user = make_citizen(name="Josefine Test")
    profile = await service.get_profile(session, user)
    assert (profile.citizen_id, profile.name, profile.mobile, profile.email) == (
        None,
        "Josefine Test",
        None,
        None,
    )


def _assigned(record_id: uuid.UUID, pnr: str, name: str, at: datetime) -> CaseworkerAssigned:
    return CaseworkerAssigned(
        record_id=record_id,
        person_id=uuid.uuid4(),
        citizen_pnr=Personnummer(pnr),
        caseworker_id=f"cw-{name}",
        caseworker_name=name,
        unit="testenhet",
        assigned_at=at,
    )


async def test_a_later_assignment_replaces_the_contact_and_an_earlier_one_does_not(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    make_envelope: Callable[[Event], Envelope],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    pnr, record_id = str(user.pnr), uuid.uuid4()
    for event in (
        _assigned(record_id, pnr, "Marita Aronsson", T0),
        _assigned(record_id, pnr, "Bo Ek", T0 + timedelta(hours=1)),
        _assigned(record_id, pnr, "Marita Aronsson", T0 + timedelta(minutes=30)),  # a late redelivery
    ):
        await service.on_caseworker_assigned(session, event, make_envelope(event))
    contacts = await service.list_contacts(session, user)
    assert [(c.caseworker_name, c.since) for c in contacts] == [("Bo Ek", T0 + timedelta(hours=1))]
    applied = [e for e in await audit_log(pnr) if e["object_type"] == "contact" and e["action"] == "update"]
    assert {(e["actor"], e["actor_role"], e["object_id"]) for e in applied} == {
        ("event:/omsorg/casework", "system", str(record_id))
    }
