"""Messages (MS-1..MS-5): send, drafts, read (with läskvitto), delete, reply,
reply-all and forward, folders and unread counts per mailbox; the citizen's side
of the e-service (MS-2): reading and writing to their caseworkers, themselves
or through an approved related person, who is recorded as the real author.

Access is checked on every message, through the mailboxes that hold it: a reader
opens a message only through a copy in a mailbox they may use (their own, their
units' group mailboxes, their e-service mailbox). Every read and write of a
message, and every refusal, is audited. A message that lands in a citizen's
e-service mailbox is announced (MessageDeliveredToEService, ids only) through
the outbox, in the same transaction."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import nh3
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.attachments import service as attachments
from messaging.config import SOURCE, TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.mailboxes.service import CitizenSide
from messaging.messages import absence, repository
from messaging.messages.document import message_document
from messaging.messages.schemas import (
    AuthorOut,
    CaseworkerOut,
    CitizenMailboxOut,
    CitizenMessageForm,
    CitizenReplyForm,
    DraftForm,
    ForwardForm,
    MailboxOut,
    MailboxRef,
    MessageForm,
    MessageOut,
    MessageSummary,
    ReplyForm,
)
from messaging.models import (
    AuthorRole,
    CaseworkerAssignment,
    EServicePerson,
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
from messaging.people import pnr_label, staff_role
from messaging.rights import service as rights
from messaging.settings import service as absence_settings
from shared import audit
from shared.auth import User
from shared.contracts.messaging import DeliveryKind, MessageDeliveredToEService
from shared.outbox import add_event
from shared.pdf import PdfDocument
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

# Rich text as a municipality's mail client writes it; no images (a remote image
# would tell a third party when the message was read), links only to the web and mail.
_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}
_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(body: str) -> str:
    """The body as it may be stored and shown: HTML cleaned by nh3 (never by hand)."""
    return nh3.clean(body, tags=_TAGS, url_schemes=_URL_SCHEMES, link_rel="noopener noreferrer")


@dataclass(frozen=True)
class Reader:
    """Who is reading or writing, in which role, through which mailboxes."""

    user: User
    role: str
    mailboxes: dict[uuid.UUID, Mailbox]
    side: CitizenSide | None = None  # the e-service mailbox, for a citizen or related person

    def entry(self, action: str, object_id: object, subject_pnr: str | None) -> audit.AuditEntry:
        return audit.AuditEntry(
            actor=self.user.sub,
            actor_role=self.role,
            action=action,
            object_type="message",
            object_id=str(object_id),
            subject_pnr=subject_pnr,
        )


@dataclass(frozen=True)
class Concerns:
    """The person a message concerns: for the audit log, the header and journaling."""

    person_id: uuid.UUID
    pnr: str
    name: str

    @classmethod
    def of(cls, person: EServicePerson) -> Concerns:
        return cls(person.person_id, person.pnr, person.name)

    @classmethod
    def of_message(cls, message: Message) -> Concerns | None:
        if message.person_id is None or message.person_pnr is None:
            return None
        return cls(message.person_id, message.person_pnr, message.person_name or "")


@dataclass
class Draft:
    """What a new message says and to whom, before it is stored."""

    from_box: Mailbox
    to_boxes: list[Mailbox]
    client: Mailbox | None
    concerns: Concerns | None
    subject: str
    body: str
    read_receipt: bool = False
    attachment_ids: Sequence[uuid.UUID] = ()
    reply_to_id: uuid.UUID | None = None
    forwarded_from_id: uuid.UUID | None = None
    keep: bool = False  # a draft (Utkast): stored, not sent
    kind: DeliveryKind = "message"  # what notify is told lands in the e-service mailbox


# ---- who reads -------------------------------------------------------------


async def _staff(session: AsyncSession, user: User) -> Reader:
    boxes = await mailboxes.usable(session, user)
    return Reader(user, staff_role(user), {m.id: m for m in boxes})


async def _citizen(session: AsyncSession, user: User, acting_for: uuid.UUID | None, action: str) -> Reader:
    side = await mailboxes.citizen_side(session, user, acting_for, action)
    return Reader(user, side.role, {side.mailbox.id: side.mailbox}, side)


async def _from(session: AsyncSession, reader: Reader, mailbox_id: uuid.UUID, action: str) -> Mailbox:
    """A mailbox the reader may use (a refusal, audited, otherwise)."""
    if mailbox_id in reader.mailboxes:
        return reader.mailboxes[mailbox_id]
    return await mailboxes.check_use(session, reader.user, mailbox_id, action)


async def _open(
    session: AsyncSession, reader: Reader, message_id: uuid.UUID, mailbox_id: uuid.UUID | None, action: str
) -> tuple[Message, MailboxItem]:
    """The message and its copy in one of the reader's mailboxes (in `mailbox_id`,
    if given); a refusal, audited, when none of them holds it."""
    message = await repository.get(session, message_id)
    if message is None:
        raise NotFound("There is no such message.")
    refused = reader.entry(action, message.id, message.person_pnr)
    if mailbox_id is not None and mailbox_id not in reader.mailboxes:
        if reader.side is None:
            await mailboxes.check_use(session, reader.user, mailbox_id, action, message.person_pnr)
        raise await audit.refuse(session, refused, NotAllowed("This mailbox is not yours to use."))
    item = await repository.item_in(session, message.id, [mailbox_id] if mailbox_id else reader.mailboxes)
    if item is None:
        raise await audit.refuse(session, refused, NotAllowed("None of your mailboxes holds this message."))
    return message, item


# ---- how messages are shown -------------------------------------------------


def _from_label(message: Message, mailbox: Mailbox, label: str) -> str:
    """The sender as the header shows it: a citizen with the personnummer after the
    name; a related person as themselves, for the citizen; a group with its writer."""
    if message.author_role == AuthorRole.RELATED_PERSON and message.author_pnr:
        return f"{pnr_label(message.author_name, message.author_pnr)} för {label}"
    if mailbox.kind == MailboxKind.GROUP:
        return f"{label} ({message.author_name})"
    return label


def _author(message: Message) -> AuthorOut:
    related = message.author_role == AuthorRole.RELATED_PERSON
    return AuthorOut(
        name=message.author_name,
        role=message.author_role,
        on_behalf_of=message.person_name if related else None,
    )


async def _out(session: AsyncSession, message: Message, item: MailboxItem) -> MessageOut:
    recipients = await repository.recipients(session, message.id)
    boxes = {
        m.id: m
        for m in await mailboxes.many(session, {message.from_mailbox_id, *(r.mailbox_id for r in recipients)})
    }
    labels = await mailboxes.labels(session, boxes.values())

    def ref(mailbox_id: uuid.UUID) -> MailboxRef:
        return MailboxRef(id=mailbox_id, kind=boxes[mailbox_id].kind, label=labels[mailbox_id])

    to = sorted((ref(r.mailbox_id) for r in recipients if r.role == RecipientRole.TO), key=lambda r: r.label)
    client = next((ref(r.mailbox_id) for r in recipients if r.role == RecipientRole.CLIENT), None)
    origin = boxes[message.from_mailbox_id]
    forwarded = await absence_settings.forwarded_for(session, item.mailbox_id, [message.id])
    return MessageOut(
        id=message.id,
        kind=message.kind,
        status=message.status,
        mailbox_id=item.mailbox_id,
        folder=item.folder,
        from_mailbox=ref(origin.id),
        from_label=_from_label(message, origin, labels[origin.id]),
        author=_author(message),
        to=to,
        client=client,
        subject=message.subject,
        body=message.body,
        read_receipt=message.read_receipt,
        created_at=message.created_at,
        sent_at=message.sent_at,
        read_at=item.read_at,
        reply_to_id=message.reply_to_id,
        forwarded_from_id=message.forwarded_from_id,
        attachments=await attachments.of_message(session, message.id),
        forwarded_for=forwarded.get(message.id),
    )


async def _summaries(
    session: AsyncSession, reader: Reader, mailbox: Mailbox, folder: Folder
) -> list[MessageSummary]:
    rows = await repository.folder(session, mailbox.id, folder)
    origins = {m.id: m for m in await mailboxes.many(session, {m.from_mailbox_id for _, m in rows})}
    labels = await mailboxes.labels(session, origins.values())
    forwarded = (
        await absence_settings.forwarded_for(session, mailbox.id, [m.id for _, m in rows])
        if mailbox.kind == MailboxKind.GROUP
        else {}
    )
    await audit.record(session, *(reader.entry("list", m.id, m.person_pnr) for _, m in rows))
    return [
        MessageSummary(
            id=message.id,
            kind=message.kind,
            folder=item.folder,
            from_label=_from_label(
                message, origins[message.from_mailbox_id], labels[message.from_mailbox_id]
            ),
            subject=message.subject,
            at=message.sent_at or message.created_at,
            unread=item.folder == Folder.INBOX and item.read_at is None,
            client=pnr_label(message.person_name or "", message.person_pnr) if message.person_pnr else None,
            forwarded_for=forwarded.get(message.id),
        )
        for item, message in rows
    ]


# ---- storing and delivering ------------------------------------------------


async def _client(
    session: AsyncSession, user: User, person_id: uuid.UUID, action: str
) -> tuple[Mailbox, EServicePerson]:
    """The person's e-service mailbox, if it is active and the staff member may write to it (MS-3)."""
    mailbox, person = await mailboxes.active_citizen(session, person_id)
    await rights.check_may_write(session, user, person.person_id, person.pnr, action)
    return mailbox, person


