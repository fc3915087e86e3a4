"""Printing an order and fetching its documents, against provider's real
PostgreSQL: the PDF (its text extracted with pypdf) shows the labels the unit
knows and, for a person with protected identity, no address; a document is
fetched from a real HTTP server in the place of casework's capability route and
streamed to the user as it comes, audited; a link casework refuses, an
unreachable casework and a file other than announced never pass as the document."""

from __future__ import annotations

import asyncio
import io
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import uvicorn
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from provider.orders import service
from provider.orders.schemas import ConfirmForm
from provider.orders.settings import ORDER_FETCH_ROUTE
from shared.capability_fetch import CapabilityFetcher, FetchRefused
from shared.contracts.casework import DeliveryFile
from shared.pdf import render_pdf
from shared.problems import NotAllowed, NotFound, Unavailable

PDF = b"%PDF-1.4 utredning " + bytes(range(256)) * 3000  # ~0.75 MB, several pieces
LABELS = (
    "Beställning",
    "Status",
    "Ej bekräftad",
    "Beställare",
    "Kund",
    "Personnummer",
    "Kundnummer",
    "Adress",
    "Telefon",
    "Insats",
    "Omfattning",
    "Beviljad period",
    "Anteckning från aktualiseringen",
    "Bifogade handlingar",
    "Verkställighetsdatum",
)


