"""What the operations endpoints show: ids, statuses, channels, times and
reasons, and the address masked. Never a name or the alert's text."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from notify.models import AlertKind, AlertStatus, Channel, Recipient


class AlertOut(BaseModel):
    """One alert as operations see it."""

    id: uuid.UUID
    person_id: uuid.UUID
    recipient: Recipient
    channel: Channel
    address: str  # masked: "+4670•••••12", "t•••@example.se"
    kind: AlertKind
    status: AlertStatus
    attempts: int
    due_at: datetime
    deadline_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    coalesced: bool
    fallback_of: uuid.UUID | None
    message_ids: list[uuid.UUID]


class AlertPage(BaseModel):
    """A page of alerts, newest first; `next` is the cursor of the following page."""

    items: list[AlertOut]
    next: str | None


class HistoryEntryOut(BaseModel):
    """One status change of an alert, with its reason."""

    status: AlertStatus
    at: datetime
    detail: str | None


class AlertWithHistoryOut(AlertOut):
    """An alert with its whole status history, oldest first."""

    history: list[HistoryEntryOut]


class PersonAlertsOut(BaseModel):
    """A person's alerts, newest first."""

    person_id: uuid.UUID
    items: list[AlertWithHistoryOut]
