"""Documents (CW-10, MS-10): a person's documents, under an intake record or a
case or of the person only, with type, title, date and a written text or a
file. A caseworker writes one, or fills a template ("Brev", "Kallelse till
hembesök", ...) with the person's data; changes it until it is write-protected;
write-protecting freezes it for good (a written document's PDF is rendered and
kept then; a trigger refuses any later change). "Create PDF and send to the
e-service" is one step: write-protect, render, and ask messaging to deliver the
PDF into the person's e-service mailbox (`delivery`); when the person's
e-service is not active the answer is 409: send it by post.

Access: a document under a record or case is reached under the records' rule
(a unit of the caseworker's holds the record); a document of the person only
by the persons' rule (one of the person's records is in the caseworker's
units). Every read and write is audited, refusals too. Messaging fetches a
delivery's PDF through the capability URL (`e_service_fetch`), audited as a
disclosure; its EServiceDeliveryDone marks the document delivered, its
EServiceDeliveryRefused marks the delivery refused: the document must go by post.

A person with protected identity's address never goes into a letter: the
address block says the letter goes through Skatteverket, which forwards post to
them (the way such a person is written to)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from casework.cases import service as cases
from casework.config import TIME_ZONE
from casework.documents import delivery, repository
from casework.documents.layout import document_layout
from casework.documents.schemas import (
    MAX_DOCUMENTS,
    DeliveryOut,
    DocumentCreate,
    DocumentOut,
    DocumentUpdate,
    SendToEService,
    TemplateFieldOut,
    TemplateOut,
)
from casework.documents.settings import DocumentsConfig
from casework.documents.templates import (
    TEMPLATES,
    PersonFacts,
    SenderFacts,
    TemplateFieldsInvalid,
    fill,
)
from casework.intake_records import service as intake_records
from casework.models import Document, DocumentSource, IntakeRecord, Person
from casework.persons import access as person_access
from casework.persons import service as persons
from shared import audit, capability, pdf
from shared.auth import User
from shared.contracts.messaging import EServiceDeliveryDone, EServiceDeliveryRefused
from shared.events import Envelope
from shared.patch import changes
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

PDF = delivery.PDF
WRITTEN: frozenset[DocumentSource] = frozenset({"written", "template"})
MESSAGING = "messaging"  # the holder of an e-service fetch capability, as the audit log names it


def _today() -> date:
    return datetime.now(TIME_ZONE).date()


# ---- filing (for other modules) -------------------------------------------------


async def file_document(
    session: AsyncSession,
    *,
    person_id: uuid.UUID,
    record_id: uuid.UUID | None,
    case_id: uuid.UUID | None,
    doc_type: str,
    title: str,
    content: bytes | None,
    content_type: str = PDF,
    text: str | None = None,
    document_date: date | None = None,
    source: DocumentSource,
    created_by: str,
    write_protected: bool = False,
    at: datetime | None = None,
) -> Document:
    """File a document (no access check, no audit: the caller reached the person,
    record or case and audits its own action); the flushed row."""
    now = at or datetime.now(UTC)
    document = Document(
        id=uuid.uuid4(),
        person_id=person_id,
        record_id=record_id,
        case_id=case_id,
        doc_type=doc_type[:60],
        title=title[:200],
        document_date=document_date or now.astimezone(TIME_ZONE).date(),
        text=text,
        content_type=content_type[:100],
        content=content,
        source=source,
        created_by=created_by,
        created_at=now,
        write_protected_at=now if write_protected else None,
        write_protected_by=created_by if write_protected else None,
    )
    repository.add(session, document)
    await session.flush()
    return document


# ---- access -------------------------------------------------------------------


async def _reach(
    session: AsyncSession, user: User, document_id: uuid.UUID, action: str, *, for_update: bool = False
) -> tuple[Document, Person]:
    """The document (locked `for_update`) and its person, if the caseworker may reach
    it: the record's (or case's record's) unit, or for a document of the person
    only, one of the person's records in the caseworker's units. Audited."""
    document = await (repository.get_locked if for_update else repository.get)(session, document_id)
    if document is None:
        raise NotFound("There is no such document.")
    if document.case_id is not None:
        _, _, person = await cases.reach_case(
            session, user, document.case_id, action, "document", document.id
        )
    elif document.record_id is not None:
        _, person = await intake_records.reach_record(
            session, user, document.record_id, action, "document", document.id
        )
    else:
        person = await person_access.reach_person(
            session, user, document.person_id, action, "document", str(document.id)
        )
    return document, person


async def _out(session: AsyncSession, documents: list[Document]) -> list[DocumentOut]:
    with_file = await repository.with_file(session, [d.id for d in documents])
    return [
        DocumentOut(
            id=d.id,
            person_id=d.person_id,
            record_id=d.record_id,
            case_id=d.case_id,
            doc_type=d.doc_type,
            title=d.title,
            date=d.document_date,
            text=d.text,
            source=d.source,
            content_type=d.content_type,
            has_file=d.id in with_file,
            created_by=d.created_by,
            created_at=d.created_at,
            updated_at=d.updated_at,
            write_protected=d.write_protected_at is not None,
            write_protected_at=d.write_protected_at,
            write_protected_by=d.write_protected_by,
            delivery=None
            if d.delivery_id is None or d.delivery_kind is None or d.delivery_requested_at is None
            else DeliveryOut(
                delivery_id=d.delivery_id,
                kind=d.delivery_kind,
                status="delivered"
                if d.delivered_at is not None
                else "refused"
                if d.delivery_refused_at is not None
                else "requested",
                requested_at=d.delivery_requested_at,
                requested_by=d.delivery_requested_by or "",
                delivered_at=d.delivered_at,
                message_id=d.message_id,
                refused_at=d.delivery_refused_at,
                refused_reason=d.delivery_refused_reason,
            ),
        )
        for d in documents
    ]


async def _one(session: AsyncSession, document: Document) -> DocumentOut:
    return (await _out(session, [document]))[0]


# ---- for other modules (orders) -------------------------------------------------


async def reach_document(
    session: AsyncSession, user: User, document_id: uuid.UUID, action: str
) -> tuple[Document, Person]:
    """The document (without its file) and its person, if the caseworker may reach
    it under the documents' rule; audited as `action` on the document."""
    return await _reach(session, user, document_id, action)


