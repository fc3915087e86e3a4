"""Service windows (PR-11): the municipality announces one; every active provider
user sees the current and coming ones; a deactivated user sees nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from provider.users import service as users
from provider.windows import service
from provider.windows.schemas import WindowForm
from shared.problems import InvalidInput, NotAllowed, NotFound

World = Any  # services/provider/tests/conftest.py's World (not importable here)
NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def window(starts_in: timedelta, lasts: timedelta, text: str = "Uppgradering") -> WindowForm:
    start = NOW + starts_in
    return WindowForm.model_validate({"from": start, "to": start + lasts, "text": text})


async def test_provider_users_see_the_current_and_coming_windows_soonest_first(
    session: AsyncSession, world: World
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    coming = await service.announce(
        session, world.admin, window(timedelta(days=2), timedelta(hours=2)), now=NOW
    )
    current = await service.announce(
        session, world.admin, window(-timedelta(hours=1), timedelta(hours=3)), now=NOW - timedelta(days=1)
    )
    await service.announce(
        session, world.admin, window(-timedelta(hours=5), timedelta(hours=2)), now=NOW - timedelta(days=1)
    )

    shown = [
        w
        for w in await service.current_and_coming(session, staff, now=NOW)
        if w.id in {coming.id, current.id}
    ]
    assert [(w.id, w.current) for w in shown] == [(current.id, True), (coming.id, False)]
    mine = await service.current_and_coming(session, staff, now=NOW)
    assert all(w.ends_at > NOW for w in mine)  # the ended one is not shown
    assert shown[0].model_dump(by_alias=True)["from"] == NOW - timedelta(hours=1)


async def test_a_deactivated_user_sees_no_windows(session: AsyncSession, world: World) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    await users.deactivate(session, acme.manager, staff.sub)

    with pytest.raises(NotAllowed):
        await service.current_and_coming(session, staff, now=NOW)


async def test_a_window_that_has_ended_or_ends_before_it_starts_is_refused(
    session: AsyncSession, world: World
) -> None:
    with pytest.raises(InvalidInput):
        await service.announce(session, world.admin, window(-timedelta(days=1), timedelta(hours=1)), now=NOW)
    with pytest.raises(ValidationError):
        window(timedelta(days=1), -timedelta(hours=1))
    with pytest.raises(ValidationError):  # a time without its zone is ambiguous
        WindowForm.model_validate({"from": "2026-04-01T22:00", "to": "2026-04-01T23:00", "text": "x"})
    assert [w for w in await service.current_and_coming(session, world.admin, now=NOW) if w.text == "x"] == []


async def test_a_withdrawn_window_is_no_longer_shown(session: AsyncSession, world: World) -> None:
    announced = await service.announce(
        session, world.admin, window(timedelta(days=3), timedelta(hours=1)), now=NOW
    )

    await service.withdraw(session, world.admin, announced.id)

    assert announced.id not in {w.id for w in await service.current_and_coming(session, world.admin, now=NOW)}
    with pytest.raises(NotFound):
        await service.withdraw(session, world.admin, announced.id)
