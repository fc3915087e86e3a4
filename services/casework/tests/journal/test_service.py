"""The journal of an intake record at the service layer, against casework's real
PostgreSQL: a MessageJournalRequested becomes a journal entry attributed to the
real author (a related person named as such, CW-12), its attachments fetched
over HTTP from a real server standing in for messaging's capability route and
filed as documents of the record; a failed fetch writes nothing (and tells the
inbox whether to pause or dead-letter); one entry per message and record; the
journal is read under the record's access rule, audited."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from casework.cases import service as cases
from casework.cases.schemas import CaseCreate, InvestigationStart
from casework.journal import service
from casework.journal.fetch import Fetcher, FetchRefused, FetchUnavailable
from casework.journal.schemas import JournalCaseLink
from casework.models import Document, IntakeRecord, JournalEntry, Person
from shared.auth import User
from shared.contracts.messaging import JournalAttachment, MessageAuthor, MessageJournalRequested, Registrar
from shared.events import Envelope, Event
from shared.infra_errors import is_infrastructure_error
from shared.personnummer import Personnummer
from shared.problems import InvalidInput, NotAllowed

FILE = b"%PDF-1.4 samtycke " + bytes(range(256)) * 2000  # ~0.5 MB
JOURNALED = "se.omsorg.casework.journal.message-journaled.v1"
HEMTJANST = CaseCreate(service_code="hemtjanst", service_name="Hemtjänst", legal_basis="SoL 4 kap. 1 §")


@dataclass
class Messaging:
    """A real HTTP server in the place of messaging's /journal-fetch route."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    fetched: int = 0

    def attachment(self, content: bytes = FILE, **values: Any) -> JournalAttachment:
        attachment_id = uuid.uuid4()
        self.files[str(attachment_id)] = content
        return JournalAttachment.model_validate(
            {
                "attachment_id": attachment_id,
                "filename": "Samtycke.pdf",
                "content_type": "application/pdf",
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "url": f"{self.url}/journal-fetch/{attachment_id}?token=t",
                **values,
            }
        )


@pytest.fixture
async def messaging() -> AsyncIterator[Messaging]:
    state = Messaging()

    async def fetch(request: Request) -> Response:
        state.fetched += 1
        content = state.files.get(request.path_params["attachment_id"])
        if state.status != 200 or content is None:
            return Response(status_code=state.status if state.status != 200 else 404)

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(content), 65536):
                yield content[start : start + 65536]

        return StreamingResponse(pieces(), headers={"content-length": str(len(content))})

    app = Starlette(routes=[Route("/journal-fetch/{attachment_id}", fetch)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    sock.listen()  # connections wait in the backlog until the server takes them
    task = asyncio.create_task(server.serve(sockets=[sock]))
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield state
    server.should_exit = True
    await task
    sock.close()


def envelope_of(event: Event) -> Envelope:
    return Envelope(uuid.uuid4(), event.ce_type, "/omsorg/messaging", datetime.now(UTC))


async def record_of(session: AsyncSession, person: Person) -> IntakeRecord:
    record = await session.scalar(select(IntakeRecord).where(IntakeRecord.person_id == person.id))
    assert record is not None
    return record


def request(
    record: IntakeRecord,
    attachments: list[JournalAttachment],
    author: MessageAuthor | None = None,
    message_id: uuid.UUID | None = None,
) -> MessageJournalRequested:
    return MessageJournalRequested(
        request_id=uuid.uuid4(),
        message_id=message_id or uuid.uuid4(),
        record_id=record.id,
        person_id=record.person_id,
        entry_type="Inkommen handling",
        sender="Den enskilde",
        title="Samtycke från klient",
        entry_date=date(2024, 8, 16),
        text="Hej!\n\nHär är samtycket.",
        message_subject="Samtycke",
        sent_at=datetime.now(UTC),
        author=author or MessageAuthor(sub="c-1", name="Annika Test", role="citizen"),
        registered_by=Registrar(sub="cw-1", name="Marita Aronsson"),
        attachments=attachments,
        requested_at=datetime.now(UTC),
    )


async def entries(session: AsyncSession, record: IntakeRecord) -> int:
    return int(await session.scalar(select(func.count()).where(JournalEntry.record_id == record.id)) or 0)


async def documents(session: AsyncSession, record: IntakeRecord) -> list[Document]:
    return list(await session.scalars(select(Document).where(Document.record_id == record.id)))


async def test_a_journaled_message_becomes_an_entry_and_its_files_documents_of_the_record(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
    audit_of: Any,
    events_of: Any,
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)
    event = request(record, [messaging.attachment(), messaging.attachment(b"second file")])

    entry_id = await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))

    journal = await service.of_record(session, caseworker, record.id)
    [entry] = journal.entries
    assert entry.id == entry_id and (entry.entry_type, entry.sender, entry.title) == (
        "Inkommen handling",
        "Den enskilde",
        "Samtycke från klient",
    )
    assert entry.date == date(2024, 8, 16) and entry.text == "Hej!\n\nHär är samtycket."
    assert entry.author.label == "Annika Test" and entry.registered_by == "Marita Aronsson"
    files = {d.id: d for d in await documents(session, record)}
    assert [files[d.id].content for d in entry.documents] == [FILE, b"second file"]
    assert {files[d.id].doc_type for d in entry.documents} == {"Inkommen handling"}
    assert await events_of(event.message_id) == [JOURNALED]
    answer = await session.scalar(
        text("SELECT convert_from(payload, 'UTF8')::jsonb FROM outbox WHERE key = :key"),
        {"key": str(event.message_id)},
    )
    assert answer["journal_entry_id"] == str(entry_id) and answer["record_id"] == str(record.id)
    assert answer["document_ids"] == [str(d.id) for d in entry.documents]
    rows = await audit_of(person.pnr)
    assert ("event:/omsorg/messaging", "system", "create", "journal_entry", str(entry_id), "allowed") in rows
    assert ("list", "journal_entry", str(record.id)) in [(r[2], r[3], r[4]) for r in rows]


