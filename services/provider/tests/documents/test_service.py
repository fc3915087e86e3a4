"""Documents per assignment (PR-10) at the service layer, against provider's real
PostgreSQL: the unit's staff write a genomförandeplan or a journal note on a
confirmed order, change it until it is write-protected (then 409), print it
without any address; sending it to the e-service write-protects it, keeps the
PDF and asks messaging through the outbox with a capability URL that opens that
PDF only, once, until delivered; a delivery messaging refused is shown with its
reason (send by post); another provider's or unit's staff are refused (403,
audited); an unconfirmed order has no documents."""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from provider.documents import service
from provider.documents.schemas import DocumentForm, DocumentPatch, SendForm
from provider.documents.settings import DocumentsConfig
from shared.contracts.messaging import EServiceDeliveryDone, EServiceDeliveryRefused
from shared.contracts.provider import ProviderDocumentDeliveryRequested
from shared.events import Envelope
from shared.pdf import PdfResponse, render_pdf
from shared.problems import Conflict, NotAllowed

REQUESTED = ProviderDocumentDeliveryRequested.ce_type
ADDRESS = "Storgatan 12"  # of the desk's clients


def plan(**values: Any) -> DocumentForm:
    return DocumentForm.model_validate(
        {
            "doc_type": "Genomförandeplan LSS",
            "title": "Genomförandeplan daglig verksamhet",
            "date": date.today(),
            "text": "Mål: delta i verksamheten tre dagar i veckan.\nUppföljning i mars.",
            **values,
        }
    )


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def pdf_text(response: Response) -> str:
    if isinstance(response, PdfResponse):
        return text_of(render_pdf(response.doc))
    return text_of(bytes(response.body))


async def test_a_plan_is_written_changed_write_protected_and_then_never_changed(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)

    written = await service.create(session, staff, order.order_id, plan())
    changed = await service.update(
        session, staff, written.id, DocumentPatch(text="Mål: fyra dagar i veckan.")
    )
    protected = await service.write_protect(session, staff, written.id)

    assert (changed.text, changed.doc_type, changed.write_protected) == (
        "Mål: fyra dagar i veckan.",
        "Genomförandeplan LSS",
        False,
    )
    assert protected.write_protected and protected.write_protected_at is not None
    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.update(session, staff, written.id, DocumentPatch(title="Ny titel"))
    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.write_protect(session, staff, written.id)
    assert (await service.read(session, staff, written.id)).text == "Mål: fyra dagar i veckan."
    [listed] = (await service.of_order(session, staff, order.order_id)).items
    assert listed.id == written.id
    actions = [
        e["action"]
        for e in await audit_log(str(order.client.pnr))
        if e["object_type"] == "provider_document" and e["outcome"] == "allowed"
    ]
    assert actions == ["create", "update", "write_protect", "read", "list"]


async def test_a_journal_note_made_from_a_message_keeps_the_message_reference(
    session: AsyncSession, world: Any, desk: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)
    message_id = uuid.uuid4()

    note = await service.create(
        session,
        staff,
        order.order_id,
        plan(
            doc_type="Journalanteckning",
            title="Från meddelande",
            text="Anhörig ringer på fredag.",
            message_id=message_id,
        ),
    )

    assert (note.doc_type, note.message_id) == ("Journalanteckning", message_id)
    assert (await service.read(session, staff, note.id)).message_id == message_id


async def test_an_unconfirmed_order_has_no_documents(session: AsyncSession, world: Any, desk: Any) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.place(acme.id, acme.units[0])

    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.create(session, staff, order.order_id, plan())


async def test_another_providers_or_units_staff_are_refused_and_audited(
    session: AsyncSession, world: Any, desk: Any, refusals: Any
) -> None:
    acme = await world.provider(units=(world.unique("a1"), world.unique("a2")))
    other = await world.provider()
    staff = await world.staff(acme, units=(acme.units[0],))
    neighbour = await world.staff(acme, units=(acme.units[1],))
    stranger = await world.staff(other)
    order = await desk.executing(acme.id, acme.units[0], staff)
    document = await service.create(session, staff, order.order_id, plan())

    for user in (stranger, neighbour):
        for call in (
            service.read(session, user, document.id),
            service.update(session, user, document.id, DocumentPatch(title="x")),
            service.create(session, user, order.order_id, plan()),
        ):
            with pytest.raises(NotAllowed):
                async with session.begin_nested():
                    await call
        refused = await refusals(user.sub)
        assert ("read", "provider_document", str(document.id)) in [
            (e["action"], e["object_type"], e["object_id"]) for e in refused
        ]
        assert all(e["subject_pnr"] == str(order.client.pnr) for e in refused)


