"""Fees (CW-15, PR-6, PR-7) at the service layer, against casework's real
PostgreSQL with its migrations: provider's absence events signal the fee
administrator on a work list by kundnummer (a late one marked late, one of over
30 whole days marked for manual handling with its days), each newer version
once and an older or replayed one never; items are marked done once; the
monthly fee basis follows from the executions and absences, as JSON and CSV;
every item and row shown is audited. The running system's own rows may share
the database: each test looks at its own client's."""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from casework.config import TIME_ZONE
from casework.decisions.schemas import DecisionOut
from casework.fees import service
from casework.models import Person
from casework.orders import service as orders
from casework.orders.schemas import OrderCreate, OrderOut
from casework.orders.settings import OrdersConfig
from shared.auth import User
from shared.contracts.provider import AbsenceEnded, AbsenceRegistered, ExecutionEnded, ExecutionStarted
from shared.events import Envelope, Event
from shared.problems import Conflict, InvalidInput, NotFound

ORDERS = OrdersConfig("http://127.0.0.1:8102", secrets.token_bytes(32), timedelta(days=30))
Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
ProviderEnvelope = Callable[[Event], Envelope]


def today() -> date:
    return datetime.now(TIME_ZONE).date()


@pytest.fixture
def fee_administrator() -> User:
    return User(sub=f"fee-{uuid.uuid4().hex[:8]}", name="Avgift Test", roles=frozenset({"fee_administrator"}))


class Client:
    """One client's execution as provider reports on it: absences, each with its version."""

    def __init__(
        self, session: AsyncSession, envelope: ProviderEnvelope, person: Person, order_id: uuid.UUID
    ):
        self.session, self.envelope, self.person, self.order_id = session, envelope, person, order_id
        self.provider_id, self.unit = uuid.uuid4(), "unit-norr"

    def _facts(
        self, absence_id: uuid.UUID, from_date: date, to_date: date | None, late: bool, version: int
    ) -> Any:
        return {
            "absence_id": absence_id,
            "order_id": self.order_id,
            "provider_id": self.provider_id,
            "unit": self.unit,
            "person_id": self.person.id,
            "kundnummer": self.person.kundnummer,
            "reason": "Sjukhusvistelse",
            "planned": False,
            "from_date": from_date,
            "to_date": to_date,
            "late": late,
            "version": version,
        }

    def registered(
        self, absence_id: uuid.UUID, from_date: date, to_date: date | None = None, *, late: bool = False
    ) -> AbsenceRegistered:
        facts = self._facts(absence_id, from_date, to_date, late, 1)
        return AbsenceRegistered.model_validate({**facts, "registered_at": datetime.now(UTC)})

    def ended(
        self, absence_id: uuid.UUID, from_date: date, to_date: date, *, version: int = 2, late: bool = False
    ) -> AbsenceEnded:
        facts = self._facts(absence_id, from_date, to_date, late, version)
        return AbsenceEnded.model_validate({**facts, "ended_at": datetime.now(UTC)})

    async def deliver(self, event: AbsenceRegistered | AbsenceEnded) -> None:
        await service.on_absence(self.session, event, self.envelope(event))


@pytest.fixture
def client_of(
    session: AsyncSession,
    provider_envelope: ProviderEnvelope,
    linked_person: Callable[..., Awaitable[Person]],
) -> Callable[[User], Awaitable[Client]]:
    async def make(caseworker: User) -> Client:
        return Client(session, provider_envelope, await linked_person(caseworker), uuid.uuid4())

    return make


async def items_of(session: AsyncSession, user: User, client: Client, done: bool = False) -> list[Any]:
    return (
        await service.work_list(
            session, user, done=done, kundnummer=client.person.kundnummer, after=None, limit=100
        )
    ).items


async def test_an_absence_registered_and_ended_each_signal_the_fee_administrator_by_kundnummer(
    session: AsyncSession,
    caseworker: User,
    fee_administrator: User,
    client_of: Callable[[User], Awaitable[Client]],
    audit_of: Audit,
) -> None:
    client = await client_of(caseworker)
    absence = uuid.uuid4()
    away = today() - timedelta(days=3)
    await client.deliver(client.registered(absence, away, late=True))
    await client.deliver(client.ended(absence, away, today(), late=True))

    registered, ended = await items_of(session, fee_administrator, client)
    assert (registered.signal, registered.kundnummer, registered.from_date, registered.to_date) == (
        "Frånvaro registrerad",
        client.person.kundnummer,
        away,
        None,
    )
    assert (ended.signal, ended.to_date, ended.whole_days_without_meals) == ("Frånvaro avslutad", today(), 2)
    assert registered.late and ended.late and not ended.manual_handling
    assert (registered.order_id, registered.unit) == (client.order_id, "unit-norr")
    assert "reason" not in registered.model_dump()  # why they were away is not the fee's business

    rows = await audit_of(client.person.pnr)
    created = [r for r in rows if r[2] == "create" and r[3] == "fee_work_item"]
    assert [(r[0], r[1]) for r in created] == [("event:/omsorg/provider", "system")] * 2
    listed = [(r[0], r[1], r[4]) for r in rows if r[2] == "list" and r[3] == "fee_work_item"]
    assert listed == [(fee_administrator.sub, "fee_administrator", str(i.id)) for i in (registered, ended)]


