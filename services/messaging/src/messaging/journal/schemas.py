"""Requests and answers of the journal module. The journaling dialog's fields:
Knyt till (record_id), Typ (entry_type), Avsändare (sender), Benämning avsändare
(sender_designation), Rubrik (title), Datum (date)."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.messaging import JournalEntryType, JournalSender
from shared.fields import Trimmed

Text200 = Annotated[str, Trimmed(200, min_length=1)]
MAX_RETENTION_BATCH = 1000  # messages per retention run (run again for more)


class JournalForm(BaseModel):
    """Journalför: the message into an intake record of the person it concerns."""

    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID = Field(description="Knyt till: the intake record")
    entry_type: JournalEntryType = Field(description="Typ")
    sender: JournalSender = Field(default="Den enskilde", description="Avsändare")
    sender_designation: Text200 | None = Field(default=None, description="Benämning avsändare")
    title: Text200 | None = Field(default=None, description="Rubrik; defaults to the message's Ämne")
    date: dt.date | None = Field(default=None, description="Datum; defaults to the day it was sent")


class JournalRequestOut(BaseModel):
    """One journaling of the message: requested, then journaled once casework has the entry."""

    id: uuid.UUID
    message_id: uuid.UUID
    record_id: uuid.UUID
    entry_type: str
    sender: str
    title: str
    entry_date: date
    requested_by: str
    requested_at: datetime
    status: Literal["requested", "journaled"]
    journaled_at: datetime | None
    journal_entry_id: uuid.UUID | None


class MessageJournalOut(BaseModel):
    """Whether the message is journaled (Journalförd), and into which records."""

    message_id: uuid.UUID
    journaled: bool
    journaled_at: datetime | None  # the first time it was
    requests: list[JournalRequestOut] = Field(max_length=1000)


class RetentionItem(BaseModel):
    """A message the retention rule purges (or, in a dry run, would): ids and dates only."""

    message_id: uuid.UUID
    person_id: uuid.UUID
    record_ids: list[uuid.UUID]
    journaled_at: datetime  # the last journaling of it


class RetentionOut(BaseModel):
    dry_run: bool
    cutoff: datetime  # journaled before this
    count: int
    messages: list[RetentionItem] = Field(max_length=MAX_RETENTION_BATCH)
    more: bool  # more are due than one run takes: run again
