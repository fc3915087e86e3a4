"""The access review module's tables: each provider's quarterly confirmation of
its active users (behörighetsgenomgång) and the reminders sent when one is due."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from provider.models import Base


class AccessReview(Base):
    """A manager confirmed the provider's list of active users, as it stood then."""

    __tablename__ = "access_reviews"
    __table_args__ = (Index("ix_access_reviews_provider_id_reviewed_at", "provider_id", "reviewed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    reviewed_by: Mapped[str] = mapped_column(String(200))  # the manager's sub
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The subs confirmed: what the manager vouched for, kept for the next audit.
    confirmed_subs: Mapped[list[str]] = mapped_column(ARRAY(String(200)))


class AccessReviewReminder(Base):
    """A reminder to a provider's managers that its access review is overdue."""

    __tablename__ = "access_review_reminders"
    __table_args__ = (
        Index("ix_access_review_reminders_provider_id_reminded_at", "provider_id", "reminded_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    manager_subs: Mapped[list[str]] = mapped_column(ARRAY(String(200)))  # who is reminded
    reminded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: never