async def _store(session: AsyncSession, reader: Reader, draft: Draft) -> tuple[Message, MailboxItem]:
    """Store a new message, its recipients and attachments; send it unless it is a draft."""
    now = datetime.now(UTC)
    user, side = reader.user, reader.side
    message = Message(
        id=uuid.uuid4(),
        kind=MessageKind.MESSAGE,
        status=MessageStatus.DRAFT,
        from_mailbox_id=draft.from_box.id,
        person_id=draft.concerns.person_id if draft.concerns else None,
        person_pnr=draft.concerns.pnr if draft.concerns else None,
        person_name=draft.concerns.name if draft.concerns else None,
        author_sub=user.sub,
        author_name=user.name or user.sub,
        author_role=reader.role,
        author_pnr=str(user.pnr) if side is not None and user.pnr else None,
        approval_id=side.approval_id if side is not None else None,
        subject=draft.subject,
        body=sanitize(draft.body),
        read_receipt=draft.read_receipt,
        reply_to_id=draft.reply_to_id,
        forwarded_from_id=draft.forwarded_from_id,
        created_at=now,
        sent_at=None,
    )
    recipients = [
        MessageRecipient(message_id=message.id, mailbox_id=box.id, role=RecipientRole.TO)
        for box in draft.to_boxes
    ]
    if draft.client is not None:
        recipients.append(
            MessageRecipient(message_id=message.id, mailbox_id=draft.client.id, role=RecipientRole.CLIENT)
        )
    await repository.add(session, message, *recipients)
    if draft.forwarded_from_id is not None:
        await attachments.copy_to(session, draft.forwarded_from_id, message.id)
    await attachments.claim(session, user.sub, list(draft.attachment_ids), message.id, actor_role=reader.role)
    if draft.keep:
        item = MailboxItem(
            id=uuid.uuid4(),
            mailbox_id=draft.from_box.id,
            message_id=message.id,
            folder=Folder.DRAFTS,
            created_at=now,
        )
        await repository.add(session, item)
        await audit.record(session, reader.entry("create", message.id, message.person_pnr))
    else:
        item = await _deliver(
            session, message, draft.from_box, draft.to_boxes, draft.client, now, kind=draft.kind
        )
        await audit.record(session, reader.entry("send", message.id, message.person_pnr))
    return message, item


