"""What the journal of an intake record shows."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_ENTRIES = 1000  # per record, in a response


class AuthorOut(BaseModel):
    """Who really wrote it (CW-12): a related person is named as such, for the citizen."""

    name: str
    role: str  # citizen, related_person, caseworker, provider, staff
    on_behalf_of: str | None  # the citizen, when a related person wrote it
    label: str  # as the journal shows it: "Josefine Test (19860826-1965), närstående för Annika Test"


class JournalDocumentOut(BaseModel):
    id: uuid.UUID
    title: str
    content_type: str


class JournalEntryOut(BaseModel):
    """A journal entry: link-to (the record, and its case if filed under one), Typ,
    Avsändare, Rubrik, Datum, the text."""

    id: uuid.UUID
    record_id: uuid.UUID
    case_id: uuid.UUID | None = Field(description="The case (ärende) it is filed under, if any")
    message_id: uuid.UUID
    entry_type: str
    sender: str
    sender_designation: str | None
    title: str
    date: dt.date
    subject: str
    text: str
    sent_at: datetime
    author: AuthorOut
    registered_by: str
    documents: list[JournalDocumentOut] = Field(max_length=5)
    created_at: datetime


class RecordJournalOut(BaseModel):
    record_id: uuid.UUID
    entries: list[JournalEntryOut] = Field(max_length=MAX_ENTRIES)


class CaseJournalOut(BaseModel):
    case_id: uuid.UUID
    entries: list[JournalEntryOut] = Field(max_length=MAX_ENTRIES)


class JournalCaseLink(BaseModel):
    """File a journal entry under a case of its record (Knyt till ärende), or back under
    the record alone (null)."""

    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID | None
