"""Two registrations of overlapping absences of one client at the same time,
against provider's real PostgreSQL with a deterministic interleaving: while the
first transaction holds the client's lock, the second (under the client's other
order) is seen waiting for it
(pg_locks) before it checks for overlaps, so two overlapping absences can never
both pass the check. Real transactions of an engine of their own; the races
themselves are rolled back, so nothing reaches casework."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from provider.absences import service
from provider.absences.schemas import AbsenceForm
from provider.orders.models import Order
from shared.db import make_engine, make_sessionmaker

_WAITING = text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
TODAY = date.today()


@pytest.fixture(scope="module")
async def engine(provider_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(provider_database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


def away(from_date: date, to_date: date | None = None) -> AbsenceForm:
    return AbsenceForm(
        reason="Korttidsvistelse", planned=True, description="Växelvård", from_date=from_date, to_date=to_date
    )


async def test_overlapping_absences_registered_at_once_wait_for_each_other(
    sessions: async_sessionmaker[AsyncSession], world: Any, desk: Any
) -> None:
    # The setup commits: a provider, a user and two orders executing since last month
    # (set on the row: a confirmation would tell casework about this test's order).
    async with sessions() as setup, setup.begin():
        builder = type(world)(setup)  # the fixtures' helpers, on the committed session
        acme = await builder.provider()
        staff = await builder.staff(acme)
        placing = type(desk)(setup, desk.new_personnummer)
        client = {"pnr": desk.new_personnummer(), "person_id": uuid.uuid4()}
        # Two orders of one client (home care and day activity): two order rows to lock.
        events = [await placing.place(acme.id, acme.units[0], **client) for _ in range(2)]
        for event in events:
            order = await setup.get(Order, event.order_id)
            assert order is not None
            order.execution_date, order.confirmed_by = TODAY - timedelta(days=30), staff.sub
            order.confirmed_at = datetime.now(UTC)
    home, day_care = (e.order_id for e in events)

    async with sessions() as first, sessions() as second:
        await first.begin()
        await second.begin()
        second_pid = await second.scalar(text("SELECT pg_backend_pid()"))
        await service.register(first, staff, home, away(TODAY, TODAY + timedelta(days=5)))
        racing = asyncio.create_task(
            service.register(second, staff, day_care, away(TODAY + timedelta(days=3)))
        )
        waited = False
        for _ in range(200):
            if await _waiting(sessions, second_pid):
                waited = True
                break
            await asyncio.sleep(0.02)
        assert waited, "the second registration did not wait for the first"
        assert not racing.done()
        # The first gives up: the second goes on and finds no overlap.
        await first.rollback()
        registered = await asyncio.wait_for(racing, 10)
        assert registered.from_date == TODAY + timedelta(days=3)
        await second.rollback()


async def _waiting(sessions: async_sessionmaker[AsyncSession], pid: int) -> bool:
    async with sessions() as probe:
        return bool(await probe.scalar(_WAITING, {"pid": pid}))
