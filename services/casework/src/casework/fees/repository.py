"""Every SQL statement on the absences fees know of and the fee work list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from casework.fees.models import FeeAbsence, FeeWorkItem
from shared import db, projection


async def apply_absence(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record the absence, or its newer facts (a higher version); True if the row changed."""
    return await projection.upsert(
        session, FeeAbsence, row, key=["id"], when=projection.newer_version(FeeAbsence)
    )


def add(session: AsyncSession, item: FeeWorkItem) -> None:
    session.add(item)


async def item_locked(session: AsyncSession, item_id: uuid.UUID) -> FeeWorkItem | None:
    return await db.get_locked(session, FeeWorkItem, item_id)


async def item(session: AsyncSession, item_id: uuid.UUID) -> FeeWorkItem | None:
    return await session.get(FeeWorkItem, item_id)


async def absence(session: AsyncSession, absence_id: uuid.UUID) -> FeeAbsence | None:
    return await session.get(FeeAbsence, absence_id)


async def work_items(
    session: AsyncSession, *, done: bool, kundnummer: str | None, after: FeeWorkItem | None, limit: int
) -> list[tuple[FeeWorkItem, FeeAbsence]]:
    """Items done or not, by kundnummer then when they came, after the item `after`."""
    state = FeeWorkItem.done_at.is_not(None) if done else FeeWorkItem.done_at.is_(None)
    query = (
        select(FeeWorkItem, FeeAbsence)
        .join(FeeAbsence, FeeAbsence.id == FeeWorkItem.absence_id)
        .where(state)
        .order_by(FeeWorkItem.kundnummer, FeeWorkItem.signalled_at, FeeWorkItem.id)
        .limit(limit)
    )
    if kundnummer is not None:
        query = query.where(FeeWorkItem.kundnummer == kundnummer)
    if after is not None:
        query = query.where(
            tuple_(FeeWorkItem.kundnummer, FeeWorkItem.signalled_at, FeeWorkItem.id)
            > tuple_(after.kundnummer, after.signalled_at, after.id)
        )
    return [(item, absence) for item, absence in (await session.execute(query)).all()]


async def absences_of_orders(session: AsyncSession, order_ids: list[uuid.UUID]) -> list[FeeAbsence]:
    if not order_ids:
        return []
    query = select(FeeAbsence).where(FeeAbsence.order_id.in_(order_ids)).order_by(FeeAbsence.from_date)
    return list(await session.scalars(query))
