"""The absences module's table (frånvaro, PR-6, PR-7; docs/provider.md).

One row per absence of a client under an executing order: planned or not, a
reason from the list, a short description (which stays in provider: it may say
why, health), from a date, to a date once known. Ending it is setting its to
date. `version` counts the absence's changes (1 when registered, +1 under the
row lock on each change) and travels in its events, so casework never applies
an older one over a newer one."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from provider.models import Base


class Absence(Base):
    """A client's absence (frånvaro) under one order's execution."""

    __tablename__ = "absences"
    __table_args__ = (
        CheckConstraint("to_date IS NULL OR to_date >= from_date", name="period"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_absences_provider_person", "provider_id", "person_id"),
        Index("ix_absences_unit_from", "unit", "from_date", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    provider_id: Mapped[uuid.UUID]
    unit: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[uuid.UUID]
    kundnummer: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    planned: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(String(500))
    # Civil dates in Europe/Stockholm, both inclusive; to_date None: still away.
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)  # registered after it began
    version: Mapped[int] = mapped_column(Integer)
    registered_by: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def current_on(self, day: date) -> bool:
        """Not ended before `day` (under way, or planned ahead)."""
        return self.to_date is None or self.to_date >= day
