"""The operations views: the alert queue for administrators (filters, masked
addresses, keyset pagination, every shown alert audit-logged) and one person's
alert history for caseworkers of a unit handling the person (anyone else is
refused, audited; every read audited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from notify.alerts import repository, service
from notify.alerts.masking import mask_email, mask_number
from notify.models import AlertStatus
from shared.problems import InvalidInput, NotAllowed

# Later than any alert the running system makes: the test's alerts come first, newest first.
FAR_FUTURE = datetime(2190, 1, 15, 11, 0, tzinfo=UTC)


@pytest.fixture
def operator(make_staff: Any) -> Any:
    return make_staff(roles=("admin",), units=())


def _mine(page: Any, *people: Any) -> list[Any]:
    ids = {p.person_id for p in people}
    return [item for item in page.items if item.person_id in ids]


def test_addresses_are_masked() -> None:
    assert mask_number("+46701234512") == "+4670•••••12"
    assert mask_email("tove.svensson@example.se") == "t•••@example.se"
    assert mask_email("not-an-address") == "•••"
    assert mask_number("12") == "•12"


async def test_the_queue_shows_ids_statuses_and_masked_addresses_newest_first(
    world: Any, clock: Any, operator: Any, session: AsyncSession
) -> None:
    clock.now = FAR_FUTURE
    number, email = "+46701234512", "tove@example.se"
    person = await world.person(sms=number, email=email)
    event = await world.deliver(person)

    page = await service.list_alerts(
        session,
        operator,
        statuses=[],
        channel=None,
        older_than_minutes=None,
        after=None,
        limit=10,
        clock=clock,
    )

    mine = _mine(page, person)
    assert sorted((i.channel, i.address, i.status, i.attempts) for i in mine) == [
        ("email", "t•••@example.se", "queued", 0),
        ("sms", "+4670•••••12", "queued", 0),
    ]
    assert page.items[: len(mine)] == mine  # the newest come first
    assert all(i.message_ids == [event.message_id] for i in mine)
    dumped = page.model_dump_json()
    assert number not in dumped and email not in dumped and person.pnr not in dumped


async def test_the_queue_filters_by_status_channel_and_age(
    world: Any, clock: Any, operator: Any, session: AsyncSession
) -> None:
    clock.now = FAR_FUTURE - timedelta(minutes=90)
    old = await world.person(sms=world.number(), email=world.email())
    await world.deliver(old)
    for alert in await world.alerts(old):
        if alert.channel == "sms":
            await repository.change_status(
                session,
                alert,
                AlertStatus.FAILED,
                clock.now,
                "the gateway answered 503",
                last_error="HTTP 503",
            )
    clock.now = FAR_FUTURE
    new = await world.person(sms=world.number())
    await world.deliver(new)

    async def listed(**filters: Any) -> list[tuple[uuid.UUID, str, str]]:
        args: dict[str, Any] = {"statuses": [], "channel": None, "older_than_minutes": None, **filters}
        page = await service.list_alerts(session, operator, after=None, limit=200, clock=clock, **args)
        return sorted((i.person_id, i.channel, i.status) for i in _mine(page, old, new))

    assert await listed(statuses=[AlertStatus.FAILED]) == [(old.person_id, "sms", "failed")]
    assert await listed(channel="email") == [(old.person_id, "email", "queued")]
    assert await listed(older_than_minutes=60) == sorted(
        [(old.person_id, "email", "queued"), (old.person_id, "sms", "failed")]
    )
    assert await listed(statuses=[AlertStatus.QUEUED], channel="sms") == [(new.person_id, "sms", "queued")]
    failed = await service.list_alerts(
        session,
        operator,
        statuses=[AlertStatus.FAILED],
        channel=None,
        older_than_minutes=None,
        after=None,
        limit=200,
        clock=clock,
    )
    assert _mine(failed, old)[0].last_error == "HTTP 503"


async def test_the_queue_pages_with_a_cursor(
    world: Any, clock: Any, operator: Any, session: AsyncSession
) -> None:
    people = []
    for minute in range(5):
        clock.now = FAR_FUTURE + timedelta(minutes=minute)
        person = await world.person(email=world.email())
        await world.deliver(person)
        people.append(person)

    seen: list[uuid.UUID] = []
    after = None
    for _ in range(3):
        page = await service.list_alerts(
            session,
            operator,
            statuses=[],
            channel=None,
            older_than_minutes=None,
            after=after,
            limit=2,
            clock=clock,
        )
        seen += [i.person_id for i in page.items]
        after = page.next
    # Newest first, none twice, none left out (older alerts of the running system may follow).
    assert seen[:5] == [p.person_id for p in reversed(people)]


async def test_a_cursor_not_given_out_is_refused(operator: Any, session: AsyncSession) -> None:
    with pytest.raises(InvalidInput):
        await service.list_alerts(
            session, operator, statuses=[], channel=None, older_than_minutes=None, after="bm9wZQ==", limit=2
        )


async def test_every_alert_the_queue_shows_is_audit_logged(
    world: Any, clock: Any, operator: Any, session: AsyncSession, audit_log: Any
) -> None:
    clock.now = FAR_FUTURE
    person = await world.person(sms=world.number())
    await world.deliver(person)
    (alert,) = await world.alerts(person)

    await service.list_alerts(
        session,
        operator,
        statuses=[],
        channel="sms",
        older_than_minutes=None,
        after=None,
        limit=5,
        clock=clock,
    )

    entries = [e for e in await audit_log(person.pnr) if e["object_type"] == "alert"]
    assert entries == [
        {
            "actor": operator.sub,
            "actor_role": "admin",
            "action": "list",
            "object_type": "alert",
            "object_id": str(alert.id),
            "outcome": "allowed",
        }
    ]


async def test_a_caseworker_of_the_persons_unit_reads_the_whole_history(
    world: Any, clock: Any, make_staff: Any, session: AsyncSession, audit_log: Any
) -> None:
    person = await world.person(sms="+46701234512")
    await world.assign(person, "ifo-vuxen")
    event = await world.deliver(person)
    (alert,) = await world.alerts(person)
    clock.advance(2)
    await repository.change_status(session, alert, AlertStatus.SENDING, clock.now, "attempt 1", attempts=1)
    clock.advance(1)
    await repository.change_status(
        session, alert, AlertStatus.ACCEPTED, clock.now, "the gateway accepted it", provider_id="s1"
    )
    caseworker = make_staff(units=("ifo-vuxen",))

    history = await service.person_alerts(session, caseworker, person.person_id)

    (item,) = history.items
    assert (item.id, item.address, item.message_ids) == (alert.id, "+4670•••••12", [event.message_id])
    assert [(h.status, h.detail) for h in item.history] == [
        ("queued", "planned"),
        ("sending", "attempt 1"),
        ("accepted", "the gateway accepted it"),
    ]
    entries = [e for e in await audit_log(person.pnr) if e["object_type"] == "alert_history"]
    assert entries == [
        {
            "actor": caseworker.sub,
            "actor_role": "caseworker",
            "action": "read",
            "object_type": "alert_history",
            "object_id": str(person.person_id),
            "outcome": "allowed",
        }
    ]


async def test_a_caseworker_of_another_unit_is_refused_and_audited(
    world: Any, make_staff: Any, session: AsyncSession, audit_log: Any
) -> None:
    person = await world.person(sms=world.number())
    await world.assign(person, "ifo-vuxen")
    await world.deliver(person)
    stranger = make_staff(units=("lss-handlaggare",))

    with pytest.raises(NotAllowed):
        await service.person_alerts(session, stranger, person.person_id)

    entries = [e for e in await audit_log(person.pnr) if e["object_type"] == "alert_history"]
    assert [(e["actor"], e["outcome"]) for e in entries] == [(stranger.sub, "refused")]


async def test_a_person_no_unit_handles_is_refused(make_staff: Any, session: AsyncSession) -> None:
    with pytest.raises(NotAllowed):
        await service.person_alerts(session, make_staff(), uuid.uuid4())


async def test_the_queue_gauges_count_waiting_alerts_and_the_oldest_due_one(
    world: Any, clock: Any, session: AsyncSession
) -> None:
    clock.now = FAR_FUTURE
    before = await repository.queue_depth(session, clock.now)
    person = await world.person(sms=world.number(), email=world.email())
    await world.deliver(person)
    clock.advance(600)

    after = await repository.queue_depth(session, clock.now)

    assert after.pending == before.pending + 2
    assert after.oldest_pending_seconds >= 600  # due since FAR_FUTURE, 10 minutes ago
