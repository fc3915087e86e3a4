"""The providers module's tables: casework's copy of the providers (utförare) and
their units, kept from provider's `provider.providers.v1`, so a caseworker orders
only from a unit provider knows (CW-13)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.models import Base, varchar_enum
from shared.contracts.provider import ProviderKind


class KnownProvider(Base):
    """A provider as ProviderRegistered last named it: the municipality's own, or a LOV company."""

    __tablename__ = "providers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # provider's id
    name: Mapped[str] = mapped_column(String(200))
    organisation_number: Mapped[str] = mapped_column(String(12))
    kind: Mapped[ProviderKind] = mapped_column(varchar_enum(ProviderKind, 16))
    # Provider's clock; the events carry no version, and one provider's events
    # share a key, so only a replay comes late: the later registered_at wins.
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnownProviderUnit(Base):
    """A unit of a provider that takes orders (ProviderUnitAdded); `code` is what
    provider tokens carry in `units` and OrderPlaced names."""

    __tablename__ = "provider_units"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    # No foreign key: a unit whose provider's event was dead-lettered still counts.
    provider_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
