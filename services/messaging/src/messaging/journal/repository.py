"""Every SQL statement on journal_requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.journal.models import JournalRequest
from shared.db import locked


async def add(session: AsyncSession, request: JournalRequest) -> None:
    session.add(request)
    await session.flush()


async def get(session: AsyncSession, request_id: uuid.UUID) -> JournalRequest | None:
    return await session.get(JournalRequest, request_id)


async def of_message(session: AsyncSession, message_id: uuid.UUID) -> list[JournalRequest]:
    query = (
        select(JournalRequest)
        .where(JournalRequest.message_id == message_id)
        .order_by(JournalRequest.requested_at, JournalRequest.id)
    )
    return list(await session.scalars(query))


async def journaled_into(
    session: AsyncSession, message_id: uuid.UUID, record_id: uuid.UUID
) -> JournalRequest | None:
    query = select(JournalRequest).where(
        JournalRequest.message_id == message_id,
        JournalRequest.record_id == record_id,
        JournalRequest.journaled_at.is_not(None),
    )
    return await session.scalar(query.limit(1))


async def mark_journaled(
    session: AsyncSession, message_id: uuid.UUID, record_id: uuid.UUID, entry_id: uuid.UUID, at: datetime
) -> list[JournalRequest]:
    """Every request of the message into the record not yet marked: journaled now.
    The requests it changed (none for a replayed answer)."""
    rows = await session.scalars(
        update(JournalRequest)
        .where(
            JournalRequest.message_id == message_id,
            JournalRequest.record_id == record_id,
            JournalRequest.journaled_at.is_(None),
        )
        .values(journaled_at=at, journal_entry_id=entry_id)
        .returning(JournalRequest)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def due(session: AsyncSession, cutoff: datetime, limit: int) -> list[uuid.UUID]:
    """Messages whose every journal request is journaled, the last before `cutoff`,
    not yet purged; the oldest first. A message with a request still waiting for
    casework is not due."""
    query = (
        select(JournalRequest.message_id)
        .where(JournalRequest.purged_at.is_(None))
        .group_by(JournalRequest.message_id)
        .having(func.bool_and(JournalRequest.journaled_at.is_not(None)))
        .having(func.max(JournalRequest.journaled_at) < cutoff)
        .order_by(func.max(JournalRequest.journaled_at), JournalRequest.message_id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def locked_of_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> list[JournalRequest]:
    """The messages' requests not purged, locked (in id order: two runs never deadlock)."""
    query = (
        select(JournalRequest)
        .where(JournalRequest.message_id.in_(message_ids), JournalRequest.purged_at.is_(None))
        .order_by(JournalRequest.id)
    )
    return list(await session.scalars(locked(query)))


async def of_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> list[JournalRequest]:
    query = select(JournalRequest).where(
        JournalRequest.message_id.in_(message_ids), JournalRequest.purged_at.is_(None)
    )
    return list(await session.scalars(query))


async def mark_purged(session: AsyncSession, message_ids: Sequence[uuid.UUID], at: datetime) -> None:
    await session.execute(
        update(JournalRequest)
        .where(JournalRequest.message_id.in_(message_ids), JournalRequest.purged_at.is_(None))
        .values(purged_at=at)
        .execution_options(synchronize_session=False)
    )
