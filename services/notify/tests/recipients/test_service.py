"""Who is alerted where: the projections of casework's facts (versions, an unknown
person, a final revocation) and the recipient rule (citizen, related, both;
each channel that is on; related persons only inside a valid approval)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.models import AlertSettings, PersonUnit
from notify.recipients import repository
from notify.recipients import service as recipients


async def test_a_settings_event_for_an_unknown_person_creates_the_projection(
    world: Any, session: AsyncSession
) -> None:
    number = world.number()
    person = await world.person(sms=number)

    stored = await session.get(AlertSettings, person.person_id)
    assert stored is not None
    assert (stored.sms_number, stored.email, stored.alert_recipients, stored.version) == (
        number,
        None,
        "citizen",
        1,
    )


async def test_an_older_settings_version_changes_nothing(world: Any, session: AsyncSession) -> None:
    first, second = world.number(), world.number()
    person = await world.person(sms=first)
    await world.set_settings(person, sms=second)  # version 2
    late = world.settings_event(person, 1, sms=first)  # a replayed dead letter
    await recipients.on_e_service_settings_changed(session, late, world.envelope(late))

    stored = await session.get(AlertSettings, person.person_id, populate_existing=True)
    assert stored is not None and (stored.sms_number, stored.version) == (second, 2)


async def test_a_new_number_is_used_from_the_next_alert_on(world: Any, clock: Any) -> None:
    old, new = world.number(), world.number()
    person = await world.person(sms=old)
    await world.deliver(person)
    await world.sent(person)
    clock.advance(3600)  # past the coalescing window
    await world.set_settings(person, sms=new)
    await world.deliver(person)

    assert [a.address for a in await world.alerts(person)] == [old, new]


async def test_an_alert_not_yet_sent_goes_to_the_number_of_the_latest_trigger(world: Any) -> None:
    old, new = world.number(), world.number()
    person = await world.person(sms=old)
    await world.deliver(person)  # queued: no sender has claimed it yet
    await world.set_settings(person, sms=new)
    await world.deliver(person)

    (alert,) = await world.alerts(person)
    assert alert.address == new
    assert len(await world.triggers(alert)) == 2


async def test_the_citizen_with_both_channels_gets_an_sms_and_an_email(world: Any) -> None:
    number, email = world.number(), world.email()
    person = await world.person(sms=number, email=email)

    await world.deliver(person)

    alerts = await world.alerts(person)
    assert sorted((a.recipient, a.channel, a.address) for a in alerts) == [
        ("citizen", "email", email),
        ("citizen", "sms", number),
    ]


async def test_only_related_persons_when_the_settings_say_related(world: Any) -> None:
    related = world.related(sms_number=world.number())
    person = await world.person(sms=world.number(), recipients="related", related=[related])
    await world.approve(person, related)

    await world.deliver(person)

    alerts = await world.alerts(person)
    assert [(a.recipient, a.recipient_key, a.address) for a in alerts] == [
        ("related", related.pnr, related.sms_number)
    ]


async def test_both_alerts_the_citizen_and_each_approved_related_person(world: Any) -> None:
    citizen_email = world.email()
    one, two = world.related(sms_number=world.number()), world.related(email=world.email())
    person = await world.person(email=citizen_email, recipients="both", related=[one, two])
    await world.approve(person, one)
    await world.approve(person, two)

    await world.deliver(person)

    alerts = await world.alerts(person)
    assert sorted((a.recipient_key, a.channel, a.address) for a in alerts) == sorted(
        [("citizen", "email", citizen_email), (one.pnr, "sms", one.sms_number), (two.pnr, "email", two.email)]
    )


async def test_a_related_person_outside_the_period_is_not_alerted(world: Any) -> None:
    expired, future = world.related(sms_number=world.number()), world.related(sms_number=world.number())
    person = await world.person(recipients="related", related=[expired, future])
    today = world.today()
    await world.approve(person, expired, today - timedelta(days=30), today - timedelta(days=1))
    await world.approve(person, future, today + timedelta(days=1), today + timedelta(days=30))

    await world.deliver(person)

    assert await world.alerts(person) == []


async def test_a_related_person_without_an_approval_is_not_alerted(world: Any) -> None:
    stranger = world.related(sms_number=world.number())
    person = await world.person(recipients="related", related=[stranger])

    await world.deliver(person)

    assert await world.alerts(person) == []


async def test_a_revoked_related_person_is_not_alerted_even_after_a_later_change(world: Any) -> None:
    related = world.related(sms_number=world.number())
    person = await world.person(recipients="related", related=[related])
    approval = await world.approve(person, related)
    await world.revoke(person, related, approval, version=2)
    today = world.today()
    # A change with a higher version arriving after the revocation: the revocation stays final.
    await world.change_approval(person, related, approval, today, today + timedelta(days=90), version=3)

    await world.deliver(person)

    assert await world.alerts(person) == []
    (stored,) = await repository.approvals_of(world.session, person.person_id)
    assert stored.revoked


async def test_a_revocation_arriving_before_the_approval_still_revokes(world: Any) -> None:
    related = world.related(sms_number=world.number())
    person = await world.person(recipients="related", related=[related])
    approval = await world.approve(person, related)  # keep the id: replay it late below
    await world.revoke(person, related, approval, version=2)
    # The approval (version 1) replayed after its revocation changes nothing.
    today = world.today()
    await world.change_approval(person, related, approval, today, today + timedelta(days=9), version=1)

    await world.deliver(person)

    assert await world.alerts(person) == []


async def test_no_alert_when_the_message_function_is_off_or_nothing_is_known(world: Any) -> None:
    off = await world.person(sms=world.number(), messages_enabled=False)
    unknown = await world.person(sms=world.number())
    unknown.person_id = type(unknown.person_id)(int=unknown.person_id.int ^ 1)  # a person never seen

    await world.deliver(off)
    await world.deliver(unknown)

    assert await world.alerts(off) == []
    assert await world.alerts(unknown) == []


async def test_no_alert_when_no_channel_is_on(world: Any) -> None:
    person = await world.person()

    await world.deliver(person)

    assert await world.alerts(person) == []


async def test_caseworker_assignment_records_the_unit(world: Any, session: AsyncSession) -> None:
    person = await world.person(sms=world.number())
    await world.assign(person, "ifo-vuxen")
    await world.assign(person, "ifo-vuxen")  # another record of the same unit
    await world.assign(person, "lss-handlaggare")

    units = await repository.units_of(session, person.person_id)
    assert [(u.unit, u.pnr) for u in units] == [("ifo-vuxen", person.pnr), ("lss-handlaggare", person.pnr)]
    assert all(isinstance(u, PersonUnit) for u in units)


async def test_projections_are_audit_logged_as_the_event_source(world: Any, audit_log: Any) -> None:
    person = await world.person(sms=world.number())
    await world.assign(person)

    entries = await audit_log(person.pnr)
    assert [(e["actor"], e["object_type"], e["action"]) for e in entries] == [
        ("event:/omsorg/casework", "alert_settings", "update"),
        ("event:/omsorg/casework", "person_unit", "update"),
    ]
