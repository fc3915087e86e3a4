"""Provider documents delivered to the e-service (PR-10) at the service layer,
against messaging's real PostgreSQL: a ProviderDocumentDeliveryRequested
becomes a message from the provider user's personal mailbox (made on the spot)
in the citizen's e-service mailbox, its PDF fetched over HTTP from a real server
standing in for provider's /document-fetch/ route; notify is told (kind
"document") and provider is answered with its own document id; a replay makes
no second message; a unit without a running assignment for the client is
refused, audited, and nothing is fetched or delivered."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from messaging.attachments.service import Limits
from messaging.deliveries import service
from messaging.deliveries.models import DeliveryStatus
from messaging.deliveries.settings import FETCH_ROUTE, PROVIDER_FETCH_ROUTE, DeliveriesConfig
from messaging.messages import service as messages
from messaging.models import Folder, Mailbox, Message
from messaging.rights import service as rights
from shared.capability_fetch import CapabilityFetcher
from shared.contracts.casework import DeliveryFile
from shared.contracts.messaging import (
    EServiceDeliveryDone,
    EServiceDeliveryRefused,
    MessageDeliveredToEService,
)
from shared.contracts.provider import ExecutionEnded, ExecutionStarted, ProviderDocumentDeliveryRequested

PDF = b"%PDF-1.4 genomforandeplan " + bytes(range(256)) * 100
DELIVERED = MessageDeliveredToEService.ce_type
DONE = EServiceDeliveryDone.ce_type
REFUSED = EServiceDeliveryRefused.ce_type
PROVIDER_SOURCE = "/omsorg/provider"


@dataclass
class Provider:
    """A real HTTP server in the place of provider's /document-fetch/ route, and a unit."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    fetched: int = 0
    provider_id: uuid.UUID = field(default_factory=uuid.uuid4)
    unit: str = field(default_factory=lambda: f"lss-{uuid.uuid4().hex[:8]}")

    def file(self, content: bytes = PDF) -> DeliveryFile:
        document_id = uuid.uuid4()
        self.files[str(document_id)] = content
        return DeliveryFile(
            document_id=document_id,
            filename="Genomförandeplan LSS.pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            url=f"{self.url}{PROVIDER_FETCH_ROUTE}{document_id}?token=t",
        )

    def fetcher(self) -> CapabilityFetcher:
        return CapabilityFetcher(self.url, PROVIDER_FETCH_ROUTE, "provider", 10.0)

    def settings(self) -> DeliveriesConfig:
        # The casework fetcher points elsewhere: a provider document never goes there.
        casework = CapabilityFetcher("http://127.0.0.2:1", FETCH_ROUTE, "casework", 1.0)
        return DeliveriesConfig(casework, Limits(), self.fetcher())


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    state = Provider()

    async def fetch(request: Request) -> Response:
        state.fetched += 1
        content = state.files.get(request.path_params["document_id"])
        return Response(content) if content is not None else Response(status_code=404)

    app = Starlette(routes=[Route(f"{PROVIDER_FETCH_ROUTE}{{document_id}}", fetch)])
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


async def start_assignment(
    session: AsyncSession, make_envelope: Any, provider: Provider, person_id: uuid.UUID
) -> uuid.UUID:
    event = ExecutionStarted(
        order_id=uuid.uuid4(),
        provider_id=provider.provider_id,
        unit=provider.unit,
        person_id=person_id,
        execution_date=date.today() - timedelta(days=10),
        confirmed_by="pu-1",
        confirmed_at=datetime.now(UTC),
    )
    await rights.on_execution_started(session, event, make_envelope(event, PROVIDER_SOURCE))
    return event.order_id


def request_for(
    provider: Provider, person_id: uuid.UUID, order_id: uuid.UUID
) -> ProviderDocumentDeliveryRequested:
    return ProviderDocumentDeliveryRequested(
        delivery_id=uuid.uuid4(),
        order_id=order_id,
        provider_id=provider.provider_id,
        unit=provider.unit,
        person_id=person_id,
        sender_sub=f"pu-{uuid.uuid4().hex[:8]}",
        sender_name="Ulla Utförare",
        message_subject="Din genomförandeplan",
        message_text="Hej!\nHär är din genomförandeplan.",
        file=provider.file(),
        requested_at=datetime.now(UTC),
    )


