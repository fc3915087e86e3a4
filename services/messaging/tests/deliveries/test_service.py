"""Deliveries to the e-service at the service layer, against messaging's real
PostgreSQL: an EServiceDeliveryRequested becomes a message from the caseworker's
personal mailbox (made on the spot if they never used messaging) in the
citizen's e-service mailbox, its PDF fetched over HTTP from a real server
standing in for casework's capability route and stored as the attachment;
notify is told with the request's kind and casework is answered; a replay makes
no second message; a failed fetch writes nothing and tells the inbox whether to
pause or dead-letter; an e-service turned off after the request is refused and
audited; one not yet known waits."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from messaging.attachments.models import Attachment
from messaging.attachments.service import Limits
from messaging.deliveries import service
from messaging.deliveries.models import DeliveryStatus
from messaging.deliveries.settings import FETCH_ROUTE, DeliveriesConfig
from messaging.messages import service as messages
from messaging.models import Folder, Mailbox, MailboxItem, Message
from shared.auth import User
from shared.capability_fetch import CapabilityFetcher, FetchRefused, FetchUnavailable
from shared.contracts.casework import DeliveryFile, EServiceDeliveryRequested
from shared.contracts.messaging import (
    EServiceDeliveryDone,
    EServiceDeliveryRefused,
    MessageDeliveredToEService,
)
from shared.infra_errors import is_infrastructure_error

PDF = b"%PDF-1.4 kallelse " + bytes(range(256)) * 2000  # ~0.5 MB, several chunks
DELIVERED = MessageDeliveredToEService.ce_type
DONE = EServiceDeliveryDone.ce_type
REFUSED = EServiceDeliveryRefused.ce_type


@dataclass
class Casework:
    """A real HTTP server in the place of casework's /e-service-fetch route."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    fetched: int = 0

    def file(self, content: bytes = PDF, **values: Any) -> DeliveryFile:
        document_id = uuid.uuid4()
        self.files[str(document_id)] = content
        return DeliveryFile.model_validate(
            {
                "document_id": document_id,
                "filename": "Kallelse till hembesök.pdf",
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "url": f"{self.url}{FETCH_ROUTE}{document_id}?token=t",
                **values,
            }
        )

    def settings(self) -> DeliveriesConfig:
        return DeliveriesConfig(CapabilityFetcher(self.url, FETCH_ROUTE, "casework", 10.0), Limits())


