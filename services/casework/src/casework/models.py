"""Casework's tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_metadata


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class IncomingApplication(Base):
    """An e-application in the shared inbox ("E-tjänster att hantera")."""

    __tablename__ = "incoming_applications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # intake's application id
    applicant_pnr: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[str] = mapped_column(String(8))
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
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
    sms_phone: Mapped[int | None] = mapped_column(SmallInteger)  # 1 or 2
    email_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_recipients: Mapped[str] = mapped_column(String(10), default="citizen")
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
    record_type: Mapped[str] = mapped_column(String(40))
    lss_services: Mapped[list[str]] = mapped_column(ARRAY(Text))
    caseworker_id: Mapped[str] = mapped_column(String(200), index=True)
    caseworker_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100))
    from_whom: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """A document under an intake record's documentation."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intake_records.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Relation(Base):
    """A registered relation (CW-8): god man, godkänd för meddelande, ..."""

    __tablename__ = "relations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    relation_type: Mapped[str] = mapped_column(String(60))
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
