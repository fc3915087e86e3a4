"""Orders and executions at the service layer, against provider's real
PostgreSQL: casework's OrderPlaced kept once (a replay adds nothing), the home
box "Ej bekräftade beställningar", reading an order in full, confirming with an
execution date that never changes (409), ending an execution (422 without the
confirmation or before the start), search by name, personnummer and kundnummer,
and isolation between two providers and between units of one (403, audited)."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from provider.orders import service
from provider.orders.models import Order, OrderStatus
from provider.orders.schemas import ConfirmForm, EndForm, SearchForm
from provider.users import service as users
from shared.contracts.provider import ExecutionEnded, ExecutionStarted
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

STARTED = ExecutionStarted.ce_type
ENDED = ExecutionEnded.ce_type


async def test_an_order_placed_is_kept_once_and_a_replay_adds_nothing(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    event = desk.event(acme.id, acme.units[0])
    await service.on_order_placed(session, event, desk.envelope(event))
    # Casework's relay sent it again (a new envelope, the same order).
    await service.on_order_placed(session, event, desk.envelope(event))

    count = await session.scalar(select(func.count()).select_from(Order).where(Order.id == event.order_id))
    assert count == 1
    created = [e for e in await audit_log(str(event.client.pnr)) if e["action"] == "create"]
    assert [(e["actor"], e["object_type"]) for e in created] == [("event:/omsorg/casework", "order")]


async def test_a_new_order_is_in_the_units_unconfirmed_box_and_reads_in_full(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    event = await desk.place(acme.id, acme.units[0], name="Greta Gustafsson")

    unconfirmed = await service.list_of_unit(session, staff, acme.units[0], OrderStatus.UNCONFIRMED, 50, None)
    confirmed = await service.list_of_unit(session, staff, acme.units[0], OrderStatus.CONFIRMED, 50, None)
    assert [o.id for o in unconfirmed.items] == [event.order_id]
    assert unconfirmed.items[0].client_name == "Greta Gustafsson"
    assert confirmed.items == []

    order = await service.read(session, staff, event.order_id)
    assert order.status == OrderStatus.UNCONFIRMED
    assert order.client.personnummer == str(event.client.pnr)
    assert order.client.kundnummer == event.client.kundnummer
    assert order.client.address == event.client.address
    assert (order.service_name, order.extent) == ("Särskilt boende för äldre", "Heldygnsomsorg")
    assert order.note == event.note
    assert order.caseworker_name == "Marita Aronsson"
    assert order.execution is None
    actions = [(e["actor"], e["action"]) for e in await audit_log(str(event.client.pnr))]
    assert (staff.sub, "list") in actions and (staff.sub, "read") in actions


async def test_the_unconfirmed_box_pages_newest_first(session: AsyncSession, world: Any, desk: Any) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    placed = [await desk.place(acme.id, acme.units[0]) for _ in range(3)]

    first = await service.list_of_unit(session, staff, acme.units[0], OrderStatus.UNCONFIRMED, 2, None)
    assert first.next is not None
    rest = await service.list_of_unit(session, staff, acme.units[0], OrderStatus.UNCONFIRMED, 2, first.next)
    assert [o.id for o in first.items + rest.items] == [e.order_id for e in reversed(placed)]
    assert rest.next is None
    with pytest.raises(InvalidInput):
        await service.list_of_unit(session, staff, acme.units[0], None, 2, "not-a-cursor")


async def test_a_protected_persons_address_is_never_kept_nor_shown(
    session: AsyncSession, world: Any, desk: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    # Casework never sends one; were it ever to, provider still keeps none.
    event = await desk.place(acme.id, acme.units[0], protected=True, address="Hemliga vägen 1")

    order = await service.read(session, staff, event.order_id)
    assert order.client.protected_identity is True
    assert order.client.address is None
    stored = await session.get(Order, event.order_id)
    assert stored is not None and stored.client_address is None


async def test_an_order_for_a_unit_its_provider_does_not_have_is_kept_but_shown_to_nobody(
    session: AsyncSession, world: Any, desk: Any, refusals: Any, caplog: pytest.LogCaptureFixture
) -> None:
    acme = await world.provider()
    other = await world.provider()
    # Both providers' staff somehow hold the other's unit code in their token.
    acme_staff = await world.staff(acme, units=(acme.units[0], other.units[0]))
    other_staff = await world.staff(other, units=(other.units[0], acme.units[0]))
    with caplog.at_level(logging.WARNING, logger="provider.orders.service"):
        event = await desk.place(acme.id, other.units[0], name="Vera Vilse")

    assert await session.get(Order, event.order_id) is not None  # kept
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(event.order_id) in logged and str(acme.id) in logged
    assert "Vera" not in logged and str(event.client.pnr) not in logged
    for staff in (acme_staff, other_staff):
        with pytest.raises(NotAllowed):
            await service.read(session, staff, event.order_id)
        assert (await refusals(staff.sub))[-1]["subject_pnr"] == str(event.client.pnr)
    listed = await service.list_of_unit(session, other_staff, other.units[0], None, 50, None)
    assert event.order_id not in [o.id for o in listed.items]


async def test_confirming_starts_the_execution_once_and_its_date_never_changes(
    session: AsyncSession, world: Any, desk: Any, outbox: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    event = await desk.place(acme.id, acme.units[0])
    moves_in = date.today() + timedelta(days=14)  # a future date is allowed

    order = await service.confirm(session, staff, event.order_id, ConfirmForm(execution_date=moves_in))
    assert order.status == OrderStatus.CONFIRMED
    assert order.execution is not None and order.execution.execution_date == moves_in
    for again in (moves_in, moves_in + timedelta(days=1)):
        with pytest.raises(Conflict):
            async with session.begin_nested():
                await service.confirm(session, staff, event.order_id, ConfirmForm(execution_date=again))

    [started] = await outbox(STARTED, str(event.order_id))
    assert started["execution_date"] == moves_in.isoformat()
    assert started["person_id"] == str(event.client.person_id)
    assert (started["provider_id"], started["unit"]) == (str(acme.id), acme.units[0])
    assert started["confirmed_by"] == staff.sub
    confirmed = await service.list_of_unit(session, staff, acme.units[0], OrderStatus.CONFIRMED, 50, None)
    assert [o.id for o in confirmed.items] == [event.order_id]
    unconfirmed = await service.list_of_unit(session, staff, acme.units[0], OrderStatus.UNCONFIRMED, 50, None)
    assert unconfirmed.items == []


async def test_an_execution_date_more_than_a_year_ahead_is_refused(
    session: AsyncSession, world: Any, desk: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    event = await desk.place(acme.id, acme.units[0])
    with pytest.raises(InvalidInput):
        await service.confirm(
            session, staff, event.order_id, ConfirmForm(execution_date=date.today() + timedelta(days=400))
        )


async def test_ending_an_execution_needs_the_confirmation_a_reason_and_no_date_before_its_start(
    session: AsyncSession, world: Any, desk: Any, outbox: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    start = date.today() - timedelta(days=60)
    unconfirmed = await desk.place(acme.id, acme.units[0])
    event = await desk.executing(acme.id, acme.units[0], staff, execution_date=start)

    with pytest.raises(InvalidInput):  # not sure
        await service.end(
            session, staff, event.order_id, EndForm(end_date=date.today(), reason="Flyttat", confirm=False)
        )
    with pytest.raises(InvalidInput):  # before the execution began
        async with session.begin_nested():
            await service.end(
                session,
                staff,
                event.order_id,
                EndForm(end_date=start - timedelta(days=1), reason="Flyttat", confirm=True),
            )
    with pytest.raises(Conflict):  # nothing executes yet
        async with session.begin_nested():
            await service.end(
                session,
                staff,
                unconfirmed.order_id,
                EndForm(end_date=date.today(), reason="Avliden", confirm=True),
            )

    order = await service.end(
        session, staff, event.order_id, EndForm(end_date=date.today(), reason="Avliden", confirm=True)
    )
    assert order.status == OrderStatus.ENDED
    assert order.execution is not None
    assert (order.execution.end_date, order.execution.end_reason) == (date.today(), "Avliden")
    with pytest.raises(Conflict):  # ended already
        async with session.begin_nested():
            await service.end(
                session, staff, event.order_id, EndForm(end_date=date.today(), reason="Flyttat", confirm=True)
            )
    [ended] = await outbox(ENDED, str(event.order_id))
    assert (ended["end_date"], ended["reason"], ended["ended_by"]) == (
        date.today().isoformat(),
        "Avliden",
        staff.sub,
    )
    assert (await service.list_of_unit(session, staff, acme.units[0], OrderStatus.ENDED, 50, None)).items[
        0
    ].id == event.order_id


async def test_another_providers_user_is_refused_every_order_action_and_audited(
    session: AsyncSession, world: Any, desk: Any, refusals: Any, outbox: Any
) -> None:
    acme = await world.provider()
    rival = await world.provider()
    acme_staff = await world.staff(acme)
    rival_staff = await world.staff(rival, units=(rival.units[0], acme.units[0]))
    event = await desk.place(acme.id, acme.units[0])
    pnr = str(event.client.pnr)

    attempts = [
        service.read(session, rival_staff, event.order_id),
        service.print_pdf(session, rival_staff, event.order_id, []),
        service.confirm(session, rival_staff, event.order_id, ConfirmForm(execution_date=date.today())),
        service.end(
            session, rival_staff, event.order_id, EndForm(end_date=date.today(), reason="Annat", confirm=True)
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            async with session.begin_nested():
                await attempt
    with pytest.raises(NotAllowed):  # the unit is acme's, whatever the token says
        await service.list_of_unit(session, rival_staff, acme.units[0], None, 50, None)
    with pytest.raises(NotAllowed):
        await service.search(session, rival_staff, acme.units[0], SearchForm(query=pnr))

    refused = await refusals(rival_staff.sub)
    on_order = [r for r in refused if r["object_type"] == "order"]
    assert [r["action"] for r in on_order] == ["read", "print", "confirm", "end"]
    assert {r["subject_pnr"] for r in on_order} == {pnr}
    assert any(r["object_type"] == "provider_unit" for r in refused)
    assert await outbox(STARTED, str(event.order_id)) == []
    # The owner still may.
    assert (await service.read(session, acme_staff, event.order_id)).id == event.order_id


async def test_a_user_of_another_unit_of_the_same_provider_is_refused(
    session: AsyncSession, world: Any, desk: Any, refusals: Any
) -> None:
    acme = await world.provider(units=(f"norr-{uuid.uuid4().hex[:6]}", f"syd-{uuid.uuid4().hex[:6]}"))
    north, south = acme.units
    south_staff = await world.staff(acme, units=(south,))
    event = await desk.place(acme.id, north)

    with pytest.raises(NotAllowed):
        await service.read(session, south_staff, event.order_id)
    with pytest.raises(NotAllowed):
        await service.list_of_unit(session, south_staff, north, None, 50, None)
    refused = await refusals(south_staff.sub)
    assert refused[0]["object_type"] == "order" and refused[0]["subject_pnr"] == str(event.client.pnr)
    assert (await service.list_of_unit(session, south_staff, south, None, 50, None)).items == []


async def test_a_deactivated_user_is_refused(
    session: AsyncSession, world: Any, desk: Any, refusals: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    event = await desk.place(acme.id, acme.units[0])
    await users.deactivate(session, acme.manager, staff.sub)

    with pytest.raises(NotAllowed):
        await service.read(session, staff, event.order_id)
    with pytest.raises(NotAllowed):
        await service.list_of_unit(session, staff, acme.units[0], None, 50, None)
    assert len(await refusals(staff.sub)) == 2


async def test_an_unknown_order_is_not_found(session: AsyncSession, world: Any) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    with pytest.raises(NotFound):
        await service.read(session, staff, uuid.uuid4())


async def test_search_finds_one_clients_orders_by_name_personnummer_or_kundnummer(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    rival = await world.provider()
    staff = await world.staff(acme)
    unit = acme.units[0]
    pnr = desk.new_personnummer()
    kundnummer = f"K{uuid.uuid4().int % 10**8:08d}"
    client = {"pnr": pnr, "person_id": uuid.uuid4(), "name": "Sixten Ström", "kundnummer": kundnummer}
    first = await desk.place(acme.id, unit, **client)
    second = await desk.place(acme.id, unit, **client)
    await desk.place(acme.id, unit, name="Berit Ek")
    await desk.place(rival.id, rival.units[0], **client)  # the same client at another provider

    mine = {first.order_id, second.order_id}
    for query in ("sixten STRÖM", "Ström", pnr, f"{pnr[2:8]}-{pnr[8:]}", kundnummer):
        found = await service.search(session, staff, unit, SearchForm(query=query))
        assert {o.id for o in found} == mine, query
    assert await service.search(session, staff, unit, SearchForm(query="%%")) == []
    searched = [e for e in await audit_log(pnr) if e["action"] == "search"]
    assert {e["object_id"] for e in searched} == {str(i) for i in mine}
