"""Providers (utförare) and their units (PR-1).

- The municipality's admin registers a provider (the municipality's own units or
  a private LOV company) with its first manager, and adds its units; each is
  told to the rest of the system through the outbox (`ProviderRegistered`,
  `ProviderUnitAdded` on provider.providers.v1, keyed by the provider id), so
  casework can order from a unit it knows.
- A unit's code is what provider tokens carry in `units` and orders name: unique
  across providers, so a code never names two providers' units.
- A provider's own users may read their provider (its units); another
  provider's users are refused (403, audited).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from provider.config import SOURCE
from provider.models import Provider, ProviderUnit
from provider.providers import repository
from provider.providers.schemas import ProviderForm, ProviderOut, UnitForm, UnitOut
from provider.users import service as users
from shared.auth import Role, User
from shared.contracts.provider import ProviderRegistered, ProviderUnitAdded
from shared.outbox import add_event
from shared.problems import Conflict, NotFound


async def provider_or_404(session: AsyncSession, provider_id: uuid.UUID) -> Provider:
    """The provider; 404 if there is none."""
    provider = await repository.get(session, provider_id)
    if provider is None:
        raise NotFound("There is no such provider.")
    return provider


async def lock(session: AsyncSession, provider_id: uuid.UUID) -> Provider:
    """The provider, locked: changes to one provider's users and units (the last
    active manager, an access review's list) are made one at a time; 404 if none."""
    provider = await repository.get_locked(session, provider_id)
    if provider is None:
        raise NotFound("There is no such provider.")
    return provider


async def unit_by_code(session: AsyncSession, code: str) -> ProviderUnit | None:
    """The unit a token's or an order's unit code names, of whichever provider."""
    return await repository.unit_by_code(session, code)


def _unit_out(unit: ProviderUnit) -> UnitOut:
    return UnitOut(id=unit.id, code=unit.code, name=unit.name, created_at=unit.created_at)


def _out(provider: Provider, units: list[ProviderUnit]) -> ProviderOut:
    return ProviderOut(
        id=provider.id,
        name=provider.name,
        organisation_number=provider.organisation_number,
        kind=provider.kind,
        created_at=provider.created_at,
        units=[_unit_out(u) for u in units if u.provider_id == provider.id],
    )


async def register_provider(session: AsyncSession, admin: User, form: ProviderForm) -> ProviderOut:
    """Register a provider and its first manager (admin) → ProviderRegistered."""
    if await repository.by_organisation_number(session, form.organisation_number) is not None:
        raise Conflict("A provider with this organisation number is already registered.")
    provider = Provider(
        id=uuid.uuid4(),
        name=form.name,
        organisation_number=form.organisation_number,
        kind=form.kind,
        created_by=admin.sub,
        created_at=datetime.now(UTC),
    )
    if not await repository.insert(session, provider):
        raise Conflict("A provider with this organisation number was just registered.")
    await users.add_first_manager(session, admin, provider.id, form.manager.sub, form.manager.name)
    await add_event(
        session,
        ProviderRegistered(
            provider_id=provider.id,
            name=provider.name,
            organisation_number=provider.organisation_number,
            kind=provider.kind,
            registered_at=provider.created_at,
        ),
        SOURCE,
    )
    return _out(provider, [])


async def add_unit(session: AsyncSession, admin: User, provider_id: uuid.UUID, form: UnitForm) -> UnitOut:
    """Add a unit that can take orders to a provider (admin) → ProviderUnitAdded."""
    await lock(session, provider_id)
    if await repository.unit_by_code(session, form.code) is not None:
        raise Conflict("This unit code is taken.")
    unit = ProviderUnit(
        id=uuid.uuid4(), provider_id=provider_id, code=form.code, name=form.name, created_at=datetime.now(UTC)
    )
    if not await repository.insert(session, unit):
        raise Conflict("This unit code was just taken.")
    await add_event(
        session,
        ProviderUnitAdded(provider_id=provider_id, unit=unit.code, name=unit.name, added_at=unit.created_at),
        SOURCE,
    )
    return _unit_out(unit)


async def list_providers(session: AsyncSession, admin: User) -> list[ProviderOut]:
    """Every provider with its units (admin)."""
    providers = await repository.all_providers(session)
    units = await repository.units_of(session, [p.id for p in providers])
    return [_out(p, units) for p in providers]


async def get_provider(session: AsyncSession, user: User, provider_id: uuid.UUID) -> ProviderOut:
    """One provider with its units: the admin, or that provider's own active users."""
    if not user.has(Role.ADMIN):
        member = await users.active_provider_user(session, user)
        if member.provider_id != provider_id:
            raise await users.refused(session, user, "This is another provider.", "provider", provider_id)
    provider = await provider_or_404(session, provider_id)
    return _out(provider, await repository.units_of(session, [provider.id]))