async def test_a_related_persons_message_is_attributed_to_them(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
    new_pnr: Callable[[], str],
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)
    related_pnr = new_pnr()
    author = MessageAuthor(
        sub="c-2",
        name="Josefine Test",
        role="related_person",
        pnr=Personnummer(related_pnr),
        on_behalf_of="Annika Test",
        approval_id=uuid.uuid4(),
    )
    event = request(record, [], author=author)

    await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))

    [entry] = (await service.of_record(session, caseworker, record.id)).entries
    shown = f"{related_pnr[:8]}-{related_pnr[8:]}"
    assert entry.author.role == "related_person" and entry.author.on_behalf_of == "Annika Test"
    assert entry.author.label == f"Josefine Test ({shown}), närstående för Annika Test"


async def test_a_message_is_journaled_into_a_record_once(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
    events_of: Any,
) -> None:
    record = await record_of(session, await linked_person(caseworker))
    event = request(record, [messaging.attachment()])
    first = await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))
    again = event.model_copy(update={"request_id": uuid.uuid4()})  # asked again from messaging

    second = await service.journal_message(session, again, envelope_of(again), Fetcher(messaging.url))

    assert (
        second == first and await entries(session, record) == 1 and len(await documents(session, record)) == 1
    )
    assert messaging.fetched == 1  # nothing fetched again
    assert await events_of(event.message_id) == [JOURNALED, JOURNALED]  # answered again


@pytest.mark.parametrize("status", [503, 429])
async def test_messaging_unavailable_writes_nothing_and_is_retried_as_infrastructure(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
    status: int,
) -> None:
    record = await record_of(session, await linked_person(caseworker))
    event = request(record, [messaging.attachment()])
    messaging.status = status

    with pytest.raises(FetchUnavailable) as raised:
        async with session.begin_nested():
            await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))

    assert is_infrastructure_error(raised.value)
    assert await entries(session, record) == 0 and await documents(session, record) == []


