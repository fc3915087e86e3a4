"""Requests and responses of the orders module (beställningar, verkställighet)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from provider.orders.models import OrderStatus
from shared.contracts.casework import MAX_ORDER_DOCUMENTS
from shared.contracts.provider import EndReason
from shared.fields import Trimmed

PAGE_MAX = 200  # GET /units/{unit}/orders?limit=
SEARCH_MAX = 50  # rows a search shows
# The parts of an order one can choose to print ("Klicka i de delar du vill skriva ut").
PrintPart = Literal["kund", "insats", "anteckning", "handlingar", "verkstallighet"]


class ClientOut(BaseModel):
    """Who the order is for. `address` is always null for a person with protected identity."""

    person_id: uuid.UUID
    personnummer: str
    name: str
    kundnummer: str
    address: str | None
    phone: str | None
    protected_identity: bool


class DocumentOut(BaseModel):
    """A document the caseworker attached; `href` streams it from casework on demand."""

    document_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    href: str


class ExecutionOut(BaseModel):
    """The execution (verkställighet): its date never changes once confirmed."""

    execution_date: date
    confirmed_by: str
    confirmed_at: datetime
    end_date: date | None
    end_reason: EndReason | None
    ended_by: str | None
    ended_at: datetime | None


class OrderSummary(BaseModel):
    """One row of "Ej bekräftade beställningar" or of the confirmed orders."""

    id: uuid.UUID
    status: OrderStatus
    unit: str
    client_name: str
    personnummer: str
    kundnummer: str
    service_code: str
    service_name: str
    placed_at: datetime
    execution_date: date | None
    end_date: date | None


class OrderOut(BaseModel):
    """An order in full (läsa beställningen i sin helhet)."""

    id: uuid.UUID
    status: OrderStatus
    decision_id: uuid.UUID
    case_id: uuid.UUID
    provider_id: uuid.UUID
    unit: str
    client: ClientOut
    service_code: str
    service_name: str
    extent: str | None
    period_from: date | None
    period_to: date | None
    note: str
    documents: list[DocumentOut] = Field(max_length=MAX_ORDER_DOCUMENTS)
    caseworker_name: str
    caseworker_unit: str
    placed_at: datetime
    execution: ExecutionOut | None


class OrderPage(BaseModel):
    items: list[OrderSummary] = Field(max_length=PAGE_MAX)
    next: str | None  # pass as ?after= for the next page; null on the last


class ConfirmForm(BaseModel):
    """Bekräfta: the day the service starts (verkställighetsdatum); a future day is allowed."""

    model_config = ConfigDict(extra="forbid")

    execution_date: date


class EndForm(BaseModel):
    """Avsluta verkställighet: the end date, the reason and "I am sure"."""

    model_config = ConfigDict(extra="forbid")

    end_date: date
    reason: EndReason
    # Refused by orders.service when false (422, with the reason); the schema says only true is taken.
    confirm: bool = Field(
        description="must be true: the user is sure the execution ends", json_schema_extra={"const": True}
    )


class SearchForm(BaseModel):
    """Sök brukare: a name (or part of one), a personnummer or a kundnummer. In the
    body, so a personnummer never appears in a URL."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Trimmed(200, min_length=2)]
