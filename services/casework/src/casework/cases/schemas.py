"""Requests and answers of investigations and cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casework.cases.models import CaseStatus, LegalBasis
from casework.intake_records.schemas import MAX_CO_CASEWORKERS, CoCaseworkerOut
from casework.models import CloseReason, InvestigationMethod, RecordStatus
from shared.contracts.casework import InvestigationType
from shared.fields import Trimmed

MAX_CASES = 20  # per intake record; casework refuses more
MAX_HISTORY = 100  # status changes per case, in a response


class InvestigationStart(BaseModel):
    """Start the investigation (Starta utredning) of an intake record."""

    model_config = ConfigDict(extra="forbid")

    investigation_type: InvestigationType | None = Field(
        default=None,
        description="Ansökan SoL or Begäran LSS; defaults to the record's type, required for a "
        "record of Förenklad handläggning",
    )
    method: InvestigationMethod | None = Field(
        default=None, description="IBIC (individens behov i centrum) for elderly care; with Ansökan SoL"
    )


class InvestigationOut(BaseModel):
    record_id: uuid.UUID
    status: RecordStatus
    investigation_type: InvestigationType
    method: InvestigationMethod | None
    started_at: datetime
    status_for_citizen: str = Field(description="What the citizen sees in Mina sidor")


class RecordClose(BaseModel):
    """Close the intake record without an investigation (Avsluta aktualisering)."""

    model_config = ConfigDict(extra="forbid")

    reason: CloseReason


class RecordClosedOut(BaseModel):
    record_id: uuid.UUID
    status: RecordStatus
    reason: CloseReason
    closed_at: datetime
    status_for_citizen: str = Field(description="What the citizen sees in Mina sidor")


ServiceCode = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]


class CaseCreate(BaseModel):
    """Open a case (ärende) for one service (insats) under investigation."""

    model_config = ConfigDict(extra="forbid")

    service_code: ServiceCode = Field(
        description="The catalogue's code: hemtjanst, lss_personlig_assistans, ..."
    )
    service_name: Annotated[str, Trimmed(200, min_length=1)] | None = Field(
        default=None,
        description="Insats; defaults to the LSS service's name, or the e-application's name of the service",
    )
    legal_basis: LegalBasis = Field(description="Lagrum: SoL 4 kap. 1 §, or LSS 9 § with the service's point")


class CaseStatusOut(BaseModel):
    status: CaseStatus
    at: datetime


class CaseOut(BaseModel):
    """A case (ärende): its service, legal basis, caseworkers and status history."""

    id: uuid.UUID
    record_id: uuid.UUID
    person_id: uuid.UUID
    service_code: str
    service_name: str
    legal_basis: LegalBasis
    status: CaseStatus
    unit: str
    caseworker_id: str = Field(description="The record's caseworker (Handläggare)")
    caseworker_name: str
    co_caseworkers: list[CoCaseworkerOut] = Field(max_length=MAX_CO_CASEWORKERS, description="Medhandläggare")
    created_at: datetime
    history: list[CaseStatusOut] = Field(max_length=MAX_HISTORY)
