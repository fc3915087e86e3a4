"""Notify's tables.

Owned by modules: `recipients` owns the projections of casework's facts
(alert_settings, approvals, person_units) and the rule of who is alerted where;
`alerts` owns alerts, alert_triggers and alert_history (planning writes them,
the sender worker claims and finishes them through `alerts.repository`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_metadata


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class AlertSettings(Base):
    """Where a person's alerts go (projection of casework's EServiceSettingsChanged)."""

    __tablename__ = "alert_settings"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Only for the audit log's subject (loggkontroll); never in an alert.
    pnr: Mapped[str] = mapped_column(String(12))
    messages_enabled: Mapped[bool] = mapped_column(Boolean)
    # Text, unbounded: a malformed value is kept as it came and fails the send for
    # good with a clear reason, instead of dead-lettering the person's settings.
    sms_number: Mapped[str | None] = mapped_column(Text)  # set only when SMS alerts are on
    email: Mapped[str | None] = mapped_column(Text)  # set only when e-mail alerts are on
    alert_recipients: Mapped[str] = mapped_column(String(16))  # citizen | related | both
    # [{"related_pnr", "sms_number", "email"}]: the related persons' own channels (no names).
    related_alerts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    protected_identity: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Approval(Base):
    """A related person's approval to act for a citizen (projection of casework's
    approval events): alerted only while it is valid."""

    __tablename__ = "approvals"

    approval_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    related_pnr: Mapped[str] = mapped_column(String(12))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    # Once true, never false again: a revocation is final whatever arrives after it.
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def valid_on(self, day: date) -> bool:
        """True when the approval holds on `day`."""
        return not self.revoked and self.valid_from <= day <= self.valid_to


class PersonUnit(Base):
    """A unit whose caseworkers handle the person (projection of CaseworkerAssigned):
    they may read the person's notification history."""

    __tablename__ = "person_units"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(100), primary_key=True)
    pnr: Mapped[str] = mapped_column(String(12))  # the audit log's subject
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Recipient(StrEnum):
    CITIZEN = "citizen"
    RELATED = "related"


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class AlertKind(StrEnum):
    """What landed in the e-service mailbox: chooses the template."""

    MESSAGE = "message"
    DECISION = "decision"
    DOCUMENT = "document"


class AlertStatus(StrEnum):
    QUEUED = "queued"  # planned, waiting for due_at
    SENDING = "sending"  # claimed by a sender (lease_until)
    ACCEPTED = "accepted"  # the gateway or relay took it
    DELIVERED = "delivered"  # the delivery report said so
    FAILED = "failed"  # a temporary failure: a retry is due at due_at
    GIVEN_UP = "given_up"  # final: permanent failure, deadline or attempts exhausted


PENDING_STATUSES = (AlertStatus.QUEUED, AlertStatus.FAILED)
FINAL_STATUSES = (AlertStatus.DELIVERED, AlertStatus.GIVEN_UP)


class Alert(Base):
    """One alert to one recipient on one channel: the sender's due-time queue row."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("recipient IN ('citizen', 'related')", name="recipient"),
        CheckConstraint("channel IN ('sms', 'email')", name="channel"),
        CheckConstraint("kind IN ('message', 'decision', 'document')", name="kind"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'accepted', 'delivered', 'failed', 'given_up')", name="status"
        ),
        # The sender's claim: due rows first, by due time.
        Index("ix_alerts_due", "due_at", postgresql_where=text("status IN ('queued', 'failed')")),
        # A crashed sender's rows, claimed again when their lease has passed.
        Index("ix_alerts_leased", "lease_until", postgresql_where=text("status = 'sending'")),
        # Coalescing: the latest alert of one recipient and channel.
        Index("ix_alerts_coalescing", "person_id", "recipient_key", "channel", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    recipient: Mapped[Recipient] = mapped_column(String(16))
    # "citizen", or the related person's personnummer: what coalescing groups by.
    recipient_key: Mapped[str] = mapped_column(String(12))
    channel: Mapped[Channel] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(Text)  # PD: the number or e-mail address
    kind: Mapped[AlertKind] = mapped_column(String(16))
    status: Mapped[AlertStatus] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)  # the gateway's id
    fallback_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id"))
    # A follow-up gathering the triggers of one coalescing window (plural template).
    coalesced: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    last_error: Mapped[str | None] = mapped_column(Text)  # a reason, never an address or text
    first_trigger_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertTrigger(Base):
    """A delivery into the e-service mailbox that an alert tells about."""

    __tablename__ = "alert_triggers"

    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    kind: Mapped[AlertKind] = mapped_column(String(16))
    delivered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertHistory(Base):
    """One status change of an alert, with its reason (never the address or the text)."""

    __tablename__ = "alert_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), index=True)
    status: Mapped[AlertStatus] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str | None] = mapped_column(Text)


class WaitingTrigger(Base):
    """A delivery into the e-service mailbox that arrived before any of the person's
    alert settings: notify reads casework's and messaging's topics independently,
    so messaging's event can overtake casework's. Planned, then deleted, when the
    person's settings arrive: no trigger is dropped for arriving early."""

    __tablename__ = "waiting_triggers"

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    mailbox_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[AlertKind] = mapped_column(String(16))
    delivered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