async def test_messaging_gone_is_the_records_own_failure(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
) -> None:
    record = await record_of(session, await linked_person(caseworker))
    gone = request(record, [messaging.attachment()])
    messaging.status = 403  # the link expired or is spent

    with pytest.raises(FetchRefused) as raised:
        async with session.begin_nested():
            await service.journal_message(session, gone, envelope_of(gone), Fetcher(messaging.url))
    assert not is_infrastructure_error(raised.value)
    assert await entries(session, record) == 0 and await documents(session, record) == []


async def test_a_file_other_than_announced_or_elsewhere_is_refused_and_nothing_written(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
) -> None:
    record = await record_of(session, await linked_person(caseworker))
    good = messaging.attachment()
    wrong_hash = messaging.attachment(sha256="0" * 64)
    elsewhere = good.model_copy(
        update={"url": f"http://127.0.0.2:1/journal-fetch/{good.attachment_id}?token=t"}
    )
    other_path = good.model_copy(update={"url": f"{messaging.url}/attachments/{good.attachment_id}"})

    for attachments in ([good, wrong_hash], [elsewhere], [other_path]):
        event = request(record, attachments)
        with pytest.raises(FetchRefused):
            async with session.begin_nested():
                await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))
        assert await entries(session, record) == 0 and await documents(session, record) == []


async def test_a_record_that_is_not_the_persons_is_refused(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
) -> None:
    record = await record_of(session, await linked_person(caseworker))
    other = await record_of(session, await linked_person(caseworker))
    event = request(record, []).model_copy(update={"person_id": other.person_id})

    with pytest.raises(service.JournalRequestRefused):
        await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))
    unknown = request(record, []).model_copy(update={"record_id": uuid.uuid4()})
    with pytest.raises(service.JournalRequestRefused):
        await service.journal_message(session, unknown, envelope_of(unknown), Fetcher(messaging.url))


async def test_a_caseworker_of_another_unit_may_not_read_the_journal(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
    audit_of: Any,
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)
    event = request(record, [])
    await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))
    stranger = make_caseworker()

    with pytest.raises(NotAllowed):
        await service.of_record(session, stranger, record.id)

    assert (stranger.sub, "caseworker", "list", "journal_entry", str(record.id), "refused") in await audit_of(
        person.pnr
    )


async def test_an_entry_is_filed_under_a_case_of_its_record_with_its_attachments(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    linked_person: Callable[..., Awaitable[Person]],
    messaging: Messaging,
    audit_of: Any,
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)
    await cases.start_investigation(
        session, caseworker, record.id, InvestigationStart(investigation_type="Ansökan SoL")
    )
    case = await cases.create_case(session, caseworker, record.id, HEMTJANST)
    event = request(record, [messaging.attachment()])
    entry_id = await service.journal_message(session, event, envelope_of(event), Fetcher(messaging.url))
    assert (await service.of_case(session, caseworker, case.id)).entries == []

    filed = await service.file_under_case(session, caseworker, entry_id, JournalCaseLink(case_id=case.id))
    assert filed.case_id == case.id
    [entry] = (await service.of_case(session, caseworker, case.id)).entries
    assert entry.id == entry_id
    assert {d.case_id for d in await documents(session, record)} == {case.id}
    rows = await audit_of(person.pnr)
    assert (caseworker.sub, "caseworker", "update", "journal_entry", str(entry_id), "allowed") in rows

    other_record = await record_of(session, await linked_person(caseworker))
    await cases.start_investigation(
        session, caseworker, other_record.id, InvestigationStart(investigation_type="Ansökan SoL")
    )
    elsewhere = await cases.create_case(session, caseworker, other_record.id, HEMTJANST)
    for wrong in (elsewhere.id, uuid.uuid4()):  # another record's case, no case at all
        with pytest.raises(InvalidInput, match="not one of the journal entry's intake record"):
            async with session.begin_nested():
                await service.file_under_case(session, caseworker, entry_id, JournalCaseLink(case_id=wrong))
    with pytest.raises(NotAllowed):
        async with session.begin_nested():
            await service.file_under_case(session, make_caseworker(), entry_id, JournalCaseLink(case_id=None))
    unfiled = await service.file_under_case(session, caseworker, entry_id, JournalCaseLink(case_id=None))
    assert unfiled.case_id is None
    assert {d.case_id for d in await documents(session, record)} == {None}
