"""Provider staff's right to write to a client (MS-3), fed by provider's
executions (`provider.orders.v1`) at the service layer against messaging's real
PostgreSQL: a user of the order's unit may send to the client from the
execution date through the end date, not before the execution date, not after
the end, and no other provider's or unit's user ever; a replayed start never
reopens an ended execution, and an end that overtakes its start stays an end.
Refusals are audited."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.config import TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.messages import service as messages
from messaging.messages.schemas import MessageForm
from messaging.models import ProviderAssignment
from messaging.rights import service
from shared.auth import User
from shared.contracts.provider import ExecutionEnded, ExecutionStarted
from shared.problems import NotAllowed

PROVIDER_SOURCE = "/omsorg/provider"
UNIT = "solgarden-norr"


def today() -> date:
    return datetime.now(TIME_ZONE).date()


class Execution:
    """One order's execution as provider announces it to messaging."""

    def __init__(self, world: Any, person: Any, provider_id: uuid.UUID, unit: str = UNIT) -> None:
        self.world, self.person, self.provider_id, self.unit = world, person, provider_id, unit
        self.order_id = uuid.uuid4()

    def started(self, execution_date: date) -> ExecutionStarted:
        return ExecutionStarted(
            order_id=self.order_id,
            provider_id=self.provider_id,
            unit=self.unit,
            person_id=self.person.person_id,
            execution_date=execution_date,
            confirmed_by="provider-user",
            confirmed_at=datetime.now(UTC),
        )

    def ended(self, end_date: date) -> ExecutionEnded:
        return ExecutionEnded(
            order_id=self.order_id,
            provider_id=self.provider_id,
            unit=self.unit,
            person_id=self.person.person_id,
            end_date=end_date,
            reason="Flyttat",
            ended_by="provider-user",
            ended_at=datetime.now(UTC),
        )

    async def deliver(self, event: ExecutionStarted | ExecutionEnded) -> None:
        envelope = self.world.envelope(event, PROVIDER_SOURCE)
        if isinstance(event, ExecutionStarted):
            await service.on_execution_started(self.world.session, event, envelope)
        else:
            await service.on_execution_ended(self.world.session, event, envelope)


def provider_staff(make_staff: Any, provider_id: uuid.UUID, *units: str) -> User:
    user: User = make_staff(
        name="Utförare Test", units=units or (UNIT,), roles=("provider",), provider_id=str(provider_id)
    )
    return user


async def test_the_units_staff_write_to_the_client_while_the_execution_runs_and_not_after(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any, audit_log: Any
) -> None:
    person = await world.citizen(make_citizen)
    provider_id = uuid.uuid4()
    staff = provider_staff(make_staff, provider_id)
    execution = Execution(world, person, provider_id)
    box = (await mailboxes.usable(session, staff))[0]
    form = MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Välkommen till Solgården")

    assert not await service.may_write(session, staff, person.person_id)  # ordered, not confirmed
    await execution.deliver(execution.started(today() - timedelta(days=14)))
    sent = await messages.send(session, staff, form)
    assert sent.client is not None

    # Ended today: today is its last day, so they still may; ended yesterday, no more.
    await execution.deliver(execution.ended(today()))
    assert await service.may_write(session, staff, person.person_id)

    other = await world.citizen(make_citizen)
    ended_yesterday = Execution(world, other, provider_id)
    await ended_yesterday.deliver(ended_yesterday.started(today() - timedelta(days=30)))
    await ended_yesterday.deliver(ended_yesterday.ended(today() - timedelta(days=1)))
    with pytest.raises(NotAllowed):
        await messages.send(session, staff, form.model_copy(update={"to_client": other.person_id}))
    assert [(r["action"], r["object_id"]) for r in await refusals(staff.sub)] == [
        ("send", str(other.person_id))
    ]
    assert person.user.pnr is not None
    updates = [e for e in await audit_log(str(person.user.pnr)) if e["object_type"] == "provider_assignment"]
    assert [(e["actor"], e["action"], e["object_id"]) for e in updates] == [
        ("event:/omsorg/provider", "update", str(execution.order_id))
    ] * 2


async def test_not_before_the_execution_date(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    person = await world.citizen(make_citizen)
    provider_id = uuid.uuid4()
    staff = provider_staff(make_staff, provider_id)
    execution = Execution(world, person, provider_id)
    await execution.deliver(execution.started(today() + timedelta(days=3)))  # moves in on Friday
    assert not await service.may_write(session, staff, person.person_id)
    assignment = await session.get(ProviderAssignment, execution.order_id)
    assert assignment is not None
    assert assignment.active_on(today() + timedelta(days=3))
    assert not assignment.active_on(today() + timedelta(days=2))


async def test_never_another_providers_or_another_units_user(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    person = await world.citizen(make_citizen)
    provider_id, other_provider = uuid.uuid4(), uuid.uuid4()
    execution = Execution(world, person, provider_id)
    await execution.deliver(execution.started(today() - timedelta(days=1)))

    same_unit_other_provider = provider_staff(make_staff, other_provider, UNIT)
    other_unit = provider_staff(make_staff, provider_id, "solgarden-soder")
    caseworker_without_record = make_staff()
    for user in (same_unit_other_provider, other_unit, caseworker_without_record):
        assert not await service.may_write(session, user, person.person_id)
    assert await service.may_write(
        session, provider_staff(make_staff, provider_id, "annan", UNIT), person.person_id
    )

    box = (await mailboxes.usable(session, other_unit))[0]
    with pytest.raises(NotAllowed):
        await messages.send(
            session,
            other_unit,
            MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Hej"),
        )
    assert len(await refusals(other_unit.sub)) == 1


async def test_a_replayed_start_never_reopens_an_ended_execution_and_an_early_end_stays(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    person = await world.citizen(make_citizen)
    provider_id = uuid.uuid4()
    staff = provider_staff(make_staff, provider_id)

    execution = Execution(world, person, provider_id)
    start = execution.started(today() - timedelta(days=20))
    await execution.deliver(start)
    await execution.deliver(execution.ended(today() - timedelta(days=2)))
    await execution.deliver(start)  # a dead letter replayed later
    assert not await service.may_write(session, staff, person.person_id)

    # The end overtook its start: the start fills in the execution date, the end stays.
    overtaken = Execution(world, person, provider_id)
    end = overtaken.ended(today() + timedelta(days=5))
    await overtaken.deliver(end)
    assert not await service.may_write(session, staff, person.person_id)  # no start known yet
    await overtaken.deliver(overtaken.started(today() - timedelta(days=1)))
    assert await service.may_write(session, staff, person.person_id)
    assignment = await session.get(ProviderAssignment, overtaken.order_id)
    assert assignment is not None
    assert (assignment.valid_from, assignment.valid_to, assignment.version) == (
        today() - timedelta(days=1),
        today() + timedelta(days=5),
        2,
    )
