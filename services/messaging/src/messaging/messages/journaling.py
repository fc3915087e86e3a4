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

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.attachments import service as attachments
from messaging.messages import repository
from messaging.messages.service import Reader, _open, _staff
from messaging.models import Message
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
    return await repository.get(session, message_id)


async def purge(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> int:
    """Delete these messages for good: their attachments (and contents no other
    message shares) here, and through the foreign keys' ON DELETE rules every
    mailbox's copy, the recipients and what other modules keep about them;
    replies, forwards and receipts that refer to them stay and lose the
    reference. How many were deleted."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return 0
    await attachments.delete_of_messages(session, ids)
    return await repository.delete_messages(session, ids)
