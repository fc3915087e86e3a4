"""Documents per assignment (PR-10): the unit's staff write a genomförandeplan
(SoL or LSS), journal notes (LSS daily activity; a note made from a message,
whose id is kept) or another document on an order they execute; they correct it
until it is write-protected (then a change is 409), print it as PDF, and send it
to the citizen's e-service.

Only the order's unit's active staff reach its documents (provider.orders.accessible:
403 audited otherwise), and only while the order is confirmed (executing or
ended). Every read and write is audited with the client's personnummer. No PDF
ever shows an address: a document names the client by name, personnummer and
kundnummer only (a person with protected identity has no address anywhere).

Sending to the e-service write-protects the document, renders its PDF once and
keeps it, and asks messaging through the outbox (ProviderDocumentDeliveryRequested
on `provider.orders.v1`): the PDF never travels on Kafka, messaging fetches it
through a capability URL on provider (`/document-fetch/<document id>?token=...`,
shared.capability purpose "provider-document", bound to the document and the
delivery, expiring, spent once delivered), audited as a disclosure to messaging.
Messaging's EServiceDeliveryDone (its `document_id` is ours) marks it delivered;
its EServiceDeliveryRefused marks the delivery refused, to be sent by post."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from provider.config import SOURCE, TIME_ZONE
from provider.documents import repository
from provider.documents.models import ProviderDocument
from provider.documents.schemas import (
    LIST_MAX,
    DocType,
    DocumentForm,
    DocumentList,
    DocumentOut,
    DocumentPatch,
    SendForm,
)
from provider.documents.settings import DocumentsConfig
from provider.orders import service as orders
from provider.orders.models import Order
from provider.users import service as users
from shared import audit, capability
from shared.auth import User
from shared.contracts.casework import MAX_DELIVERY_BYTES, DeliveryFile
from shared.contracts.messaging import EServiceDeliveryDone, EServiceDeliveryRefused
from shared.contracts.provider import ProviderDocumentDeliveryRequested
from shared.events import Envelope
from shared.outbox import add_event
from shared.pdf import PdfDocument, PdfResponse, Section, render_off_loop
from shared.problems import Conflict, NotAllowed, NotFound

OBJECT_TYPE = "provider_document"
FETCH_ROUTE = "/document-fetch"
PURPOSE = "provider-document"
MESSAGING = "messaging"  # the holder of a document fetch capability, as the audit log names it
_NO_STORE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
PDF = "application/pdf"


def _entry(user: User, action: str, order: Order, object_id: object) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=users.actor_role(user),
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(object_id),
        subject_pnr=order.client_pnr,
    )


def _confirmed(order: Order) -> None:
    """Documents belong to an assignment: the order must be confirmed (executing or ended)."""
    if order.execution_date is None:
        raise Conflict("The order is not confirmed: an assignment's documents come with its execution.")


async def _order(
    session: AsyncSession, user: User, order_id: uuid.UUID, action: str, object_id: object = None
) -> Order:
    order = await orders.accessible(
        session,
        user,
        order_id,
        action,
        object_type=OBJECT_TYPE if object_id is not None else "order",
        object_id=object_id,
    )
    _confirmed(order)
    return order


async def _document(
    session: AsyncSession, user: User, document_id: uuid.UUID, action: str, *, lock: bool = False
) -> tuple[ProviderDocument, Order]:
    """The document and its order, if the user may reach them (404, or 403 audited)."""
    document = await (repository.get_locked if lock else repository.get)(session, document_id)
    if document is None:
        raise NotFound("There is no such document.")
    order = await _order(session, user, document.order_id, action, document.id)
    return document, order


def to_out(document: ProviderDocument) -> DocumentOut:
    """The document as the unit reads it."""
    return DocumentOut(
        id=document.id,
        order_id=document.order_id,
        unit=document.unit,
        doc_type=_doc_type(document.doc_type),
        title=document.title,
        date=document.document_date,
        text=document.text,
        message_id=document.message_id,
        created_by=document.created_by,
        created_by_name=document.created_by_name,
        created_at=document.created_at,
        changed_at=document.changed_at,
        write_protected=document.write_protected_at is not None,
        write_protected_at=document.write_protected_at,
        delivery_id=document.delivery_id,
        delivery_requested_at=document.delivery_requested_at,
        delivered_at=document.delivered_at,
        delivery_refused_at=document.delivery_refused_at,
        delivery_refused_reason=document.delivery_refused_reason,
        pdf_href=f"/documents/{document.id}/pdf",
    )


def _doc_type(value: str) -> DocType:
    return cast(DocType, value)  # stored from DocumentForm / DocumentPatch only


async def create(session: AsyncSession, user: User, order_id: uuid.UUID, form: DocumentForm) -> DocumentOut:
    """A new document of the assignment (a genomförandeplan, a journal note ...)."""
    order = await _order(session, user, order_id, "create")
    now = datetime.now(UTC)
    document = ProviderDocument(
        id=uuid.uuid4(),
        order_id=order.id,
        provider_id=order.provider_id,
        unit=order.unit,
        doc_type=form.doc_type,
        title=form.title.strip(),
        document_date=form.date,
        text=form.text,
        message_id=form.message_id,
        created_by=user.sub,
        created_by_name=user.name or user.sub,
        created_at=now,
    )
    await repository.add(session, document)
    await audit.record(session, _entry(user, "create", order, document.id))
    return to_out(document)


async def of_order(session: AsyncSession, user: User, order_id: uuid.UUID) -> DocumentList:
    """The assignment's documents, newest first."""
    order = await _order(session, user, order_id, "list")
    rows = await repository.of_order(session, order.id, LIST_MAX)
    await audit.record_each(
        session,
        user.sub,
        users.actor_role(user),
        "list",
        OBJECT_TYPE,
        ((d.id, order.client_pnr) for d in rows),
    )
    return DocumentList(items=[to_out(d) for d in rows])


