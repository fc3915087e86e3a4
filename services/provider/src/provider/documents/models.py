"""The documents module's table (PR-10; docs/provider.md, "Documents per assignment").

One row per document of an order (an assignment): a genomförandeplan (SoL or
LSS), a journal note (for LSS daily activity, or one made from a message, whose
id is kept in `message_id`) or another document. Editable until write-protected;
sending it to the citizen's e-service write-protects it and keeps the PDF sent
(`pdf`), since the capability URL's size and SHA-256 must match what messaging
fetches."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from provider.models import Base


class ProviderDocument(Base):
    """A document of an assignment (an order confirmed by the unit)."""

    __tablename__ = "provider_documents"
    __table_args__ = (Index("ix_provider_documents_order", "order_id", "document_date", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    provider_id: Mapped[uuid.UUID]
    unit: Mapped[str] = mapped_column(String(100))
    doc_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    document_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    # A journal note made from a message (messaging's message id): the reference is kept.
    message_id: Mapped[uuid.UUID | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    write_protected_by: Mapped[str | None] = mapped_column(String(200))
    write_protected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    delivery_requested_by: Mapped[str | None] = mapped_column(String(200))
    delivery_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_message_id: Mapped[uuid.UUID | None]
    # Messaging refused the delivery (EServiceDeliveryRefused): it must go by post.
    delivery_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_refused_reason: Mapped[str | None] = mapped_column(String(200))  # messaging's fixed text
    # The PDF sent to the e-service, as messaging fetches it (deferred: lists never load it).
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
