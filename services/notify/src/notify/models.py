"""Notify's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_metadata


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class ContactSetting(Base):
    """Where to alert a person (projection of casework's e-service settings)."""

    __tablename__ = "contact_settings"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # casework's person id
    sms_phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