def text_of(response: Any) -> str:
    content = render_pdf(response.doc)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_the_printed_order_has_the_units_labels_and_the_order_in_full(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    file = DeliveryFile.model_validate(
        {
            "document_id": uuid.uuid4(),
            "filename": "Utredning SoL.pdf",
            "size": 10,
            "sha256": "0" * 64,
            "url": "http://127.0.0.1:8102/order-fetch/x",
        }
    )
    event = await desk.place(acme.id, acme.units[0], name="Greta Gustafsson", documents=[file])
    pnr = str(event.client.pnr)

    response = await service.print_pdf(session, staff, event.order_id, [])
    text = text_of(response)
    for shown in (
        *LABELS,
        "Greta Gustafsson",
        f"{pnr[:8]}-{pnr[8:]}",
        event.client.kundnummer,
        "Storgatan 12, 136 40 Haninge",
        "Särskilt boende för äldre (SÄBO)",
        "Heldygnsomsorg",
        "Kunden flyttar in på Solgården.",
        "Allergi: nötter.",
        "Utredning SoL.pdf",
        "Marita Aronsson, Bosam SÄF",
    ):
        assert shown in text, (shown, text)
    assert response.headers["cache-control"] == "no-store"
    assert response.media_type == "application/pdf"
    assert ("print", "order") in [(e["action"], e["object_type"]) for e in await audit_log(pnr)]

    # Confirmed, it still prints, with its execution date; only the chosen parts when chosen.
    await service.confirm(session, staff, event.order_id, ConfirmForm(execution_date=date(2026, 12, 1)))
    chosen = text_of(await service.print_pdf(session, staff, event.order_id, ["verkstallighet"]))
    assert "Bekräftad" in chosen and "2026-12-01" in chosen
    assert "Anteckning från aktualiseringen" not in chosen and "Kundnummer" not in chosen


async def test_the_printed_order_of_a_protected_person_shows_no_address(
    session: AsyncSession, world: Any, desk: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    event = await desk.place(acme.id, acme.units[0], protected=True, address=None, name="Sara Skyddad")

    text = text_of(await service.print_pdf(session, staff, event.order_id, []))
    assert "Sara Skyddad" in text
    assert "Skyddad identitet: adressen visas inte." in text
    assert "Storgatan" not in text and "Haninge" not in text


@dataclass
class Casework:
    """A real HTTP server in the place of casework's order-fetch route."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    fetched: int = 0

    def file(self, content: bytes = PDF, announced: bytes | None = None) -> DeliveryFile:
        from provider_tests_desk import delivery_file  # loaded by the conftest

        file = delivery_file(self.url, ORDER_FETCH_ROUTE, announced or content)
        self.files[str(file.document_id)] = content
        return file

    def fetcher(self) -> CapabilityFetcher:
        return CapabilityFetcher(self.url, ORDER_FETCH_ROUTE, "casework", 10.0)


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

    app = Starlette(routes=[Route(f"{ORDER_FETCH_ROUTE}{{document_id}}", fetch)])
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


async def body_of(response: StreamingResponse) -> bytes:
    return b"".join([piece async for piece in response.body_iterator])  # type: ignore[misc]


async def test_a_document_is_fetched_from_casework_and_streamed_to_the_user(
    session: AsyncSession, world: Any, desk: Any, casework: Casework, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    file = casework.file()
    event = await desk.place(acme.id, acme.units[0], documents=[file])

    order = await service.read(session, staff, event.order_id)
    assert order.documents[0].href == f"/orders/{event.order_id}/documents/{file.document_id}"
    response = await service.open_document(
        session, staff, event.order_id, file.document_id, casework.fetcher()
    )
    assert response.headers["content-length"] == str(len(PDF))
    assert response.headers["cache-control"] == "no-store"
    assert "Utredning.pdf" in response.headers["content-disposition"]
    assert await body_of(response) == PDF
    # Fetched on demand, every time: nothing is kept in provider.
    again = await service.open_document(session, staff, event.order_id, file.document_id, casework.fetcher())
    assert await body_of(again) == PDF
    assert casework.fetched == 2
    reads = [e for e in await audit_log(str(event.client.pnr)) if e["object_type"] == "order_document"]
    assert [(e["actor"], e["action"], e["object_id"]) for e in reads] == [
        (staff.sub, "read", str(file.document_id))
    ] * 2


async def test_a_document_casework_refuses_or_cannot_give_is_a_problem_not_a_file(
    session: AsyncSession, world: Any, desk: Any, casework: Casework
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    file = casework.file()
    event = await desk.place(acme.id, acme.units[0], documents=[file])

    casework.status = 403  # the link expired
    with pytest.raises(service.DocumentNotFetched):
        await service.open_document(session, staff, event.order_id, file.document_id, casework.fetcher())
    casework.status = 503
    with pytest.raises(Unavailable):
        await service.open_document(session, staff, event.order_id, file.document_id, casework.fetcher())
    with pytest.raises(NotFound):
        await service.open_document(session, staff, event.order_id, uuid.uuid4(), casework.fetcher())


async def test_a_file_other_than_announced_never_reaches_the_user_whole(
    session: AsyncSession, world: Any, desk: Any, casework: Casework
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    tampered = bytearray(PDF)
    tampered[-1] ^= 0xFF
    file = casework.file(content=bytes(tampered), announced=PDF)  # same size, other SHA-256
    event = await desk.place(acme.id, acme.units[0], documents=[file])

    response = await service.open_document(
        session, staff, event.order_id, file.document_id, casework.fetcher()
    )
    received = bytearray()
    with pytest.raises(FetchRefused):
        async for piece in response.body_iterator:
            received += piece  # type: ignore[operator]
    assert len(received) < len(PDF)  # the last piece was held back


async def test_another_providers_user_cannot_fetch_a_document(
    session: AsyncSession, world: Any, desk: Any, casework: Casework, refusals: Any
) -> None:
    acme = await world.provider()
    rival = await world.provider()
    rival_staff = await world.staff(rival, units=(rival.units[0], acme.units[0]))
    file = casework.file()
    event = await desk.place(acme.id, acme.units[0], documents=[file])

    with pytest.raises(NotAllowed):
        await service.open_document(
            session, rival_staff, event.order_id, file.document_id, casework.fetcher()
        )
    assert casework.fetched == 0
    [refused] = await refusals(rival_staff.sub)
    assert (refused["object_type"], refused["object_id"]) == ("order_document", str(file.document_id))
    assert refused["subject_pnr"] == str(event.client.pnr)
