"""Queries of the related-person approvals projection."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import Representation

_FIELDS = ("person_id", "citizen_pnr", "citizen_name", "related_pnr", "related_name", "valid_from",
           "valid_to", "revoked_at", "changed_at")


async def for_related_person(session: AsyncSession, related_pnr: str) -> list[Representation]:
    query = (select(Representation).where(Representation.related_pnr == related_pnr)
             .order_by(Representation.citizen_name, Representation.approval_id))
    return list(await session.scalars(query))


async def get(session: AsyncSession, approval_id: uuid.UUID) -> Representation | None:
    return await session.get(Representation, approval_id)


async def upsert(session: AsyncSession, values: dict[str, object]) -> None:
    """Apply an approval event unless a later one was applied already."""
    stmt = insert(Representation).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["approval_id"], set_={k: stmt.excluded[k] for k in _FIELDS if k in values},
        where=Representation.changed_at <= stmt.excluded.changed_at)
    await session.execute(stmt)
