"""Every SQL statement on journal_entries."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import JournalEntry
from shared import db


async def add(session: AsyncSession, entry: JournalEntry) -> None:
    session.add(entry)
    await session.flush()


async def for_message(
    session: AsyncSession, record_id: uuid.UUID, message_id: uuid.UUID
) -> JournalEntry | None:
    query = select(JournalEntry).where(
        JournalEntry.record_id == record_id, JournalEntry.message_id == message_id
    )
    return await session.scalar(query)


async def of_record(session: AsyncSession, record_id: uuid.UUID) -> list[JournalEntry]:
    query = (
        select(JournalEntry)
        .where(JournalEntry.record_id == record_id)
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.created_at.desc(), JournalEntry.id)
    )
    return list(await session.scalars(query))


async def get_locked(session: AsyncSession, entry_id: uuid.UUID) -> JournalEntry | None:
    """The entry, its row locked and read afresh."""
    return await db.get_locked(session, JournalEntry, entry_id)


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> list[JournalEntry]:
    query = (
        select(JournalEntry)
        .where(JournalEntry.case_id == case_id)
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.created_at.desc(), JournalEntry.id)
    )
    return list(await session.scalars(query))
