"""Requests and answers of the contact lists (kontaktlistor)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from messaging.contacts.models import EntryKind
from shared.fields import Trimmed

MAX_ENTRIES = 100

ListName = Annotated[str, Trimmed(100, min_length=1)]


class ContactEntryIn(BaseModel):
    """A recipient of the list: `id` is a mailbox id for staff and groups (as
    POST /recipients/search answers them) and the person id for a citizen."""

    model_config = ConfigDict(extra="forbid")

    kind: EntryKind
    id: uuid.UUID


class ContactListForm(BaseModel):
    """A list as its owner names and fills it; PUT replaces name and entries."""

    model_config = ConfigDict(extra="forbid")

    name: ListName
    entries: Annotated[list[ContactEntryIn], Field(max_length=MAX_ENTRIES)] = Field(default_factory=list)


class ContactEntryOut(BaseModel):
    """A recipient as the list shows it now. A citizen is shown "Name (YYYYMMDD-XXXX)"
    while the owner may write to them (their caseworker, the e-service on); otherwise
    `available` is false and the name and personnummer are withheld."""

    kind: EntryKind
    id: uuid.UUID
    label: str
    unit: str | None = None
    available: bool


class ContactListOut(BaseModel):
    id: uuid.UUID
    name: str
    entries: list[ContactEntryOut]
    created_at: datetime
    updated_at: datetime