async def test_a_provider_document_lands_in_the_citizens_mailbox_from_the_staff_member(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_envelope: Any,
    provider: Provider,
    outbox: Any,
    audit_log: Any,
) -> None:
    person = await world.citizen(make_citizen)
    order_id = await start_assignment(session, make_envelope, provider, person.person_id)
    event = request_for(provider, person.person_id, order_id)
    envelope = make_envelope(event, PROVIDER_SOURCE)

    delivery = await service.deliver_provider_document(
        session, event, envelope, provider.fetcher(), provider.settings()
    )

    assert delivery.status == DeliveryStatus.DELIVERED and delivery.message_id is not None
    assert (delivery.order_id, delivery.record_id) == (order_id, None)
    [summary] = await messages.citizen_list(session, person.user, None, Folder.INBOX)
    opened = await messages.citizen_read(session, person.user, None, summary.id)
    assert (opened.subject, opened.from_label) == ("Din genomförandeplan", "Ulla Utförare")
    assert opened.author.role == "provider"  # written as provider staff, not a caseworker
    [attachment] = opened.attachments
    assert (attachment.filename, attachment.sha256) == (
        "Genomförandeplan LSS.pdf",
        hashlib.sha256(PDF).hexdigest(),
    )
    sender_box = await session.scalar(select(Mailbox).where(Mailbox.owner_sub == event.sender_sub))
    assert sender_box is not None and opened.from_mailbox.id == sender_box.id
    [announced] = await outbox(DELIVERED, str(delivery.mailbox_id))
    assert announced["kind"] == "document"
    [answer] = await outbox(DONE, str(delivery.mailbox_id))
    assert (answer["delivery_id"], answer["document_id"]) == (
        str(event.delivery_id),
        str(event.file.document_id),
    )
    assert person.user.pnr is not None
    assert ("deliver", "message", "allowed") in [
        (e["action"], e["object_type"], e["outcome"]) for e in await audit_log(str(person.user.pnr))
    ]

    again = await service.deliver_provider_document(
        session, event, make_envelope(event, PROVIDER_SOURCE), provider.fetcher(), provider.settings()
    )
    assert again.message_id == delivery.message_id and provider.fetched == 1
    assert len(await outbox(DONE, str(delivery.mailbox_id))) == 2
    assert len(await outbox(DELIVERED, str(delivery.mailbox_id))) == 1


async def test_a_unit_without_a_running_assignment_is_refused_and_nothing_is_delivered(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_envelope: Any,
    provider: Provider,
    audit_log: Any,
) -> None:
    person = await world.citizen(make_citizen)
    never = request_for(provider, person.person_id, uuid.uuid4())
    order_id = await start_assignment(session, make_envelope, provider, person.person_id)
    ended = ExecutionEnded(
        order_id=order_id,
        provider_id=provider.provider_id,
        unit=provider.unit,
        person_id=person.person_id,
        end_date=date.today() - timedelta(days=1),
        reason="Flyttat",
        ended_by="pu-1",
        ended_at=datetime.now(UTC),
    )
    await rights.on_execution_ended(session, ended, make_envelope(ended, PROVIDER_SOURCE))
    after_end = request_for(provider, person.person_id, order_id)

    for event in (never, after_end):
        delivery = await service.deliver_provider_document(
            session, event, make_envelope(event, PROVIDER_SOURCE), provider.fetcher(), provider.settings()
        )
        assert (delivery.status, delivery.message_id) == (DeliveryStatus.REFUSED, None)

    assert provider.fetched == 0
    assert await messages.citizen_list(session, person.user, None, Folder.INBOX) == []
    count = select(func.count()).select_from(Message).where(Message.person_id == person.person_id)
    assert await session.scalar(count) == 0
    assert person.user.pnr is not None
    refused = [e for e in await audit_log(str(person.user.pnr)) if e["action"] == "deliver"]
    assert [(e["object_type"], e["outcome"]) for e in refused] == [("e_service_mailbox", "refused")] * 2


async def test_a_person_without_an_active_e_service_is_refused_at_once(
    session: AsyncSession,
    world: Any,
    make_citizen: Any,
    make_envelope: Any,
    provider: Provider,
    outbox: Any,
) -> None:
    off = await world.citizen(make_citizen, enabled=False)
    unknown = uuid.uuid4()  # messaging never heard of their e-service

    for person_id, reason in (
        (off.person_id, "the person's e-service is off"),
        (unknown, "the person has no e-service"),
    ):
        order_id = await start_assignment(session, make_envelope, provider, person_id)
        event = request_for(provider, person_id, order_id)
        delivery = await service.deliver_provider_document(
            session, event, make_envelope(event, PROVIDER_SOURCE), provider.fetcher(), provider.settings()
        )
        assert (delivery.status, delivery.message_id) == (DeliveryStatus.REFUSED, None)
        # Provider is told, with its own document id: the unit sends it by post.
        [answer] = await outbox(REFUSED, str(person_id))
        assert (answer["delivery_id"], answer["document_id"], answer["reason"]) == (
            str(event.delivery_id),
            str(event.file.document_id),
            reason,
        )
        await service.deliver_provider_document(
            session, event, make_envelope(event, PROVIDER_SOURCE), provider.fetcher(), provider.settings()
        )
        assert len(await outbox(REFUSED, str(person_id))) == 2  # a replay answers again
    assert provider.fetched == 0
