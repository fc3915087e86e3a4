"""The decisions module's table (beslut, CW-9): a decision per case, drafted,
then signed, after which it never changes (a trigger of migration 0009 refuses
any change to a signed row). A correction is a new decision naming the one it
replaces (`corrects`)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Literal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.cases.models import LegalBasis
from casework.models import Base, varchar_enum
from shared.contracts.casework import DecisionOutcome

# How the signed letter reaches the citizen: into their e-service mailbox, or
# (the e-service is not active) by post, which the caseworker sends.
Delivery = Literal["e-service", "post"]


class DecisionStatus(enum.StrEnum):
    """A draft (utkast) may be edited; a signed decision (signerat) never again."""

    DRAFT = "Utkast"
    SIGNED = "Signerat"


class Decision(Base):
    """A decision (beslut) on a case: granted, partly granted or refused."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to", name="period"
        ),
        # Safety nets under the signing's rules (which hold the case's lock): one
        # first signed decision per case, and each signed decision corrected once.
        Index(
            "uq_decisions_first_signed",
            "case_id",
            unique=True,
            postgresql_where=text("signed_at IS NOT NULL AND corrects IS NULL"),
        ),
        Index(
            "uq_decisions_signed_corrects",
            "corrects",
            unique=True,
            postgresql_where=text("signed_at IS NOT NULL AND corrects IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(varchar_enum(DecisionOutcome, 20))
    text: Mapped[str] = mapped_column(Text)  # the decision's reasons, as the letter shows them
    legal_basis: Mapped[LegalBasis] = mapped_column(varchar_enum(LegalBasis, 40))  # Lagrum
    decided_on: Mapped[date | None] = mapped_column(Date)  # None in a draft: the day it is signed
    # A grant's period (both days inclusive) and extent (omfattning).
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    extent: Mapped[str | None] = mapped_column(String(500))
    corrects: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.id"))
    status: Mapped[DecisionStatus] = mapped_column(varchar_enum(DecisionStatus, 20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The decision-maker: whoever signed it.
    signed_by: Mapped[str | None] = mapped_column(String(200))
    signed_by_name: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The signed letter, filed as a write-protected document of the case.
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    delivery: Mapped[Delivery | None] = mapped_column(varchar_enum(Delivery, 20))
