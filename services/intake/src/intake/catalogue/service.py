"""The service catalogue: what a citizen can apply for. Other modules read it
through here, never through its repository."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from intake.catalogue import repository
from intake.models import CatalogueService


async def list_all(session: AsyncSession) -> list[CatalogueService]:
    """Every catalogue service, in the order the portal shows them."""
    return await repository.list_all(session)


async def by_codes(session: AsyncSession, codes: Collection[str]) -> dict[str, CatalogueService]:
    """The catalogue services with these codes, by code; unknown codes are left out."""
    return await repository.by_codes(session, codes)
