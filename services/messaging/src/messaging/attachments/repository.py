"""Every SQL statement on the attachment tables.

Chunks are written and read with Core statements one at a time: no ORM object
ever holds a file's bytes, and at most one chunk is in memory per step."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.attachments.models import Attachment, AttachmentChunk, AttachmentContent
from shared.db import locked


async def new_content(session: AsyncSession) -> uuid.UUID:
    """A content row to write a file's chunks under."""
    content_id = uuid.uuid4()
    await session.execute(insert(AttachmentContent).values(id=content_id))
    return content_id


async def add_chunk(session: AsyncSession, content_id: uuid.UUID, seq: int, data: bytes) -> None:
    await session.execute(insert(AttachmentChunk).values(content_id=content_id, seq=seq, data=data))


async def add(session: AsyncSession, attachment: Attachment) -> Attachment:
    session.add(attachment)
    await session.flush()
    return attachment


async def get(session: AsyncSession, attachment_id: uuid.UUID) -> Attachment | None:
    return await session.get(Attachment, attachment_id)


async def chunk(session: AsyncSession, content_id: uuid.UUID, seq: int) -> bytes | None:
    return await session.scalar(
        select(AttachmentChunk.data).where(
            AttachmentChunk.content_id == content_id, AttachmentChunk.seq == seq
        )
    )


async def locked_many(session: AsyncSession, attachment_ids: Sequence[uuid.UUID]) -> list[Attachment]:
    """The attachments with these ids, locked (in id order, so two claims never deadlock)."""
    query = select(Attachment).where(Attachment.id.in_(attachment_ids)).order_by(Attachment.id)
    return list(await session.scalars(locked(query)))


async def of_message(session: AsyncSession, message_id: uuid.UUID) -> list[Attachment]:
    query = (
        select(Attachment)
        .where(Attachment.message_id == message_id)
        .order_by(Attachment.position, Attachment.id)
    )
    return list(await session.scalars(query))


async def lock_message(session: AsyncSession, message_id: uuid.UUID) -> None:
    """Serialise changes to one message's attachments (the limit of 5 is counted under it)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"attachments:{message_id}"}
    )


async def count_of_message(session: AsyncSession, message_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.message_id == message_id)
    )
    return int(count or 0)


async def claim(
    session: AsyncSession,
    attachments: Sequence[Attachment],
    message_id: uuid.UUID,
    first_position: int,
    at: datetime,
) -> None:
    """Attach these (locked) attachments to the message, in this order."""
    for offset, attachment in enumerate(attachments):
        attachment.message_id = message_id
        attachment.claimed_at = at
        attachment.position = first_position + offset
    await session.flush()


async def delete_unclaimed_before(session: AsyncSession, before: datetime) -> int:
    """Delete unclaimed attachments created before `before`, and their contents.
    Rows another transaction holds (being claimed right now) are skipped."""
    stale = (
        select(Attachment.id)
        .where(Attachment.message_id.is_(None), Attachment.created_at < before)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    gone = await session.scalars(
        delete(Attachment)
        .where(Attachment.id.in_(stale))
        .returning(Attachment.content_id)
        .execution_options(synchronize_session=False)
    )
    content_ids = list(gone)
    await delete_orphaned_contents(session, set(content_ids))
    return len(content_ids)


async def delete_of_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> int:
    gone = await session.scalars(
        delete(Attachment)
        .where(Attachment.message_id.in_(message_ids))
        .returning(Attachment.content_id)
        .execution_options(synchronize_session=False)
    )
    content_ids = list(gone)
    await delete_orphaned_contents(session, set(content_ids))
    return len(content_ids)


async def delete_of_message(
    session: AsyncSession, message_id: uuid.UUID, attachment_ids: Sequence[uuid.UUID]
) -> int:
    gone = await session.scalars(
        delete(Attachment)
        .where(Attachment.message_id == message_id, Attachment.id.in_(attachment_ids))
        .returning(Attachment.content_id)
        .execution_options(synchronize_session=False)
    )
    content_ids = list(gone)
    await delete_orphaned_contents(session, set(content_ids))
    return len(content_ids)


async def delete_orphaned_contents(session: AsyncSession, content_ids: set[uuid.UUID]) -> None:
    """Delete those of `content_ids` no attachment refers to any more (their chunks cascade)."""
    if not content_ids:
        return
    await session.execute(
        delete(AttachmentContent).where(
            AttachmentContent.id.in_(content_ids),
            ~exists().where(Attachment.content_id == AttachmentContent.id),
        )
    )
