"""Casework's tables, and the vocabularies of their enum-like columns."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.contracts.casework import AlertRecipients, EServiceDeliveryKind, InvestigationType, RecordType
from shared.contracts.intake import Entry
from shared.db import new_metadata


class ApplicationStatus(enum.StrEnum):
    """An e-application's status in the shared inbox."""

    NEW = "Ny"
    LINKED = "Kopplad"


class RecordStatus(enum.StrEnum):
    """An intake record's status: new ones show under "Nya aktualiseringar"; an
    investigation (utredning) runs on it, or it was closed without one."""

    NEW = "Ny"
    IN_PROGRESS = "Pågående"
    INVESTIGATION = "Utredning"
    CLOSED = "Avslutad"


# How an investigation is carried out: IBIC (individens behov i centrum) for elderly care.
InvestigationMethod = Literal["IBIC"]
# Why a record was closed without an investigation: a fixed choice, no free text.
CloseReason = Literal["Förenklad handläggning", "Återtagen"]


# "Från vem": who brought the matter to the municipality.
FromWhom = Literal[
    "Den enskilde",
    "Anhörig",
    "Närstående",
    "God man",
    "Förvaltare",
    "Vårdnadshavare",
    "Sjukvården",
    "Annan myndighet",
    "Övrigt",
]
# "Aktualiseringssätt": how it came in; an e-application is always "E-ansökan".
Channel = Literal["E-ansökan", "Telefon", "Brev", "Besök", "Övrigt"]
# Relation types of the register ("Verksamhetsregister").
RelationType = Literal[
    "God man",
    "Förvaltare",
    "Godkänd för meddelande",
    "Anhörig",
    "Närstående",
    "Vårdnadshavare",
    "Kontaktperson",
]
SmsPhone = Literal[1, 2]  # which phone field SMS alerts go to


def varchar_enum(kind: Any, length: int) -> Enum:
    """An enum-like column kept as a plain VARCHAR(length): no database enum type and
    no CHECK constraint, so a new value needs no migration. `kind` is a StrEnum (its
    values are stored) or a Literal of strings."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return Enum(
            kind,
            native_enum=False,
            create_constraint=False,
            length=length,
            values_callable=lambda members: [m.value for m in members],
        )
    return Enum(*get_args(kind), native_enum=False, create_constraint=False, length=length)


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class IncomingApplication(Base):
    """An e-application in the shared inbox ("E-tjänster att hantera")."""

    __tablename__ = "incoming_applications"
    __table_args__ = (
        # The inbox is read newest first, filtered by status, entry or category: keyset pagination.
        Index("ix_incoming_applications_submitted", text("submitted_at DESC"), text("id DESC")),
        Index(
            "ix_incoming_applications_status_submitted", "status", text("submitted_at DESC"), text("id DESC")
        ),
        Index(
            "ix_incoming_applications_entry_submitted", "entry", text("submitted_at DESC"), text("id DESC")
        ),
        Index("ix_incoming_applications_categories", "categories", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # intake's application id
    applicant_pnr: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[Entry] = mapped_column(varchar_enum(Entry, 8))
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[ApplicationStatus] = mapped_column(varchar_enum(ApplicationStatus, 40))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    record_id: Mapped[uuid.UUID | None] = mapped_column()  # set once linked
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffMember(Base):
    """A caseworker as last seen in their token: the choices of "Handläggare"."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the token's sub
    name: Mapped[str] = mapped_column(String(200))
    units: Mapped[list[str]] = mapped_column(ARRAY(Text))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Person(Base):
    """The person record (personbild, CW-4)."""

    __tablename__ = "persons"
    __table_args__ = (Index("ix_persons_name_lower", text("lower(name)")),)  # search by name

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    pnr: Mapped[str] = mapped_column(String(12), unique=True)
    # Customer number (kundnummer), from a sequence when the person is created.
    kundnummer: Mapped[str] = mapped_column(
        String(20), unique=True, server_default=text("nextval('kundnummer_seq')::text")
    )
    name: Mapped[str] = mapped_column(String(200))
    # Own address, and the one from the population register (folkbokföringsadress).
    address_street: Mapped[str | None] = mapped_column(String(200))
    address_postal_code: Mapped[str | None] = mapped_column(String(10))
    address_city: Mapped[str | None] = mapped_column(String(100))
    registered_street: Mapped[str | None] = mapped_column(String(200))
    registered_postal_code: Mapped[str | None] = mapped_column(String(10))
    registered_city: Mapped[str | None] = mapped_column(String(100))
    municipality: Mapped[str | None] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(100))
    phone1: Mapped[str | None] = mapped_column(String(20))
    phone2: Mapped[str | None] = mapped_column(String(20))
    phone3: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    protected_identity: Mapped[bool] = mapped_column(Boolean, default=False)  # skyddad folkbokföring
    confidentiality_marking: Mapped[bool] = mapped_column(Boolean, default=False)  # sekretessmarkering
    secret_phone: Mapped[bool] = mapped_column(Boolean, default=False)  # hemligt telefonnummer
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)  # tolkbehov
    # E-service (CW-5): message function and alerts.
    messages_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_phone: Mapped[SmsPhone | None] = mapped_column(SmallInteger)
    email_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_recipients: Mapped[AlertRecipients] = mapped_column(
        varchar_enum(AlertRecipients, 10), default="citizen"
    )
    # Version of the e-service settings, carried in EServiceSettingsChanged;
    # incremented under the person's row lock each time they are announced.
    e_service_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def protected(self) -> bool:
        return self.protected_identity or self.confidentiality_marking


