"""Every SQL statement on provider_users."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import ProviderUser
from shared.db import locked

LIST_LIMIT = 1000


async def by_sub(session: AsyncSession, sub: str) -> ProviderUser | None:
    return await session.scalar(select(ProviderUser).where(ProviderUser.sub == sub))


async def by_sub_locked(session: AsyncSession, sub: str) -> ProviderUser | None:
    return await session.scalar(locked(select(ProviderUser).where(ProviderUser.sub == sub)))


async def of_provider(
    session: AsyncSession, provider_id: uuid.UUID, active_only: bool = False
) -> list[ProviderUser]:
    query = select(ProviderUser).where(ProviderUser.provider_id == provider_id)
    if active_only:
        query = query.where(ProviderUser.active)
    return list(await session.scalars(query.order_by(ProviderUser.name, ProviderUser.sub).limit(LIST_LIMIT)))


async def active_managers(session: AsyncSession, provider_ids: list[uuid.UUID]) -> list[ProviderUser]:
    query = (
        select(ProviderUser)
        .where(ProviderUser.provider_id.in_(provider_ids), ProviderUser.active, ProviderUser.manager)
        .order_by(ProviderUser.name, ProviderUser.sub)
    )
    return list(await session.scalars(query))


async def insert(session: AsyncSession, row: ProviderUser) -> bool:
    """Insert `row`; False when its sub is taken (by a concurrent request too)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def flush(session: AsyncSession) -> None:
    await session.flush()
