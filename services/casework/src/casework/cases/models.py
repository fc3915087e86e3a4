"""The cases module's tables (ärenden, CW-9, CW-11): one case per service (insats)
investigated on an intake record, with its legal basis and status history.

A case's caseworker and co-caseworkers are its record's: read from the record,
never copied, so adding a co-caseworker to the record reaches its cases too."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.lss import LSS_SERVICES
from casework.models import Base, varchar_enum


class CaseStatus(enum.StrEnum):
    """A case's status, as its status history and the citizen's Mina sidor show it."""

    UNDER_INVESTIGATION = "Utredning pågår"
    DECIDED = "Beslut fattat"


# The legal bases a case (and its decision) can rest on: SoL 4 kap. 1 § (bistånd),
# or one of the ten points of LSS 9 §, each naming one LSS service.
LegalBasis = Literal[
    "SoL 4 kap. 1 §",
    "LSS 9 § 1",
    "LSS 9 § 2",
    "LSS 9 § 3",
    "LSS 9 § 4",
    "LSS 9 § 5",
    "LSS 9 § 6",
    "LSS 9 § 7",
    "LSS 9 § 8",
    "LSS 9 § 9",
    "LSS 9 § 10",
]
LEGAL_BASES: tuple[str, ...] = get_args(LegalBasis)
SOL_BASIS = "SoL 4 kap. 1 §"
# LSS 9 § point n is the n-th of casework.lss's services (the law's order).
LSS_BASIS_OF_SERVICE: dict[str, str] = {code: f"LSS 9 § {n}" for n, code in enumerate(LSS_SERVICES, 1)}


class Case(Base):
    """A case (ärende): one service investigated on an intake record."""

    __tablename__ = "cases"
    # One case per service of a record: a second would split its decisions.
    __table_args__ = (UniqueConstraint("record_id", "service_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intake_records.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(60))  # the catalogue's code: "hemtjanst"
    service_name: Mapped[str] = mapped_column(String(200))  # Insats: "Hemtjänst"
    legal_basis: Mapped[LegalBasis] = mapped_column(varchar_enum(LegalBasis, 40))  # Lagrum
    status: Mapped[CaseStatus] = mapped_column(varchar_enum(CaseStatus, 40))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # its last status change


class CaseStatusChange(Base):
    """One step of a case's status history (Utredning pågår → Beslut fattat)."""

    __tablename__ = "case_status_history"
    __table_args__ = (Index("ix_case_status_history_case_id", "case_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[CaseStatus] = mapped_column(varchar_enum(CaseStatus, 40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by_sub: Mapped[str] = mapped_column(String(200))  # who changed it (a token's sub)
