"""Messaging's tables.

Owned by modules (docs/module-template.md, "Who may query which table"):
`mailboxes` owns mailboxes, staff_members and e_service_persons; `rights` owns
caseworker_assignments, provider_assignments and representations (projections
of casework's facts); `messages` owns messages, message_recipients and
mailbox_items. The attachment store (`attachments/`) owns its own tables.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_metadata


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class MailboxKind(StrEnum):
    PERSONAL = "personal"  # a staff member's own (Min brevlåda)
    GROUP = "group"  # a unit's gemensamma brevlåda (MS-6)
    CITIZEN = "citizen"  # a person's e-service mailbox (MS-2)


class Mailbox(Base):
    """A mailbox: personal (a staff user), group (gemensam brevlåda of a unit) or citizen."""

    __tablename__ = "mailboxes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[MailboxKind] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # group: the unit whose members use it (the token's `units`).
    unit: Mapped[str | None] = mapped_column(String(100))
    # personal: the staff member's token `sub`.
    owner_sub: Mapped[str | None] = mapped_column(String(200), unique=True)
    # citizen: casework's person id; usable only while the message function is on.
    person_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StaffMember(Base):
    """The staff directory: staff as their tokens last showed them (recipient search)."""

    __tablename__ = "staff_members"

    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    units: Mapped[list[str]] = mapped_column(ARRAY(Text))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EServicePerson(Base):
    """A person's message function (projection of casework's EServiceSettingsChanged):
    the citizen mailbox exists and acts only while `messages_enabled`."""

    __tablename__ = "e_service_persons"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    pnr: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(200))
    messages_enabled: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The person's e-service settings version last applied (the events' `version`).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AssignmentRole(StrEnum):
    CASEWORKER = "caseworker"  # handläggare
    CO_CASEWORKER = "co_caseworker"  # medhandläggare


# The rows of the caseworker role: one per record (a partial unique index).
CASEWORKER_ROWS = "role = 'caseworker'"


class CaseworkerAssignment(Base):
    """Who handles a person's intake record: its caseworker (projection of
    CaseworkerAssigned, one row per record) and its co-caseworkers (of
    CoCaseworkerAdded/Removed, one row per record and co-caseworker). They may
    write to the person's e-service (MS-3) while the row is not removed."""

    __tablename__ = "caseworker_assignments"
    __table_args__ = (
        # One caseworker per record: a later CaseworkerAssigned replaces the row.
        Index(
            "uq_caseworker_assignments_caseworker_of_record",
            "record_id",
            unique=True,
            postgresql_where=text(CASEWORKER_ROWS),
        ),
    )

    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role: Mapped[AssignmentRole] = mapped_column(String(16), primary_key=True)
    caseworker_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    caseworker_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100))
    # Casework's clock (the caseworker's assigned_at, the co-caseworker's added_at).
    # CaseworkerAssigned carries no version: one record's events share a key (the
    # record id) and so arrive in order but for replays, which assigned_at orders.
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A co-caseworker's: the record's co-caseworker version last applied (0 for the
    # caseworker's row). An event applies only when newer, so a replayed older
    # addition never brings back a removed co-caseworker.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when the co-caseworker was removed: the row stays to hold the version.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProviderAssignment(Base):
    """A provider unit's assignment (uppdrag) for a client: its staff may write to
    the client (MS-3, "Mottagartyp: Medborgare") from the execution date through
    the end date. A projection of provider's executions (`provider.orders.v1`),
    keyed by the order: ExecutionStarted (version 1) sets `valid_from`,
    ExecutionEnded (version 2) `valid_to` and `ended_at`."""

    __tablename__ = "provider_assignments"

    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # open-ended while running
    # When the provider ended the execution; the end date (valid_to) may lie ahead,
    # and until then its staff still serve the client.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def active_on(self, day: date) -> bool:
        """Whether the execution runs on `day`: from its execution date through its end date."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Representation(Base):
    """A related person's approval to act for a citizen (projection of casework's
    approval events): reads and writes in the citizen's e-service inside the period."""

    __tablename__ = "representations"

    approval_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    citizen_pnr: Mapped[str] = mapped_column(String(12))
    citizen_name: Mapped[str] = mapped_column(String(200))
    related_pnr: Mapped[str] = mapped_column(String(12), index=True)
    related_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    # Once set, never cleared: a revocation is final whatever arrives after it.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def active_on(self, day: date) -> bool:
        return self.revoked_at is None and self.valid_from <= day <= self.valid_to


class MessageKind(StrEnum):
    MESSAGE = "message"
    RECEIPT = "receipt"  # läskvitto: told to the sender when a recipient first opened it


class MessageStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class AuthorRole(StrEnum):
    CASEWORKER = "caseworker"
    STAFF = "staff"  # other staff roles (fee administrator, administrator ...)
    PROVIDER = "provider"
    CITIZEN = "citizen"
    RELATED_PERSON = "related_person"
    SYSTEM = "system"  # receipts


class Message(Base):
    """One message (MS-4). Who really wrote it (`author_*`) is kept apart from the
    mailbox it is from: a related person writes from the citizen's mailbox."""

    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[MessageKind] = mapped_column(String(16))
    status: Mapped[MessageStatus] = mapped_column(String(16))
    from_mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    # Till klient: the person the message concerns (e-service), or None.
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    person_pnr: Mapped[str | None] = mapped_column(String(12))
    person_name: Mapped[str | None] = mapped_column(String(200))
    author_sub: Mapped[str] = mapped_column(String(200))
    author_name: Mapped[str] = mapped_column(String(200))
    author_role: Mapped[AuthorRole] = mapped_column(String(32))
    author_pnr: Mapped[str | None] = mapped_column(String(12))  # citizens and related persons
    approval_id: Mapped[uuid.UUID | None] = mapped_column()  # a related person's, when acting
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # sanitised HTML (nh3)
    read_receipt: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    forwarded_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecipientRole(StrEnum):
    TO = "to"  # Till: a staff or group mailbox
    CLIENT = "client"  # Till klient: the person's e-service mailbox


class MessageRecipient(Base):
    """Whom a message is addressed to, as its header shows."""

    __tablename__ = "message_recipients"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), primary_key=True)
    role: Mapped[RecipientRole] = mapped_column(String(16))


class Folder(StrEnum):
    INBOX = "inbox"
    SENT = "sent"
    DRAFTS = "drafts"


class MailboxItem(Base):
    """A message as one mailbox holds it: its folder, read and deleted there."""

    __tablename__ = "mailbox_items"
    __table_args__ = (UniqueConstraint("mailbox_id", "message_id", "folder"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    folder: Mapped[Folder] = mapped_column(String(16))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