class CitizenContactDetails(Base):
    """Mobile and e-mail as the citizen last set them in Mina sidor (from intake)."""

    __tablename__ = "citizen_contact_details"

    pnr: Mapped[str] = mapped_column(String(12), primary_key=True)
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The profile version (ContactDetailsChanged.version) each field was last set
    # at: an older or replayed event changes neither field, a newer one only its own.
    mobile_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class IntakeRecord(Base):
    """An intake record (aktualisering, CW-2): where an investigation or simplified handling starts."""

    __tablename__ = "intake_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    record_type: Mapped[RecordType] = mapped_column(varchar_enum(RecordType, 40))
    lss_services: Mapped[list[str]] = mapped_column(ARRAY(Text))
    caseworker_id: Mapped[str] = mapped_column(String(200), index=True)
    caseworker_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100))
    from_whom: Mapped[FromWhom] = mapped_column(varchar_enum(FromWhom, 40))
    channel: Mapped[Channel] = mapped_column(varchar_enum(Channel, 40))
    reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[RecordStatus] = mapped_column(varchar_enum(RecordStatus, 40))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Carried in CoCaseworkerAdded/Removed; incremented under the record's row lock
    # on each addition and removal of a co-caseworker (docs/event-ordering.md).
    co_caseworker_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The investigation (utredning), once started; or the closing without one.
    investigation_type: Mapped[InvestigationType | None] = mapped_column(varchar_enum(InvestigationType, 40))
    investigation_method: Mapped[InvestigationMethod | None] = mapped_column(
        varchar_enum(InvestigationMethod, 10)
    )
    investigation_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    investigation_started_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    close_reason: Mapped[CloseReason | None] = mapped_column(varchar_enum(CloseReason, 100))


