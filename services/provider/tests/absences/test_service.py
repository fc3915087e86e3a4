"""Absences at the service layer, against provider's real PostgreSQL: registered
under an executing order (planned or not; late when it began before today),
never ending before it begins nor sharing a day with another of the client's
absences at the provider (409), ended by setting its to date with its version
counted up; AbsenceRegistered / AbsenceEnded carry what the fee administrator
needs and not the description; the home box lists the unit's current absences;
other providers and units are refused (403, audited)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from provider.absences import service
from provider.absences.schemas import AbsenceEndForm, AbsenceForm
from provider.orders import service as orders
from provider.orders.schemas import EndForm
from provider.users import service as users
from shared.contracts.provider import AbsenceEnded, AbsenceRegistered
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

REGISTERED = AbsenceRegistered.ce_type
ENDED = AbsenceEnded.ce_type
TODAY = date.today()


def form(from_date: date, to_date: date | None = None, **values: Any) -> AbsenceForm:
    return AbsenceForm.model_validate(
        {
            "reason": "Sjukhusvistelse",
            "planned": False,
            "description": "Inlagd på Södersjukhuset efter fall.",
            "from_date": from_date,
            "to_date": to_date,
            **values,
        }
    )


async def test_an_absence_is_registered_and_casework_is_told_without_the_description(
    session: AsyncSession, world: Any, desk: Any, outbox: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)

    absence = await service.register(
        session, staff, order.order_id, form(TODAY, TODAY + timedelta(days=6), reason="Resa", planned=True)
    )
    assert (absence.reason, absence.planned, absence.late, absence.version) == ("Resa", True, False, 1)
    assert absence.kundnummer == order.client.kundnummer
    [event] = await outbox(REGISTERED, str(order.order_id))
    assert event["absence_id"] == str(absence.id)
    assert (event["from_date"], event["to_date"]) == (
        TODAY.isoformat(),
        (TODAY + timedelta(days=6)).isoformat(),
    )
    assert (event["kundnummer"], event["reason"], event["planned"], event["late"], event["version"]) == (
        order.client.kundnummer,
        "Resa",
        True,
        False,
        1,
    )
    assert (event["person_id"], event["unit"]) == (str(order.client.person_id), acme.units[0])
    assert "description" not in event and "Södersjukhuset" not in str(event)
    assert ("create", "absence") in [
        (e["action"], e["object_type"]) for e in await audit_log(str(order.client.pnr))
    ]


async def test_an_absence_registered_after_it_began_is_accepted_and_marked_late(
    session: AsyncSession, world: Any, desk: Any, outbox: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)

    absence = await service.register(session, staff, order.order_id, form(TODAY - timedelta(days=3)))
    assert absence.late is True and absence.to_date is None
    [event] = await outbox(REGISTERED, str(order.order_id))
    assert event["late"] is True and event["to_date"] is None


async def test_an_absence_ending_before_it_begins_or_before_the_execution_is_refused(
    session: AsyncSession, world: Any, desk: Any, outbox: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    start = TODAY - timedelta(days=10)
    order = await desk.executing(acme.id, acme.units[0], staff, execution_date=start)

    with pytest.raises(InvalidInput):
        await service.register(session, staff, order.order_id, form(TODAY, TODAY - timedelta(days=1)))
    with pytest.raises(InvalidInput):
        await service.register(session, staff, order.order_id, form(start - timedelta(days=1)))
    assert await outbox(REGISTERED, str(order.order_id)) == []


async def test_an_absence_needs_an_execution_under_way(session: AsyncSession, world: Any, desk: Any) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    unconfirmed = await desk.place(acme.id, acme.units[0])
    ended = await desk.executing(acme.id, acme.units[0], staff)
    await orders.end(session, staff, ended.order_id, EndForm(end_date=TODAY, reason="Flyttat", confirm=True))

    for order in (unconfirmed, ended):
        with pytest.raises(Conflict):
            async with session.begin_nested():
                await service.register(session, staff, order.order_id, form(TODAY))


async def test_absences_of_one_client_never_overlap_at_the_provider(
    session: AsyncSession, world: Any, desk: Any
) -> None:
    acme = await world.provider(units=(f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"))
    staff = await world.staff(acme)
    client = {"pnr": desk.new_personnummer(), "person_id": uuid.uuid4(), "kundnummer": "K12345678"}
    home = await desk.executing(acme.id, acme.units[0], staff, **client)
    day_care = await desk.executing(acme.id, acme.units[1], staff, **client)  # the same client, another unit
    other_client = await desk.executing(acme.id, acme.units[0], staff)

    await service.register(session, staff, home.order_id, form(TODAY, TODAY + timedelta(days=4)))
    for clash in (
        form(TODAY + timedelta(days=4), TODAY + timedelta(days=8)),  # shares the last day
        form(TODAY - timedelta(days=2)),  # open-ended, from before
        form(TODAY + timedelta(days=1), TODAY + timedelta(days=2)),  # inside
    ):
        for order in (home, day_care):
            with pytest.raises(Conflict):
                async with session.begin_nested():
                    await service.register(session, staff, order.order_id, clash)
    # The next day is free; another client is someone else.
    await service.register(session, staff, day_care.order_id, form(TODAY + timedelta(days=5)))
    await service.register(session, staff, other_client.order_id, form(TODAY))
    # An open absence blocks every later day.
    with pytest.raises(Conflict):
        await service.register(session, staff, home.order_id, form(TODAY + timedelta(days=60)))


async def test_ending_an_absence_sets_its_to_date_and_counts_its_version_up(
    session: AsyncSession, world: Any, desk: Any, outbox: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)
    away = await service.register(session, staff, order.order_id, form(TODAY - timedelta(days=5)))

    ended = await service.end(session, staff, away.id, AbsenceEndForm(to_date=TODAY))
    assert (ended.to_date, ended.version) == (TODAY, 2)
    corrected = await service.end(session, staff, away.id, AbsenceEndForm(to_date=TODAY + timedelta(days=1)))
    assert corrected.version == 3
    same = await service.end(session, staff, away.id, AbsenceEndForm(to_date=TODAY + timedelta(days=1)))
    assert same.version == 3  # nothing changed, nothing told

    events = await outbox(ENDED, str(order.order_id))
    assert [(e["to_date"], e["version"]) for e in events] == [
        (TODAY.isoformat(), 2),
        ((TODAY + timedelta(days=1)).isoformat(), 3),
    ]
    assert all(e["absence_id"] == str(away.id) and e["late"] is True for e in events)
    with pytest.raises(InvalidInput):
        await service.end(session, staff, away.id, AbsenceEndForm(to_date=TODAY - timedelta(days=6)))
    assert ("update", "absence") in [
        (e["action"], e["object_type"]) for e in await audit_log(str(order.client.pnr))
    ]


async def test_an_absence_cannot_be_extended_into_the_clients_next_one(
    session: AsyncSession, world: Any, desk: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)
    first = await service.register(session, staff, order.order_id, form(TODAY, TODAY + timedelta(days=2)))
    await service.register(session, staff, order.order_id, form(TODAY + timedelta(days=10)))

    with pytest.raises(Conflict):
        await service.end(session, staff, first.id, AbsenceEndForm(to_date=TODAY + timedelta(days=12)))
    assert (await service.read(session, staff, first.id)).version == 1


async def test_the_home_box_lists_the_units_current_absences(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider(units=(f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"))
    staff = await world.staff(acme)
    unit = acme.units[0]
    past = await desk.executing(acme.id, unit, staff)
    away = await desk.executing(acme.id, unit, staff, name="Ingrid Borta")
    ahead = await desk.executing(acme.id, unit, staff)
    elsewhere = await desk.executing(acme.id, acme.units[1], staff)
    over = await service.register(
        session, staff, past.order_id, form(TODAY - timedelta(days=9), TODAY - timedelta(days=2))
    )
    now = await service.register(session, staff, away.order_id, form(TODAY - timedelta(days=1)))
    planned = await service.register(
        session, staff, ahead.order_id, form(TODAY + timedelta(days=7), planned=True)
    )
    await service.register(session, staff, elsewhere.order_id, form(TODAY))

    box = await service.of_unit(session, staff, unit, current=True)
    assert [a.id for a in box.items] == [now.id, planned.id]
    assert box.items[0].client_name == "Ingrid Borta"
    assert box.items[0].personnummer == str(away.client.pnr)
    every = await service.of_unit(session, staff, unit, current=False)
    assert {a.id for a in every.items} == {over.id, now.id, planned.id}
    of_client = await service.of_order(session, staff, away.order_id)
    assert [a.id for a in of_client.items] == [now.id]
    assert ("list", "absence") in [
        (e["action"], e["object_type"]) for e in await audit_log(str(away.client.pnr))
    ]


async def test_another_providers_or_units_user_is_refused_and_audited(
    session: AsyncSession, world: Any, desk: Any, refusals: Any
) -> None:
    acme = await world.provider(units=(f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"))
    rival = await world.provider()
    staff = await world.staff(acme, units=(acme.units[0],))
    other_unit = await world.staff(acme, units=(acme.units[1],))
    rival_staff = await world.staff(rival, units=(rival.units[0], acme.units[0]))
    order = await desk.executing(acme.id, acme.units[0], staff)
    away = await service.register(session, staff, order.order_id, form(TODAY))
    pnr = str(order.client.pnr)

    for intruder in (rival_staff, other_unit):
        for attempt in (
            service.register(session, intruder, order.order_id, form(TODAY + timedelta(days=30))),
            service.end(session, intruder, away.id, AbsenceEndForm(to_date=TODAY)),
            service.read(session, intruder, away.id),
            service.of_order(session, intruder, order.order_id),
            service.of_unit(session, intruder, acme.units[0], current=True),
        ):
            with pytest.raises(NotAllowed):
                async with session.begin_nested():
                    await attempt
        refused = await refusals(intruder.sub)
        assert len(refused) == 5
        assert [r["subject_pnr"] for r in refused[:4]] == [pnr] * 4
        assert [r["object_type"] for r in refused[1:3]] == ["absence", "absence"]
    assert (await service.read(session, staff, away.id)).version == 1


async def test_a_deactivated_user_cannot_register_absence(
    session: AsyncSession, world: Any, desk: Any, refusals: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)
    await users.deactivate(session, acme.manager, staff.sub)

    with pytest.raises(NotAllowed):
        await service.register(session, staff, order.order_id, form(TODAY))
    assert len(await refusals(staff.sub)) == 1


async def test_an_unknown_absence_is_not_found(session: AsyncSession, world: Any) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    with pytest.raises(NotFound):
        await service.end(session, staff, uuid.uuid4(), AbsenceEndForm(to_date=TODAY))
