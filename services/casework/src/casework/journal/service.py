"""The journal of an intake record (CW-11, CW-12): messages journaled from
messaging (MessageJournalRequested), each an entry linked to the record with its
type, sender, title, date and text, attributed to the real author: a related
person who wrote for the citizen is named as such (the source system could not
do that). The message's attachments are fetched from messaging over HTTP
(capability URLs; never on Kafka) and filed as documents of the record.

The handler runs in the inbox consumer's transaction: the entry, its documents,
the audit entries and the answer (MessageJournaled) commit together or not at
all, so a failed fetch leaves nothing half-written (see `fetch` for which
failures are retried without limit). One entry per message and record: a
request for a message already journaled there writes nothing and answers again.
Caseworkers read the journal through the record's own access rule, audited.

A caseworker files an entry under one of its record's cases (CW-11: journal
entries per case); its attachments become documents of that case. Messaging
journals into the record (its request names no case), so this is a step in
casework, and moving the entry to another case of the record moves them along."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases import service as cases
from casework.config import SOURCE
from casework.intake_records import journaling as intake_records
from casework.journal import repository
from casework.journal.fetch import Fetcher
from casework.journal.schemas import (
    AuthorOut,
    CaseJournalOut,
    JournalCaseLink,
    JournalDocumentOut,
    JournalEntryOut,
    RecordJournalOut,
)
from casework.journal.settings import fetcher
from casework.models import Document, JournalEntry
from casework.persons import service as persons
from shared import audit
from shared.auth import User
from shared.contracts.casework import MessageJournaled
from shared.contracts.messaging import MessageJournalRequested
from shared.events import Envelope
from shared.outbox import add_event
from shared.problems import Conflict, InvalidInput, NotFound


class JournalRequestRefused(Exception):
    """The request does not fit casework's records (an unknown record, another
    person's): the record's own failure, dead-lettered. Names no personal data."""


def _pnr_label(pnr: str) -> str:
    return f"{pnr[:8]}-{pnr[8:]}"


def author_label(name: str, role: str, pnr: str | None, on_behalf_of: str | None) -> str:
    """The real author as the journal shows them (CW-12)."""
    shown = f"{name} ({_pnr_label(pnr)})" if pnr else name
    if role == "related_person":
        return f"{shown}, närstående för {on_behalf_of or 'den enskilde'}"
    return shown


async def on_journal_requested(
    session: AsyncSession, event: MessageJournalRequested, envelope: Envelope
) -> None:
    """The consumer's handler: journal the message with the configured fetcher."""
    await journal_message(session, event, envelope, fetcher())


async def journal_message(
    session: AsyncSession, event: MessageJournalRequested, envelope: Envelope, fetch: Fetcher
) -> uuid.UUID:
    """Write the journal entry and file the attachments; answer MessageJournaled. The entry's id."""
    existing = await repository.for_message(session, event.record_id, event.message_id)
    if existing is not None:
        await _answer(session, event, existing)
        return existing.id
    record = await intake_records.get(session, event.record_id)
    if record is None or record.person_id != event.person_id:
        raise JournalRequestRefused("the intake record is unknown or another person's")
    person = await persons.by_id(session, record.person_id)
    now = datetime.now(UTC)
    document_ids: list[uuid.UUID] = []
    for attachment in event.attachments:  # one file in memory at a time
        content = await fetch.fetch(attachment)
        document_ids.append(
            await intake_records.file_document(
                session,
                record,
                doc_type=event.entry_type,
                title=attachment.filename,
                content_type=attachment.content_type,
                content=content,
                at=now,
            )
        )
        del content
    author = event.author
    entry = JournalEntry(
        id=uuid.uuid4(),
        record_id=record.id,
        person_id=record.person_id,
        message_id=event.message_id,
        request_id=event.request_id,
        entry_type=event.entry_type,
        sender=event.sender,
        sender_designation=event.sender_designation,
        title=event.title,
        entry_date=event.entry_date,
        subject=event.message_subject,
        text=event.text,
        sent_at=event.sent_at,
        author_sub=author.sub,
        author_name=author.name,
        author_role=author.role,
        author_pnr=str(author.pnr) if author.pnr else None,
        on_behalf_of=author.on_behalf_of,
        approval_id=author.approval_id,
        registered_by_sub=event.registered_by.sub,
        registered_by_name=event.registered_by.name,
        document_ids=document_ids,
        created_at=now,
    )
    await repository.add(session, entry)
    await audit.record(
        session,
        audit.from_event(envelope, "create", "journal_entry", entry.id, person.pnr),
        *(audit.from_event(envelope, "create", "document", d, person.pnr) for d in document_ids),
    )
    await _answer(session, event, entry)
    return entry.id