async def _deliver(
    session: AsyncSession,
    message: Message,
    from_box: Mailbox,
    to_boxes: Iterable[Mailbox],
    client: Mailbox | None,
    now: datetime,
    draft_item: MailboxItem | None = None,
    kind: DeliveryKind = "message",
) -> MailboxItem:
    """Send: the sender's copy in Skickat, one in each recipient's inbox, and the
    e-service delivery announced for notify (ids only)."""
    message.status = MessageStatus.SENT
    message.sent_at = now
    copies: list[MailboxItem] = []
    if draft_item is not None:
        draft_item.folder = Folder.SENT
        draft_item.created_at = now
        sent = draft_item
    else:
        sent = MailboxItem(
            id=uuid.uuid4(), mailbox_id=from_box.id, message_id=message.id, folder=Folder.SENT, created_at=now
        )
        copies.append(sent)
    inboxes = {box.id: box for box in to_boxes}
    if client is not None:
        inboxes[client.id] = client
    copies += [
        MailboxItem(
            id=uuid.uuid4(), mailbox_id=box_id, message_id=message.id, folder=Folder.INBOX, created_at=now
        )
        for box_id in inboxes
    ]
    await repository.add(session, *copies)
    await absence.on_delivered(session, message, from_box, inboxes.values(), now)  # MS-7
    if client is not None and client.person_id is not None:
        await add_event(
            session,
            MessageDeliveredToEService(
                message_id=message.id,
                mailbox_id=client.id,
                person_id=client.person_id,
                kind=kind,
                delivered_at=now,
            ),
            SOURCE,
        )
    return sent


