from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.deliveries.models import EServiceDelivery


async def get(session: AsyncSession, delivery_id: uuid.UUID) -> EServiceDelivery | None:
    return await session.get(EServiceDelivery, delivery_id)


async def add(session: AsyncSession, delivery: EServiceDelivery) -> None:
    session.add(delivery)
    await session.flush()
