"""Sending driven from the database loses and doubles nothing: a sender that
dies after claiming, a sender stopped mid-queue, two senders side by side —
counted at the development SMS gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import eventually
from notify.config import Settings
from notify.models import Alert, AlertStatus
from notify.sending import service

World = Any
SenderFactory = Any
SmsGateway = Any
FakeClock = Any


async def people_with_an_alert(world: World, session: AsyncSession, numbers: Sequence[str]) -> list[Any]:
    people = []
    for number in numbers:
        person = await world.person(sms=number)
        await world.deliver(person)
        people.append(person)
    await session.commit()
    return people


async def count(session: AsyncSession, *statuses: AlertStatus) -> int:
    await session.rollback()  # a fresh snapshot
    found = await session.scalar(select(func.count()).select_from(Alert).where(Alert.status.in_(statuses)))
    return int(found or 0)


async def received_per_number(gateway: SmsGateway, numbers: Sequence[str]) -> dict[str, int]:
    return {number: len(await gateway.received(number)) for number in numbers}


async def test_a_claim_abandoned_by_a_crashed_sender_is_taken_over_once_its_lease_passes(
    world: World,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sender: SenderFactory,
    gateway: SmsGateway,
    notify_settings: Settings,
    clock: FakeClock,
) -> None:
    numbers = [world.number() for _ in range(5)]
    await people_with_an_alert(world, session, numbers)
    # A sender claims the five and dies before it sends any.
    async with sessionmaker() as crashed, crashed.begin():
        assert len(await service.claim(crashed, notify_settings, clock(), 50)) == 5

    assert await sender().run_once() == 0  # still leased to the dead sender
    clock.advance(notify_settings.sender_lease_seconds + 1)
    assert await sender().run_once() == 5

    assert await received_per_number(gateway, numbers) == dict.fromkeys(numbers, 1)
    assert await count(session, AlertStatus.ACCEPTED, AlertStatus.DELIVERED) == 5
    for alert in await session.scalars(select(Alert)):
        assert alert.attempts == 2
        history = await world.history(alert)
        assert "the previous sender's lease passed" in (history[2].detail or "")


async def test_a_sender_stopped_mid_queue_records_every_send_it_started_and_claims_nothing_more(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway
) -> None:
    numbers = [world.number() for _ in range(12)]
    for number in numbers:
        await gateway.rule(number, delay=0.3)  # each send takes a while
    await people_with_an_alert(world, session, numbers)
    first = sender(sender_concurrency=4, sender_poll_seconds=0.05)
    first.start()

    async def sending() -> bool:
        return await count(session, AlertStatus.SENDING) > 0

    await eventually(sending)
    await first.stop()  # e.g. a deploy: mid-queue, four sends in flight

    assert await count(session, AlertStatus.SENDING) == 0  # every send started was recorded
    sent_by_first = await count(session, AlertStatus.ACCEPTED, AlertStatus.DELIVERED)
    assert 0 < sent_by_first < 12
    assert sum((await received_per_number(gateway, numbers)).values()) == sent_by_first

    second = sender()  # the next process
    while await second.run_once():
        pass
    assert await received_per_number(gateway, numbers) == dict.fromkeys(numbers, 1)
    assert await count(session, AlertStatus.ACCEPTED, AlertStatus.DELIVERED) == 12


async def test_two_senders_side_by_side_send_every_alert_exactly_once(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway
) -> None:
    numbers = [world.number() for _ in range(30)]
    await people_with_an_alert(world, session, numbers)
    replicas = [sender(sender_concurrency=5, sender_batch_size=5, sender_poll_seconds=0.05) for _ in range(2)]
    for replica in replicas:
        replica.start()

    async def all_sent() -> bool:
        return await count(session, AlertStatus.ACCEPTED, AlertStatus.DELIVERED) == 30

    await eventually(all_sent, timeout=30)
    for replica in replicas:
        await replica.stop()

    assert await received_per_number(gateway, numbers) == dict.fromkeys(numbers, 1)
    attempts = set(await session.scalars(select(Alert.attempts)))
    assert attempts == {1}


async def test_a_planned_alert_wakes_the_sender_at_once(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway
) -> None:
    worker = sender(sender_poll_seconds=60)  # only the wake-up can make it send in time
    worker.start()
    await asyncio.sleep(0.3)  # its first claim found nothing: it now waits up to a minute
    number = world.number()
    await people_with_an_alert(world, session, [number])  # planning wakes it after the commit

    async def arrived() -> bool:
        return len(await gateway.received(number)) == 1

    await eventually(arrived, timeout=3)