async def _mark_read(session: AsyncSession, reader: Reader, message: Message, item: MailboxItem) -> None:
    """The first opening of an inbox copy marks it read and, if the sender asked for
    one, sends them a receipt (läskvitto)."""
    if item.folder != Folder.INBOX or item.read_at is not None:
        return
    now = datetime.now(UTC)
    item.read_at = now
    if not message.read_receipt or message.kind != MessageKind.MESSAGE:
        return
    if message.from_mailbox_id == item.mailbox_id:
        return
    reader_box = reader.mailboxes[item.mailbox_id]
    label = (await mailboxes.labels(session, [reader_box]))[reader_box.id]
    receipt = Message(
        id=uuid.uuid4(),
        kind=MessageKind.RECEIPT,
        status=MessageStatus.SENT,
        from_mailbox_id=item.mailbox_id,
        person_id=message.person_id,
        person_pnr=message.person_pnr,
        person_name=message.person_name,
        author_sub=reader.user.sub,
        author_name=reader.user.name or reader.user.sub,
        author_role=reader.role,
        author_pnr=str(reader.user.pnr) if reader.side is not None and reader.user.pnr else None,
        approval_id=reader.side.approval_id if reader.side is not None else None,
        subject=_prefixed("Läskvitto: ", message.subject),
        body=f"<p>{html.escape(label)} öppnade meddelandet {now.astimezone(TIME_ZONE):%Y-%m-%d %H:%M}.</p>",
        read_receipt=False,
        reply_to_id=message.id,
        created_at=now,
        sent_at=now,
    )
    await repository.add(
        session,
        receipt,
        MessageRecipient(message_id=receipt.id, mailbox_id=message.from_mailbox_id, role=RecipientRole.TO),
    )
    await repository.add(
        session,
        MailboxItem(
            id=uuid.uuid4(),
            mailbox_id=message.from_mailbox_id,
            message_id=receipt.id,
            folder=Folder.INBOX,
            created_at=now,
        ),
    )
    await audit.record(session, reader.entry("create", receipt.id, receipt.person_pnr))


def _prefixed(prefix: str, subject: str) -> str:
    text = subject if subject.startswith(prefix) else f"{prefix}{subject}"
    return text[:200]


def _quoted(body: str, original: Message, heading: str) -> str:
    """The new text over the original's (already sanitised), as mail clients quote."""
    sent = (original.sent_at or original.created_at).astimezone(TIME_ZONE)
    return (
        f"{body}<hr><p>{html.escape(heading)} {sent:%Y-%m-%d %H:%M}: {html.escape(original.subject)}</p>"
        f"<blockquote>{original.body}</blockquote>"
    )


# ---- staff -----------------------------------------------------------------


async def overview(session: AsyncSession, user: User) -> list[MailboxOut]:
    """The staff member's mailboxes (own, then the units' group mailboxes) with unread counts."""
    reader = await _staff(session, user)
    counts = await repository.unread_counts(session, list(reader.mailboxes))
    return [
        MailboxOut(id=m.id, kind=m.kind, name=m.name, unit=m.unit, unread=counts.get(m.id, 0))
        for m in reader.mailboxes.values()
    ]


