"""Queries of messages, their recipients and the mailboxes' copies of them."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.models import Folder, MailboxItem, Message, MessageRecipient
from shared.db import get_locked, locked

# A message in one mailbox under several folders (sent to one's own group): the
# copy a reader opens is the first of these.
_FOLDER_ORDER = case(
    (MailboxItem.folder == Folder.INBOX, 0), (MailboxItem.folder == Folder.DRAFTS, 1), else_=2
)
FOLDER_LIMIT = 500


async def add(session: AsyncSession, *rows: Message | MessageRecipient | MailboxItem) -> None:
    session.add_all(rows)
    await session.flush()


async def get(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    return await session.get(Message, message_id)


async def get_locked_message(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    return await get_locked(session, Message, message_id)


async def recipients(session: AsyncSession, message_id: uuid.UUID) -> list[MessageRecipient]:
    query = select(MessageRecipient).where(MessageRecipient.message_id == message_id)
    return list(await session.scalars(query))


async def item_in(
    session: AsyncSession, message_id: uuid.UUID, mailbox_ids: Collection[uuid.UUID]
) -> MailboxItem | None:
    """The copy of the message in one of the mailboxes (not deleted), locked: it may be marked read."""
    if not mailbox_ids:
        return None
    query = (
        select(MailboxItem)
        .where(
            MailboxItem.message_id == message_id,
            MailboxItem.mailbox_id.in_(list(mailbox_ids)),
            MailboxItem.deleted_at.is_(None),
        )
        .order_by(_FOLDER_ORDER, MailboxItem.created_at)
        .limit(1)
    )
    return await session.scalar(locked(query))


async def folder(
    session: AsyncSession, mailbox_id: uuid.UUID, folder: Folder
) -> Sequence[tuple[MailboxItem, Message]]:
    query = (
        select(MailboxItem, Message)
        .join(Message, Message.id == MailboxItem.message_id)
        .where(
            MailboxItem.mailbox_id == mailbox_id,
            MailboxItem.folder == folder,
            MailboxItem.deleted_at.is_(None),
        )
        .order_by(MailboxItem.created_at.desc(), MailboxItem.id)
        .limit(FOLDER_LIMIT)
    )
    return [(item, message) for item, message in (await session.execute(query)).all()]


async def unread_counts(session: AsyncSession, mailbox_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not mailbox_ids:
        return {}
    query = (
        select(MailboxItem.mailbox_id, func.count())
        .where(
            MailboxItem.mailbox_id.in_(list(mailbox_ids)),
            MailboxItem.folder == Folder.INBOX,
            MailboxItem.read_at.is_(None),
            MailboxItem.deleted_at.is_(None),
        )
        .group_by(MailboxItem.mailbox_id)
    )
    return {mailbox_id: count for mailbox_id, count in (await session.execute(query)).all()}


async def delete_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> int:
    """Delete the messages; the foreign keys' ON DELETE rules take what refers to
    them along (migration 0008). How many were deleted."""
    gone = await session.scalars(
        delete(Message)
        .where(Message.id.in_(list(message_ids)))
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return len(list(gone))
