"""Journaling (MS-9, CW-12) and retention (MS-11) at the service layer, against
messaging's real PostgreSQL: who may journal a message into which intake record
(the record of another unit or person is refused, audited, and nothing is
written), what casework is asked (the text, the real author, attachments as
capability URLs), the answer marking the message journaled once, the fetch
route's capability, and the retention rule's dry run and purge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.attachments import service as attachments
from messaging.attachments.models import Attachment
from messaging.journal import service, tokens
from messaging.journal.models import JournalRequest
from messaging.journal.schemas import JournalForm
from messaging.journal.settings import JournalConfig
from messaging.messages import service as messages
from messaging.messages.schemas import CitizenMessageForm
from messaging.models import MailboxItem, Message
from shared.auth import User
from shared.contracts.casework import MessageJournaled
from shared.problems import Conflict, NotAllowed, NotFound

REQUESTED = "se.omsorg.messaging.message.journal-requested.v1"
CONFIG = JournalConfig(
    public_url="http://messaging.test",
    fetch_key=b"k" * 32,
    fetch_ttl=timedelta(days=14),
    retention=timedelta(days=90),
)
ADMIN = User(sub="admin-1", name="Ada Admin", roles=frozenset({"messaging_admin"}))
FILE = b"Samtycke till informationsutbyte\n" * 100


async def chunks(data: bytes) -> AsyncIterable[bytes]:
    yield data


@pytest.fixture
def sessionmaker(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection, as the download stream opens them."""
    return async_sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint")


async def citizen_writes(
    session: AsyncSession, world: Any, make_citizen: Any, caseworker: User, with_file: bool = True
) -> tuple[Any, uuid.UUID, uuid.UUID]:
    """A citizen with the e-service on writes to their caseworker (with a file):
    (the person, their intake record, the message id)."""
    person = await world.citizen(make_citizen)
    record_id = await world.assign(person, caseworker)
    ids = []
    if with_file:
        upload = await attachments.upload(session, person.user, "Samtycke.txt", "text/plain", chunks(FILE))
        ids.append(upload.id)
    sent = await messages.citizen_send(
        session,
        person.user,
        None,
        CitizenMessageForm(
            subject="Samtycke",
            body="<p>Hej!</p><p>Här är <b>samtycket</b> &amp; mer.</p>",
            attachment_ids=ids,
        ),
    )
    return person, record_id, sent.id


def form(record_id: uuid.UUID, **values: Any) -> JournalForm:
    return JournalForm.model_validate(
        {"record_id": record_id, "entry_type": "Inkommen handling", "sender": "Den enskilde", **values}
    )


async def requests_of(session: AsyncSession, message_id: uuid.UUID) -> list[JournalRequest]:
    return list(await session.scalars(select(JournalRequest).where(JournalRequest.message_id == message_id)))


async def body_of(response: Any) -> bytes:
    iterator: AsyncIterator[bytes] = response.body_iterator
    return b"".join([piece async for piece in iterator])


