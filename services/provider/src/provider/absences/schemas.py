"""Requests and responses of the absences module (frånvaro)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.provider import AbsenceReason

PAGE_MAX = 500  # absences a list shows


class AbsenceForm(BaseModel):
    """Lägg till frånvaro: reason, a short description, from (and, if known, to)."""

    model_config = ConfigDict(extra="forbid")

    reason: AbsenceReason
    planned: bool
    description: str = Field(min_length=1, max_length=500)
    from_date: date
    to_date: date | None = None


class AbsenceEndForm(BaseModel):
    """Ändra: the absence's end date (setting it ends the absence)."""

    model_config = ConfigDict(extra="forbid")

    to_date: date


class AbsenceOut(BaseModel):
    """An absence, with whose it is (the home box shows the client)."""

    id: uuid.UUID
    order_id: uuid.UUID
    unit: str
    client_name: str
    personnummer: str
    kundnummer: str
    reason: AbsenceReason
    planned: bool
    description: str
    from_date: date
    to_date: date | None
    late: bool  # registered after it began
    version: int
    registered_by: str
    registered_at: datetime
    changed_at: datetime | None


class AbsenceList(BaseModel):
    items: list[AbsenceOut] = Field(max_length=PAGE_MAX)