async def read(session: AsyncSession, user: User, document_id: uuid.UUID) -> DocumentOut:
    """One document."""
    document, order = await _document(session, user, document_id, "read")
    await audit.record(session, _entry(user, "read", order, document.id))
    return to_out(document)


def _write_protected(document: ProviderDocument) -> Conflict:
    return Conflict(
        f"The document is write-protected since {document.write_protected_at:%Y-%m-%d %H:%M}: "
        "write a new one instead."
    )


async def update(
    session: AsyncSession, user: User, document_id: uuid.UUID, form: DocumentPatch
) -> DocumentOut:
    """Change a document not yet write-protected (409 once it is)."""
    document, order = await _document(session, user, document_id, "update", lock=True)
    if document.write_protected_at is not None:
        raise _write_protected(document)
    if form.doc_type is not None:
        document.doc_type = form.doc_type
    if form.title is not None:
        document.title = form.title.strip()
    if form.date is not None:
        document.document_date = form.date
    if form.text is not None:
        document.text = form.text
    document.changed_by, document.changed_at = user.sub, datetime.now(UTC)
    await repository.flush(session)
    await audit.record(session, _entry(user, "update", order, document.id))
    return to_out(document)


def _protect(document: ProviderDocument, user: User, now: datetime) -> None:
    if document.write_protected_at is None:
        document.write_protected_at, document.write_protected_by = now, user.sub


async def write_protect(session: AsyncSession, user: User, document_id: uuid.UUID) -> DocumentOut:
    """Skrivskydda: the document is final; no change after this (once)."""
    document, order = await _document(session, user, document_id, "write_protect", lock=True)
    if document.write_protected_at is not None:
        raise _write_protected(document)
    _protect(document, user, datetime.now(UTC))
    await repository.flush(session)
    await audit.record(session, _entry(user, "write_protect", order, document.id))
    return to_out(document)


