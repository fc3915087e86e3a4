"""Events produced by messaging.

Topic `messaging.messages.v1`. Keys are ids (a mailbox's or a message's), never
personal data. The delivery event carries ids and a kind only: no subject,
body, names or personnummer; notify needs nothing more to send an alert without
confidential content (NT-1, NT-4). The journal request is the exception: the
journal entry casework writes is the message's content, so that travels in the
JSON value (never in keys or headers), and the attachments are fetched from
messaging through capability URLs, never sent on Kafka.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Event
from shared.personnummer import Personnummer

MESSAGES_TOPIC = "messaging.messages.v1"

# What landed in the e-service mailbox: a message, a decision letter or a
# document. Casework delivers decisions and documents into the mailbox through
# messaging, which emits the delivery event with the kind set; notify chooses
# the alert's template by it (never saying more than the kind).
DeliveryKind = Literal["message", "decision", "document"]


class MessageDeliveredToEService(Event):
    """A message landed in a citizen's e-service mailbox (journey 5): notify alerts
    the citizen (and their related persons, per the e-service settings) by SMS or
    e-mail without saying what the message is about. Keyed by the mailbox, so one
    mailbox's deliveries stay in order."""

    ce_type = "se.omsorg.messaging.message.delivered-to-e-service.v1"
    topic = MESSAGES_TOPIC
    key_field = "mailbox_id"

    message_id: uuid.UUID
    mailbox_id: uuid.UUID
    person_id: uuid.UUID
    kind: DeliveryKind = "message"
    delivered_at: datetime


# ---- Journaling (MS-9, CW-11, CW-12; journey 7) ----------------------------
#
# Unlike the delivery event, a journal request carries the message's content:
# the journal entry IS that content, and casework keeps it. It travels only in
# the JSON value (personal data, never in keys or headers). Attachments do not
# travel: each comes with a capability URL on messaging that casework fetches.

# "Typ" of the journal entry, as the journaling dialog offers it.
JournalEntryType = Literal["Inkommen handling", "Utgående handling", "Upprättad handling", "Anteckning"]
# "Avsändare": who the document comes from, as the journaling dialog offers it.
JournalSender = Literal[
    "Den enskilde",
    "Anhörig",
    "Närstående",
    "God man",
    "Förvaltare",
    "Vårdnadshavare",
    "Sjukvården",
    "Annan myndighet",
    "Utförare",
    "Handläggare",
    "Övrigt",
]
# Who really wrote the message (CW-12): a related person is named as such.
AuthorRole = Literal["caseworker", "staff", "provider", "citizen", "related_person", "system"]
MAX_JOURNAL_ATTACHMENTS = 5  # MS-4: a message has at most 5
MAX_JOURNAL_ATTACHMENT_BYTES = 64 * 1024 * 1024  # a bound on the field; messaging allows 16 MB


class MessageAuthor(BaseModel):
    """Who really wrote the message. A related person writing in the citizen's
    e-service is `related_person`, with the citizen in `on_behalf_of`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sub: str = Field(max_length=200)
    name: str = Field(max_length=200)  # PD
    role: AuthorRole
    pnr: Personnummer | None = None  # PD; citizens and related persons
    on_behalf_of: str | None = Field(default=None, max_length=200)  # PD: the citizen's name
    approval_id: uuid.UUID | None = None  # the related person's approval


class Registrar(BaseModel):
    """The staff member who journaled the message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sub: str = Field(max_length=200)
    name: str = Field(max_length=200)  # PD (staff)


class JournalAttachment(BaseModel):
    """An attachment to file as a document of the record: what it is, and a
    capability URL on messaging (HMAC-signed, expiring, bound to this attachment
    and this journal request) to fetch it from. Verify `size` and `sha256`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attachment_id: uuid.UUID
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(gt=0, le=MAX_JOURNAL_ATTACHMENT_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = Field(max_length=2000)


class MessageJournalRequested(Event):
    """A staff member journaled a message into an intake record (journalföra,
    MS-9): casework writes the journal entry (link-to the record, type, sender,
    title, date, the message's text, the real author) and files the attachments
    as documents of the record, then answers `MessageJournaled`. Keyed by the message."""

    ce_type = "se.omsorg.messaging.message.journal-requested.v1"
    topic = MESSAGES_TOPIC
    key_field = "message_id"

    request_id: uuid.UUID  # one journal request; casework applies a (message, record) once
    message_id: uuid.UUID
    record_id: uuid.UUID  # Knyt till: the intake record
    person_id: uuid.UUID
    entry_type: JournalEntryType  # Typ
    sender: JournalSender  # Avsändare
    sender_designation: str | None = Field(default=None, max_length=200)  # Benämning avsändare
    title: str = Field(min_length=1, max_length=200)  # Rubrik (PD: may name the matter)
    entry_date: date  # Datum
    text: str = Field(max_length=100_000)  # PD: the message's text, as plain text
    message_subject: str = Field(max_length=200)  # PD: the message's Ämne
    sent_at: datetime
    author: MessageAuthor
    registered_by: Registrar
    attachments: list[JournalAttachment] = Field(default_factory=list, max_length=MAX_JOURNAL_ATTACHMENTS)
    requested_at: datetime


class EServiceDeliveryDone(Event):
    """Messaging delivered what casework asked for (`EServiceDeliveryRequested`):
    the message is in the citizen's e-service mailbox. Casework marks the
    decision or document delivered. Ids only. Keyed by the e-service mailbox,
    as the delivery announcement is."""

    ce_type = "se.omsorg.messaging.delivery.done.v1"
    topic = MESSAGES_TOPIC
    key_field = "mailbox_id"

    delivery_id: uuid.UUID
    document_id: uuid.UUID
    message_id: uuid.UUID
    mailbox_id: uuid.UUID
    person_id: uuid.UUID
    delivered_at: datetime


class EServiceDeliveryRefused(Event):
    """Messaging refused a delivery it was asked for (casework's
    `EServiceDeliveryRequested`, provider's `ProviderDocumentDeliveryRequested`):
    nothing is in the mailbox (the person's e-service is off, the unit's assignment
    is not running ...). The caseworker or provider sees the document must go by
    post. The reason is one of messaging's fixed texts, never personal data; ids
    only otherwise. Keyed by the person (a refused delivery has no mailbox)."""

    ce_type = "se.omsorg.messaging.delivery.refused.v1"
    topic = MESSAGES_TOPIC
    key_field = "person_id"

    delivery_id: uuid.UUID
    document_id: uuid.UUID
    person_id: uuid.UUID
    reason: str = Field(max_length=200)
    refused_at: datetime
