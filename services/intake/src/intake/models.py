"""Intake's tables: the service catalogue and citizens' e-applications."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import declarative_base

Base = declarative_base()


class CatalogueService(Base):
    """A service (insats) a citizen can pick, or another e-service of the portal."""

    __tablename__ = "catalogue_services"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[str] = mapped_column(String(8))  # sol | lss | ifo
    category: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer)


class Application(Base):
    """A citizen's e-application (e-ansökan)."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    applicant_pnr: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    entry: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    services: Mapped[list[ApplicationService]] = relationship(
        lazy="raise", order_by="ApplicationService.position", cascade="all, delete-orphan")


class ApplicationService(Base):
    __tablename__ = "application_services"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("catalogue_services.code"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
