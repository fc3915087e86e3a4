"""What a caseworker sends and sees of decisions (beslut)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

from casework.cases.models import LegalBasis
from casework.decisions.models import DecisionStatus, Delivery
from shared.contracts.casework import DecisionOutcome
from shared.fields import Trimmed, no_null_defaults

DecisionText = Annotated[str, Trimmed(20_000, min_length=1)]
Extent = Annotated[str, Trimmed(500, min_length=1)]
MAX_DECISIONS = 200  # of one case, in a response: corrections are few
_GRANT_PARTS = ("period_from", "period_to", "extent")


def _grant_or_refusal(schema: dict[str, Any]) -> None:
    """What decisions.service checks, stated: a refusal (Avslag) has no period or
    extent, a grant has all three. (A period that ends before it starts is beyond a schema.)"""
    schema["if"] = {"properties": {"outcome": {"const": "Avslag"}}, "required": ["outcome"]}
    schema["then"] = {"properties": {name: {"type": "null"} for name in _GRANT_PARTS}}
    schema["else"] = {
        "required": list(_GRANT_PARTS),
        "properties": {name: {"type": "string"} for name in _GRANT_PARTS},
    }


class DecisionCreate(BaseModel):
    """A draft decision on a case. A grant (Beviljad, Delvis beviljad) needs its
    period and extent; `legal_basis` defaults to the case's; `decided_on` to the
    day it is signed; `corrects` names the signed decision a correction replaces."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_grant_or_refusal)

    outcome: DecisionOutcome
    text: DecisionText
    legal_basis: LegalBasis | None = None
    decided_on: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    extent: Extent | None = None
    corrects: uuid.UUID | None = None


class DecisionUpdate(BaseModel):
    """Edit a draft; a field left out stays, null clears an optional one (and sets
    `legal_basis` back to the case's); outcome and text cannot be cleared."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)

    outcome: DecisionOutcome | SkipJsonSchema[None] = None
    text: DecisionText | SkipJsonSchema[None] = None
    legal_basis: LegalBasis | None = None
    decided_on: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    extent: Extent | None = None
    corrects: uuid.UUID | None = None


class DecisionMaker(BaseModel):
    id: str  # the signer's token sub
    name: str


class DecisionOut(BaseModel):
    """A decision; once signed, who decided, its letter and how the letter goes out
    (`delivery`: "e-service", or "post": the caseworker sends it by post)."""

    id: uuid.UUID
    case_id: uuid.UUID
    record_id: uuid.UUID
    person_id: uuid.UUID
    service_code: str
    service_name: str
    status: DecisionStatus
    outcome: DecisionOutcome
    text: str
    legal_basis: LegalBasis
    decided_on: date | None
    period_from: date | None
    period_to: date | None
    extent: str | None
    corrects: uuid.UUID | None
    corrected_by: uuid.UUID | None  # the signed decision that replaced this one
    created_by: str
    created_at: datetime
    updated_at: datetime
    decided_by: DecisionMaker | None
    signed_at: datetime | None
    document_id: uuid.UUID | None  # the letter (PDF), a write-protected document of the case
    delivery: Delivery | None
    appeal_by: date | None  # the appeal's last day when the letter is received on the decision day