def _pnr(pnr: str) -> str:
    return f"{pnr[:8]}-{pnr[8:]}"


def layout(document: ProviderDocument, order: Order, printed_at: datetime) -> PdfDocument:
    """The document as a PDF layout. Never an address: the client is named by name,
    personnummer and kundnummer only (protected identity or not)."""
    sections: list[Section] = [
        Section("Dokumenttyp", (document.doc_type,)),
        Section("Datum", (document.document_date.isoformat(),)),
        Section("Kund", (order.client_name,)),
        Section("Personnummer", (_pnr(order.client_pnr),)),
        Section("Kundnummer", (order.kundnummer,)),
        Section("Insats", (f"{order.service_name} ({order.service_code})",)),
        Section("Utförare (enhet)", (order.unit,)),
        Section("Upprättad av", (document.created_by_name,)),
        Section("Text", (document.text or "-",)),
    ]
    if document.write_protected_at is not None:
        sections.append(
            Section("Skrivskyddad", (document.write_protected_at.astimezone(TIME_ZONE).date().isoformat(),))
        )
    return PdfDocument(
        title=document.title,
        sections=tuple(sections),
        footnote=(
            f"Utskriven {printed_at.astimezone(TIME_ZONE):%Y-%m-%d %H:%M}. Dokument {document.id}. "
            "Innehåller personuppgifter som omfattas av sekretess."
        ),
        metadata_title=document.doc_type,
    )


def pdf_filename(title: str) -> str:
    """The attachment's name: the title, without path or control characters, ".pdf"."""
    name = "".join(
        c for c in unicodedata.normalize("NFC", title) if unicodedata.category(c)[0] != "C" and c not in "/\\"
    )
    return f"{name.strip().strip('.')[:200] or 'Dokument'}.pdf"


def _ascii_disposition(title: str) -> str:
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in " .-_()") else "_" for c in title)
    return f'inline; filename="{ascii_name[:100] or "dokument"}.pdf"'


async def print_pdf(session: AsyncSession, user: User, document_id: uuid.UUID) -> Response:
    """Skriv ut: the document as PDF (the very PDF sent, once it has been sent)."""
    document, order = await _document(session, user, document_id, "print")
    await audit.record(session, _entry(user, "print", order, document.id))
    headers = {**_NO_STORE, "content-disposition": _ascii_disposition(document.title)}
    if document.delivery_id is not None:
        sent = await repository.pdf_of(session, document.id)
        if sent is not None:
            return Response(sent, media_type=PDF, headers=headers)
    return PdfResponse(layout(document, order, datetime.now(UTC)), headers=headers)


