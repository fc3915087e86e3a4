"""What the deliveries module (messaging.deliveries) may ask of messages: send a
message from a caseworker's personal mailbox into a person's e-service mailbox,
its attachments already uploaded in the caseworker's name, announced to notify
with the delivery's kind ("decision", "document"). Kept in a file of its own
beside service.py; the message is stored and sent as every message is
(`_store`), audited as the caseworker's send."""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.mailboxes import service as mailboxes
from messaging.messages.service import Concerns, Draft, Reader, _store
from messaging.models import AuthorRole, EServicePerson, Mailbox, Message
from shared.auth import User
from shared.contracts.messaging import DeliveryKind


def html_of(text: str) -> str:
    """Plain text as the message body's HTML: a paragraph per blank-line block, line breaks kept."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in p.strip().split(chr(10)))}</p>" for p in paragraphs
    )


async def send_to_e_service(
    session: AsyncSession,
    sender: User,
    citizen: Mailbox,
    person: EServicePerson,
    subject: str,
    text: str,
    attachment_ids: Sequence[uuid.UUID],
    kind: DeliveryKind,
    author_role: AuthorRole = AuthorRole.CASEWORKER,
) -> Message:
    """The message, sent from the sender's personal mailbox (created if they never
    used messaging) to the person's e-service mailbox (Till klient), written as
    `author_role` (a caseworker for casework's letters, provider staff for a
    provider's documents). The caller checked that the mailbox is active and that
    the sender may write to the person."""
    from_box = await mailboxes.personal_of(session, sender.sub, sender.name or sender.sub)
    reader = Reader(sender, author_role, {from_box.id: from_box})
    message, _ = await _store(
        session,
        reader,
        Draft(
            from_box=from_box,
            to_boxes=[],
            client=citizen,
            concerns=Concerns.of(person),
            subject=subject,
            body=html_of(text),
            attachment_ids=attachment_ids,
            kind=kind,
        ),
    )
    return message
