from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from casework.models import ApplicationStatus
from shared.contracts.intake import AppliedService, Entry

# As many as intake accepts in one application (ApplicationSubmitted.services).
MAX_SERVICES = 20
PAGE_MAX = 200  # GET /e-applications?limit=


class IncomingApplicationOut(BaseModel):
    """One row of "E-tjänster att hantera"."""

    id: uuid.UUID
    personnummer: str
    name: str
    entry: Entry
    categories: list[str] = Field(max_length=MAX_SERVICES)
    services: list[AppliedService] = Field(max_length=MAX_SERVICES)
    status: ApplicationStatus
    submitted_at: datetime


class IncomingApplicationDetail(IncomingApplicationOut):
    """The application as the link dialog shows it: services and the applicant's text."""

    description: str
    record_id: uuid.UUID | None
    linked_at: datetime | None


class IncomingApplicationPage(BaseModel):
    items: list[IncomingApplicationOut] = Field(max_length=PAGE_MAX)
    next: str | None  # pass as ?after= for the next page; null on the last
