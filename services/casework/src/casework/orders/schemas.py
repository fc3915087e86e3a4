"""What a caseworker sends and sees of orders (beställningar) to providers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from casework.orders.models import OrderStatus
from shared.contracts.casework import MAX_ORDER_DOCUMENTS
from shared.contracts.provider import EndReason
from shared.fields import Trimmed

MAX_ORDERS = 100  # of one case, in a response

UnitCode = Annotated[str, Trimmed(100, min_length=1)]


class OrderCreate(BaseModel):
    """Order the decision's granted service from a provider unit, with the documents
    the provider gets to read (PDFs of the same person)."""

    model_config = ConfigDict(extra="forbid")

    provider_id: uuid.UUID
    unit: UnitCode = Field(description="The provider unit's code (GET /providers)")
    document_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_ORDER_DOCUMENTS,
        description=f"At most {MAX_ORDER_DOCUMENTS} of the person's documents, each with its PDF",
    )


class ExecutionOut(BaseModel):
    """The execution (verkställighet) as the provider reported it."""

    execution_date: date = Field(description="Verkställighetsdatum: never changes once set")
    confirmed_at: datetime | None


class ExecutionEndOut(BaseModel):
    end_date: date
    reason: EndReason
    ended_at: datetime


class OrderOut(BaseModel):
    """An order and its state: Beställd (placed) → Verkställd (the provider confirmed
    it with the execution date) → Avslutad (the execution ended)."""

    id: uuid.UUID
    decision_id: uuid.UUID
    case_id: uuid.UUID
    record_id: uuid.UUID
    person_id: uuid.UUID
    service_code: str
    service_name: str
    provider_id: uuid.UUID
    provider_name: str | None
    unit: str
    unit_name: str | None
    status: OrderStatus
    document_ids: list[uuid.UUID] = Field(max_length=MAX_ORDER_DOCUMENTS)
    placed_by: str
    placed_by_name: str
    placed_at: datetime
    execution: ExecutionOut | None
    end: ExecutionEndOut | None
