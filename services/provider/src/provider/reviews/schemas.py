"""Requests and responses of access reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.provider import ProviderKind
from shared.fields import Trimmed

Sub = Annotated[str, Trimmed(200, min_length=1)]


class ReviewForm(BaseModel):
    """The manager confirms the provider's active users: exactly the list shown."""

    model_config = ConfigDict(extra="forbid")

    active_users: list[Sub] = Field(max_length=1000)


class ReviewOut(BaseModel):
    id: uuid.UUID
    reviewed_by: str
    reviewed_at: datetime
    active_users: list[str]


class ReviewStatus(BaseModel):
    """A provider's access reviews: the latest first, when the next is due, reminders."""

    provider_id: uuid.UUID
    last_reviewed_at: datetime | None
    due_at: datetime  # the next review's deadline (now, if never reviewed)
    overdue: bool
    last_reminded_at: datetime | None
    reviews: list[ReviewOut]


class ManagerOut(BaseModel):
    sub: str
    name: str


class OverdueProvider(BaseModel):
    """A provider whose access review is overdue, as the municipality sees it."""

    provider_id: uuid.UUID
    name: str
    kind: ProviderKind
    last_reviewed_at: datetime | None  # None: never reviewed
    due_at: datetime
    managers: list[ManagerOut]  # reminded
    reminded_at: datetime | None  # the latest reminder (this request's, if it sent one)
