"""Fallback: an alert given up goes by the other channel when the recipient's
current settings have it on and no alert on it already tells about the same
deliveries; recorded in both histories; never a fallback of a fallback."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conftest import eventually
from notify.config import TIME_ZONE
from notify.models import Alert, AlertStatus, Channel
from shared.contracts.notify import AlertOutcome

World = Any
SenderFactory = Any
SmsGateway = Any
MailServer = Any
FakeClock = Any
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


def invalid_number() -> str:
    return "070-" + uuid.uuid4().hex[:7]  # not E.164: the gateway refuses it for good


async def by_channel(world: World, person: Any) -> dict[Channel, list[Alert]]:
    found: dict[Channel, list[Alert]] = {}
    for alert in await world.alerts(person):
        found.setdefault(Channel(alert.channel), []).append(alert)
    return found


async def details(world: World, alert: Alert) -> list[str]:
    return [h.detail or "" for h in await world.history(alert)]


async def test_a_given_up_sms_falls_back_to_the_email_the_current_settings_have(
    world: World,
    session: AsyncSession,
    sender: SenderFactory,
    mail: MailServer,
    outbox: Outbox,
) -> None:
    person = await world.person(sms=invalid_number())
    delivery = await world.deliver(person)
    address = world.email()
    await world.set_settings(person, email=address)  # e-mail alerts on since the alert was planned
    await session.commit()

    await sender().run_once()  # the SMS is refused for good: given up, falls back

    alerts = await by_channel(world, person)
    [sms], [email] = alerts[Channel.SMS], alerts[Channel.EMAIL]
    assert sms.status == AlertStatus.GIVEN_UP
    assert email.status == AlertStatus.QUEUED and email.fallback_of == sms.id and email.address == address
    assert await world.triggers(email) == [delivery.message_id]
    assert f"falls back to e-mail: alert {email.id}" in (await details(world, sms))[-1]
    assert (await details(world, email))[0] == f"fallback of SMS alert {sms.id}"

    await sender().run_once()

    [mail_received] = await mail.received(address)
    assert mail_received["text"].startswith("Du har fått ett nytt meddelande från Omsorg.")
    [email] = (await by_channel(world, person))[Channel.EMAIL]
    assert email.status == AlertStatus.DELIVERED
    [given_up] = await outbox(AlertOutcome.ce_type, str(sms.id))
    assert given_up["outcome"] == "given_up" and given_up["fallback_of"] is None
    [delivered] = await outbox(AlertOutcome.ce_type, str(email.id))
    assert delivered["outcome"] == "delivered" and delivered["fallback_of"] == str(sms.id)
    assert delivered["message_ids"] == [str(delivery.message_id)]


async def test_no_fallback_when_an_email_alert_already_tells_about_the_same_delivery(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer
) -> None:
    address = world.email()
    person = await world.person(sms=invalid_number(), email=address)  # both boxes ticked
    await world.deliver(person)
    await session.commit()

    await sender().run_once()

    alerts = await by_channel(world, person)
    assert [a.status for a in alerts[Channel.SMS]] == [AlertStatus.GIVEN_UP]
    assert [(a.status, a.fallback_of) for a in alerts[Channel.EMAIL]] == [(AlertStatus.DELIVERED, None)]
    assert len(await mail.received(address)) == 1  # one e-mail, not two


async def test_no_fallback_when_the_other_channel_is_off(
    world: World, session: AsyncSession, sender: SenderFactory
) -> None:
    person = await world.person(sms=invalid_number())
    await world.deliver(person)
    await session.commit()

    await sender().run_once()

    [alert] = await world.alerts(person)
    assert alert.status == AlertStatus.GIVEN_UP
    assert not any("falls back" in d for d in await details(world, alert))


async def test_a_fallback_is_never_itself_fallen_back_from(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer
) -> None:
    address = world.email()
    await mail.rule(address, "permanent")
    person = await world.person(email=address)
    await world.deliver(person)
    await world.set_settings(person, sms=invalid_number())
    await session.commit()

    await sender().run_once()  # the e-mail bounces: falls back to SMS
    await sender().run_once()  # the SMS is refused: given up, and that is the end

    alerts = await by_channel(world, person)
    [email], [sms] = alerts[Channel.EMAIL], alerts[Channel.SMS]
    assert email.status == AlertStatus.GIVEN_UP and email.fallback_of is None
    assert sms.status == AlertStatus.GIVEN_UP and sms.fallback_of == email.id
    assert await sender().run_once() == 0


async def test_a_failed_delivery_report_gives_the_sms_up_and_falls_back_to_email(
    world: World, session: AsyncSession, sender: SenderFactory, gateway: SmsGateway, mail: MailServer
) -> None:
    number = world.number()
    await gateway.rule(number, dlr="failed")  # accepted, then reported undelivered
    person = await world.person(sms=number)
    await world.deliver(person)
    address = world.email()
    await world.set_settings(person, email=address)
    await session.commit()

    await sender().run_once()

    async def fallen_back() -> dict[Channel, list[Alert]] | None:
        await session.rollback()
        alerts = await by_channel(world, person)
        return alerts if Channel.EMAIL in alerts else None

    alerts = await eventually(fallen_back)
    [sms] = alerts[Channel.SMS]
    assert sms.status == AlertStatus.GIVEN_UP
    assert sms.last_error == "the gateway reported the SMS undelivered"
    assert [h.status for h in await world.history(sms)] == [
        "queued",
        "sending",
        "accepted",
        "accepted",  # the gateway's "sent" report
        "given_up",
        "given_up",  # the fallback noted
    ]
    assert len(await gateway.received(number)) == 1  # given up, not retried

    await sender().run_once()
    assert len(await mail.received(address)) == 1


async def test_a_related_persons_fallback_uses_their_own_address(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer
) -> None:
    related = world.related(sms_number=invalid_number())
    person = await world.person(sms=world.number(), recipients="related", related=[related])
    await world.approve(person, related)
    await world.deliver(person)
    related.email = world.email()
    await world.set_settings(person, related=[related])
    await session.commit()

    await sender().run_once()
    await sender().run_once()

    alerts = await by_channel(world, person)
    [sms], [email] = alerts[Channel.SMS], alerts[Channel.EMAIL]
    assert sms.recipient_key == related.pnr and sms.status == AlertStatus.GIVEN_UP
    assert email.recipient_key == related.pnr and email.fallback_of == sms.id
    [received] = await mail.received(related.email)
    assert received["text"].startswith("Det finns nytt i Omsorgs e-tjänst för en person du företräder.")


async def test_an_sms_fallback_waits_for_the_end_of_the_quiet_hours(
    world: World, session: AsyncSession, sender: SenderFactory, mail: MailServer, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 3, 12, 22, 0, tzinfo=TIME_ZONE)
    address = world.email()
    await mail.rule(address, "permanent")
    person = await world.person(email=address)
    await world.deliver(person)
    await world.set_settings(person, sms=world.number())
    await session.commit()

    await sender().run_once()

    [sms] = (await by_channel(world, person))[Channel.SMS]
    assert sms.status == AlertStatus.QUEUED
    assert sms.due_at == datetime(2025, 3, 13, 8, 0, tzinfo=TIME_ZONE)
    assert "held until the end of the SMS quiet hours" in (await details(world, sms))[0]
    assert await sender().run_once() == 0
