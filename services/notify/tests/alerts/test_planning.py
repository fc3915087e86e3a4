"""Planning a delivery into the e-service mailbox: one alert per recipient and
channel, coalescing within the window (a follow-up due at the window's end,
later triggers joining it), replays adding nothing, quiet hours for SMS only,
the deadline counted from the due time, and the sender woken after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.alerts import service, wakeup
from notify.config import TIME_ZONE

WINDOW = timedelta(seconds=300)  # the default coalescing window
DEADLINE = timedelta(hours=4)  # the default retry deadline


def _stockholm(*args: int) -> datetime:
    return datetime(*args, tzinfo=TIME_ZONE).astimezone(UTC)  # type: ignore[misc]


async def test_a_trigger_makes_an_alert_due_now(world: Any, clock: Any) -> None:
    person = await world.person(sms=world.number())

    event = await world.deliver(person)

    (alert,) = await world.alerts(person)
    assert (alert.status, alert.kind, alert.coalesced, alert.attempts) == ("queued", "message", False, 0)
    assert alert.due_at == alert.created_at == clock.now
    assert alert.deadline_at == clock.now + DEADLINE
    assert alert.first_trigger_at == event.delivered_at
    assert await world.triggers(alert) == [event.message_id]
    assert [(h.status, h.detail) for h in await world.history(alert)] == [("queued", "planned")]


async def test_a_second_trigger_within_the_window_makes_one_follow_up_due_at_the_windows_end(
    world: Any, clock: Any
) -> None:
    person = await world.person(sms=world.number())
    first = await world.deliver(person)
    await world.sent(person)
    start = clock.now

    clock.advance(60)
    second = await world.deliver(person)
    clock.advance(60)
    third = await world.deliver(person)  # joins the follow-up: still one

    sent, follow_up = await world.alerts(person)
    assert await world.triggers(sent) == [first.message_id]
    assert follow_up.coalesced and follow_up.status == "queued"
    assert follow_up.due_at == start + WINDOW
    assert follow_up.first_trigger_at == second.delivered_at
    assert sorted(await world.triggers(follow_up)) == sorted([second.message_id, third.message_id])


async def test_after_the_window_a_trigger_makes_a_new_alert_due_now(world: Any, clock: Any) -> None:
    person = await world.person(sms=world.number())
    await world.deliver(person)
    await world.sent(person)

    clock.advance(WINDOW.total_seconds() + 1)
    await world.deliver(person)

    _, second = await world.alerts(person)
    assert not second.coalesced
    assert second.due_at == clock.now


async def test_a_trigger_after_the_follow_up_went_waits_a_window_after_it(world: Any, clock: Any) -> None:
    person = await world.person(sms=world.number())
    await world.deliver(person)
    await world.sent(person)
    clock.advance(10)
    await world.deliver(person)  # follow-up due at start + W
    clock.advance(WINDOW.total_seconds())  # the follow-up went
    await world.sent(person)
    follow_up_due = (await world.alerts(person))[1].due_at

    clock.advance(30)
    await world.deliver(person)

    alerts = await world.alerts(person)
    assert len(alerts) == 3
    assert alerts[2].coalesced and alerts[2].due_at == follow_up_due + WINDOW


async def test_triggers_while_the_first_alert_waits_to_be_sent_join_it(world: Any, clock: Any) -> None:
    person = await world.person(sms=world.number())
    first = await world.deliver(person)
    clock.advance(5)
    second = await world.deliver(person, kind="decision")

    (alert,) = await world.alerts(person)
    assert alert.coalesced and alert.due_at == first.delivered_at
    assert sorted(await world.triggers(alert)) == sorted([first.message_id, second.message_id])


async def test_replays_add_nothing(world: Any, clock: Any) -> None:
    person = await world.person(sms=world.number(), email=world.email())
    event = await world.deliver(person)
    await world.sent(person)
    clock.advance(30)
    follow = await world.deliver(person)
    before = [(a.id, sorted(await world.triggers(a))) for a in await world.alerts(person)]

    # The same deliveries again (a replayed dead letter under a new ce_id): nothing new.
    await world.deliver(person, event=event)
    await world.deliver(person, event=follow)

    after = [(a.id, sorted(await world.triggers(a))) for a in await world.alerts(person)]
    assert after == before
    assert len(after) == 4  # per channel: the first alert and one follow-up


async def test_each_recipient_and_channel_coalesces_on_its_own(world: Any, clock: Any) -> None:
    related = world.related(sms_number=world.number())
    person = await world.person(sms=world.number(), email=world.email(), recipients="both", related=[related])
    await world.approve(person, related)
    await world.deliver(person)
    await world.sent(person)
    clock.advance(20)

    await world.deliver(person)

    follow_ups = [a for a in await world.alerts(person) if a.coalesced]
    assert sorted((a.recipient_key, a.channel) for a in follow_ups) == sorted(
        [("citizen", "email"), ("citizen", "sms"), (related.pnr, "sms")]
    )


async def test_an_sms_planned_at_half_past_ten_in_the_evening_is_due_at_eight(world: Any, clock: Any) -> None:
    clock.now = _stockholm(2025, 3, 12, 22, 30)
    person = await world.person(sms=world.number(), email=world.email())

    await world.deliver(person)

    alerts = {a.channel: a for a in await world.alerts(person)}
    assert alerts["sms"].due_at == _stockholm(2025, 3, 13, 8, 0)
    assert alerts["sms"].deadline_at == alerts["sms"].due_at + DEADLINE  # held alerts do not expire
    assert [h.detail for h in await world.history(alerts["sms"])] == [
        "planned; held until the end of the SMS quiet hours"
    ]
    assert alerts["email"].due_at == clock.now  # e-mail is never held


async def test_later_triggers_in_the_night_join_the_held_sms(world: Any, clock: Any) -> None:
    clock.now = _stockholm(2025, 3, 12, 23, 0)
    person = await world.person(sms=world.number())
    await world.deliver(person)
    clock.now = _stockholm(2025, 3, 13, 3, 0)
    await world.deliver(person)

    (alert,) = await world.alerts(person)
    assert alert.due_at == _stockholm(2025, 3, 13, 8, 0)
    assert len(await world.triggers(alert)) == 2


async def test_a_follow_up_falling_into_the_quiet_hours_is_held_too(world: Any, clock: Any) -> None:
    clock.now = _stockholm(2025, 6, 18, 20, 58)  # summer time: 08:00 is 06:00 UTC
    person = await world.person(sms=world.number())
    await world.deliver(person)
    await world.sent(person)
    clock.advance(60)

    await world.deliver(person)

    _, follow_up = await world.alerts(person)
    assert follow_up.due_at == _stockholm(2025, 6, 19, 8, 0) == datetime(2025, 6, 19, 6, 0, tzinfo=UTC)


async def test_the_kind_of_the_delivery_is_kept_for_the_template(world: Any) -> None:
    person = await world.person(email=world.email())

    await world.deliver(person, kind="document")

    (alert,) = await world.alerts(person)
    assert alert.kind == "document"


async def test_the_sender_is_woken_after_the_commit_only(world: Any, session: AsyncSession) -> None:
    woken: list[bool] = []

    def listener() -> None:
        woken.append(True)

    wakeup.add_listener(listener)
    try:
        person = await world.person(sms=world.number())
        async with session.begin_nested():  # a transaction of its own, committed
            await world.deliver(person)
        assert woken == []  # a savepoint is not the commit
        await session.commit()  # the test's outer transaction is still rolled back afterwards
    finally:
        wakeup.remove_listener(listener)
    assert woken == [True]


async def test_plan_returns_how_many_alerts_got_the_trigger(world: Any, session: AsyncSession) -> None:
    person = await world.person(sms=world.number(), email=world.email())
    event = world.delivery(person)

    assert await service.plan(session, event, world.settings, world.clock) == 2
    assert await service.plan(session, event, world.settings, world.clock) == 0  # a replay


async def test_a_rolled_back_plan_wakes_nobody(world: Any, session: AsyncSession) -> None:
    woken: list[bool] = []

    def listener() -> None:
        woken.append(True)

    wakeup.add_listener(listener)
    try:
        person = await world.person(sms=world.number())
        await world.deliver(person)
        await session.rollback()  # the handler failed: nothing was planned
        await world.person(sms=world.number())  # a later transaction that plans nothing
        await session.commit()
    finally:
        wakeup.remove_listener(listener)
    assert woken == []


async def test_a_delivery_that_overtakes_the_persons_settings_waits_for_them(world: Any, clock: Any) -> None:
    # Notify reads casework's and messaging's topics independently: messaging's
    # delivery can arrive before casework's settings of a newly activated person.
    person = world.unknown_person()
    early = await world.deliver(person)
    assert await world.alerts(person) == []

    clock.advance(2)
    await world.set_settings(person, sms=world.number(), email=None)

    (alert,) = await world.alerts(person)
    assert alert.channel == "sms" and alert.status == "queued"
    assert await world.triggers(alert) == [early.message_id]
    # A later settings event finds nothing waiting: no second alert.
    await world.set_settings(person, email=world.email())
    assert len(await world.alerts(person)) == 1
