"""Casework's tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import declarative_base

Base = declarative_base()


class IncomingApplication(Base):
    """An e-application in the shared inbox ("E-tjänster att hantera")."""

    __tablename__ = "incoming_applications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # intake's application id
    applicant_pnr: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[str] = mapped_column(String(8))
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
