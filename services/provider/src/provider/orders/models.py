"""The orders module's table (beställningar, CW-13, PR-2..PR-5; docs/provider.md).

`orders` is provider's copy of casework's OrderPlaced (one row per order, kept
as it came: the order never changes afterwards) and, beside it, the order's
execution (verkställighet): its date once the unit confirmed it, which never
changes afterwards, and its end with a reason. One order has at most one
execution, so both live in one row.

`unit` is the provider unit's code as tokens carry it. An order naming a unit
its provider does not have is kept but shown to nobody (the service checks the
unit's provider on every read)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from provider.models import Base


class OrderStatus(StrEnum):
    """Where the order stands for the unit."""

    UNCONFIRMED = "unconfirmed"  # Ej bekräftad: no execution date yet
    CONFIRMED = "confirmed"  # Bekräftad: executing from the execution date
    ENDED = "ended"  # Avslutad: the execution ended


class Order(Base):
    """An order of a granted service from a provider unit, and its execution."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR execution_date IS NOT NULL", name="ended_after_confirmed"),
        CheckConstraint("end_date IS NULL OR end_date >= execution_date", name="end_after_start"),
        CheckConstraint("NOT protected_identity OR client_address IS NULL", name="protected_no_address"),
        Index("ix_orders_unit_placed", "unit", "placed_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # casework's order id
    decision_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID]
    record_id: Mapped[uuid.UUID]
    # No foreign key: casework may name a provider this service does not know;
    # such an order is kept and shown to nobody.
    provider_id: Mapped[uuid.UUID] = mapped_column(index=True)
    unit: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    client_pnr: Mapped[str] = mapped_column(String(12), index=True)
    client_name: Mapped[str] = mapped_column(String(200))
    kundnummer: Mapped[str] = mapped_column(String(20), index=True)
    client_address: Mapped[str | None] = mapped_column(String(300))  # never for protected identity
    client_phone: Mapped[str | None] = mapped_column(String(20))
    protected_identity: Mapped[bool] = mapped_column(Boolean)
    service_code: Mapped[str] = mapped_column(String(60))
    service_name: Mapped[str] = mapped_column(String(200))
    extent: Mapped[str | None] = mapped_column(String(500))
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    # The documents as announced (shared.contracts.casework.DeliveryFile): their
    # capability URLs on casework; the files are fetched when someone opens one.
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    caseworker_id: Mapped[str] = mapped_column(String(200))
    caseworker_name: Mapped[str] = mapped_column(String(200))
    caseworker_unit: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The execution (verkställighet), civil dates in Europe/Stockholm.
    execution_date: Mapped[date | None] = mapped_column(Date)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ended_by: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def status(self) -> OrderStatus:
        """Unconfirmed, confirmed (executing) or ended."""
        if self.execution_date is None:
            return OrderStatus.UNCONFIRMED
        return OrderStatus.CONFIRMED if self.end_date is None else OrderStatus.ENDED
