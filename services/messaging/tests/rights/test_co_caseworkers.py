"""Co-caseworkers (medhandläggare) in the right to send (MS-3), at the service layer
against messaging's real PostgreSQL: CoCaseworkerAdded lets one write to the
citizen, CoCaseworkerRemoved takes it away from the next request on; several per
record; ordered by the record's co-caseworker version, so a replayed or overtaken
older addition never brings a removed co-caseworker back; the record's caseworker
row keeps its own rules beside them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.mailboxes import service as mailboxes
from messaging.messages import service as messages
from messaging.messages.schemas import CitizenMessageForm, MessageForm
from messaging.rights import service
from shared.auth import User
from shared.contracts.casework import CaseworkerAssigned, CoCaseworkerAdded, CoCaseworkerRemoved
from shared.problems import NotAllowed


@dataclass
class Record:
    """One intake record as casework announces it: its person, and its events' version."""

    world: Any
    person: Any
    record_id: uuid.UUID
    version: int = 0

    def _facts(self, colleague: User) -> dict[str, Any]:
        assert self.person.user.pnr is not None
        return {
            "record_id": self.record_id,
            "person_id": self.person.person_id,
            "citizen_pnr": self.person.user.pnr,
            "caseworker_id": colleague.sub,
            "caseworker_name": colleague.name,
            "unit": "testenhet",
        }

    def added(self, colleague: User) -> CoCaseworkerAdded:
        self.version += 1
        return CoCaseworkerAdded(**self._facts(colleague), added_at=datetime.now(UTC), version=self.version)

    def removed(self, colleague: User) -> CoCaseworkerRemoved:
        self.version += 1
        return CoCaseworkerRemoved(
            **self._facts(colleague), removed_at=datetime.now(UTC), version=self.version
        )

    async def deliver(self, event: CoCaseworkerAdded | CoCaseworkerRemoved) -> None:
        """Hand the event to messaging's handler as its consumer would, with a fresh ce_id
        (a replayed dead letter or a republished record gets one too)."""
        envelope = self.world.envelope(event)
        if isinstance(event, CoCaseworkerAdded):
            await service.on_co_caseworker_added(self.world.session, event, envelope)
        else:
            await service.on_co_caseworker_removed(self.world.session, event, envelope)


async def a_record(world: Any, make_citizen: Any, caseworker: User) -> Record:
    person = await world.citizen(make_citizen)
    return Record(world, person, await world.assign(person, caseworker))


async def test_several_co_caseworkers_may_write_until_each_is_removed(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff()
    first, second = make_staff(name="Kalle Kollega"), make_staff(name="Vera Vän")
    record = await a_record(world, make_citizen, caseworker)
    person_id = record.person.person_id
    assert not await service.may_write(session, first, person_id)

    await record.deliver(record.added(first))
    await record.deliver(record.added(second))
    assert await service.may_write(session, first, person_id)
    assert await service.may_write(session, second, person_id)
    assert [a.caseworker_id for a in await service.caseworkers_of(session, person_id)] == [
        caseworker.sub,
        first.sub,
        second.sub,
    ]

    await record.deliver(record.removed(first))
    assert not await service.may_write(session, first, person_id)
    assert await service.may_write(session, second, person_id)
    assert await service.may_write(session, caseworker, person_id)
    assert [a.caseworker_id for a in await service.caseworkers_of(session, person_id)] == [
        caseworker.sub,
        second.sub,
    ]


async def test_a_replayed_older_addition_never_brings_a_removed_co_caseworker_back(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    colleague = make_staff(name="Kalle Kollega")
    record = await a_record(world, make_citizen, make_staff())
    addition = record.added(colleague)
    await record.deliver(addition)
    await record.deliver(record.removed(colleague))

    await record.deliver(addition)  # a dead letter replayed hours later

    assert not await service.may_write(session, colleague, record.person.person_id)
    # Added anew (a newer version), the co-caseworker may write again.
    await record.deliver(record.added(colleague))
    assert await service.may_write(session, colleague, record.person.person_id)


async def test_a_removal_that_overtakes_its_addition_stays_removed(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    colleague = make_staff(name="Kalle Kollega")
    record = await a_record(world, make_citizen, make_staff())
    addition, removal = record.added(colleague), record.removed(colleague)

    await record.deliver(removal)
    await record.deliver(addition)

    assert not await service.may_write(session, colleague, record.person.person_id)
    assert await service.caseworkers_of(session, record.person.person_id) != []  # the caseworker stays


async def test_the_records_caseworker_is_still_replaced_beside_its_co_caseworkers(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    former, current = make_staff(), make_staff(name="Nina Ny")
    colleague = make_staff(name="Kalle Kollega")
    record = await a_record(world, make_citizen, former)
    await record.deliver(record.added(colleague))
    assert record.person.user.pnr is not None
    later = CaseworkerAssigned(
        record_id=record.record_id,
        person_id=record.person.person_id,
        citizen_pnr=record.person.user.pnr,
        caseworker_id=current.sub,
        caseworker_name=current.name,
        unit="testenhet",
        assigned_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    await service.on_caseworker_assigned(session, later, world.envelope(later))

    person_id = record.person.person_id
    assert not await service.may_write(session, former, person_id)
    assert await service.may_write(session, current, person_id)
    assert await service.may_write(session, colleague, person_id)
    ref = await service.intake_record(session, record.record_id)
    assert ref is not None and ref.person_id == person_id


async def test_a_co_caseworker_sends_to_the_citizen_and_after_removal_is_refused_audited(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    colleague = make_staff(name="Kalle Kollega")
    record = await a_record(world, make_citizen, make_staff())
    person = record.person
    await record.deliver(record.added(colleague))
    box = (await mailboxes.usable(session, colleague))[0]
    form = MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Inför mötet")

    sent = await messages.send(session, colleague, form)
    assert sent.client is not None
    # The citizen may write to the co-caseworker too.
    mailbox = await messages.citizen_mailbox(session, person.user, None)
    assert colleague.sub in [c.id for c in mailbox.caseworkers]
    await messages.citizen_send(
        session, person.user, None, CitizenMessageForm(to_caseworker=colleague.sub, subject="Tack")
    )

    await record.deliver(record.removed(colleague))
    with pytest.raises(NotAllowed):
        await messages.send(session, colleague, form.model_copy(update={"subject": "Igen"}))
    assert [(r["action"], r["object_type"], r["object_id"]) for r in await refusals(colleague.sub)] == [
        ("send", "e_service_mailbox", str(person.person_id))
    ]