@pytest.mark.parametrize("protected", [False, True])
async def test_the_printed_document_never_shows_an_address(
    session: AsyncSession, world: Any, desk: Any, protected: bool
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    address = None if protected else "Storgatan 12, 136 40 Haninge"
    order = await desk.executing(acme.id, acme.units[0], staff, protected=protected, address=address)
    document = await service.create(session, staff, order.order_id, plan())

    text = await pdf_text(await service.print_pdf(session, staff, document.id))

    assert "Genomförandeplan daglig verksamhet" in text and "Genomförandeplan LSS" in text
    assert order.client.kundnummer in text and "Greta Gustafsson" in text
    assert ADDRESS not in text and "Adress" not in text


def _envelope(event: EServiceDeliveryDone | EServiceDeliveryRefused) -> Envelope:
    return Envelope(uuid.uuid4(), event.ce_type, "/omsorg/messaging", datetime.now(UTC), event.subject())


async def test_sending_to_the_e_service_write_protects_and_hands_messaging_the_pdf_once(
    session: AsyncSession, world: Any, desk: Any, outbox: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)
    document = await service.create(session, staff, order.order_id, plan())
    settings = DocumentsConfig("http://127.0.0.1:8104", secrets.token_bytes(32), timedelta(days=14))

    sent = await service.send_to_e_service(
        session, staff, document.id, SendForm(subject="Din plan"), settings
    )

    assert sent.write_protected and sent.delivery_id is not None and sent.delivered_at is None
    [event] = await outbox(REQUESTED, str(order.order_id))
    assert (event["delivery_id"], event["person_id"], event["unit"], event["sender_sub"]) == (
        str(sent.delivery_id),
        str(order.client.person_id),
        acme.units[0],
        staff.sub,
    )
    assert event["message_subject"] == "Din plan"
    url = urlsplit(event["file"]["url"])
    assert url.path == f"/document-fetch/{document.id}"
    token = parse_qs(url.query)["token"][0]
    fetched = await service.document_fetch(session, document.id, token, settings)
    content = bytes(fetched.body)
    assert len(content) == event["file"]["size"]
    assert hashlib.sha256(content).hexdigest() == event["file"]["sha256"]
    assert "Genomförandeplan daglig verksamhet" in text_of(content) and ADDRESS not in text_of(content)
    for bad in (token[:-1] + ("0" if token[-1] != "0" else "1"), "x.y.z"):
        with pytest.raises(NotAllowed):
            async with session.begin_nested():
                await service.document_fetch(session, document.id, bad, settings)
    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.send_to_e_service(session, staff, document.id, SendForm(), settings)
    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.update(session, staff, document.id, DocumentPatch(text="x"))

    message_id = uuid.uuid4()
    done = EServiceDeliveryDone(
        delivery_id=sent.delivery_id,
        document_id=document.id,
        message_id=message_id,
        mailbox_id=uuid.uuid4(),
        person_id=order.client.person_id,
        delivered_at=datetime.now(UTC),
    )
    await service.on_delivery_done(session, done, _envelope(done))
    assert (await service.read(session, staff, document.id)).delivered_at is not None
    with pytest.raises(NotAllowed):  # the link is spent
        async with session.begin_nested():
            await service.document_fetch(session, document.id, token, settings)
    entries = await audit_log(str(order.client.pnr))
    assert ("messaging", "disclose", "allowed") in [(e["actor"], e["action"], e["outcome"]) for e in entries]
    assert ("messaging", "disclose", "refused") in [(e["actor"], e["action"], e["outcome"]) for e in entries]
    assert any(e["actor"] == staff.sub and e["action"] == "send" for e in entries)


async def test_a_delivery_provider_never_asked_for_is_ignored(session: AsyncSession) -> None:
    done = EServiceDeliveryDone(
        delivery_id=uuid.uuid4(),
        document_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        mailbox_id=uuid.uuid4(),
        person_id=uuid.uuid4(),
        delivered_at=datetime.now(UTC),
    )
    await service.on_delivery_done(session, done, _envelope(done))  # casework's: nothing happens


async def test_a_refused_delivery_is_shown_with_its_reason_once(
    session: AsyncSession, world: Any, desk: Any, audit_log: Any
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    order = await desk.executing(acme.id, acme.units[0], staff)
    document = await service.create(session, staff, order.order_id, plan())
    settings = DocumentsConfig("http://127.0.0.1:8104", secrets.token_bytes(32), timedelta(days=14))
    sent = await service.send_to_e_service(session, staff, document.id, SendForm(), settings)
    assert sent.delivery_id is not None
    refused = EServiceDeliveryRefused(
        delivery_id=sent.delivery_id,
        document_id=document.id,
        person_id=order.client.person_id,
        reason="the person's e-service is off",
        refused_at=datetime.now(UTC),
    )
    casework_s = refused.model_copy(update={"delivery_id": uuid.uuid4(), "document_id": uuid.uuid4()})
    other_document = refused.model_copy(update={"document_id": uuid.uuid4()})

    for event in (casework_s, other_document, refused):  # only our delivery of this document counts
        await service.on_delivery_refused(session, event, _envelope(event))
    later = refused.model_copy(update={"reason": "another", "refused_at": datetime.now(UTC)})
    await service.on_delivery_refused(session, later, _envelope(later))  # a replay changes nothing

    after = await service.read(session, staff, document.id)
    assert (after.delivery_refused_at, after.delivery_refused_reason, after.delivered_at) == (
        refused.refused_at,
        refused.reason,
        None,
    )
    marked = [
        e
        for e in await audit_log(str(order.client.pnr))
        if (e["action"], e["object_id"]) == ("update", str(document.id)) and e["actor"] != staff.sub
    ]
    assert len(marked) == 1
