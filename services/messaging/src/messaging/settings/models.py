"""The settings module's tables (Inställningar, MS-7, MS-8; docs/messaging.md).

`staff_settings` is one row per staff user (their token `sub`): the signature,
the absence message (frånvaromeddelande) with its optional period, and the group
mailbox their messages are forwarded to while they are away (vidarebefordran).
`auto_replies` is the ledger that makes the automatic reply go once per
conversation and sender; `absence_forwards` says why a message is in a group
mailbox: forwarded there for an absent member.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from messaging.models import Base


class StaffSettings(Base):
    """A staff user's message settings. The absence is set by the user (planned)
    or by an administrator with the permission for them (unplanned): who did it
    last is kept beside it."""

    __tablename__ = "staff_settings"
    __table_args__ = (
        CheckConstraint(
            "absence_from IS NULL OR absence_to IS NULL OR absence_from <= absence_to", name="absence_period"
        ),
    )

    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    signature: Mapped[str] = mapped_column(Text, default="", server_default="")
    absence_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    absence_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Civil dates in Europe/Stockholm, both inclusive; None: open on that side.
    absence_from: Mapped[date | None] = mapped_column(Date)
    absence_to: Mapped[date | None] = mapped_column(Date)
    forward_to_mailbox_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mailboxes.id"))
    absence_set_by: Mapped[str | None] = mapped_column(String(200))
    absence_set_by_name: Mapped[str | None] = mapped_column(String(200))
    absence_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def away_on(self, day: date) -> bool:
        """Whether the absence is on and `day` is inside its period."""
        return (
            self.absence_enabled
            and (self.absence_from is None or self.absence_from <= day)
            and (self.absence_to is None or day <= self.absence_to)
        )


class AutoReply(Base):
    """An automatic reply sent: one per absent user, conversation (the first
    message of the reply chain) and sender mailbox."""

    __tablename__ = "auto_replies"

    absent_sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    sender_mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), primary_key=True)
    # The reply's message id: claimed before the reply is stored (no foreign key).
    reply_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AbsenceForward(Base):
    """A message delivered to a group mailbox because the member it was addressed
    to was away with forwarding to it (forwarded for `absent_sub`)."""

    __tablename__ = "absence_forwards"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), primary_key=True, index=True)
    absent_sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    absent_mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"))
    forwarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