async def by_id(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """A document without its file (no access check: for a capability's holder)."""
    return await repository.get(session, document_id)


async def pdf_of(session: AsyncSession, document: Document) -> bytes | None:
    """The document's PDF, if its file is one (a written document has it once write-protected)."""
    if document.content_type != PDF:
        return None
    return await repository.content(session, document.id)


# ---- templates ------------------------------------------------------------------


def templates() -> list[TemplateOut]:
    """The document templates and the fields each asks for."""
    return [
        TemplateOut(
            name=t.name,
            doc_type=t.doc_type,
            title=t.title,
            fields=[TemplateFieldOut(name=f.name, label=f.label, kind=f.kind) for f in t.fields],
        )
        for t in TEMPLATES.values()
    ]


def _person_facts(person: Person) -> PersonFacts:
    # Protected identity: never the address, whoever writes (post to them goes
    # through Skatteverket); else the own address, or the registered one.
    address: tuple[str, ...] | None = None
    if not person.protected:
        for prefix in ("address_", "registered_"):
            street = getattr(person, f"{prefix}street")
            if street:
                place = " ".join(
                    p
                    for p in (getattr(person, f"{prefix}postal_code"), getattr(person, f"{prefix}city"))
                    if p
                )
                address = (street, place) if place else (street,)
                break
        else:
            address = ()
    return PersonFacts(name=person.name, pnr=person.pnr, kundnummer=person.kundnummer, address=address)


async def _unit(session: AsyncSession, user: User, person: Person, record: IntakeRecord | None) -> str:
    if record is not None:
        return record.unit
    newest = await repository.newest_record_in(session, person.id, list(user.units))
    return newest.unit if newest is not None else (user.units[0] if user.units else "")


@dataclass(frozen=True)
class _Written:
    doc_type: str
    title: str
    text: str
    source: DocumentSource


async def _written(
    session: AsyncSession,
    user: User,
    person: Person,
    record: IntakeRecord | None,
    form: DocumentCreate,
    settings: DocumentsConfig,
) -> _Written:
    if form.template is None:
        missing = [name for name in ("doc_type", "title", "text") if getattr(form, name) is None]
        if missing:
            raise InvalidInput(
                f"A document without a template needs {', '.join(missing)}.",
                field=missing[0],
                missing=missing,
            )
        assert form.doc_type is not None and form.title is not None and form.text is not None
        return _Written(form.doc_type, form.title, form.text, "written")
    template = TEMPLATES[form.template]
    sender = SenderFacts(
        caseworker=user.name or user.sub,
        unit=await _unit(session, user, person, record),
        municipality=settings.municipality,
    )
    try:
        filled = fill(template, _person_facts(person), sender, form.fields, _today())
    except TemplateFieldsInvalid as exc:
        names = list(exc.problems)
        raise InvalidInput(
            "The template's fields are not all right: "
            + "; ".join(f"{name}: {problem}" for name, problem in exc.problems.items())
            + ".",
            field=f"fields.{names[0]}",
            fields=exc.problems,
        ) from None
    return _Written(form.doc_type or filled.doc_type, form.title or filled.title, filled.text, "template")


def _check_form(form: DocumentCreate) -> None:
    if form.template is not None:
        if form.template not in TEMPLATES:
            raise InvalidInput("There is no such template.", field="template", allowed=sorted(TEMPLATES))
        if form.text is not None:
            raise InvalidInput("With a template the text comes from the template.", field="text")
    elif form.fields:
        raise InvalidInput("Template fields go only with a template.", field="fields")


async def create(
    session: AsyncSession, user: User, person_id: uuid.UUID, form: DocumentCreate, settings: DocumentsConfig
) -> DocumentOut:
    """A new written document of the person (from a template, or as given)."""
    _check_form(form)
    document_id = uuid.uuid4()
    record: IntakeRecord | None = None
    case_id: uuid.UUID | None = None
    if form.case_id is not None:
        case, record, person = await cases.reach_case(
            session, user, form.case_id, "create", "document", document_id
        )
        if case.person_id != person_id:
            raise InvalidInput("The case is not this person's.", field="case_id")
        if form.record_id is not None and form.record_id != record.id:
            raise InvalidInput("The case is under another intake record.", field="record_id")
        case_id = case.id
    elif form.record_id is not None:
        record, person = await intake_records.reach_record(
            session, user, form.record_id, "create", "document", document_id
        )
        if record.person_id != person_id:
            raise InvalidInput("The intake record is not this person's.", field="record_id")
    else:
        person = await person_access.reach_person(
            session, user, person_id, "create", "document", str(document_id)
        )
    written = await _written(session, user, person, record, form, settings)
    now = datetime.now(UTC)
    document = Document(
        id=document_id,
        person_id=person.id,
        record_id=record.id if record is not None else None,
        case_id=case_id,
        doc_type=written.doc_type,
        title=written.title,
        document_date=form.date or _today(),
        text=written.text,
        content_type=PDF,  # what it becomes: its PDF, kept once write-protected
        content=None,
        source=written.source,
        created_by=user.sub,
        created_at=now,
    )
    repository.add(session, document)
    await session.flush()
    return await _one(session, document)


async def of_person(session: AsyncSession, user: User, person_id: uuid.UUID) -> list[DocumentOut]:
    """The person's documents the caseworker may reach, newest first."""
    await person_access.reach_person(session, user, person_id, "list", "document")
    return await _out(
        session, await repository.of_person(session, person_id, list(user.units), MAX_DOCUMENTS)
    )


async def details(session: AsyncSession, user: User, document_id: uuid.UUID) -> DocumentOut:
    """One document's details (its text, not its file)."""
    document, _ = await _reach(session, user, document_id, "read")
    return await _one(session, document)


def _write_protected(document: Document) -> Conflict:
    return Conflict(
        "The document is write-protected: it cannot be changed any more.",
        write_protected_at=document.write_protected_at.isoformat() if document.write_protected_at else None,
    )


async def update(
    session: AsyncSession, user: User, document_id: uuid.UUID, form: DocumentUpdate
) -> DocumentOut:
    """Change a document's type, title, date or (written) text, until it is write-protected."""
    values = changes(form, not_null=("doc_type", "title", "date"))
    document, _ = await _reach(session, user, document_id, "update", for_update=True)
    if document.write_protected_at is not None:
        raise _write_protected(document)
    if "text" in values:
        if document.source not in WRITTEN:
            raise InvalidInput("Only a written document has a text: this one is a file.", field="text")
        if values["text"] is None:
            raise InvalidInput("'text' cannot be null.", field="text")
    for name, value in values.items():
        setattr(document, "document_date" if name == "date" else name, value)
    document.updated_at = datetime.now(UTC)
    await session.flush()
    return await _one(session, document)


async def _freeze(session: AsyncSession, user: User, document: Document, settings: DocumentsConfig) -> None:
    """Write-protect the document; a written one's PDF is rendered and kept now."""
    now = datetime.now(UTC)
    if (
        document.source in WRITTEN
        and document.text is not None
        and not await repository.with_file(session, [document.id])
    ):
        layout = document_layout(
            document.id,
            document.doc_type,
            document.title,
            document.document_date,
            document.text,
            settings.municipality,
        )
        document.content = await pdf.render_off_loop(layout)
        document.content_type = PDF
    document.write_protected_at, document.write_protected_by = now, user.sub
    await session.flush()


async def write_protect(
    session: AsyncSession, user: User, document_id: uuid.UUID, settings: DocumentsConfig
) -> DocumentOut:
    """Skrivskydda: freeze the document for good."""
    document, _ = await _reach(session, user, document_id, "write_protect", for_update=True)
    if document.write_protected_at is not None:
        raise _write_protected(document)
    await _freeze(session, user, document, settings)
    return await _one(session, document)


def _default_message(document: Document) -> str:
    return (
        "Hej!\n\n"
        f"Du har fått ett dokument från oss: {document.title}. Du hittar det som bilaga (PDF) "
        "till det här meddelandet.\n\nMed vänliga hälsningar"
    )


async def send_to_e_service(
    session: AsyncSession, user: User, document_id: uuid.UUID, form: SendToEService, settings: DocumentsConfig
) -> DocumentOut:
    """Skapa PDF och skicka till e-tjänsten: write-protect, render the PDF and
    deliver it to the person's e-service mailbox, in one step. 409 when the
    person's e-service is not active: send it by post."""
    document, person = await _reach(session, user, document_id, "update", for_update=True)
    if not delivery.may_deliver(person):
        raise Conflict(
            "The person's e-service is not active (the message function is off): send the document by post.",
            delivery="post",
        )
    if document.delivery_id is not None:
        raise Conflict(
            "The document has been sent to the e-service already.", delivery_id=str(document.delivery_id)
        )
    if document.source not in WRITTEN and document.content_type != PDF:
        raise Conflict("Only a PDF or a written document can be sent to the e-service: this file is no PDF.")
    if document.write_protected_at is None:
        await _freeze(session, user, document, settings)
    await delivery.request_e_service_delivery(
        session,
        user,
        document,
        kind="document",
        subject=form.subject or document.title,
        text=form.text or _default_message(document),
        settings=settings,
    )
    return await _one(session, document)


# ---- files ----------------------------------------------------------------------


def _disposition(title: str, content_type: str) -> str:
    name = delivery.pdf_filename(title) if content_type == PDF else title
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in " .-_()") else "_" for c in name)
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


