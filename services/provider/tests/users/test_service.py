"""A provider's users as its manager administers them, and the check every
provider request makes: only an active user of the provider the token names
gets in; everyone else is refused, and the refusal is in the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import ProviderUser
from provider.users import service
from provider.users.schemas import UserForm
from shared.problems import Conflict, NotAllowed, NotFound

World = Any  # services/provider/tests/conftest.py's World (not importable here)
Refusals = Callable[[str], Awaitable[list[dict[str, Any]]]]


async def test_an_active_user_of_the_tokens_provider_gets_in(session: AsyncSession, world: World) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)

    member = await service.active_provider_user(session, staff)

    assert (member.sub, member.provider_id, member.manager) == (staff.sub, acme.id, False)


async def test_a_deactivated_user_is_refused_audited_and_let_in_again_when_reactivated(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)

    deactivated = await service.deactivate(session, acme.manager, staff.sub)
    assert not deactivated.active and deactivated.deactivated_at is not None
    with pytest.raises(NotAllowed, match="deactivated"):
        await service.active_provider_user(session, staff)
    [refusal] = await refusals(staff.sub)
    assert (refusal["action"], refusal["object_type"], refusal["object_id"]) == (
        "access",
        "provider_user",
        staff.sub,
    )
    assert refusal["actor_role"] == "provider"

    reactivated = await service.reactivate(session, acme.manager, staff.sub)
    assert reactivated.active and reactivated.deactivated_at is None
    assert (await service.active_provider_user(session, staff)).active


async def test_a_token_the_provider_does_not_know_is_refused(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme = await world.provider()
    stranger = world.user(acme.id, acme.units)  # valid token, never added by the manager

    with pytest.raises(NotAllowed):
        await service.active_provider_user(session, stranger)
    assert len(await refusals(stranger.sub)) == 1


async def test_a_users_token_naming_another_provider_is_refused(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme, other = await world.provider(), await world.provider()
    staff = await world.staff(acme)
    forged = world.user(other.id, other.units, sub=staff.sub)

    with pytest.raises(NotAllowed):
        await service.active_provider_user(session, forged)
    with pytest.raises(NotAllowed):
        await service.active_provider_user(session, world.user("omsorg-ab", acme.units, sub=staff.sub))
    assert len(await refusals(staff.sub)) == 2


async def test_a_caseworker_token_is_no_provider_user(session: AsyncSession, world: World) -> None:
    with pytest.raises(NotAllowed):
        await service.active_provider_user(session, world.new_admin())


async def test_the_manager_adds_lists_and_deactivates_the_providers_users(
    session: AsyncSession, world: World
) -> None:
    acme = await world.provider()
    sub = world.unique("pu")

    added = await service.add_user(session, acme.manager, acme.id, UserForm(sub=sub, name="Olle Omsorg"))
    assert (added.sub, added.active, added.manager) == (sub, True, False)
    await service.deactivate(session, acme.manager, sub)

    listed = {u.sub: u.active for u in await service.list_users(session, acme.manager, acme.id)}
    assert listed == {acme.manager.sub: True, sub: False}
    rows = await session.execute(
        text("SELECT action FROM audit_log WHERE actor = :actor AND object_id = :sub ORDER BY id"),
        {"actor": acme.manager.sub, "sub": sub},
    )
    assert list(rows.scalars()) == ["create", "deactivate"]


async def test_a_manager_of_another_provider_is_refused_and_audited(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme, other = await world.provider(), await world.provider()
    staff = await world.staff(acme)

    with pytest.raises(NotAllowed):
        await service.deactivate(session, other.manager, staff.sub)
    with pytest.raises(NotAllowed):
        await service.list_users(session, other.manager, acme.id)
    with pytest.raises(NotAllowed):
        async with session.begin_nested():
            await service.add_user(
                session, other.manager, acme.id, UserForm(sub=world.unique("pu"), name="X")
            )
    assert [r["object_id"] for r in await refusals(other.manager.sub)] == [str(acme.id)] * 3
    assert (await service.active_provider_user(session, staff)).active


async def test_a_plain_provider_user_may_not_administer_users(session: AsyncSession, world: World) -> None:
    acme = await world.provider()
    staff, colleague = await world.staff(acme), await world.staff(acme)
    # Even with the manager role in the token: the provider has not made them a manager.
    promoted = world.user(acme.id, acme.units, sub=staff.sub, manager=True)

    for user in (staff, promoted):
        with pytest.raises(NotAllowed):
            await service.deactivate(session, user, colleague.sub)


async def test_the_last_active_manager_cannot_be_deactivated(session: AsyncSession, world: World) -> None:
    acme = await world.provider()

    with pytest.raises(Conflict, match="last active manager"):
        await service.deactivate(session, world.admin, acme.manager.sub)
    second = world.unique("mgr")
    await service.add_user(session, acme.manager, acme.id, UserForm(sub=second, name="Bo Chef", manager=True))
    out = await service.deactivate(session, acme.manager, acme.manager.sub)
    assert not out.active


async def test_a_user_belongs_to_one_provider_and_is_added_once(session: AsyncSession, world: World) -> None:
    acme, other = await world.provider(), await world.provider()
    staff = await world.staff(acme)

    for provider in (acme, other):
        with pytest.raises(Conflict):
            async with session.begin_nested():
                await service.add_user(
                    session, provider.manager, provider.id, UserForm(sub=staff.sub, name="X")
                )
    rows = await session.scalars(select(ProviderUser).where(ProviderUser.sub == staff.sub))
    assert [r.provider_id for r in rows] == [acme.id]


async def test_deactivating_twice_or_an_unknown_user_is_refused(session: AsyncSession, world: World) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    await service.deactivate(session, acme.manager, staff.sub)

    with pytest.raises(Conflict):
        await service.deactivate(session, acme.manager, staff.sub)
    with pytest.raises(NotFound):
        await service.reactivate(session, acme.manager, world.unique("nobody"))


async def test_a_user_acts_only_in_a_unit_of_their_token_and_their_provider(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    north, south = world.unique("norr"), world.unique("syd")
    acme = await world.provider(units=(north, south))
    other = await world.provider()
    staff = await world.staff(acme, units=(north,))

    assert (await service.acting_in_unit(session, staff, north)).provider_id == acme.id
    with pytest.raises(NotAllowed):
        await service.acting_in_unit(session, staff, south)  # their provider's, not in their token
    sneaky = world.user(acme.id, (north, other.units[0]), sub=staff.sub)
    with pytest.raises(NotAllowed):
        await service.acting_in_unit(session, sneaky, other.units[0])  # in the token, another provider's
    assert [r["object_id"] for r in await refusals(staff.sub)] == [south, other.units[0]]


async def test_an_object_of_another_provider_or_unit_is_refused_against_the_person(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme, other = await world.provider(), await world.provider()
    staff = await world.staff(acme)
    order_id, pnr = uuid.uuid4(), world.personnummer()

    await service.check_unit_access(session, staff, acme.id, acme.units[0], "order", order_id, pnr)
    with pytest.raises(NotAllowed):
        await service.check_unit_access(session, staff, other.id, other.units[0], "order", order_id, pnr)
    [refusal] = await refusals(staff.sub)
    assert (refusal["object_type"], refusal["object_id"], refusal["subject_pnr"]) == (
        "order",
        str(order_id),
        pnr,
    )