async def test_an_older_or_replayed_absence_event_signals_nothing_and_changes_nothing(
    session: AsyncSession,
    caseworker: User,
    fee_administrator: User,
    client_of: Callable[[User], Awaitable[Client]],
) -> None:
    client = await client_of(caseworker)
    absence = uuid.uuid4()
    away = today() - timedelta(days=10)
    ended = client.ended(absence, away, today() - timedelta(days=2))
    await client.deliver(ended)  # the end overtook its registration (a replayed dead letter)
    await client.deliver(client.registered(absence, away))
    await client.deliver(ended)  # redelivered with a fresh event id
    [item] = await items_of(session, fee_administrator, client)
    assert (item.signal, item.to_date) == ("Frånvaro avslutad", today() - timedelta(days=2))
    # A newer end date (the provider changed it) signals again.
    await client.deliver(client.ended(absence, away, today(), version=3))
    assert [i.to_date for i in await items_of(session, fee_administrator, client)] == [
        today() - timedelta(days=2),
        today(),
    ]


async def test_an_absence_of_a_client_casework_does_not_know_is_refused_for_the_dead_letters(
    session: AsyncSession, caseworker: User, client_of: Callable[[User], Awaitable[Client]]
) -> None:
    client = await client_of(caseworker)
    event = client.registered(uuid.uuid4(), today()).model_copy(update={"person_id": uuid.uuid4()})
    with pytest.raises(service.AbsenceRefused):
        async with session.begin_nested():
            await client.deliver(event)


async def test_an_absence_over_30_whole_days_is_marked_for_manual_handling_with_its_days(
    session: AsyncSession,
    caseworker: User,
    fee_administrator: User,
    client_of: Callable[[User], Awaitable[Client]],
) -> None:
    client = await client_of(caseworker)
    long_ago = today() - timedelta(days=45)
    await client.deliver(client.registered(uuid.uuid4(), long_ago, long_ago + timedelta(days=31)))  # 30 whole
    await client.deliver(client.registered(uuid.uuid4(), long_ago, long_ago + timedelta(days=32), late=True))
    # Still away: the whole days so far, up to yesterday.
    await client.deliver(client.registered(uuid.uuid4(), today() - timedelta(days=40), late=True))
    thirty, thirty_one, still_away = await items_of(session, fee_administrator, client)
    assert (thirty.whole_days_without_meals, thirty.manual_handling) == (30, False)
    assert (thirty_one.whole_days_without_meals, thirty_one.manual_handling) == (31, True)
    assert (still_away.to_date, still_away.whole_days_without_meals, still_away.manual_handling) == (
        None,
        39,
        True,
    )


async def test_an_item_is_marked_done_once_and_leaves_the_list_of_what_is_left(
    session: AsyncSession,
    caseworker: User,
    fee_administrator: User,
    client_of: Callable[[User], Awaitable[Client]],
    audit_of: Audit,
) -> None:
    client = await client_of(caseworker)
    for days_ago in (9, 6, 3):
        await client.deliver(client.registered(uuid.uuid4(), today() - timedelta(days=days_ago)))
    first, second, third = await items_of(session, fee_administrator, client)

    done = await service.mark_done(session, fee_administrator, first.id)
    assert (done.done, done.done_by) == (True, fee_administrator.sub)
    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.mark_done(session, fee_administrator, first.id)
    with pytest.raises(NotFound):
        async with session.begin_nested():
            await service.mark_done(session, fee_administrator, uuid.uuid4())
    assert [i.id for i in await items_of(session, fee_administrator, client)] == [second.id, third.id]
    assert [i.id for i in await items_of(session, fee_administrator, client, done=True)] == [first.id]

    # A page at a time, in the same order.
    kundnummer = client.person.kundnummer
    page = await service.work_list(
        session, fee_administrator, done=False, kundnummer=kundnummer, after=None, limit=1
    )
    rest = await service.work_list(
        session, fee_administrator, done=False, kundnummer=kundnummer, after=page.next_after, limit=1
    )
    assert ([i.id for i in page.items], [i.id for i in rest.items]) == ([second.id], [third.id])
    with pytest.raises(InvalidInput):
        await service.work_list(
            session, fee_administrator, done=False, kundnummer=None, after=uuid.uuid4(), limit=1
        )

    updates = [r for r in await audit_of(client.person.pnr) if r[2] == "update" and r[3] == "fee_work_item"]
    assert [(r[0], r[4], r[5]) for r in updates] == [(fee_administrator.sub, str(first.id), "allowed")]


# ---- the monthly fee basis -----------------------------------------------------------


