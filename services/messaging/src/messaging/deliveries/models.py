"""The deliveries module's table: each delivery casework asked for
(EServiceDeliveryRequested) or provider asked for (ProviderDocumentDeliveryRequested:
`record_id` empty, `order_id` the provider's order), once: delivered (with the message it became) or
refused (the person's e-service was off when it came). Owned by
`messaging.deliveries`; no foreign key to the message, so the row outlives a
purged message as its record."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from messaging.models import Base


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    REFUSED = "refused"


class EServiceDelivery(Base):
    """A decision letter or document delivered (or refused) into a citizen's e-service mailbox."""

    __tablename__ = "e_service_deliveries"
    __table_args__ = (
        CheckConstraint("record_id IS NOT NULL OR order_id IS NOT NULL", name="record_or_order"),
    )

    delivery_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # casework's: each delivered once
    kind: Mapped[str] = mapped_column(String(20))  # decision | document
    document_id: Mapped[uuid.UUID] = mapped_column()  # casework's, or provider's
    record_id: Mapped[uuid.UUID | None] = mapped_column()  # casework's deliveries
    order_id: Mapped[uuid.UUID | None] = mapped_column()  # provider's deliveries
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    caseworker_id: Mapped[str] = mapped_column(String(200))  # the sender (a provider user's sub too)
    status: Mapped[DeliveryStatus] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))  # a refusal's, no personal data
    message_id: Mapped[uuid.UUID | None] = mapped_column()
    mailbox_id: Mapped[uuid.UUID | None] = mapped_column()  # the e-service mailbox
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # casework's clock
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