_NO_STORE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


async def file_response(
    session: AsyncSession, user: User, document_id: uuid.UUID, settings: DocumentsConfig, *, pdf_only: bool
) -> Response:
    """The document's file; a written document not yet write-protected as its PDF,
    rendered after the request's transaction (shared.pdf.PdfResponse)."""
    document, _ = await _reach(session, user, document_id, "read")
    content = await repository.content(session, document.id)
    headers = {**_NO_STORE, "content-disposition": _disposition(document.title, document.content_type)}
    if content is not None:
        if pdf_only and document.content_type != PDF:
            raise Conflict("This document is a file that is no PDF: fetch it from GET /documents/{id}.")
        return Response(content, media_type=document.content_type, headers=headers)
    layout = document_layout(
        document.id,
        document.doc_type,
        document.title,
        document.document_date,
        document.text or "",
        settings.municipality,
    )
    return pdf.PdfResponse(layout, headers=headers)


# ---- delivery ---------------------------------------------------------------------


async def e_service_fetch(
    session: AsyncSession, document_id: uuid.UUID, token: str, settings: DocumentsConfig
) -> Response:
    """The PDF of a delivery still waiting, for messaging: the capability URL of
    EServiceDeliveryRequested (no bearer token; bound to the document and the
    delivery, expiring, spent once delivered). Audited as a disclosure."""
    refused = audit.AuditEntry(MESSAGING, "system", "disclose", "document", str(document_id))
    try:
        grant = capability.verify(settings.fetch_key, delivery.PURPOSE, document_id, token)
    except capability.BadToken:
        raise await audit.refuse(
            session, refused, NotAllowed("The link is not valid for this document, or it has expired.")
        ) from None
    document = await repository.get(session, document_id)
    if document is None:
        raise NotFound("There is no such document.")
    person = await persons.by_id(session, document.person_id)
    refused = audit.AuditEntry(
        MESSAGING, "system", "disclose", "document", str(document_id), subject_pnr=person.pnr
    )
    if document.delivery_id != grant.grant_id:
        raise await audit.refuse(session, refused, NotAllowed("The link is not valid for this document."))
    if document.delivered_at is not None:
        raise await audit.refuse(
            session, refused, NotAllowed("The document is delivered: the link is spent.")
        )
    return await disclose_pdf(session, document, refused)  # allowed: a disclosure to messaging


