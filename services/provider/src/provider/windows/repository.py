"""Every SQL statement on service_windows."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from provider.windows.models import ServiceWindow

LIST_LIMIT = 100


async def add(session: AsyncSession, window: ServiceWindow) -> None:
    session.add(window)
    await session.flush()


async def not_ended(session: AsyncSession, now: datetime) -> list[ServiceWindow]:
    """Current and coming windows, the soonest first."""
    query = (
        select(ServiceWindow)
        .where(ServiceWindow.ends_at > now)
        .order_by(ServiceWindow.starts_at, ServiceWindow.id)
        .limit(LIST_LIMIT)
    )
    return list(await session.scalars(query))


async def remove(session: AsyncSession, window_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(ServiceWindow).where(ServiceWindow.id == window_id).returning(ServiceWindow.id)
    )
    return result.first() is not None
