from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.contracts.intake import AppliedService, Entry


class IncomingApplicationOut(BaseModel):
    """One row of "E-tjänster att hantera"."""

    id: uuid.UUID
    personnummer: str
    name: str
    entry: Entry
    categories: list[str]
    services: list[AppliedService]
    status: str
    submitted_at: datetime


class IncomingApplicationDetail(IncomingApplicationOut):
    """The application as the link dialog shows it: services and the applicant's text."""

    description: str
    record_id: uuid.UUID | None
    linked_at: datetime | None


class IncomingApplicationPage(BaseModel):
    items: list[IncomingApplicationOut]
    next: str | None  # pass as ?after= for the next page; null on the last
