"""Providers and units as the municipality's admin registers them: the events
casework learns them from, unique organisation numbers and unit codes, and each
provider's users seeing only their own provider."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import Provider, ProviderUnit, ProviderUser
from provider.providers import service
from provider.providers.schemas import ProviderForm, UnitForm
from provider.users import service as users
from shared.problems import Conflict, NotAllowed, NotFound

World = Any  # services/provider/tests/conftest.py's World (not importable here)
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]
Refusals = Callable[[str], Awaitable[list[dict[str, Any]]]]

REGISTERED = "se.omsorg.provider.provider.registered.v1"
UNIT_ADDED = "se.omsorg.provider.unit.added.v1"


def form(
    world: World, organisation_number: str | None = None, manager_sub: str | None = None
) -> ProviderForm:
    return ProviderForm.model_validate(
        {
            "name": "Hemtjänst i Norr AB",
            "organisation_number": organisation_number or world.organisation_number(),
            "kind": "lov",
            "manager": {"sub": manager_sub or world.unique("mgr"), "name": "Maja Chef"},
        }
    )


async def test_a_registered_provider_is_announced_and_its_first_manager_can_log_in(
    session: AsyncSession, world: World, outbox: Outbox
) -> None:
    sub = world.unique("mgr")
    registered = await service.register_provider(session, world.admin, form(world, manager_sub=sub))

    [event] = await outbox(REGISTERED, str(registered.id))
    assert event["name"] == "Hemtjänst i Norr AB" and event["kind"] == "lov"
    assert event["organisation_number"] == registered.organisation_number
    manager = await session.scalar(select(ProviderUser).where(ProviderUser.sub == sub))
    assert manager is not None and manager.manager and manager.active
    assert manager.provider_id == registered.id


async def test_an_added_unit_is_announced_with_the_code_tokens_carry(
    session: AsyncSession, world: World, outbox: Outbox
) -> None:
    acme = await world.provider(units=())
    code = world.unique("hemtjanst-norr")

    unit = await service.add_unit(session, world.admin, acme.id, UnitForm(code=code, name="Hemtjänst Norr"))

    assert unit.code == code
    [event] = await outbox(UNIT_ADDED, str(acme.id))
    assert (event["unit"], event["name"]) == (code, "Hemtjänst Norr")
    shown = await service.get_provider(session, world.admin, acme.id)
    assert [u.code for u in shown.units] == [code]


async def test_an_organisation_number_registers_one_provider_only(
    session: AsyncSession, world: World
) -> None:
    number = world.organisation_number()
    await service.register_provider(session, world.admin, form(world, number))

    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.register_provider(session, world.admin, form(world, number))
    count = await session.scalar(
        select(func.count()).select_from(Provider).where(Provider.organisation_number == number)
    )
    assert count == 1


async def test_a_unit_code_names_one_providers_unit_only(session: AsyncSession, world: World) -> None:
    code = world.unique("enhet")
    await world.provider(units=(code,))
    other = await world.provider(units=())

    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.add_unit(session, world.admin, other.id, UnitForm(code=code, name="Kopia"))
    units = await session.scalars(select(ProviderUnit).where(ProviderUnit.provider_id == other.id))
    assert list(units) == []


async def test_a_unit_of_an_unknown_provider_is_not_found(session: AsyncSession, world: World) -> None:
    with pytest.raises(NotFound):
        await service.add_unit(session, world.admin, uuid.uuid4(), UnitForm(code=world.unique("x"), name="X"))


async def test_a_manager_who_is_already_another_providers_user_is_refused_with_nothing_written(
    session: AsyncSession, world: World
) -> None:
    acme = await world.provider()
    number = world.organisation_number()

    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.register_provider(
                session, world.admin, form(world, number, manager_sub=acme.manager.sub)
            )
    assert await session.scalar(select(Provider).where(Provider.organisation_number == number)) is None


async def test_provider_users_see_their_own_provider_and_not_another(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme, other = await world.provider(), await world.provider()
    staff = await world.staff(acme)

    shown = await service.get_provider(session, staff, acme.id)
    assert [u.code for u in shown.units] == list(acme.units)
    with pytest.raises(NotAllowed):
        await service.get_provider(session, staff, other.id)
    assert [(r["object_type"], r["object_id"]) for r in await refusals(staff.sub)] == [
        ("provider", str(other.id))
    ]


async def test_the_unit_lookup_finds_any_providers_unit(session: AsyncSession, world: World) -> None:
    acme = await world.provider()

    found = await service.unit_by_code(session, acme.units[0])

    assert found is not None and found.provider_id == acme.id
    assert await service.unit_by_code(session, world.unique("nowhere")) is None
    assert (await users.active_provider_user(session, acme.manager)).manager
