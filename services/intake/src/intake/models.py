"""Intake's tables: the service catalogue and citizens' e-applications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.contracts.intake import Entry
from shared.db import new_metadata

# Where a catalogue service belongs: an application's entry point (SoL, LSS), or
# "ifo", another e-service of the portal that is not applied for here.
CatalogueEntry = Literal["sol", "lss", "ifo"]


def literal_enum(literal: Any, length: int) -> Enum:
    """The column type of a `Literal` of strings kept in a plain VARCHAR(length):
    no database enum or CHECK constraint, so adding a value needs no migration;
    SQLAlchemy refuses to write, or read, a value outside the Literal."""
    return Enum(
        *get_args(literal), native_enum=False, create_constraint=False, length=length, validate_strings=True
    )


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class CatalogueService(Base):
    """A service (insats) a citizen can pick, or another e-service of the portal."""

    __tablename__ = "catalogue_services"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[CatalogueEntry] = mapped_column(literal_enum(CatalogueEntry, 8))
    category: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer)


class Application(Base):
    """A citizen's e-application (e-ansökan)."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    applicant_pnr: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[Entry] = mapped_column(literal_enum(Entry, 8))
    description: Mapped[str] = mapped_column(Text)
    # What the citizen sees: STATUS_NEW, then what casework reports (ApplicationLinked).
    # A plain string on purpose: casework owns the words, intake shows them as they come.
    status: Mapped[str] = mapped_column(String(40))
    # How far the application has come (intake.applications.service's stages):
    # a status of an earlier stage never replaces one of a later stage.
    status_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    services: Mapped[list[ApplicationService]] = relationship(
        lazy="raise", order_by="ApplicationService.position", cascade="all, delete-orphan"
    )
    history: Mapped[list[StatusChange]] = relationship(
        lazy="raise", order_by="StatusChange.at", cascade="all, delete-orphan"
    )


class ApplicationService(Base):
    """One of the services an application asks for, in the applicant's order."""

    __tablename__ = "application_services"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("catalogue_services.code"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class StatusChange(Base):
    """One step of an application's status history, as the citizen sees it."""

    __tablename__ = "application_status_history"
    __table_args__ = (
        Index("ix_application_status_history_application_id", "application_id", "at"),
        # One step per decision reported.
        Index(
            "ix_application_status_history_source_id",
            "application_id",
            "source_id",
            unique=True,
            postgresql_where=text("source_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    status: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set on a step of one service (a decision, "Beslut fattat"); None for the whole application.
    service_code: Mapped[str | None] = mapped_column(String(64))
    # The decision a step reports, so a replayed decision adds no second step.
    source_id: Mapped[uuid.UUID | None] = mapped_column()


class CitizenProfile(Base):
    """The contact details a citizen keeps in Mina sidor."""

    __tablename__ = "citizen_profiles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    pnr: Mapped[str] = mapped_column(String(12), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Carried in ContactDetailsChanged; incremented under the profile's row lock.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CitizenContact(Base):
    """The caseworker of one of the citizen's intake records (from casework)."""

    __tablename__ = "citizen_contacts"

    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    citizen_pnr: Mapped[str] = mapped_column(String(12), index=True)
    caseworker_id: Mapped[str] = mapped_column(String(200))
    caseworker_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Representation(Base):
    """A related person's approval to act for a citizen (projection of casework's approvals)."""

    __tablename__ = "representations"

    approval_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column()
    citizen_pnr: Mapped[str] = mapped_column(String(12))
    citizen_name: Mapped[str] = mapped_column(String(200))
    related_pnr: Mapped[str] = mapped_column(String(12), index=True)
    related_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    # Once set, never cleared: a revocation is final whatever arrives after it.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Casework's clock: orders only events from before versions, never a versioned one.
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The approval version last applied (the events' `version`): orders the projection.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def active_on(self, day: date) -> bool:
        return self.revoked_at is None and self.valid_from <= day <= self.valid_to
