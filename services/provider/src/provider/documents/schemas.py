"""The documents module's forms and responses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The document types of an assignment, as the staff know them (PR-10; seed 004:
# genomförandeplan SoL for service, LSS and journalanteckningar LSS for daily activity).
DocType = Literal[
    "Genomförandeplan SoL",
    "Genomförandeplan LSS",
    "Journalanteckning LSS",
    "Journalanteckning",
    "Övrigt",
]
LIST_MAX = 500
Day = date  # the fields below are named `date`: their type needs another name


class DocumentForm(BaseModel):
    """A new document of the assignment."""

    model_config = ConfigDict(extra="forbid")

    doc_type: DocType
    title: str = Field(min_length=1, max_length=200)
    date: Day
    text: str = Field(max_length=20_000)
    # A journal note made from a message: the message's id (messaging's), kept as a reference.
    message_id: uuid.UUID | None = None


class DocumentPatch(BaseModel):
    """A change of a document not yet write-protected: the fields given change."""

    model_config = ConfigDict(extra="forbid")

    doc_type: DocType | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    date: Day | None = None
    text: str | None = Field(default=None, max_length=20_000)


class SendForm(BaseModel):
    """What the citizen's message says with the PDF attached (Ämne and text)."""

    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=10_000)


class DocumentOut(BaseModel):
    """A document of an assignment."""

    id: uuid.UUID
    order_id: uuid.UUID
    unit: str
    doc_type: DocType
    title: str
    date: Day
    text: str
    message_id: uuid.UUID | None
    created_by: str
    created_by_name: str
    created_at: datetime
    changed_at: datetime | None
    write_protected: bool
    write_protected_at: datetime | None
    delivery_id: uuid.UUID | None
    delivery_requested_at: datetime | None
    delivered_at: datetime | None
    delivery_refused_at: datetime | None = Field(
        default=None, description="Messaging refused the delivery: send the document by post"
    )
    delivery_refused_reason: str | None = Field(default=None, description="Why messaging refused it")
    pdf_href: str


class DocumentList(BaseModel):
    items: list[DocumentOut]
