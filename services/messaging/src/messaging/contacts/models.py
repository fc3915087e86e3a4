"""The contacts module's tables: a staff member's own named lists of recipients
(staff, group mailboxes, clients they may write to). An entry points at what it
names (a mailbox, or a person by casework's id); labels are looked up when the
list is shown, so a renamed colleague or client shows their name of today."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from messaging.models import Base


class EntryKind(StrEnum):
    STAFF = "staff"  # a colleague's personal mailbox (Till)
    GROUP = "group"  # a unit's group mailbox (Till)
    CITIZEN = "citizen"  # a client, through their e-service (Till klient)


class ContactList(Base):
    """A named list of recipients, its owner's only."""

    __tablename__ = "contact_lists"
    __table_args__ = (UniqueConstraint("owner_sub", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_sub: Mapped[str] = mapped_column(String(200), index=True)  # the staff member's token `sub`
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContactListEntry(Base):
    """One recipient of a list: a mailbox id (staff, group) or a person id (citizen)."""

    __tablename__ = "contact_list_entries"
    __table_args__ = (CheckConstraint("kind IN ('staff', 'group', 'citizen')", name="kind"),)

    list_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(String(16))
    target_id: Mapped[uuid.UUID] = mapped_column()
