from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casework.lss import LSS_SERVICES
from casework.models import Channel, CloseReason, FromWhom, InvestigationMethod, RecordStatus
from shared.contracts.casework import InvestigationType, RecordType
from shared.fields import Trimmed

MAX_LSS_SERVICES = 10
MAX_DOCUMENTS = 1000  # per intake record, in a response
MAX_CO_CASEWORKERS = 20  # per intake record; casework refuses more


BEGARAN_LSS = "Begäran LSS"


def _lss_services_rule(schema: dict[str, Any]) -> None:
    """What intake_records.service checks, stated: LSS services go with Begäran LSS
    (one at least), and with no other record type."""
    schema["if"] = {"properties": {"record_type": {"const": BEGARAN_LSS}}, "required": ["record_type"]}
    schema["then"] = {"properties": {"lss_services": {"minItems": 1}}, "required": ["lss_services"]}
    schema["else"] = {"properties": {"lss_services": {"maxItems": 0}}}


class LinkApplication(BaseModel):
    """The "Koppla ansökan" dialog (CW-2)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_lss_services_rule)

    record_type: RecordType = Field(description="Aktualiseringstyp")
    # Checked by the service (an unknown code answers 422 listing the known ones).
    lss_services: list[
        Annotated[
            str, StringConstraints(max_length=64), Field(json_schema_extra={"enum": sorted(LSS_SERVICES)})
        ]
    ] = Field(
        default_factory=list,
        max_length=MAX_LSS_SERVICES,
        description="LSS 9 § services; at least one with Begäran LSS, none with another record type",
    )
    caseworker_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Handläggare: see GET /caseworkers?unit="
    )
    unit: Annotated[str, Trimmed(100, min_length=1)] = Field(description="Organisation")
    from_whom: FromWhom = Field(description="Från vem")
    channel: Channel = Field(default="E-ansökan", description="Aktualiseringssätt")
    reason: Annotated[str, Trimmed(200, min_length=1)] | None = Field(default=None, description="Orsak")
    note: Annotated[str, Trimmed(10_000)] | None = Field(
        default=None, description="Anteckning; defaults to the applicant's text"
    )


class DocumentOut(BaseModel):
    id: uuid.UUID
    doc_type: str
    title: str
    content_type: str
    created_at: datetime


class CoCaseworkerAdd(BaseModel):
    """Add a co-caseworker (Lägg till medhandläggare)."""

    model_config = ConfigDict(extra="forbid")

    caseworker_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="A caseworker of the record's unit: see GET /caseworkers?unit="
    )


class CoCaseworkerOut(BaseModel):
    """A co-caseworker (medhandläggare) of an intake record."""

    caseworker_id: str
    caseworker_name: str
    added_by: str
    added_at: datetime


class IntakeRecordOut(BaseModel):
    """An intake record (aktualisering)."""

    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    application_id: uuid.UUID | None
    record_type: RecordType
    lss_services: list[str] = Field(max_length=MAX_LSS_SERVICES)
    caseworker_id: str
    caseworker_name: str
    co_caseworkers: list[CoCaseworkerOut] = Field(max_length=MAX_CO_CASEWORKERS, description="Medhandläggare")
    unit: str
    from_whom: FromWhom
    channel: Channel
    reason: str | None
    note: str
    status: RecordStatus
    created_at: datetime
    investigation_type: InvestigationType | None = Field(description="Utredning: set once started")
    investigation_method: InvestigationMethod | None = Field(description="IBIC for elderly care")
    investigation_started_at: datetime | None
    closed_at: datetime | None = Field(description="Closed without an investigation")
    close_reason: CloseReason | None
    documents: list[DocumentOut] = Field(max_length=MAX_DOCUMENTS)


class LinkResult(BaseModel):
    record_id: uuid.UUID
    person_id: uuid.UUID
    kundnummer: str
    person_created: bool