async def _answer(session: AsyncSession, event: MessageJournalRequested, entry: JournalEntry) -> None:
    """MessageJournaled: the entry exists (written now, or by an earlier request)."""
    await add_event(
        session,
        MessageJournaled(
            request_id=event.request_id,
            message_id=event.message_id,
            record_id=entry.record_id,
            journal_entry_id=entry.id,
            document_ids=list(entry.document_ids),
            journaled_at=entry.created_at,
        ),
        SOURCE,
    )


def _out(entry: JournalEntry, documents: dict[uuid.UUID, Document]) -> JournalEntryOut:
    return JournalEntryOut(
        id=entry.id,
        record_id=entry.record_id,
        case_id=entry.case_id,
        message_id=entry.message_id,
        entry_type=entry.entry_type,
        sender=entry.sender,
        sender_designation=entry.sender_designation,
        title=entry.title,
        date=entry.entry_date,
        subject=entry.subject,
        text=entry.text,
        sent_at=entry.sent_at,
        author=AuthorOut(
            name=entry.author_name,
            role=entry.author_role,
            on_behalf_of=entry.on_behalf_of,
            label=author_label(entry.author_name, entry.author_role, entry.author_pnr, entry.on_behalf_of),
        ),
        registered_by=entry.registered_by_name,
        documents=[
            JournalDocumentOut(id=d.id, title=d.title, content_type=d.content_type)
            for d in (documents.get(i) for i in entry.document_ids)
            if d is not None
        ],
        created_at=entry.created_at,
    )


async def of_record(session: AsyncSession, user: User, record_id: uuid.UUID) -> RecordJournalOut:
    """The record's journal, newest first, as the record's other views: a unit of the
    caseworker's holds it; audited (a refusal too)."""
    await intake_records.reach_record(session, user, record_id, "list", "journal_entry")
    entries = await repository.of_record(session, record_id)
    documents = await intake_records.documents(session, record_id)
    return RecordJournalOut(record_id=record_id, entries=[_out(e, documents) for e in entries])


async def of_case(session: AsyncSession, user: User, case_id: uuid.UUID) -> CaseJournalOut:
    """The journal entries filed under the case, newest first, under the record's access rule; audited."""
    case, record, _ = await cases.reach_case(session, user, case_id, "list", "journal_entry")
    entries = await repository.of_case(session, case.id)
    documents = await intake_records.documents(session, record.id)
    return CaseJournalOut(case_id=case.id, entries=[_out(e, documents) for e in entries])


async def file_under_case(
    session: AsyncSession, user: User, entry_id: uuid.UUID, form: JournalCaseLink
) -> JournalEntryOut:
    """File the entry, with its attachments, under a case of its record (or under the record alone)."""
    entry = await repository.get_locked(session, entry_id)
    if entry is None:
        raise NotFound("There is no such journal entry.")
    record, _ = await intake_records.reach_record(
        session, user, entry.record_id, "update", "journal_entry", entry.id
    )
    if form.case_id is not None:
        case = await cases.get(session, form.case_id)
        if case is None or case.record_id != record.id:
            raise InvalidInput("The case is not one of the journal entry's intake record.", field="case_id")
    documents = await intake_records.documents(session, record.id)
    filed = [documents[d] for d in entry.document_ids if d in documents]
    if any(d.write_protected_at is not None and d.case_id != form.case_id for d in filed):
        raise Conflict("An attachment of this entry is write-protected: it stays filed where it is.")
    entry.case_id = form.case_id
    for document in filed:
        document.case_id = form.case_id
    await session.flush()
    return _out(entry, documents)