class CoCaseworker(Base):
    """A co-caseworker (medhandläggare) of an intake record: a caseworker of the
    record's unit beside its caseworker, who may also message the citizen (MS-3).
    Removing one deletes the row (the audit log keeps who was one, and when)."""

    __tablename__ = "co_caseworkers"

    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intake_records.id"), primary_key=True)
    caseworker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    caseworker_name: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Where a document came from: a file filed as it came ("filed", "e-application",
# "journal": a journaled message's attachment), written by a caseworker
# ("written", "template") or made by casework ("decision": a signed decision's letter).
DocumentSource = Literal["filed", "e-application", "journal", "written", "template", "decision"]


class Document(Base):
    """A document (CW-10) of a person, under an intake record's documentation, or of
    a case: its type, title, date and either a file (`content`) or a written text.
    Write-protecting it freezes it (a trigger refuses every later change but its
    e-service delivery state); a written document's PDF is rendered and kept then.
    Owned by the `documents` module (intake records and the journal file theirs)."""

    __tablename__ = "documents"
    __table_args__ = (CheckConstraint("case_id IS NULL OR record_id IS NOT NULL", name="case_has_record"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    # None: a document of the person only. A case's document names the case's record too.
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("intake_records.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(60))  # Dokumenttyp
    title: Mapped[str] = mapped_column(String(200))  # Rubrik
    document_date: Mapped[date] = mapped_column(  # Datum
        Date, server_default=text("(now() AT TIME ZONE 'Europe/Stockholm')::date")
    )
    text: Mapped[str | None] = mapped_column(Text)  # a written document's text
    content_type: Mapped[str] = mapped_column(String(100))
    # The file; a written document has none until it is write-protected (its PDF).
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    source: Mapped[DocumentSource] = mapped_column(
        varchar_enum(DocumentSource, 20), default="filed", server_default="filed"
    )
    created_by: Mapped[str | None] = mapped_column(String(200))  # None: filed before it was kept
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    write_protected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    write_protected_by: Mapped[str | None] = mapped_column(String(200))
    # Delivery to the person's e-service mailbox (MS-10, CW-9): asked once; messaging
    # answers with the message it delivered (EServiceDeliveryDone) or a refusal.
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    delivery_kind: Mapped[EServiceDeliveryKind | None] = mapped_column(varchar_enum(EServiceDeliveryKind, 20))
    delivery_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_requested_by: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[uuid.UUID | None] = mapped_column()  # messaging's
    # Messaging refused the delivery (EServiceDeliveryRefused): it must go by post.
    delivery_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_refused_reason: Mapped[str | None] = mapped_column(String(200))  # messaging's fixed text


class Relation(Base):
    """A registered relation (CW-8): god man, godkänd för meddelande, ..."""

    __tablename__ = "relations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    relation_type: Mapped[RelationType] = mapped_column(varchar_enum(RelationType, 60))
    related_pnr: Mapped[str] = mapped_column(String(12))
    related_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    sms_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    email_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Approval(Base):
    """An approved related person (godkänd närstående, CW-7) who may act for the citizen."""

    __tablename__ = "approvals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    related_pnr: Mapped[str] = mapped_column(String(12))
    related_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    consent_info: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Carried in the approval's events; incremented under the approval's row lock.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class JournalEntry(Base):
    """A journal entry of an intake record (CW-11): a message journaled from
    messaging, attributed to its real author (a related person included, CW-12).
    Its attachments are filed as documents of the record (`document_ids`).
    Owned by the `journal` module; one entry per message and record."""

    __tablename__ = "journal_entries"
    __table_args__ = (UniqueConstraint("record_id", "message_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intake_records.id"), index=True)  # Knyt till
    # The record's case (ärende) the entry is filed under, if any (CW-11). The
    # table is casework.cases' (imported by whatever writes journal entries).
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    message_id: Mapped[uuid.UUID] = mapped_column()  # messaging's
    request_id: Mapped[uuid.UUID] = mapped_column()  # the journal request that made it
    entry_type: Mapped[str] = mapped_column(String(40))  # Typ
    sender: Mapped[str] = mapped_column(String(40))  # Avsändare
    sender_designation: Mapped[str | None] = mapped_column(String(200))  # Benämning avsändare
    title: Mapped[str] = mapped_column(String(200))  # Rubrik
    entry_date: Mapped[date] = mapped_column(Date)  # Datum
    subject: Mapped[str] = mapped_column(String(200))  # the message's Ämne
    text: Mapped[str] = mapped_column(Text)  # the message, as plain text
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author_sub: Mapped[str] = mapped_column(String(200))
    author_name: Mapped[str] = mapped_column(String(200))
    author_role: Mapped[str] = mapped_column(String(32))  # citizen, related_person, caseworker, ...
    author_pnr: Mapped[str | None] = mapped_column(String(12))
    on_behalf_of: Mapped[str | None] = mapped_column(String(200))  # the citizen, for a related person
    approval_id: Mapped[uuid.UUID | None] = mapped_column()
    registered_by_sub: Mapped[str] = mapped_column(String(200))
    registered_by_name: Mapped[str] = mapped_column(String(200))
    document_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The modules' own tables, registered whenever these are: journal entries (and
# documents) refer to cases, and a foreign key resolves only to a known table.
# Imported last: casework.cases.models imports Base from here.
import casework.cases.models  # noqa: E402, F401