async def list_folder(
    session: AsyncSession, user: User, mailbox_id: uuid.UUID, folder: Folder
) -> list[MessageSummary]:
    """Inkorg, Skickat or Utkast of one of the staff member's mailboxes, newest first."""
    reader = await _staff(session, user)
    mailbox = await _from(session, reader, mailbox_id, "list")
    return await _summaries(session, reader, mailbox, folder)


async def send(session: AsyncSession, user: User, form: MessageForm) -> MessageOut:
    """A new message from one of the user's mailboxes (or a draft of it)."""
    reader = await _staff(session, user)
    from_box = await _from(session, reader, form.from_mailbox_id, "send")
    to_boxes = await mailboxes.staff_recipients(session, form.to)
    client, person = (None, None)
    if form.to_client is not None:
        client, person = await _client(session, user, form.to_client, "send")
    message, item = await _store(
        session,
        reader,
        Draft(
            from_box=from_box,
            to_boxes=to_boxes,
            client=client,
            concerns=Concerns.of(person) if person else None,
            subject=form.subject,
            body=form.body,
            read_receipt=form.read_receipt,
            attachment_ids=form.attachment_ids,
            keep=form.draft,
        ),
    )
    return await _out(session, message, item)


async def send_draft(session: AsyncSession, user: User, message_id: uuid.UUID) -> MessageOut:
    """Send a draft as it was saved; the rules are checked again now."""
    reader = await _staff(session, user)
    message, item = await _open(session, reader, message_id, None, "send")
    if item.folder != Folder.DRAFTS or message.status != MessageStatus.DRAFT:
        raise Conflict("Only a draft can be sent; this message was sent already.")
    recipients = await repository.recipients(session, message.id)
    to_boxes = await mailboxes.staff_recipients(
        session, [r.mailbox_id for r in recipients if r.role == RecipientRole.TO]
    )
    client = None
    client_box = next((r.mailbox_id for r in recipients if r.role == RecipientRole.CLIENT), None)
    if client_box is not None:
        box = await mailboxes.get(session, client_box)
        assert box is not None and box.person_id is not None  # a client recipient is a citizen mailbox
        client, _ = await _client(session, user, box.person_id, "send")
    await _deliver(
        session, message, reader.mailboxes[item.mailbox_id], to_boxes, client, datetime.now(UTC), item
    )
    await audit.record(session, reader.entry("send", message.id, message.person_pnr))
    return await _out(session, message, item)


async def read(
    session: AsyncSession, user: User, message_id: uuid.UUID, mailbox_id: uuid.UUID | None
) -> MessageOut:
    """Open a message (marked read; a receipt to the sender if asked for)."""
    return await _read(session, await _staff(session, user), message_id, mailbox_id)


async def _read(
    session: AsyncSession, reader: Reader, message_id: uuid.UUID, mailbox_id: uuid.UUID | None
) -> MessageOut:
    message, item = await _open(session, reader, message_id, mailbox_id, "read")
    await _mark_read(session, reader, message, item)
    await audit.record(session, reader.entry("read", message.id, message.person_pnr))
    return await _out(session, message, item)


async def delete(
    session: AsyncSession, user: User, message_id: uuid.UUID, mailbox_id: uuid.UUID | None
) -> None:
    """Remove the message from one of the user's mailboxes; other copies stay."""
    await _delete(session, await _staff(session, user), message_id, mailbox_id)


async def _delete(
    session: AsyncSession, reader: Reader, message_id: uuid.UUID, mailbox_id: uuid.UUID | None
) -> None:
    message, item = await _open(session, reader, message_id, mailbox_id, "delete")
    item.deleted_at = datetime.now(UTC)
    await audit.record(session, reader.entry("delete", message.id, message.person_pnr))