async def disclose_pdf(session: AsyncSession, document: Document, entry: audit.AuditEntry) -> Response:
    """The document's PDF for the holder of a capability the caller verified (messaging's
    delivery, a provider's order), recorded as `entry`: an allowed disclosure."""
    content = await repository.content(session, document.id)
    if content is None or document.content_type != PDF:
        raise NotFound("The document has no PDF.")
    await audit.record(session, entry)
    return Response(
        content,
        media_type=PDF,
        headers={**_NO_STORE, "content-disposition": _disposition(document.title, PDF)},
    )


async def on_delivery_done(session: AsyncSession, event: EServiceDeliveryDone, envelope: Envelope) -> None:
    """Messaging delivered the document: it is marked delivered (once; a replay changes nothing)."""
    person_id = await repository.mark_delivered(
        session, event.delivery_id, event.document_id, event.message_id, event.delivered_at
    )
    if person_id is not None:
        person = await persons.by_id(session, person_id)
        await audit.record(
            session, audit.from_event(envelope, "update", "document", event.document_id, person.pnr)
        )


async def on_delivery_refused(
    session: AsyncSession, event: EServiceDeliveryRefused, envelope: Envelope
) -> None:
    """Messaging refused the delivery: the document is marked refused, to go by post
    (once; a replay, or a delivery that is not ours, changes nothing)."""
    person_id = await repository.mark_refused(
        session, event.delivery_id, event.document_id, event.reason, event.refused_at
    )
    if person_id is not None:
        person = await persons.by_id(session, person_id)
        await audit.record(
            session, audit.from_event(envelope, "update", "document", event.document_id, person.pnr)
        )
