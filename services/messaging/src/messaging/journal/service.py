"""Journaling (MS-9, CW-11, CW-12) and retention (MS-11).

A staff member journals a sent or received message into an intake record of the
person it concerns. Checked here, synchronously, from the rights projection of
CaseworkerAssigned (`rights.intake_record`): the record is the message's person's, and
a unit of the user's holds it; and the user may read the message (messages'
own rule: a copy in one of their mailboxes). Every refusal is audited and writes
nothing. Provider staff may journal from the message view too, under the
assignment rule: their provider has a running assignment for the person in one
of their units (rights.may_write) AND the record is held by one of their units;
no provider assignment is fed yet (orders, issue 10) and intake records are the
municipality's, so today every provider request is refused (audited).

The request goes to casework as MessageJournalRequested through the outbox, with
the message's text and its real author (a related person is named as such,
CW-12); each attachment goes as a capability URL on messaging (an HMAC-signed,
expiring token bound to the attachment and the request: `fetch`), never on
Kafka. Casework answers MessageJournaled, which marks the request journaled.

The retention rule purges a message `retention` after it was last journaled,
only when every journaling of it is done; a message never journaled is never
purged by it. A dry run lists what would go; a purge is audited per message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.attachments import service as attachments
from messaging.config import SOURCE, TIME_ZONE
from messaging.journal import repository, tokens
from messaging.journal.models import JournalRequest
from messaging.journal.schemas import (
    MAX_RETENTION_BATCH,
    JournalForm,
    JournalRequestOut,
    MessageJournalOut,
    RetentionItem,
    RetentionOut,
)
from messaging.journal.settings import JournalConfig
from messaging.messages import journaling as messages
from messaging.models import AuthorRole, Message, MessageKind, MessageStatus
from messaging.people import staff_role
from messaging.rights import service as rights
from shared import audit
from shared.auth import PROVIDER_ROLES, User
from shared.contracts.casework import MessageJournaled
from shared.contracts.messaging import (
    JournalAttachment,
    MessageAuthor,
    MessageJournalRequested,
    Registrar,
)
from shared.events import Envelope
from shared.outbox import add_event
from shared.personnummer import Personnummer
from shared.problems import Conflict, NotAllowed, NotFound

FETCH_ROUTE = "/journal-fetch"
CASEWORK = "casework"  # the holder of a fetch capability, as the audit log names it


def _entry(user: User, action: str, message: Message) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=staff_role(user),
        action=action,
        object_type="message",
        object_id=str(message.id),
        subject_pnr=message.person_pnr,
    )


def _out(request: JournalRequest) -> JournalRequestOut:
    return JournalRequestOut(
        id=request.id,
        message_id=request.message_id,
        record_id=request.record_id,
        entry_type=request.entry_type,
        sender=request.sender,
        title=request.title,
        entry_date=request.entry_date,
        requested_by=request.requested_by_name,
        requested_at=request.requested_at,
        status="journaled" if request.journaled_at else "requested",
        journaled_at=request.journaled_at,
        journal_entry_id=request.journal_entry_id,
    )


def _author(message: Message) -> MessageAuthor:
    related = message.author_role == AuthorRole.RELATED_PERSON
    return MessageAuthor(
        sub=message.author_sub,
        name=message.author_name,
        role=message.author_role.value
        if isinstance(message.author_role, AuthorRole)
        else message.author_role,
        pnr=Personnummer(message.author_pnr) if message.author_pnr else None,
        on_behalf_of=message.person_name if related else None,
        approval_id=message.approval_id if related else None,
    )


async def _check_target(session: AsyncSession, user: User, message: Message, record_id: uuid.UUID) -> None:
    """The record is the message's person's and a unit of the user's holds it; for
    provider staff also a running assignment for the person. Refusals audited."""
    refused = _entry(user, "journal", message)
    record = await rights.intake_record(session, record_id)
    if record is None:
        raise NotFound("There is no such intake record (messaging has not heard of it).")
    if record.person_id != message.person_id:
        raise await audit.refuse(
            session,
            refused,
            NotAllowed("The intake record is not the record of the person the message concerns."),
        )
    if record.unit not in user.units:
        raise await audit.refuse(
            session, refused, NotAllowed("The intake record belongs to another unit: journal into your own.")
        )
    if user.roles & PROVIDER_ROLES and not await rights.may_write(session, user, record.person_id):
        raise await audit.refuse(
            session, refused, NotAllowed("Your unit has no running assignment for this person.")
        )


def fetch_url(config: JournalConfig, attachment_id: uuid.UUID, request_id: uuid.UUID, now: datetime) -> str:
    token = tokens.sign(config.fetch_key, attachment_id, request_id, now + config.fetch_ttl)
    return f"{config.public_url}{FETCH_ROUTE}/{attachment_id}?token={token}"


async def journal(
    session: AsyncSession, user: User, message_id: uuid.UUID, form: JournalForm, config: JournalConfig
) -> JournalRequestOut:
    """Journalför: ask casework to journal the message into the record."""
    opened = await messages.open_for_journal(session, user, message_id, "journal")
    message = opened.message
    if message.kind != MessageKind.MESSAGE or message.status != MessageStatus.SENT:
        raise Conflict("Only a sent or received message can be journaled (not a draft or a receipt).")
    if message.person_id is None or message.person_pnr is None:
        raise Conflict("The message concerns no person (Till klient): there is no record to journal it into.")
    await _check_target(session, user, message, form.record_id)
    if await repository.journaled_into(session, message.id, form.record_id) is not None:
        raise Conflict("The message is journaled into that intake record already.")

    now = datetime.now(UTC)
    sent_at = message.sent_at or message.created_at
    request = JournalRequest(
        id=uuid.uuid4(),
        message_id=message.id,
        record_id=form.record_id,
        person_id=message.person_id,
        person_pnr=message.person_pnr,
        entry_type=form.entry_type,
        sender=form.sender,
        title=form.title or message.subject,
        entry_date=form.date or sent_at.astimezone(TIME_ZONE).date(),
        requested_by_sub=user.sub,
        requested_by_name=user.name or user.sub,
        requested_at=now,
    )
    await repository.add(session, request)
    files = await attachments.of_message(session, message.id)
    await add_event(
        session,
        MessageJournalRequested(
            request_id=request.id,
            message_id=message.id,
            record_id=request.record_id,
            person_id=request.person_id,
            entry_type=form.entry_type,
            sender=form.sender,
            sender_designation=form.sender_designation,
            title=request.title,
            entry_date=request.entry_date,
            text=messages.plain_text(message.body),
            message_subject=message.subject,
            sent_at=sent_at,
            author=_author(message),
            registered_by=Registrar(sub=user.sub, name=request.requested_by_name),
            attachments=[
                JournalAttachment(
                    attachment_id=f.id,
                    filename=f.filename,
                    content_type=f.content_type,
                    size=f.size,
                    sha256=f.sha256,
                    url=fetch_url(config, f.id, request.id, now),
                )
                for f in files
            ],
            requested_at=now,
        ),
        SOURCE,
    )
    await audit.record(session, _entry(user, "journal", message))
    return _out(request)


async def status(session: AsyncSession, user: User, message_id: uuid.UUID) -> MessageJournalOut:
    """Whether (and where) the message is journaled."""
    opened = await messages.open_for_journal(session, user, message_id, "read")
    requests = await repository.of_message(session, message_id)
    await audit.record(session, _entry(user, "read", opened.message))
    journaled = [r.journaled_at for r in requests if r.journaled_at is not None]
    return MessageJournalOut(
        message_id=message_id,
        journaled=bool(journaled),
        journaled_at=min(journaled) if journaled else None,
        requests=[_out(r) for r in requests],
    )


async def fetch(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    attachment_id: uuid.UUID,
    token: str,
    config: JournalConfig,
) -> StreamingResponse:
    """An attachment, streamed, to whoever holds a valid capability for it: a
    journal request still waiting for casework, of the message the attachment is on."""
    refused = audit.AuditEntry(CASEWORK, "system", "read", "attachment", str(attachment_id))
    try:
        grant = tokens.verify(config.fetch_key, attachment_id, token)
    except tokens.BadToken:
        raise await audit.refuse(
            session, refused, NotAllowed("The link is not valid for this attachment, or it has expired.")
        ) from None
    request = await repository.get(session, grant.request_id)
    if request is None or request.purged_at is not None:
        raise NotFound("There is no such journal request.")
    refused = audit.AuditEntry(
        CASEWORK, "system", "read", "attachment", str(attachment_id), subject_pnr=request.person_pnr
    )
    if request.journaled_at is not None:
        raise await audit.refuse(session, refused, NotAllowed("The message is journaled: the link is spent."))
    return await attachments.download_response(
        sessionmaker,
        attachment_id,
        message_id=request.message_id,
        session=session,
        user=User(sub=CASEWORK, name="casework", roles=frozenset({"system"})),
        subject_pnr=request.person_pnr,
    )


async def on_message_journaled(session: AsyncSession, event: MessageJournaled, envelope: Envelope) -> None:
    """Casework has the journal entry: the message is journaled (the retention clock starts)."""
    changed = await repository.mark_journaled(
        session, event.message_id, event.record_id, event.journal_entry_id, event.journaled_at
    )
    if changed:
        await audit.record(
            session,
            audit.from_event(envelope, "update", "message", event.message_id, changed[0].person_pnr),
        )


async def retention(
    session: AsyncSession, actor: User, dry_run: bool, config: JournalConfig, now: datetime | None = None
) -> RetentionOut:
    """Purge (or, dry, list) the messages journaled longer than `config.retention`
    ago. Only messages whose every journaling is done; never one not journaled."""
    cutoff = (now or datetime.now(UTC)) - config.retention
    due = await repository.due(session, cutoff, MAX_RETENTION_BATCH + 1)
    more = len(due) > MAX_RETENTION_BATCH
    due = due[:MAX_RETENTION_BATCH]
    rows = await (repository.of_messages if dry_run else repository.locked_of_messages)(session, due)
    by_message: dict[uuid.UUID, list[JournalRequest]] = {}
    for row in rows:
        by_message.setdefault(row.message_id, []).append(row)
    items: list[RetentionItem] = []
    pnrs: dict[uuid.UUID, str] = {}
    for message_id in due:
        requests = by_message.get(message_id, [])
        # Under the lock again: a new journaling since the scan keeps the message.
        if not requests or any(r.journaled_at is None or r.journaled_at >= cutoff for r in requests):
            continue
        last = max(r.journaled_at for r in requests if r.journaled_at is not None)
        items.append(
            RetentionItem(
                message_id=message_id,
                person_id=requests[0].person_id,
                record_ids=sorted({r.record_id for r in requests}),
                journaled_at=last,
            )
        )
        pnrs[message_id] = requests[0].person_pnr
    ids = [i.message_id for i in items]
    role = actor.main_role
    if dry_run:
        await audit.record_each(session, actor.sub, role, "retention_dry_run", "message", pnrs.items())
    else:
        await messages.purge(session, ids)
        await repository.mark_purged(session, ids, datetime.now(UTC))
        await audit.record_each(session, actor.sub, role, "purge", "message", pnrs.items())
    return RetentionOut(dry_run=dry_run, cutoff=cutoff, count=len(items), messages=items, more=more)
