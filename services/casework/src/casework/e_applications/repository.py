"""Queries of the shared e-application inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import IncomingApplication
from shared import db


async def add_if_new(session: AsyncSession, values: dict[str, object]) -> bool:
    """Insert unless an application with this id is already there."""
    stmt = insert(IncomingApplication).values(**values).on_conflict_do_nothing(index_elements=["id"])
    result = await session.execute(stmt.returning(IncomingApplication.id))
    return result.scalar_one_or_none() is not None


async def get(session: AsyncSession, application_id: uuid.UUID) -> IncomingApplication | None:
    return await session.get(IncomingApplication, application_id)


async def get_locked(session: AsyncSession, application_id: uuid.UUID) -> IncomingApplication | None:
    return await db.get_locked(session, IncomingApplication, application_id)


async def page(
    session: AsyncSession,
    *,
    status: str | None,
    entry: str | None,
    category: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[IncomingApplication]:
    """Newest first; keyset on (submitted_at, id) so pages stay stable while new ones arrive."""
    query: Select[IncomingApplication] = select(IncomingApplication)
    if status:
        query = query.where(IncomingApplication.status == status)
    if entry:
        query = query.where(IncomingApplication.entry == entry)
    if category:
        query = query.where(IncomingApplication.categories.contains([category]))
    if after:
        query = query.where(tuple_(IncomingApplication.submitted_at, IncomingApplication.id) < tuple_(*after))
    query = query.order_by(IncomingApplication.submitted_at.desc(), IncomingApplication.id.desc()).limit(
        limit
    )
    return list(await session.scalars(query))
