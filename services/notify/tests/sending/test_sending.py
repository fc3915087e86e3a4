"""The sender against the real development SMS gateway and mail server: what
arrives there, what each answer does to the alert (accepted, retried with
backoff, given up), the delivery reports the gateway posts back, and the
outcome events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conftest import eventually
from notify.config import TIME_ZONE
from notify.models import Alert, AlertStatus
from notify.sending.backoff import retry_delay
from shared.contracts.notify import AlertOutcome

MESSAGE_TEXT = "Du har fått ett nytt meddelande från Omsorg. Logga in i e-tjänsten för att läsa det."

# Fixtures of services/notify/tests/conftest.py (World, FakeClock, numbers) and sending/conftest.py.
World = Any
FakeClock = Any
SenderFactory = Any
SmsGateway = Any
MailServer = Any
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]
AuditLog = Callable[[str], Awaitable[list[dict[str, Any]]]]


async def only_alert(world: World, person: Any) -> Alert:
    alerts = await world.alerts(person)
    assert len(alerts) == 1, [(a.channel, a.status) for a in alerts]
    return alerts[0]


async def statuses(world: World, alert: Alert) -> list[str]:
    return [h.status for h in await world.history(alert)]


async def status_becomes(
    world: World, session: AsyncSession, person: Any, alert: Alert, status: AlertStatus
) -> Alert:
    """The alert once it has `status` (a delivery report arrives over HTTP a moment later)."""

    async def reached() -> Alert | None:
        await session.rollback()  # a fresh snapshot each time
        fresh = next(a for a in await world.alerts(person) if a.id == alert.id)
        return fresh if fresh.status == status else None

    found: Alert = await eventually(reached, timeout=10)
    return found


async def test_an_accepted_sms_reaches_the_gateway_once_and_its_delivery_report_marks_it_delivered(
    world: World,
    session: AsyncSession,
    sender: SenderFactory,
    gateway: SmsGateway,
    outbox: Outbox,
    audit_log: AuditLog,
) -> None:
    number = world.number()
    person = await world.person(sms=number)
    delivery = await world.deliver(person)
    await session.commit()

    assert await sender().run_once() == 1

    received = await gateway.received(number)
    assert [sms["message"] for sms in received] == [MESSAGE_TEXT]
    alert = await status_becomes(
        world, session, person, await only_alert(world, person), AlertStatus.DELIVERED
    )
    assert alert.provider_id == received[0]["id"]
    assert alert.attempts == 1 and alert.accepted_at is not None and alert.finished_at is not None
    assert await statuses(world, alert) == ["queued", "sending", "accepted", "accepted", "delivered"]
    history = await world.history(alert)
    assert "reported the SMS sent" in (history[3].detail or "")
    [event] = await outbox(AlertOutcome.ce_type, str(alert.id))
    assert event["outcome"] == "delivered" and event["channel"] == "sms" and event["recipient"] == "citizen"
    assert event["message_ids"] == [str(delivery.message_id)] and event["fallback_of"] is None
    assert number not in str(event)  # ids only
    entries = await audit_log(person.pnr)
    reports = [(e["actor"], e["action"], e["object_id"]) for e in entries if e["actor"] == "sms-gateway"]
    assert reports == [("sms-gateway", "update", str(alert.id))] * 2  # sent, delivered
    sends = [e for e in entries if e["action"] == "send"]
    assert sends == [
        {
            "actor": "notify-sender",
            "actor_role": "system",
            "action": "send",
            "object_type": "alert",
            "object_id": str(alert.id),
            "outcome": "allowed",
        }
    ]
    # Nothing is due any more, and a second run sends nothing.
    assert await sender().run_once() == 0
    assert len(await gateway.received(number)) == 1


async def test_an_email_the_relay_accepts_is_delivered_at_once(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer, outbox: Outbox
) -> None:
    address = world.email()
    person = await world.person(email=address)
    await world.deliver(person)
    await session.commit()

    assert await sender().run_once() == 1

    [received] = await mail.received(address)
    assert received["subject"] == "Nytt i Omsorgs e-tjänst"
    assert received["text"].strip() == MESSAGE_TEXT
    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.DELIVERED
    assert await statuses(world, alert) == ["queued", "sending", "accepted", "delivered"]
    assert "no delivery reports" in ((await world.history(alert))[-1].detail or "")
    [event] = await outbox(AlertOutcome.ce_type, str(alert.id))
    assert event["outcome"] == "delivered" and event["channel"] == "email"


async def test_a_temporary_failure_is_retried_after_a_backoff_and_then_accepted(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway, clock: FakeClock
) -> None:
    number = world.number()
    await gateway.rule(number, send="fail")  # the gateway answers 503
    person = await world.person(sms=number)
    await world.deliver(person)
    await session.commit()
    failed_at = clock()

    assert await sender().run_once() == 1

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.FAILED
    assert "HTTP 503" in (alert.last_error or "")
    # Full jitter on the first retry: somewhere within the base of 30 s.
    assert failed_at <= alert.due_at <= failed_at + timedelta(seconds=30)
    assert await gateway.received(number) == []
    assert await sender().run_once() == 0  # not due yet

    await gateway.rule(number)  # the gateway is back
    clock.now = alert.due_at
    assert await sender().run_once() == 1

    alert = await only_alert(world, person)
    assert alert.attempts == 2
    assert await statuses(world, alert) == ["queued", "sending", "failed", "sending", "accepted"]
    assert len(await gateway.received(number)) == 1
    await status_becomes(world, session, person, alert, AlertStatus.DELIVERED)


def test_the_backoff_doubles_from_the_base_up_to_the_cap_with_full_jitter() -> None:
    just_below_one = 0.999999
    ceilings = [
        round(retry_delay(attempt, 30, 1800, lambda: just_below_one).total_seconds())
        for attempt in range(1, 10)
    ]
    assert ceilings == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]
    assert retry_delay(5, 30, 1800, lambda: 0.0) == timedelta(0)  # full jitter: from zero
    assert retry_delay(10_000, 30, 1800, lambda: 0.5) == timedelta(seconds=900)  # no overflow


async def test_an_invalid_number_is_given_up_at_once_with_the_gateways_reason(
    world: World, session: AsyncSession, sender: SenderFactory, outbox: Outbox
) -> None:
    person = await world.person(sms="070-" + uuid.uuid4().hex[:7])  # not E.164
    delivery = await world.deliver(person)
    await session.commit()

    assert await sender().run_once() == 1

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.GIVEN_UP and alert.attempts == 1
    assert "Invalid to number" in (alert.last_error or "")
    assert await statuses(world, alert) == ["queued", "sending", "given_up"]
    [event] = await outbox(AlertOutcome.ce_type, str(alert.id))
    assert event["outcome"] == "given_up" and event["message_ids"] == [str(delivery.message_id)]
    assert await sender().run_once() == 0  # no retry


async def test_a_hard_bounce_is_given_up_at_once(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer
) -> None:
    address = world.email()
    await mail.rule(address, "permanent")  # 550 at RCPT
    person = await world.person(email=address)
    await world.deliver(person)
    await session.commit()

    await sender().run_once()

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.GIVEN_UP and alert.attempts == 1
    assert "550" in (alert.last_error or "")
    assert address not in (alert.last_error or "")
    assert await mail.received(address) == []


async def test_an_alert_whose_deadline_passed_is_given_up_after_its_last_attempt(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway, clock: FakeClock
) -> None:
    number = world.number()
    await gateway.rule(number, send="fail")
    person = await world.person(sms=number)
    await world.deliver(person)
    await session.commit()
    await sender().run_once()
    alert = await only_alert(world, person)

    # Four hours later (the gateway still down) the next attempt is the last.
    clock.now = alert.deadline_at + timedelta(seconds=1)
    assert await sender().run_once() == 1

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.GIVEN_UP and alert.attempts == 2
    assert "the retry deadline passed" in (alert.last_error or "")
    assert await sender().run_once() == 0


async def test_a_retry_never_lands_after_the_deadline(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway, clock: FakeClock
) -> None:
    number = world.number()
    await gateway.rule(number, send="fail")
    person = await world.person(sms=number)
    await world.deliver(person)
    await session.commit()
    await sender().run_once()
    alert = await only_alert(world, person)

    # Ten seconds before the deadline, the 30-minute backoff would overshoot it.
    clock.now = alert.deadline_at - timedelta(seconds=10)
    await sender(retry_base_seconds=1800).run_once()

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.FAILED and alert.due_at <= alert.deadline_at


async def test_used_up_attempts_give_up(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway, clock: FakeClock
) -> None:
    number = world.number()
    await gateway.rule(number, send="fail")
    person = await world.person(sms=number)
    await world.deliver(person)
    await session.commit()

    for _ in range(3):
        clock.now = (await only_alert(world, person)).due_at
        await sender(max_attempts=3).run_once()

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.GIVEN_UP and alert.attempts == 3
    assert "no attempts left (3 made)" in (alert.last_error or "")


async def test_an_sms_retry_wanted_in_the_quiet_hours_goes_at_their_end(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 3, 12, 20, 50, tzinfo=TIME_ZONE)
    number = world.number()
    await gateway.rule(number, send="fail")
    person = await world.person(sms=number)
    await world.deliver(person)
    await session.commit()
    first_deadline = (await only_alert(world, person)).deadline_at

    # rand fixed at 0.99: the retry is wanted at 20:50 + 29.7 min = 21:19, in the quiet hours.
    await sender(retry_base_seconds=1800, rand=lambda: 0.99).run_once()

    alert = await only_alert(world, person)
    end_of_quiet = datetime(2025, 3, 13, 8, 0, tzinfo=TIME_ZONE)
    assert alert.status == AlertStatus.FAILED and alert.due_at == end_of_quiet
    wanted = clock.now + timedelta(seconds=1800 * 0.99)
    assert alert.deadline_at == first_deadline + (end_of_quiet - wanted)
    assert "after the SMS quiet hours" in ((await world.history(alert))[-1].detail or "")

    await gateway.rule(number)
    clock.now = end_of_quiet
    assert await sender().run_once() == 1
    assert len(await gateway.received(number)) == 1


async def test_an_email_retry_is_never_held_by_the_quiet_hours(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 3, 12, 22, 30, tzinfo=TIME_ZONE)
    address = world.email()
    await mail.rule(address, "temporary")  # 451 at RCPT
    person = await world.person(email=address)
    await world.deliver(person)
    await session.commit()

    await sender().run_once()

    alert = await only_alert(world, person)
    assert alert.status == AlertStatus.FAILED and "451" in (alert.last_error or "")
    assert alert.due_at <= clock.now + timedelta(seconds=30)

    await mail.rule(address, "ok")
    clock.now = alert.due_at
    await sender().run_once()
    assert (await only_alert(world, person)).status == AlertStatus.DELIVERED
    assert len(await mail.received(address)) == 1


async def test_sends_run_concurrently_up_to_the_limit(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway
) -> None:
    numbers = [world.number() for _ in range(6)]
    for number in numbers:
        await gateway.rule(number, delay=0.5)
        await world.deliver(await world.person(sms=number))
    await session.commit()

    started = asyncio.get_running_loop().time()
    assert await sender(sender_concurrency=6).run_once() == 6
    # Six half-second sends at once take about half a second, not three.
    assert asyncio.get_running_loop().time() - started < 2.0
    for number in numbers:
        assert len(await gateway.received(number)) == 1
