"""Queries of the service catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CatalogueService


async def list_all(session: AsyncSession) -> list[CatalogueService]:
    return list(await session.scalars(select(CatalogueService).order_by(CatalogueService.sort_order)))
