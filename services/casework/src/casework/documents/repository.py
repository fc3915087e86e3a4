from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from casework.models import Document, IntakeRecord
from shared.db import locked


def add(session: AsyncSession, document: Document) -> None:
    session.add(document)


async def get(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """The document without its file (load it with `content`)."""
    return await session.scalar(
        select(Document).where(Document.id == document_id).options(defer(Document.content))
    )


async def get_locked(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """The document, locked and read afresh, without its file."""
    return await session.scalar(
        locked(select(Document).where(Document.id == document_id).options(defer(Document.content)))
    )


async def content(session: AsyncSession, document_id: uuid.UUID) -> bytes | None:
    return await session.scalar(select(Document.content).where(Document.id == document_id))


async def with_file(session: AsyncSession, document_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these documents have a file (a written one has none until write-protected)."""
    if not document_ids:
        return set()
    query = select(Document.id).where(Document.id.in_(document_ids), Document.content.is_not(None))
    return set(await session.scalars(query))


async def of_person(
    session: AsyncSession, person_id: uuid.UUID, units: list[str], limit: int
) -> list[Document]:
    """The person's documents of the person only or under a record held by one of
    `units`, newest first, without their files."""
    query = (
        select(Document)
        .outerjoin(IntakeRecord, IntakeRecord.id == Document.record_id)
        .where(
            Document.person_id == person_id, or_(Document.record_id.is_(None), IntakeRecord.unit.in_(units))
        )
        .options(defer(Document.content))
        .order_by(Document.document_date.desc(), Document.created_at.desc(), Document.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def newest_record_in(
    session: AsyncSession, person_id: uuid.UUID, units: list[str]
) -> IntakeRecord | None:
    """The person's newest intake record held by one of `units`."""
    query = (
        select(IntakeRecord)
        .where(IntakeRecord.person_id == person_id, IntakeRecord.unit.in_(units))
        .order_by(IntakeRecord.created_at.desc(), IntakeRecord.id)
        .limit(1)
    )
    return await session.scalar(query)


async def mark_delivered(
    session: AsyncSession, delivery_id: uuid.UUID, document_id: uuid.UUID, message_id: uuid.UUID, at: datetime
) -> uuid.UUID | None:
    """Set the delivery done, once: the document's person, or None when it was done
    already (or no document waits for that delivery)."""
    statement = (
        update(Document)
        .where(
            Document.id == document_id, Document.delivery_id == delivery_id, Document.delivered_at.is_(None)
        )
        .values(delivered_at=at, message_id=message_id)
        .returning(Document.person_id)
        .execution_options(synchronize_session=False)
    )
    person_id: uuid.UUID | None = await session.scalar(statement)
    return person_id


async def mark_refused(
    session: AsyncSession, delivery_id: uuid.UUID, document_id: uuid.UUID, reason: str, at: datetime
) -> uuid.UUID | None:
    """Set the delivery refused, once: the document's person, or None when it was
    answered already (or no document waits for that delivery)."""
    statement = (
        update(Document)
        .where(
            Document.id == document_id,
            Document.delivery_id == delivery_id,
            Document.delivered_at.is_(None),
            Document.delivery_refused_at.is_(None),
        )
        .values(delivery_refused_at=at, delivery_refused_reason=reason)
        .returning(Document.person_id)
        .execution_options(synchronize_session=False)
    )
    person_id: uuid.UUID | None = await session.scalar(statement)
    return person_id