@pytest.fixture
async def casework() -> AsyncIterator[Casework]:
    state = Casework()

    async def fetch(request: Request) -> Response:
        state.fetched += 1
        content = state.files.get(request.path_params["document_id"])
        if state.status != 200 or content is None:
            return Response(status_code=state.status if state.status != 200 else 404)

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(content), 65536):
                yield content[start : start + 65536]

        return StreamingResponse(pieces(), headers={"content-length": str(len(content))})

    app = Starlette(routes=[Route(f"{FETCH_ROUTE}{{document_id}}", fetch)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    sock.listen()
    task = asyncio.create_task(server.serve(sockets=[sock]))
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield state
    server.should_exit = True
    await task
    sock.close()


def request_for(
    person_id: uuid.UUID, caseworker: User, file: DeliveryFile, kind: str = "document", **values: Any
) -> EServiceDeliveryRequested:
    return EServiceDeliveryRequested.model_validate(
        {
            "delivery_id": uuid.uuid4(),
            "kind": kind,
            "record_id": uuid.uuid4(),
            "case_id": None,
            "person_id": person_id,
            "caseworker_id": caseworker.sub,
            "caseworker_name": caseworker.name,
            "unit": caseworker.units[0],
            "message_subject": "Kallelse till hembesök",
            "message_text": "Hej!\n\nHär är kallelsen.\nVälkommen.",
            "file": file,
            "requested_at": datetime.now(UTC),
            **values,
        }
    )


async def messages_in(session: AsyncSession, mailbox_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        MailboxItem.mailbox_id == mailbox_id, MailboxItem.folder == Folder.INBOX
    )
    return int(await session.scalar(query) or 0)


async def test_a_requested_delivery_lands_in_the_citizens_e_service_mailbox_with_the_pdf(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
    outbox: Any,
    audit_log: Any,
) -> None:
    caseworker = make_staff()  # never used messaging: their mailbox is made now
    person = await world.citizen(make_citizen)
    event = request_for(person.person_id, caseworker, casework.file())

    delivery = await service.deliver(session, event, make_envelope(event), casework.settings())

    assert delivery.status == DeliveryStatus.DELIVERED and delivery.message_id is not None
    [summary] = await messages.citizen_list(session, person.user, None, Folder.INBOX)
    opened = await messages.citizen_read(session, person.user, None, summary.id)
    assert (opened.subject, opened.author.name, opened.from_label) == (
        "Kallelse till hembesök",
        caseworker.name,
        caseworker.name,
    )
    assert opened.body == "<p>Hej!</p><p>Här är kallelsen.<br>Välkommen.</p>"
    [attachment] = opened.attachments
    assert (attachment.filename, attachment.content_type, attachment.size, attachment.sha256) == (
        "Kallelse till hembesök.pdf",
        "application/pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    sender_box = await session.scalar(select(Mailbox).where(Mailbox.owner_sub == caseworker.sub))
    assert sender_box is not None and opened.from_mailbox.id == sender_box.id
    mailbox_id = str(delivery.mailbox_id)
    [announced] = await outbox(DELIVERED, mailbox_id)
    assert (announced["kind"], announced["message_id"]) == ("document", str(delivery.message_id))
    [answer] = await outbox(DONE, mailbox_id)
    assert (answer["delivery_id"], answer["document_id"], answer["message_id"]) == (
        str(event.delivery_id),
        str(event.file.document_id),
        str(delivery.message_id),
    )
    assert person.user.pnr is not None
    entries = await audit_log(str(person.user.pnr))
    assert {"actor": "event:/omsorg/casework", "actor_role": "system", "action": "deliver"} | {
        "object_type": "message",
        "object_id": str(delivery.message_id),
        "outcome": "allowed",
    } in entries
    assert any(e["actor"] == caseworker.sub and e["action"] == "send" for e in entries)


async def test_a_decision_is_announced_to_notify_as_a_decision(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
    outbox: Any,
) -> None:
    person = await world.citizen(make_citizen)
    event = request_for(person.person_id, make_staff(), casework.file(), kind="decision")

    delivery = await service.deliver(session, event, make_envelope(event), casework.settings())

    assert [e["kind"] for e in await outbox(DELIVERED, str(delivery.mailbox_id))] == ["decision"]


async def test_a_replayed_request_creates_no_second_message_and_answers_again(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
    outbox: Any,
) -> None:
    person = await world.citizen(make_citizen)
    event = request_for(person.person_id, make_staff(), casework.file())

    first = await service.deliver(session, event, make_envelope(event), casework.settings())
    again = await service.deliver(session, event, make_envelope(event), casework.settings())

    assert again.message_id == first.message_id and casework.fetched == 1
    assert first.mailbox_id is not None
    assert await messages_in(session, first.mailbox_id) == 1
    assert len(await outbox(DELIVERED, str(first.mailbox_id))) == 1
    assert len(await outbox(DONE, str(first.mailbox_id))) == 2


async def test_an_e_service_turned_off_after_the_request_is_refused_and_audited(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
    audit_log: Any,
) -> None:
    person = await world.citizen(make_citizen)
    event = request_for(person.person_id, make_staff(), casework.file(), requested_at=datetime.now(UTC))
    await world.e_service(person, enabled=False)  # after the request

    delivery = await service.deliver(session, event, make_envelope(event), casework.settings())

    assert (delivery.status, delivery.message_id, casework.fetched) == (DeliveryStatus.REFUSED, None, 0)
    assert person.user.pnr is not None
    [refused] = [e for e in await audit_log(str(person.user.pnr)) if e["action"] == "deliver"]
    assert (refused["object_type"], refused["outcome"]) == ("e_service_mailbox", "refused")


async def test_a_refusal_is_answered_so_casework_sends_by_post_and_a_replay_answers_again(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
    outbox: Any,
) -> None:
    person = await world.citizen(make_citizen)
    event = request_for(person.person_id, make_staff(), casework.file(), requested_at=datetime.now(UTC))
    await world.e_service(person, enabled=False)  # after the request

    refused = await service.deliver(session, event, make_envelope(event), casework.settings())
    await service.deliver(session, event, make_envelope(event), casework.settings())

    answers = await outbox(REFUSED, str(person.person_id))
    assert len(answers) == 2  # the replay answers again; nothing else happens
    assert answers[0] == answers[1]
    assert answers[0] == {
        "delivery_id": str(event.delivery_id),
        "document_id": str(event.file.document_id),
        "person_id": str(person.person_id),
        "reason": "the message function was turned off after the request",
        "refused_at": answers[0]["refused_at"],
    }
    assert datetime.fromisoformat(answers[0]["refused_at"]) == refused.handled_at
    assert casework.fetched == 0


async def test_a_request_before_messaging_knows_the_e_service_waits_a_while(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
) -> None:
    unknown = request_for(uuid.uuid4(), make_staff(), casework.file())
    person = await world.citizen(make_citizen, enabled=False)
    # Turned on in casework a moment ago; that fact has not reached messaging yet.
    stale = request_for(
        person.person_id, make_staff(), casework.file(), requested_at=datetime.now(UTC) + timedelta(seconds=1)
    )

    for event in (unknown, stale):
        with pytest.raises(service.ProjectionBehind) as raised:
            async with session.begin_nested():
                await service.deliver(session, event, make_envelope(event), casework.settings())
        assert is_infrastructure_error(raised.value)  # the inbox pauses, never dead-letters
    # Not for ever: the partition's other events would wait behind it.
    long_ago = unknown.model_copy(
        update={"requested_at": datetime.now(UTC) - service.PROJECTION_GRACE - timedelta(seconds=1)}
    )
    given_up = await service.deliver(session, long_ago, make_envelope(long_ago), casework.settings())
    assert (given_up.status, given_up.reason) == (
        DeliveryStatus.REFUSED,
        "the e-service settings never arrived",
    )
    assert casework.fetched == 0


@pytest.mark.parametrize(
    ("status", "error", "paused"),
    [(503, FetchUnavailable, True), (403, FetchRefused, False), (404, FetchRefused, False)],
)
async def test_a_failed_fetch_writes_nothing_and_tells_the_inbox_what_to_do(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
    status: int,
    error: type[Exception],
    paused: bool,
) -> None:
    person = await world.citizen(make_citizen)
    event = request_for(person.person_id, make_staff(), casework.file())
    casework.status = status

    with pytest.raises(error) as raised:
        async with session.begin_nested():
            await service.deliver(session, event, make_envelope(event), casework.settings())

    assert is_infrastructure_error(raised.value) is paused
    assert await messages.citizen_list(session, person.user, None, Folder.INBOX) == []
    assert (
        await session.scalar(
            select(func.count()).select_from(Message).where(Message.person_id == person.person_id)
        )
        == 0
    )


async def test_a_file_other_than_announced_is_refused_and_nothing_stays(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_staff: Any,
    make_envelope: Any,
    casework: Casework,
) -> None:
    person = await world.citizen(make_citizen)
    good = casework.file()
    wrong_hash = good.model_copy(update={"sha256": hashlib.sha256(b"other").hexdigest()})
    elsewhere = good.model_copy(update={"url": f"http://127.0.0.2:1{FETCH_ROUTE}{good.document_id}?token=t"})
    before = await session.scalar(select(func.count()).select_from(Attachment))

    for file in (wrong_hash, elsewhere):
        event = request_for(person.person_id, make_staff(), file)
        with pytest.raises(FetchRefused):
            async with session.begin_nested():
                await service.deliver(session, event, make_envelope(event), casework.settings())

    assert await session.scalar(select(func.count()).select_from(Attachment)) == before
    assert await messages.citizen_list(session, person.user, None, Folder.INBOX) == []
