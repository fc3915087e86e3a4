"""The orders module's table (beställningar, CW-13): a granted service ordered
from a provider unit, and its state as provider reports it: placed, executing
from the execution date (ExecutionStarted), ended with its date and reason
(ExecutionEnded)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

import casework.decisions.models  # noqa: F401  (orders refer to decisions)
from casework.models import Base, varchar_enum
from shared.contracts.provider import EndReason


class OrderStatus(enum.StrEnum):
    """An order's state on the case: ordered (beställd), confirmed by the provider
    with its execution date (verkställd), its execution ended (avslutad)."""

    PLACED = "Beställd"
    EXECUTING = "Verkställd"
    ENDED = "Avslutad"


class Order(Base):
    """An order (beställning) of a granted service from a provider unit."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR execution_date IS NULL OR execution_date <= end_date", name="period"
        ),
        # One open order per decision: a second one waits until the first has ended.
        Index(
            "uq_orders_open_decision",
            "decision_id",
            unique=True,
            postgresql_where=text("status <> 'Avslutad'"),
        ),
        # The fee basis of a month reads the executions that overlap it.
        Index("ix_orders_execution", "execution_date", "end_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decisions.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intake_records.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    # What was ordered, as the case names it (a case's service never changes).
    service_code: Mapped[str] = mapped_column(String(60))
    service_name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[uuid.UUID] = mapped_column()
    unit: Mapped[str] = mapped_column(String(100))  # the provider unit's code
    document_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))  # sent with the order
    status: Mapped[OrderStatus] = mapped_column(varchar_enum(OrderStatus, 20))
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_by_name: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # From provider: the execution date (verkställighetsdatum), never changed once set.
    execution_date: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # From provider: the end of the execution (avsluta verkställighet), final.
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[EndReason | None] = mapped_column(varchar_enum(EndReason, 40))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
