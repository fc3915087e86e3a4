"""Delivering a document's PDF into the person's e-service mailbox (MS-10, CW-9):
for the documents module's "create PDF and send to the e-service" and for the
decisions module's signed decision letters.

Casework checks that the person's message function is on (else the answer is
"post": the caseworker must send it by post) and asks messaging through the
outbox (EServiceDeliveryRequested, on the record's key). The PDF never travels
on Kafka: the event carries a capability URL on casework,
`<public url>/e-service-fetch/<document id>?token=...`, an HMAC-signed token
(shared.capability, purpose "e-service-fetch") bound to the document and the
delivery, expiring, and spent once messaging reports the delivery done
(EServiceDeliveryDone). Each document is delivered once."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases import service as cases
from casework.config import SOURCE
from casework.documents import repository
from casework.documents.settings import DocumentsConfig, config
from casework.intake_records import journaling as intake_records
from casework.models import Document, Person
from casework.persons import service as persons
from shared import audit, capability
from shared.auth import User
from shared.contracts.casework import (
    MAX_DELIVERY_BYTES,
    DeliveryFile,
    EServiceDeliveryKind,
    EServiceDeliveryRequested,
)
from shared.outbox import add_event
from shared.problems import Conflict

DeliveryOutcome = Literal["e-service", "post"]
FETCH_ROUTE = "/e-service-fetch"
PURPOSE = "e-service-fetch"
PDF = "application/pdf"


def fetch_url(
    settings: DocumentsConfig, document_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> str:
    """The capability URL messaging fetches the document's PDF through."""
    token = capability.sign(settings.fetch_key, PURPOSE, document_id, delivery_id, now + settings.fetch_ttl)
    return f"{settings.public_url}{FETCH_ROUTE}/{document_id}?token={token}"


def pdf_filename(title: str) -> str:
    """The attachment's name: the title, without path or control characters, ".pdf"."""
    name = "".join(
        c for c in unicodedata.normalize("NFC", title) if unicodedata.category(c)[0] != "C" and c not in "/\\"
    )
    return f"{name.strip().strip('.')[:200] or 'Dokument'}.pdf"


async def _record_and_unit(session: AsyncSession, user: User, document: Document) -> tuple[uuid.UUID, str]:
    """The intake record the delivery is keyed by and the sender's unit: the
    document's record (its case's), else the person's newest record in one of the
    user's units (a document of the person only)."""
    record_id = document.record_id
    if record_id is None and document.case_id is not None:
        case = await cases.get(session, document.case_id)
        record_id = case.record_id if case is not None else None
    record = (
        await intake_records.get(session, record_id)
        if record_id is not None
        else await repository.newest_record_in(session, document.person_id, list(user.units))
    )
    if record is None:
        raise Conflict("The person has no intake record in your units: the delivery has none to go with.")
    return record.id, record.unit


def may_deliver(person: Person) -> bool:
    """Whether the person's e-service takes deliveries now: the message function is on (CW-5)."""
    return person.messages_enabled


async def request_e_service_delivery(
    session: AsyncSession,
    user: User,
    document: Document,
    *,
    kind: EServiceDeliveryKind,
    subject: str,
    text: str,
    settings: DocumentsConfig | None = None,
) -> DeliveryOutcome:
    """Ask messaging to deliver the document's PDF to the person's e-service mailbox
    as a message from `user`: "e-service"; or "post" when the person's e-service
    is not active (nothing is asked). The document is write-protected from now on.
    The caller holds the document's row (just filed, or locked)."""
    person = await persons.by_id(session, document.person_id)
    if not may_deliver(person):
        return "post"
    if document.delivery_id is not None:
        raise Conflict(
            "The document has been sent to the e-service already.", delivery_id=str(document.delivery_id)
        )
    content = await repository.content(session, document.id)
    if document.content_type != PDF or content is None:
        raise Conflict("Only a PDF can be sent to the e-service: this document's file is no PDF.")
    if len(content) > MAX_DELIVERY_BYTES:
        raise Conflict(f"The PDF is larger than an e-service message takes ({MAX_DELIVERY_BYTES} bytes).")
    record_id, unit = await _record_and_unit(session, user, document)
    settings = settings or config()
    now = datetime.now(UTC)
    delivery_id = uuid.uuid4()
    if document.write_protected_at is None:
        document.write_protected_at, document.write_protected_by = now, user.sub
    document.delivery_id = delivery_id
    document.delivery_kind = kind
    document.delivery_requested_at = now
    document.delivery_requested_by = user.sub
    await session.flush()
    await add_event(
        session,
        EServiceDeliveryRequested(
            delivery_id=delivery_id,
            kind=kind,
            record_id=record_id,
            case_id=document.case_id,
            person_id=person.id,
            caseworker_id=user.sub,
            caseworker_name=user.name or user.sub,
            unit=unit,
            message_subject=subject[:200],
            message_text=text[:10_000],
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
    await audit.record(
        session,
        audit.AuditEntry(
            actor=user.sub,
            actor_role="caseworker",
            action="send",
            object_type="document",
            object_id=str(document.id),
            subject_pnr=person.pnr,
        ),
    )
    return "e-service"
