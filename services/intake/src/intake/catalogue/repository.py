"""Queries of the service catalogue."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CatalogueService


async def list_all(session: AsyncSession) -> list[CatalogueService]:
    return list(await session.scalars(select(CatalogueService).order_by(CatalogueService.sort_order)))


async def by_codes(session: AsyncSession, codes: Collection[str]) -> dict[str, CatalogueService]:
    rows = await session.scalars(select(CatalogueService).where(CatalogueService.code.in_(codes)))
    return {row.code: row for row in rows}