def fetch_url(
    settings: DocumentsConfig, document_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> str:
    """The capability URL messaging fetches the document's PDF through."""
    token = capability.sign(settings.fetch_key, PURPOSE, document_id, delivery_id, now + settings.fetch_ttl)
    return f"{settings.public_url}{FETCH_ROUTE}/{document_id}?token={token}"


async def send_to_e_service(
    session: AsyncSession, user: User, document_id: uuid.UUID, form: SendForm, settings: DocumentsConfig
) -> DocumentOut:
    """Skicka till e-tjänsten: write-protect the document, render its PDF and ask
    messaging to deliver it into the citizen's e-service mailbox as a message from
    the user (once: a second send is 409)."""
    document, order = await _document(session, user, document_id, "send", lock=True)
    if document.delivery_id is not None:
        raise Conflict(
            "The document has been sent to the e-service already.", delivery_id=str(document.delivery_id)
        )
    if order.end_date is not None:
        raise Conflict("The execution has ended: the unit no longer writes to the client.")
    now = datetime.now(UTC)
    _protect(document, user, now)
    content = await render_off_loop(layout(document, order, now))
    if len(content) > MAX_DELIVERY_BYTES:
        raise Conflict(f"The PDF is larger than an e-service message takes ({MAX_DELIVERY_BYTES} bytes).")
    delivery_id = uuid.uuid4()
    document.delivery_id, document.delivery_requested_at, document.delivery_requested_by = (
        delivery_id,
        now,
        user.sub,
    )
    document.pdf = content
    await repository.flush(session)
    await add_event(
        session,
        ProviderDocumentDeliveryRequested(
            delivery_id=delivery_id,
            order_id=order.id,
            provider_id=order.provider_id,
            unit=order.unit,
            person_id=order.person_id,
            sender_sub=user.sub,
            sender_name=(user.name or user.sub)[:200],
            message_subject=(form.subject or document.title)[:200],
            message_text=(form.text or f"{document.doc_type} från {order.unit} bifogas.")[:10_000],
            file=DeliveryFile(
                document_id=document.id,
                filename=pdf_filename(document.title),
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                url=fetch_url(settings, document.id, delivery_id, now),
            ),
            requested_at=now,
        ),
        SOURCE,
    )
    await audit.record(session, _entry(user, "send", order, document.id))
    return to_out(document)


async def document_fetch(
    session: AsyncSession, document_id: uuid.UUID, token: str, settings: DocumentsConfig
) -> Response:
    """The PDF of a delivery still waiting, for messaging: the capability URL of
    ProviderDocumentDeliveryRequested (no bearer token; bound to the document and
    the delivery, expiring, spent once delivered). Audited as a disclosure."""
    refused = audit.AuditEntry(MESSAGING, "system", "disclose", OBJECT_TYPE, str(document_id))
    try:
        grant = capability.verify(settings.fetch_key, PURPOSE, document_id, token)
    except capability.BadToken:
        raise await audit.refuse(
            session, refused, NotAllowed("The link is not valid for this document, or it has expired.")
        ) from None
    document = await repository.get(session, document_id)
    if document is None:
        raise NotFound("There is no such document.")
    order = (await orders.of_ids(session, [document.order_id]))[document.order_id]
    entry = audit.AuditEntry(
        MESSAGING, "system", "disclose", OBJECT_TYPE, str(document_id), subject_pnr=order.client_pnr
    )
    if document.delivery_id != grant.grant_id:
        raise await audit.refuse(session, entry, NotAllowed("The link is not valid for this document."))
    if document.delivered_at is not None:
        raise await audit.refuse(session, entry, NotAllowed("The document is delivered: the link is spent."))
    content = await repository.pdf_of(session, document.id)
    if content is None:
        raise NotFound("The document has no PDF.")
    await audit.record(session, entry)  # allowed: a disclosure to messaging
    return Response(
        content,
        media_type=PDF,
        headers={**_NO_STORE, "content-disposition": _ascii_disposition(document.title)},
    )


async def on_delivery_done(session: AsyncSession, event: EServiceDeliveryDone, envelope: Envelope) -> None:
    """Messaging delivered a document of ours: it is marked delivered (once). A
    delivery of casework's (an id we never gave out) is not ours: ignored."""
    document = await repository.mark_delivered(
        session, event.delivery_id, event.document_id, event.message_id, event.delivered_at
    )
    if document is None:
        return
    order = (await orders.of_ids(session, [document.order_id]))[document.order_id]
    await audit.record(
        session, audit.from_event(envelope, "update", OBJECT_TYPE, document.id, order.client_pnr)
    )


async def on_delivery_refused(
    session: AsyncSession, event: EServiceDeliveryRefused, envelope: Envelope
) -> None:
    """Messaging refused to deliver a document of ours: it is marked refused, to go by
    post (once). A delivery of casework's (an id we never gave out) is ignored."""
    document = await repository.mark_refused(
        session, event.delivery_id, event.document_id, event.reason, event.refused_at
    )
    if document is None:
        return
    order = (await orders.of_ids(session, [document.order_id]))[document.order_id]
    await audit.record(
        session, audit.from_event(envelope, "update", OBJECT_TYPE, document.id, order.client_pnr)
    )
