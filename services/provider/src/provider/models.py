"""Provider's tables shared by its modules.

Owned by modules (docs/module-template.md, "Who may query which table"):
`providers` owns providers and provider_units; `users` owns provider_users.
Other modules keep their tables in their own models.py (reviews/, windows/,
orders/, absences/) on the same `Base`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.contracts.provider import ProviderKind
from shared.db import new_metadata


class Base(DeclarativeBase):
    """The base of this service's models: typed, with the shared constraint names."""

    metadata = new_metadata()


class Provider(Base):
    """A care provider (utförare): municipal or a private LOV company."""

    __tablename__ = "providers"
    __table_args__ = (CheckConstraint("kind IN ('municipal', 'lov')", name="kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    # Ten digits, no hyphen (organisationsnummer).
    organisation_number: Mapped[str] = mapped_column(String(12), unique=True)
    # municipal: the municipality's own units (egen regi); lov: a private company (LOV).
    kind: Mapped[ProviderKind] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))  # the admin's sub
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProviderUnit(Base):
    """A unit of a provider; provider staff see only their own units (PR-8).
    `code` is what provider tokens carry in their `units` claim and orders name."""

    __tablename__ = "provider_units"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    # Unique across providers: a unit code in a token names one provider's unit.
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProviderUser(Base):
    """A provider's own user (PR-9): the staff IdP vouches for who they are; this
    row says whether the provider still lets them in (deactivated on leaving or
    a long absence) and whether they administer the provider's users."""

    __tablename__ = "provider_users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    sub: Mapped[str] = mapped_column(String(200), unique=True)  # the token's `sub`
    name: Mapped[str] = mapped_column(String(200))
    manager: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
