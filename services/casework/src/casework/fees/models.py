"""The fees module's tables (CW-15): casework's copy of the clients' absences
(frånvaro) as provider reports them, and the fee administrator's work list, one
item per absence registered or ended (the signal the source e-mailed by hand)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.models import Base, varchar_enum


class FeeAbsence(Base):
    """A client's absence, as the newest event of it says (its `version`). Only
    what fees need: dates and the late mark, never the reason or description
    (they may say why: health)."""

    __tablename__ = "fee_absences"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # provider's absence id
    order_id: Mapped[uuid.UUID] = mapped_column(index=True)  # the execution it interrupts
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    kundnummer: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[uuid.UUID] = mapped_column()
    unit: Mapped[str] = mapped_column(String(100))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)  # open while the client is away
    late: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # provider's clock


class Signal(enum.StrEnum):
    """What the fee administrator is told about an absence."""

    REGISTERED = "Frånvaro registrerad"
    ENDED = "Frånvaro avslutad"


class FeeWorkItem(Base):
    """One item of the fee administrator's work list: an absence registered or
    ended, with its dates as that event gave them; done once handled."""

    __tablename__ = "fee_work_items"
    __table_args__ = (
        # The list is read undone (or done) by kundnummer: keyset pagination.
        Index("ix_fee_work_items_list", text("(done_at IS NULL)"), "kundnummer", "signalled_at", "id"),
        UniqueConstraint("absence_id", "version"),  # one item per applied version of an absence
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    absence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fee_absences.id"))
    signal: Mapped[Signal] = mapped_column(varchar_enum(Signal, 40))
    version: Mapped[int] = mapped_column(Integer)  # the absence's, of the event that made the item
    kundnummer: Mapped[str] = mapped_column(String(20))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)
    signalled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # casework's clock
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(200))