async def reply(
    session: AsyncSession, user: User, message_id: uuid.UUID, form: ReplyForm, everyone: bool
) -> MessageOut:
    """Svara (to the sender) or Svara alla (the sender and every recipient, the client
    included); a reply to a citizen goes to their e-service, under the same rules."""
    reader = await _staff(session, user)
    original, item = await _open(session, reader, message_id, None, "reply")
    await audit.record(session, reader.entry("reply", original.id, original.person_pnr))
    from_box = await _from(session, reader, form.from_mailbox_id or item.mailbox_id, "reply")
    recipients = await repository.recipients(session, original.id)
    origin = await mailboxes.get(session, original.from_mailbox_id)
    assert origin is not None  # a message's sender mailbox always exists
    to_ids: list[uuid.UUID] = []
    client_person: uuid.UUID | None = None
    if origin.kind == MailboxKind.CITIZEN:
        client_person = origin.person_id
    else:
        to_ids.append(origin.id)
    if everyone or origin.id == from_box.id:  # to one's own message: to its recipients
        to_ids += [r.mailbox_id for r in recipients if r.role == RecipientRole.TO]
        for r in recipients:
            if r.role == RecipientRole.CLIENT:
                box = await mailboxes.get(session, r.mailbox_id)
                client_person = box.person_id if box is not None else None
    to_ids = [i for i in dict.fromkeys(to_ids) if i != from_box.id]
    if not to_ids and client_person is None:
        raise InvalidInput("There is nobody to reply to.")
    return await _respond(
        session,
        user,
        reader,
        original,
        from_box,
        to_ids,
        client_person,
        form,
        _Response("reply", "Sv: ", "Svar på", reply_to_id=original.id),
    )


async def forward(session: AsyncSession, user: User, message_id: uuid.UUID, form: ForwardForm) -> MessageOut:
    """Vidarebefordra: a new message with the original quoted and its attachments along."""
    reader = await _staff(session, user)
    original, item = await _open(session, reader, message_id, None, "forward")
    await audit.record(session, reader.entry("forward", original.id, original.person_pnr))
    from_box = await _from(session, reader, form.from_mailbox_id or item.mailbox_id, "forward")
    return await _respond(
        session,
        user,
        reader,
        original,
        from_box,
        form.to,
        form.to_client,
        form,
        _Response("forward", "Vb: ", "Vidarebefordrat meddelande från", forwarded_from_id=original.id),
    )


@dataclass(frozen=True)
class _Response:
    """How a reply and a forward differ: the audit action, the subject's prefix,
    the quote's heading, and which link to the original is recorded."""

    action: str
    prefix: str
    heading: str
    reply_to_id: uuid.UUID | None = None
    forwarded_from_id: uuid.UUID | None = None


async def _respond(
    session: AsyncSession,
    user: User,
    reader: Reader,
    original: Message,
    from_box: Mailbox,
    to_ids: Sequence[uuid.UUID],
    client_person: uuid.UUID | None,
    form: ReplyForm | ForwardForm,
    kind: _Response,
) -> MessageOut:
    """Store and deliver a reply or a forward: the original quoted under the
    form's text, its subject prefixed unless the form names one."""
    to_boxes = await mailboxes.staff_recipients(session, to_ids)
    client, person = (None, None)
    if client_person is not None:
        client, person = await _client(session, user, client_person, kind.action)
    message, sent = await _store(
        session,
        reader,
        Draft(
            from_box=from_box,
            to_boxes=to_boxes,
            client=client,
            concerns=Concerns.of(person) if person else Concerns.of_message(original),
            subject=form.subject or _prefixed(kind.prefix, original.subject),
            body=_quoted(sanitize(form.body), original, kind.heading),
            read_receipt=form.read_receipt,
            attachment_ids=form.attachment_ids,
            reply_to_id=kind.reply_to_id,
            forwarded_from_id=kind.forwarded_from_id,
        ),
    )
    return await _out(session, message, sent)


async def attachment(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    user: User,
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
    mailbox_id: uuid.UUID | None,
) -> StreamingResponse:
    """An attachment of a message the staff member may read, streamed."""
    reader = await _staff(session, user)
    return await _attachment(session, sessionmaker, reader, message_id, attachment_id, mailbox_id)