async def executing(
    session: AsyncSession,
    envelope: ProviderEnvelope,
    caseworker: User,
    decision: DecisionOut,
    unit: tuple[uuid.UUID, str],
    execution_date: date,
    end_date: date | None = None,
) -> OrderOut:
    """Order the decision from the unit; the provider confirms it (and ends it, if `end_date`)."""
    order = await orders.place_order(
        session, caseworker, decision.id, OrderCreate(provider_id=unit[0], unit=unit[1]), ORDERS
    )
    started = ExecutionStarted(
        order_id=order.id,
        provider_id=order.provider_id,
        unit=order.unit,
        person_id=order.person_id,
        execution_date=execution_date,
        confirmed_by="provider-user",
        confirmed_at=datetime.now(UTC),
    )
    await orders.on_execution_started(session, started, envelope(started))
    if end_date is not None:
        ended = ExecutionEnded(
            order_id=order.id,
            provider_id=order.provider_id,
            unit=order.unit,
            person_id=order.person_id,
            end_date=end_date,
            reason="Flyttat",
            ended_by="provider-user",
            ended_at=datetime.now(UTC),
        )
        await orders.on_execution_ended(session, ended, envelope(ended))
    return order


async def test_the_monthly_fee_basis_follows_from_the_executions_and_absences(
    session: AsyncSession,
    caseworker: User,
    fee_administrator: User,
    granted_decision: Callable[..., Awaitable[DecisionOut]],
    provider_unit: Callable[..., Awaitable[tuple[uuid.UUID, str]]],
    provider_envelope: ProviderEnvelope,
    audit_of: Audit,
) -> None:
    unit = await provider_unit()
    staying = await granted_decision(caseworker)
    moving = await granted_decision(caseworker)
    # In the leap year 2028: one moves in on 15 January and stays; the other
    # from 1 February until 10 March.
    stays = await executing(session, provider_envelope, caseworker, staying, unit, date(2028, 1, 15))
    moves = await executing(
        session, provider_envelope, caseworker, moving, unit, date(2028, 2, 1), date(2028, 3, 10)
    )
    person = await session.get(Person, staying.person_id)
    assert person is not None
    client = Client(session, provider_envelope, person, stays.id)
    client.provider_id, client.unit = stays.provider_id, stays.unit
    # Away from 20 February to 5 March: whole days 21 February (the 29th too) .. 4 March.
    await client.deliver(client.registered(uuid.uuid4(), date(2028, 2, 20), date(2028, 3, 5)))

    def mine(basis: Any) -> dict[uuid.UUID, Any]:
        return {r.order_id: r for r in basis.rows if r.order_id in (stays.id, moves.id)}

    january = mine(await service.fee_basis(session, fee_administrator, "2028-01", after=None, limit=10_000))
    assert list(january) == [stays.id]
    assert (january[stays.id].execution_days, january[stays.id].absence_days) == (17, 0)  # 15th..31st
    assert january[stays.id].first_invoice_month == "2028-02"

    february = mine(await service.fee_basis(session, fee_administrator, "2028-02", after=None, limit=10_000))
    assert (february[stays.id].execution_days, february[stays.id].absence_days) == (29, 9)  # 21st..29th
    assert (february[moves.id].execution_days, february[moves.id].absence_days) == (29, 0)
    assert february[moves.id].first_invoice_month == "2028-03"
    assert february[stays.id].kundnummer == person.kundnummer
    assert not february[stays.id].open_absence and not february[stays.id].manual_handling

    march = mine(await service.fee_basis(session, fee_administrator, "2028-03", after=None, limit=10_000))
    assert (march[stays.id].execution_days, march[stays.id].absence_days) == (31, 4)  # 1st..4th
    assert (march[moves.id].execution_days, march[moves.id].end_date) == (10, date(2028, 3, 10))

    april = mine(await service.fee_basis(session, fee_administrator, "2028-04", after=None, limit=10_000))
    assert list(april) == [stays.id]  # the one who moved is out of the basis

    content, filename = await service.fee_basis_csv(session, fee_administrator, "2028-02")
    assert filename == "avgiftsunderlag-2028-02.csv"
    table = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    [row] = [r for r in table if r["beställning"] == str(stays.id)]
    assert (row["månad"], row["kundnummer"], row["verkställighetsdatum"]) == (
        "2028-02",
        person.kundnummer,
        "2028-01-15",
    )
    assert (row["verkställighetsdagar"], row["frånvarodagar utan kost"], row["första fakturamånad"]) == (
        "29",
        "9",
        "2028-02",
    )
    assert (row["pågående frånvaro"], row["manuell hantering"], row["insats"]) == (
        "nej",
        "nej",
        "Särskilt boende",
    )

    seen = [(r[0], r[2], r[3], r[4]) for r in await audit_of(person.pnr) if r[3] == "fee_basis"]
    assert (fee_administrator.sub, "list", "fee_basis", str(stays.id)) in seen
    assert (fee_administrator.sub, "export", "fee_basis", str(stays.id)) in seen


async def test_a_month_that_is_not_yyyy_mm_is_refused(session: AsyncSession, fee_administrator: User) -> None:
    for bad in ("2028-13", "2028-2", "feb"):
        with pytest.raises(InvalidInput):
            await service.fee_basis(session, fee_administrator, bad, after=None, limit=10)
