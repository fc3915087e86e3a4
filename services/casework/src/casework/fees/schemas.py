"""What the fee administrator (avgiftshandläggare) sees: the work list of absences
and the monthly fee basis."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from casework.fees.models import Signal

DEFAULT_PAGE = 100
MAX_PAGE = 500
DEFAULT_BASIS_PAGE = 1000
MAX_BASIS_PAGE = 10_000
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class WorkItemOut(BaseModel):
    """An absence registered or ended, for the fee administrator to act on: by
    kundnummer, with its dates and whether it needs manual handling (PR-7)."""

    id: uuid.UUID
    signal: Signal
    kundnummer: str
    person_id: uuid.UUID
    order_id: uuid.UUID
    absence_id: uuid.UUID
    unit: str = Field(description="The provider unit that reported it")
    from_date: date
    to_date: date | None = Field(description="None: the client is still away")
    late: bool = Field(description="Registered after the absence began")
    whole_days_without_meals: int = Field(
        description="Antal hela dagar utan kost: the days strictly between its dates (an open one's so far)"
    )
    manual_handling: bool = Field(
        description="Over 30 whole days without meals: the deduction is made by hand"
    )
    signalled_at: datetime
    done: bool
    done_at: datetime | None
    done_by: str | None


class WorkListOut(BaseModel):
    items: list[WorkItemOut] = Field(max_length=MAX_PAGE)
    next_after: uuid.UUID | None = Field(description="Pass as `after` for the next page; None on the last")


class FeeBasisRow(BaseModel):
    """One client's execution in the month (kundnummer and service): what the fees follow from."""

    kundnummer: str
    person_id: uuid.UUID
    order_id: uuid.UUID
    service_code: str
    service_name: str
    unit: str
    execution_date: date
    end_date: date | None
    execution_days: int = Field(description="The month's days the execution runs on")
    absence_days: int = Field(description="The month's whole days without meals during the execution")
    open_absence: bool = Field(description="An absence still open: counted up to yesterday")
    manual_handling: bool = Field(description="An absence of over 30 whole days touches the month (PR-7)")
    first_invoice_month: str = Field(description="YYYY-MM: the month after the execution starts")


class FeeBasisOut(BaseModel):
    month: str
    rows: list[FeeBasisRow] = Field(max_length=MAX_BASIS_PAGE)
    next_after: uuid.UUID | None = Field(description="An order id: pass as `after` for the next page")