async def _attachment(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    reader: Reader,
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
    mailbox_id: uuid.UUID | None,
) -> StreamingResponse:
    message, _ = await _open(session, reader, message_id, mailbox_id, "read")
    return await attachments.download_response(
        sessionmaker,
        attachment_id,
        message_id=message.id,
        session=session,
        user=reader.user,
        subject_pnr=message.person_pnr,
    )


# ---- the citizen's e-service -------------------------------------------------


async def citizen_mailbox(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None
) -> CitizenMailboxOut:
    """The e-service mailbox: unread count, and the caseworkers one may write to."""
    reader = await _citizen(session, user, acting_for, "read")
    assert reader.side is not None
    side = reader.side
    counts = await repository.unread_counts(session, [side.mailbox.id])
    caseworkers = await rights.caseworkers_of(session, side.person.person_id)
    await audit.record(session, side.entry(user, "read", "e_service_mailbox", side.mailbox.id))
    return CitizenMailboxOut(
        id=side.mailbox.id,
        kind=side.mailbox.kind,
        name=side.person.name,
        unit=None,
        unread=counts.get(side.mailbox.id, 0),
        caseworkers=[CaseworkerOut(id=a.caseworker_id, name=a.caseworker_name) for a in caseworkers],
    )


async def citizen_list(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None, folder: Folder
) -> list[MessageSummary]:
    reader = await _citizen(session, user, acting_for, "list")
    assert reader.side is not None
    return await _summaries(session, reader, reader.side.mailbox, folder)


async def citizen_read(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None, message_id: uuid.UUID
) -> MessageOut:
    return await _read(session, await _citizen(session, user, acting_for, "read"), message_id, None)


async def citizen_delete(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None, message_id: uuid.UUID
) -> None:
    await _delete(session, await _citizen(session, user, acting_for, "delete"), message_id, None)


async def _chosen_caseworkers(
    session: AsyncSession, side: CitizenSide, to_caseworker: str | None
) -> list[CaseworkerAssignment]:
    caseworkers = await rights.caseworkers_of(session, side.person.person_id)
    if not caseworkers:
        raise Conflict("No caseworker handles your matters yet: there is nobody to write to.")
    if to_caseworker is None:
        return caseworkers
    chosen = [a for a in caseworkers if a.caseworker_id == to_caseworker]
    if not chosen:
        raise InvalidInput("The recipient is not one of your caseworkers.")
    return chosen


async def citizen_send(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None, form: CitizenMessageForm
) -> MessageOut:
    """A message from the e-service to the citizen's caseworker(s): it lands in their
    inbox like any other, the sender shown with the personnummer after the name."""
    reader = await _citizen(session, user, acting_for, "send")
    assert reader.side is not None
    side = reader.side
    chosen = await _chosen_caseworkers(session, side, form.to_caseworker)
    to_boxes = [await mailboxes.personal_of(session, a.caseworker_id, a.caseworker_name) for a in chosen]
    message, item = await _store(
        session,
        reader,
        Draft(
            from_box=side.mailbox,
            to_boxes=to_boxes,
            client=None,
            concerns=Concerns.of(side.person),
            subject=form.subject,
            body=form.body,
            attachment_ids=form.attachment_ids,
        ),
    )
    return await _out(session, message, item)


async def citizen_reply(
    session: AsyncSession,
    user: User,
    acting_for: uuid.UUID | None,
    message_id: uuid.UUID,
    form: CitizenReplyForm,
) -> MessageOut:
    """Reply from the e-service to whoever wrote the message."""
    reader = await _citizen(session, user, acting_for, "reply")
    assert reader.side is not None
    side = reader.side
    original, _ = await _open(session, reader, message_id, None, "reply")
    await audit.record(session, reader.entry("reply", original.id, original.person_pnr))
    if original.from_mailbox_id == side.mailbox.id:  # one's own message: to its recipients again
        recipients = await repository.recipients(session, original.id)
        to_ids = [r.mailbox_id for r in recipients if r.role == RecipientRole.TO]
    else:
        to_ids = [original.from_mailbox_id]
    to_boxes = await mailboxes.staff_recipients(session, to_ids)
    message, item = await _store(
        session,
        reader,
        Draft(
            from_box=side.mailbox,
            to_boxes=to_boxes,
            client=None,
            concerns=Concerns.of(side.person),
            subject=form.subject or _prefixed("Sv: ", original.subject),
            body=_quoted(sanitize(form.body), original, "Svar på"),
            attachment_ids=form.attachment_ids,
            reply_to_id=original.id,
        ),
    )
    return await _out(session, message, item)


