"""Delivery while a recipient is away (MS-7): the messages module's side of absence.

When a message lands in the personal inbox of a staff user who is away today
(settings module: absence on, today inside its period):

- it is also delivered to the group mailbox the user forwards to (unless it is
  there already), and the settings module notes why: forwarded for the absent
  user; so nothing addressed to them stays unread;
- the sender gets the absence message as an automatic reply, from the absent
  user's mailbox, once per conversation (the first message of the reply chain)
  and sender mailbox. The reply is marked as automatic: author role `system`,
  subject "Autosvar: <Ämne>", and it is recorded in the settings module's ledger.

Receipts and automatic replies themselves never trigger either (no loops).
Every copy and reply written here is audited with the person the message concerns."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.messages import repository
from messaging.models import (
    AuthorRole,
    Folder,
    Mailbox,
    MailboxItem,
    MailboxKind,
    Message,
    MessageKind,
    MessageRecipient,
    MessageStatus,
    RecipientRole,
)
from messaging.settings import service as settings
from messaging.settings.models import StaffSettings
from shared import audit

AUTO_REPLY_PREFIX = "Autosvar: "
# How far up a reply chain the conversation's first message is looked for.
_CHAIN_LIMIT = 200


def _entry(actor: str, action: str, message: Message, reason: str) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=actor,
        actor_role="system",
        action=action,
        object_type="message",
        object_id=str(message.id),
        subject_pnr=message.person_pnr,
        reason=reason,
    )


async def conversation_of(session: AsyncSession, message: Message) -> uuid.UUID:
    """The first message of the message's reply chain."""
    current = message
    for _ in range(_CHAIN_LIMIT):
        if current.reply_to_id is None:
            break
        parent = await repository.get(session, current.reply_to_id)
        if parent is None:
            break
        current = parent
    return current.id


def _body(settings_row: StaffSettings) -> str:
    text = "".join(
        f"<p>{html.escape(line)}</p>" for line in settings_row.absence_message.splitlines() if line
    )
    if settings_row.signature:
        text += "".join(f"<p>{html.escape(line)}</p>" for line in settings_row.signature.splitlines() if line)
    return text


async def on_delivered(
    session: AsyncSession, message: Message, from_box: Mailbox, inboxes: Iterable[Mailbox], now: datetime
) -> None:
    """Forward to the group mailbox of, and auto-reply for, every recipient away today."""
    if message.kind != MessageKind.MESSAGE or message.author_role == AuthorRole.SYSTEM:
        return
    boxes = list(inboxes)
    personal = {box.owner_sub: box for box in boxes if box.kind == MailboxKind.PERSONAL and box.owner_sub}
    absent = await settings.away(session, {sub for sub in personal if sub is not None})
    if not absent:
        return
    delivered = {box.id for box in boxes}
    conversation: uuid.UUID | None = None
    for sub, row in absent.items():
        box = personal[sub]
        if row.forward_to_mailbox_id is not None:
            if row.forward_to_mailbox_id not in delivered:
                delivered.add(row.forward_to_mailbox_id)
                await repository.add(
                    session,
                    MailboxItem(
                        id=uuid.uuid4(),
                        mailbox_id=row.forward_to_mailbox_id,
                        message_id=message.id,
                        folder=Folder.INBOX,
                        created_at=now,
                    ),
                )
            await settings.record_forward(session, message.id, row.forward_to_mailbox_id, sub, box.id)
            await audit.record(
                session, _entry(sub, "forward", message, "absence: forwarded to group mailbox")
            )
        if row.absence_message and from_box.id != box.id:
            conversation = conversation or await conversation_of(session, message)
            await _auto_reply(session, message, from_box, box, row, conversation, now)


async def _auto_reply(
    session: AsyncSession,
    message: Message,
    from_box: Mailbox,
    absent_box: Mailbox,
    row: StaffSettings,
    conversation: uuid.UUID,
    now: datetime,
) -> None:
    reply_id = uuid.uuid4()
    if not await settings.claim_auto_reply(session, row.sub, conversation, from_box.id, reply_id):
        return  # this sender had the reply in this conversation already
    reply = Message(
        id=reply_id,
        kind=MessageKind.MESSAGE,
        status=MessageStatus.SENT,
        from_mailbox_id=absent_box.id,
        person_id=message.person_id,
        person_pnr=message.person_pnr,
        person_name=message.person_name,
        author_sub=row.sub,
        author_name=absent_box.name,
        author_role=AuthorRole.SYSTEM,
        author_pnr=None,
        approval_id=None,
        subject=f"{AUTO_REPLY_PREFIX}{message.subject}"[:200],
        body=_body(row),
        read_receipt=False,
        reply_to_id=message.id,
        created_at=now,
        sent_at=now,
    )
    role = RecipientRole.CLIENT if from_box.kind == MailboxKind.CITIZEN else RecipientRole.TO
    await repository.add(
        session, reply, MessageRecipient(message_id=reply.id, mailbox_id=from_box.id, role=role)
    )
    await repository.add(
        session,
        MailboxItem(
            id=uuid.uuid4(), mailbox_id=absent_box.id, message_id=reply.id, folder=Folder.SENT, created_at=now
        ),
        MailboxItem(
            id=uuid.uuid4(), mailbox_id=from_box.id, message_id=reply.id, folder=Folder.INBOX, created_at=now
        ),
    )
    await audit.record(session, _entry(row.sub, "create", reply, "absence: automatic reply"))