async def test_the_caseworker_journals_a_citizens_message_with_its_text_author_and_file(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, outbox: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    person, record_id, message_id = await citizen_writes(session, world, make_citizen, caseworker)

    out = await service.journal(
        session, caseworker, message_id, form(record_id, title="Samtycke från klient"), CONFIG
    )

    assert out.status == "requested" and out.record_id == record_id and out.title == "Samtycke från klient"
    [event] = await outbox(REQUESTED, str(message_id))
    assert event["record_id"] == str(record_id) and event["person_id"] == str(person.person_id)
    assert (event["entry_type"], event["sender"]) == ("Inkommen handling", "Den enskilde")
    assert event["text"] == "Hej!\n\nHär är samtycket & mer."  # plain text, paragraphs kept
    assert event["message_subject"] == "Samtycke"
    assert event["author"] == {
        "sub": person.user.sub,
        "name": "Annika Test",
        "role": "citizen",
        "pnr": str(person.user.pnr),
        "on_behalf_of": None,
        "approval_id": None,
    }
    assert event["registered_by"] == {"sub": caseworker.sub, "name": caseworker.name}
    [file] = event["attachments"]
    assert (file["filename"], file["size"], file["content_type"]) == (
        "Samtycke.txt",
        len(FILE),
        "text/plain; charset=utf-8",
    )
    url = urlsplit(file["url"])
    assert (
        f"{url.scheme}://{url.netloc}{url.path}"
        == f"http://messaging.test/journal-fetch/{file['attachment_id']}"
    )
    grant = tokens.verify(CONFIG.fetch_key, uuid.UUID(file["attachment_id"]), parse_qs(url.query)["token"][0])
    assert grant.request_id == out.id
    assert ("journal", "message", str(message_id)) in [
        (e["action"], e["object_type"], e["object_id"]) for e in await audit_log(str(person.user.pnr))
    ]


async def test_a_message_a_related_person_wrote_names_the_related_person(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, outbox: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen)
    record_id = await world.assign(person, caseworker)
    related = make_citizen(name="Josefine Test")
    approval_id = await world.approve(person, related)
    sent = await messages.citizen_send(
        session, related, approval_id, CitizenMessageForm(subject="Fråga", body="Jag skriver för mamma.")
    )

    await service.journal(session, caseworker, sent.id, form(record_id, sender="Närstående"), CONFIG)

    [event] = await outbox(REQUESTED, str(sent.id))
    assert event["author"] == {
        "sub": related.sub,
        "name": "Josefine Test",
        "role": "related_person",
        "pnr": str(related.pnr),
        "on_behalf_of": "Annika Test",
        "approval_id": str(approval_id),
    }
    assert event["attachments"] == [] and event["text"] == "Jag skriver för mamma."


async def test_a_record_of_another_unit_is_refused_audited_and_nothing_is_written(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, outbox: Any, refusals: Any
) -> None:
    caseworker = make_staff()
    person, _, message_id = await citizen_writes(session, world, make_citizen, caseworker, with_file=False)
    elsewhere = await world.assign(person, make_staff(units=("annan-enhet",)))

    with pytest.raises(NotAllowed, match="another unit"):
        await service.journal(session, caseworker, message_id, form(elsewhere), CONFIG)

    assert await requests_of(session, message_id) == []
    assert await outbox(REQUESTED, str(message_id)) == []
    assert [(r["action"], r["object_id"]) for r in await refusals(caseworker.sub)] == [
        ("journal", str(message_id))
    ]


async def test_a_record_of_another_person_is_refused_and_an_unknown_one_not_found(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    caseworker = make_staff()
    _, _, message_id = await citizen_writes(session, world, make_citizen, caseworker, with_file=False)
    other = await world.citizen(make_citizen)
    others_record = await world.assign(other, caseworker)  # same unit, another person

    with pytest.raises(NotAllowed, match="not the record of the person"):
        await service.journal(session, caseworker, message_id, form(others_record), CONFIG)
    with pytest.raises(NotFound):
        await service.journal(session, caseworker, message_id, form(uuid.uuid4()), CONFIG)
    assert [r["action"] for r in await refusals(caseworker.sub)] == ["journal"]
    assert await requests_of(session, message_id) == []


async def test_a_message_the_user_cannot_read_cannot_be_journaled(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    caseworker = make_staff()
    person, record_id, message_id = await citizen_writes(
        session, world, make_citizen, caseworker, with_file=False
    )
    colleague = make_staff(name="Kollega Test")  # same unit, but not a mailbox holding it
    await world.assign(person, colleague)

    with pytest.raises(NotAllowed):
        await service.journal(session, colleague, message_id, form(record_id), CONFIG)
    assert await refusals(colleague.sub) and await requests_of(session, message_id) == []


async def test_provider_staff_without_an_assignment_are_refused(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    caseworker = make_staff()
    person, record_id, message_id = await citizen_writes(
        session, world, make_citizen, caseworker, with_file=False
    )
    provider = make_staff(name="Utförare", units=("testenhet",), roles=("provider",), provider_id="p-1")
    # The message reaches the provider's own mailbox (forwarded), so only the assignment rule is left.
    from messaging.messages.schemas import ForwardForm

    box = (await messages.overview(session, provider))[0]
    await messages.forward(session, caseworker, message_id, ForwardForm(to=[box.id]))
    forwarded = await session.scalar(
        select(Message.id).where(Message.forwarded_from_id == message_id).order_by(Message.created_at.desc())
    )
    assert forwarded is not None

    with pytest.raises(NotAllowed, match="no running assignment"):
        await service.journal(session, provider, forwarded, form(record_id), CONFIG)
    assert await requests_of(session, forwarded) == []
    assert await refusals(provider.sub)
    del person


async def test_casework_s_answer_marks_the_message_journaled_once(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, make_envelope: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    person, record_id, message_id = await citizen_writes(session, world, make_citizen, caseworker)
    out = await service.journal(session, caseworker, message_id, form(record_id), CONFIG)
    answer = MessageJournaled(
        request_id=out.id,
        message_id=message_id,
        record_id=record_id,
        journal_entry_id=uuid.uuid4(),
        journaled_at=datetime.now(UTC),
    )
    envelope = make_envelope(answer)

    await service.on_message_journaled(session, answer, envelope)
    await service.on_message_journaled(session, answer, make_envelope(answer))  # a replay

    status = await service.status(session, caseworker, message_id)
    assert status.journaled and status.requests[0].journal_entry_id == answer.journal_entry_id
    updates = [e for e in await audit_log(str(person.user.pnr)) if e["actor"] == "event:/omsorg/casework"]
    assert [(e["action"], e["object_id"]) for e in updates if e["object_type"] == "message"] == [
        ("update", str(message_id))
    ]
    with pytest.raises(Conflict, match="already"):
        await service.journal(session, caseworker, message_id, form(record_id), CONFIG)


async def test_the_fetch_link_works_for_its_attachment_only_until_spent(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_staff: Any,
    make_citizen: Any,
    world: Any,
    outbox: Any,
    make_envelope: Any,
    refusals: Any,
) -> None:
    caseworker = make_staff()
    _, record_id, message_id = await citizen_writes(session, world, make_citizen, caseworker)
    out = await service.journal(session, caseworker, message_id, form(record_id), CONFIG)
    [event] = await outbox(REQUESTED, str(message_id))
    [file] = event["attachments"]
    attachment_id = uuid.UUID(file["attachment_id"])
    token = parse_qs(urlsplit(file["url"]).query)["token"][0]

    response = await service.fetch(session, sessionmaker, attachment_id, token, CONFIG)
    assert await body_of(response) == FILE

    with pytest.raises(NotAllowed):  # another attachment's id
        await service.fetch(session, sessionmaker, uuid.uuid4(), token, CONFIG)
    with pytest.raises(NotAllowed):  # tampered
        await service.fetch(
            session, sessionmaker, attachment_id, token[:-1] + ("1" if token.endswith("0") else "0"), CONFIG
        )
    expired = tokens.sign(CONFIG.fetch_key, attachment_id, out.id, datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(NotAllowed):
        await service.fetch(session, sessionmaker, attachment_id, expired, CONFIG)
    answer = MessageJournaled(
        request_id=out.id,
        message_id=message_id,
        record_id=record_id,
        journal_entry_id=uuid.uuid4(),
        journaled_at=datetime.now(UTC),
    )
    await service.on_message_journaled(session, answer, make_envelope(answer))
    with pytest.raises(NotAllowed, match="spent"):
        await service.fetch(session, sessionmaker, attachment_id, token, CONFIG)
    assert len(await refusals("casework")) >= 4


async def journaled(
    session: AsyncSession, world: Any, make_citizen: Any, make_staff: Any, make_envelope: Any, days_ago: float
) -> tuple[uuid.UUID, uuid.UUID]:
    """A message with a file, journaled `days_ago` days ago: (message id, its person's record)."""
    caseworker = make_staff()
    _, record_id, message_id = await citizen_writes(session, world, make_citizen, caseworker)
    out = await service.journal(session, caseworker, message_id, form(record_id), CONFIG)
    answer = MessageJournaled(
        request_id=out.id,
        message_id=message_id,
        record_id=record_id,
        journal_entry_id=uuid.uuid4(),
        journaled_at=datetime.now(UTC) - timedelta(days=days_ago),
    )
    await service.on_message_journaled(session, answer, make_envelope(answer))
    return message_id, record_id


async def count(session: AsyncSession, model: Any, message_id: uuid.UUID) -> int:
    column = model.id if model is Message else model.message_id
    return int(await session.scalar(select(func.count()).where(column == message_id)) or 0)


async def test_retention_dry_run_lists_and_the_purge_removes_only_journaled_messages_long_ago(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, make_envelope: Any, audit_log: Any
) -> None:
    old, _ = await journaled(session, world, make_citizen, make_staff, make_envelope, days_ago=91)
    recent, _ = await journaled(session, world, make_citizen, make_staff, make_envelope, days_ago=10)
    caseworker = make_staff()
    person, record_id, never = await citizen_writes(session, world, make_citizen, caseworker)
    _, _, pending = await citizen_writes(session, world, make_citizen, caseworker)
    del person, record_id
    # Everything is "old" from a date far ahead, but only journaled messages are ever due.
    later = datetime.now(UTC) + timedelta(days=3650)

    dry = await service.retention(session, ADMIN, True, CONFIG)
    assert old in [m.message_id for m in dry.messages] and recent not in [m.message_id for m in dry.messages]
    assert await count(session, Message, old) == 1 and await count(session, Attachment, old) == 1

    far = await service.retention(session, ADMIN, True, CONFIG, now=later)
    due = {m.message_id for m in far.messages}
    assert {old, recent} <= due and never not in due and pending not in due

    done = await service.retention(session, ADMIN, False, CONFIG)
    assert old in [m.message_id for m in done.messages]
    for model in (Message, MailboxItem, Attachment):
        assert await count(session, model, old) == 0
    assert await count(session, Message, recent) == 1 and await count(session, Message, never) == 1
    [request] = await requests_of(session, old)
    assert request.purged_at is not None
    purges = [e for e in await audit_log(request.person_pnr) if e["action"] == "purge"]
    assert purges == [
        {
            "actor": "admin-1",
            "actor_role": "messaging_admin",
            "action": "purge",
            "object_type": "message",
            "object_id": str(old),
            "outcome": "allowed",
        }
    ]
    again = await service.retention(session, ADMIN, False, CONFIG)
    assert old not in [m.message_id for m in again.messages]


async def test_a_message_waiting_for_casework_is_never_purged(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, make_envelope: Any
) -> None:
    message_id, record_id = await journaled(
        session, world, make_citizen, make_staff, make_envelope, days_ago=200
    )
    # Journaled into a second record of the person, not yet answered: it stays.
    [request] = await requests_of(session, message_id)
    caseworker_of = await session.scalar(select(MailboxItem).where(MailboxItem.message_id == message_id))
    assert caseworker_of is not None
    second = JournalRequest(
        id=uuid.uuid4(),
        message_id=message_id,
        record_id=uuid.uuid4(),
        person_id=request.person_id,
        person_pnr=request.person_pnr,
        entry_type="Inkommen handling",
        sender="Den enskilde",
        title="Samtycke",
        entry_date=date.today(),
        requested_by_sub="x",
        requested_by_name="x",
        requested_at=datetime.now(UTC),
    )
    session.add(second)
    await session.flush()

    result = await service.retention(session, ADMIN, False, CONFIG)

    assert message_id not in [m.message_id for m in result.messages]
    assert await count(session, Message, message_id) == 1
    del record_id
