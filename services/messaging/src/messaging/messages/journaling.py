"""What the journal module (messaging.journal) may ask of messages: open a message
the staff member may read, for journaling, and purge messages the retention rule
(MS-11) chose. Kept in a file of its own beside service.py; the access rule is
the messages module's own (`_staff`, `_open`): a message is reached only through a
copy in one of the reader's mailboxes, and a refusal is audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import Column, Table, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.attachments import service as attachments
from messaging.messages.service import Reader, _open, _staff
from messaging.models import Base, MailboxItem, Message, MessageRecipient
from shared.auth import User

# Tags after which plain text starts a new line.
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "pre", "table"}
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(body: str) -> str:
    """The (already sanitised) HTML body as plain text: the journal entry's content."""
    parser = _Text()
    parser.feed(body)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text: list[str] = []
    for line in lines:
        if line or (text and text[-1]):
            text.append(line)
    return "\n".join(text).strip()


@dataclass(frozen=True)
class Opened:
    """A message the staff member may read, and the role they read it in."""

    message: Message
    reader: Reader


async def open_for_journal(session: AsyncSession, user: User, message_id: uuid.UUID, action: str) -> Opened:
    """The message, if one of the staff member's mailboxes holds it (NotFound, or a
    refusal audited, otherwise). Reading it for journaling does not mark it read."""
    reader = await _staff(session, user)
    message, _ = await _open(session, reader, message_id, None, action)
    return Opened(message, reader)


async def get(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    return await session.get(Message, message_id)


def _referring() -> list[tuple[Table, Column[Any]]]:
    """The columns of other tables that refer to a message (absence's auto-replies
    and forwards, ...), found in the metadata so a module added later is covered."""
    found = []
    for table in Base.metadata.tables.values():
        if table.name in {"messages", "mailbox_items", "message_recipients"}:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "messages":
                found.append((table, fk.parent))
    return found


async def purge(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> int:
    """Delete these messages for good: every mailbox's copy, the recipients, the
    attachments (and contents no other message shares), and what other modules
    keep about them (rows that refer to one go; a nullable reference is cleared).
    Replies, forwards and receipts that refer to them stay and lose the
    reference. How many were deleted."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return 0
    await attachments.delete_of_messages(session, ids)
    for reference in (Message.reply_to_id, Message.forwarded_from_id):
        await session.execute(
            update(Message)
            .where(reference.in_(ids))
            .values({reference.key: None})
            .execution_options(synchronize_session=False)
        )
    for table, column in _referring():
        if column.nullable:
            await session.execute(update(table).where(column.in_(ids)).values({column.name: None}))
        else:
            await session.execute(delete(table).where(column.in_(ids)))
    for model in (MailboxItem, MessageRecipient):
        await session.execute(
            delete(model).where(model.message_id.in_(ids)).execution_options(synchronize_session=False)
        )
    gone = await session.scalars(
        delete(Message)
        .where(Message.id.in_(ids))
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return len(list(gone))