async def citizen_attachment(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    user: User,
    acting_for: uuid.UUID | None,
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> StreamingResponse:
    reader = await _citizen(session, user, acting_for, "read")
    return await _attachment(session, sessionmaker, reader, message_id, attachment_id, None)


# ---- editing a draft, printing ---------------------------------------------


async def edit_draft(session: AsyncSession, user: User, message_id: uuid.UUID, form: DraftForm) -> MessageOut:
    """Save the author's own draft again: what it says, to whom, with which
    attachments; under the same rules as a new message. A sent message stays as sent."""
    reader = await _staff(session, user)
    message, item = await _open(session, reader, message_id, None, "update")
    locked = await repository.get_locked_message(session, message.id)
    assert locked is not None  # opened above; messages are never deleted by a request
    if item.folder != Folder.DRAFTS or locked.status != MessageStatus.DRAFT:
        raise Conflict("A sent message cannot be edited.")
    if locked.author_sub != user.sub:
        raise await audit.refuse(
            session,
            reader.entry("update", locked.id, locked.person_pnr),
            NotAllowed("Only its author may edit a draft."),
        )
    to_boxes = await mailboxes.staff_recipients(session, form.to)
    client, person = (None, None)
    if form.to_client is not None:
        client, person = await _client(session, user, form.to_client, "update")
    before_pnr = locked.person_pnr
    locked.person_id = person.person_id if person else None
    locked.person_pnr = person.pnr if person else None
    locked.person_name = person.name if person else None
    locked.subject = form.subject
    locked.body = sanitize(form.body)
    locked.read_receipt = form.read_receipt
    for old in await repository.recipients(session, locked.id):
        await session.delete(old)
    await session.flush()
    recipients = [
        MessageRecipient(message_id=locked.id, mailbox_id=b.id, role=RecipientRole.TO) for b in to_boxes
    ]
    if client is not None:
        recipients.append(
            MessageRecipient(message_id=locked.id, mailbox_id=client.id, role=RecipientRole.CLIENT)
        )
    await repository.add(session, *recipients)
    wanted = list(dict.fromkeys(form.attachment_ids))
    present = [a.id for a in await attachments.of_message(session, locked.id)]
    await attachments.remove_from_message(session, locked.id, [i for i in present if i not in wanted])
    await attachments.claim(
        session, user.sub, [i for i in wanted if i not in present], locked.id, actor_role=reader.role
    )
    item.created_at = datetime.now(UTC)  # the draft's "saved at" in Utkast
    pnrs = dict.fromkeys([before_pnr, locked.person_pnr])
    await audit.record(session, *(reader.entry("update", locked.id, pnr) for pnr in pnrs))
    return await _out(session, locked, item)


async def _document(
    session: AsyncSession, reader: Reader, message_id: uuid.UUID, mailbox_id: uuid.UUID | None
) -> PdfDocument:
    """A message the reader may read, as a printable document (not marked read); audited."""
    message, item = await _open(session, reader, message_id, mailbox_id, "print")
    await audit.record(session, reader.entry("print", message.id, message.person_pnr))
    client = pnr_label(message.person_name or "", message.person_pnr) if message.person_pnr else None
    printed_by = reader.user.name or reader.user.sub
    return message_document(await _out(session, message, item), client, datetime.now(UTC), printed_by)


async def document(
    session: AsyncSession, user: User, message_id: uuid.UUID, mailbox_id: uuid.UUID | None
) -> PdfDocument:
    """A message the staff member may read, as a printable PDF (MS-5)."""
    return await _document(session, await _staff(session, user), message_id, mailbox_id)


async def citizen_document(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None, message_id: uuid.UUID
) -> PdfDocument:
    """A message in the e-service mailbox, as a printable PDF."""
    return await _document(session, await _citizen(session, user, acting_for, "print"), message_id, None)
