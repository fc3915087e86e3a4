"""The journal module's table: each request to journal a message into an intake
record (MS-9), answered by casework's MessageJournaled, and what the retention
rule (MS-11) purged. Owned by `messaging.journal`; no foreign key to the
messages, so the row outlives a purged message as its record."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from messaging.models import Base


class JournalRequest(Base):
    """A message journaled (or being journaled) into one intake record of its person."""

    __tablename__ = "journal_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    message_id: Mapped[uuid.UUID] = mapped_column(index=True)
    record_id: Mapped[uuid.UUID] = mapped_column()
    person_id: Mapped[uuid.UUID] = mapped_column()
    person_pnr: Mapped[str] = mapped_column(String(12))  # for the audit log of what follows
    entry_type: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    entry_date: Mapped[date] = mapped_column(Date)
    requested_by_sub: Mapped[str] = mapped_column(String(200))
    requested_by_name: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set from casework's MessageJournaled: the entry exists; the retention clock starts.
    journaled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column()
    # Set when the retention rule purged the message (the row stays as its trace).
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The retention rule's scan: journaled, not yet purged.
        Index(
            "ix_journal_requests_journaled_at",
            "journaled_at",
            postgresql_where=text("journaled_at IS NOT NULL AND purged_at IS NULL"),
        ),
    )
