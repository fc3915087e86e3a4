"""Every SQL statement on providers and provider_units."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import Provider, ProviderUnit
from shared.db import get_locked as shared_get_locked

LIST_LIMIT = 500


async def get(session: AsyncSession, provider_id: uuid.UUID) -> Provider | None:
    return await session.get(Provider, provider_id)


async def get_locked(session: AsyncSession, provider_id: uuid.UUID) -> Provider | None:
    return await shared_get_locked(session, Provider, provider_id)


async def by_organisation_number(session: AsyncSession, organisation_number: str) -> Provider | None:
    return await session.scalar(select(Provider).where(Provider.organisation_number == organisation_number))


async def all_providers(session: AsyncSession) -> list[Provider]:
    return list(
        await session.scalars(select(Provider).order_by(Provider.name, Provider.id).limit(LIST_LIMIT))
    )


async def insert(session: AsyncSession, row: Provider | ProviderUnit) -> bool:
    """Insert `row`; False when a unique key (organisation number, unit code) is
    taken, by a concurrent request too, with the rest of the transaction kept."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def units_of(session: AsyncSession, provider_ids: list[uuid.UUID]) -> list[ProviderUnit]:
    query = select(ProviderUnit).where(ProviderUnit.provider_id.in_(provider_ids)).order_by(ProviderUnit.code)
    return list(await session.scalars(query))


async def unit_by_code(session: AsyncSession, code: str) -> ProviderUnit | None:
    """The unit a token's or an order's unit code names, of whichever provider."""
    return await session.scalar(select(ProviderUnit).where(ProviderUnit.code == code))
