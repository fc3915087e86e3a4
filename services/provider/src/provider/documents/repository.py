"""Queries of the provider_documents table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from provider.documents.models import ProviderDocument
from shared import db


async def add(session: AsyncSession, document: ProviderDocument) -> None:
    session.add(document)
    await session.flush()


async def get(session: AsyncSession, document_id: uuid.UUID) -> ProviderDocument | None:
    return await session.get(ProviderDocument, document_id)


async def get_locked(session: AsyncSession, document_id: uuid.UUID) -> ProviderDocument | None:
    return await db.get_locked(session, ProviderDocument, document_id)


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def of_order(session: AsyncSession, order_id: uuid.UUID, limit: int) -> list[ProviderDocument]:
    query = select(ProviderDocument).where(ProviderDocument.order_id == order_id)
    query = query.order_by(ProviderDocument.document_date.desc(), ProviderDocument.created_at.desc())
    return list(await session.scalars(query.limit(limit)))


async def pdf_of(session: AsyncSession, document_id: uuid.UUID) -> bytes | None:
    return await session.scalar(select(ProviderDocument.pdf).where(ProviderDocument.id == document_id))


async def mark_delivered(
    session: AsyncSession, delivery_id: uuid.UUID, document_id: uuid.UUID, message_id: uuid.UUID, at: datetime
) -> ProviderDocument | None:
    """Mark the document of this delivery delivered, once: the document, or None
    when no document waits for this delivery (unknown, or delivered already)."""
    result = await session.scalars(
        update(ProviderDocument)
        .where(
            ProviderDocument.delivery_id == delivery_id,
            ProviderDocument.id == document_id,
            ProviderDocument.delivered_at.is_(None),
        )
        .values(delivered_at=at, delivered_message_id=message_id)
        .returning(ProviderDocument)
    )
    return result.first()


async def mark_refused(
    session: AsyncSession, delivery_id: uuid.UUID, document_id: uuid.UUID, reason: str, at: datetime
) -> ProviderDocument | None:
    """Mark the document of this delivery refused, once: the document, or None when
    no document waits for this delivery (unknown, or answered already)."""
    result = await session.scalars(
        update(ProviderDocument)
        .where(
            ProviderDocument.delivery_id == delivery_id,
            ProviderDocument.id == document_id,
            ProviderDocument.delivered_at.is_(None),
            ProviderDocument.delivery_refused_at.is_(None),
        )
        .values(delivery_refused_at=at, delivery_refused_reason=reason)
        .returning(ProviderDocument)
    )
    return result.first()
