"""Requests and answers of the messages module. Field names follow the form
users know: Från (from_mailbox_id), Till (to), Till klient (to_client), Ämne
(subject), the text (body), Läskvitto (read_receipt), Bilagor (attachment_ids)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from messaging.attachments.schemas import AttachmentOut
from messaging.config import MAX_ATTACHMENTS
from messaging.models import Folder, MailboxKind, MessageKind, MessageStatus
from shared.fields import Trimmed

Subject = Annotated[str, Trimmed(200, min_length=1)]
# Rich text (HTML), sanitised with nh3 before it is stored.
Body = Annotated[str, StringConstraints(max_length=100_000)]
AttachmentIds = Annotated[list[uuid.UUID], Field(max_length=MAX_ATTACHMENTS)]
Recipients = Annotated[list[uuid.UUID], Field(max_length=50)]


def _needs_recipient(schema: dict[str, Any]) -> None:
    """The model validator's rule, stated: `to` with at least one mailbox, or `to_client`."""
    schema["anyOf"] = [
        {"required": ["to"], "properties": {"to": {"minItems": 1}}},
        {"required": ["to_client"], "properties": {"to_client": {"type": "string"}}},
    ]


class MessageForm(BaseModel):
    """A new message from one of the user's mailboxes (MS-4). `draft` keeps it in
    Utkast; it is sent later with POST /messages/{id}/send."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_needs_recipient)

    from_mailbox_id: uuid.UUID
    to: Recipients = Field(default_factory=list)  # staff and group mailboxes
    to_client: uuid.UUID | None = None  # the person (casework's id), through their e-service
    subject: Subject
    body: Body = ""
    read_receipt: bool = False
    attachment_ids: AttachmentIds = Field(default_factory=list)
    draft: bool = False

    @model_validator(mode="after")
    def _someone(self) -> MessageForm:
        if not self.to and self.to_client is None:
            raise ValueError("a message needs a recipient: to (Till) or to_client (Till klient)")
        return self


class DraftForm(BaseModel):
    """A draft (Utkast) as its author saves it again (PUT replaces what it says and to
    whom, and its attachments: the ids it is to have, new uploads among them)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_needs_recipient)

    to: Recipients = Field(default_factory=list)
    to_client: uuid.UUID | None = None
    subject: Subject
    body: Body = ""
    read_receipt: bool = False
    attachment_ids: AttachmentIds = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> DraftForm:
        if not self.to and self.to_client is None:
            raise ValueError("a message needs a recipient: to (Till) or to_client (Till klient)")
        return self


class ReplyForm(BaseModel):
    """A reply (or reply-all) to a message; the subject defaults to "Sv: <Ämne>"."""

    model_config = ConfigDict(extra="forbid")

    from_mailbox_id: uuid.UUID | None = None  # default: the mailbox the message is in
    subject: Subject | None = None
    body: Body = ""
    read_receipt: bool = False
    attachment_ids: AttachmentIds = Field(default_factory=list)


class ForwardForm(BaseModel):
    """Forward a message (Vidarebefordra) with its attachments; the subject defaults to "Vb: <Ämne>"."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_needs_recipient)

    from_mailbox_id: uuid.UUID | None = None
    to: Recipients = Field(default_factory=list)
    to_client: uuid.UUID | None = None
    subject: Subject | None = None
    body: Body = ""
    read_receipt: bool = False
    attachment_ids: AttachmentIds = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> ForwardForm:
        if not self.to and self.to_client is None:
            raise ValueError("a forward needs a recipient: to (Till) or to_client (Till klient)")
        return self


class CitizenMessageForm(BaseModel):
    """A message from the e-service to the citizen's caseworker (by default to all of
    the citizen's caseworkers; `to_caseworker` picks one of them)."""

    model_config = ConfigDict(extra="forbid")

    to_caseworker: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    subject: Subject
    body: Body = ""
    attachment_ids: AttachmentIds = Field(default_factory=list)


class CitizenReplyForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Subject | None = None
    body: Body = ""
    attachment_ids: AttachmentIds = Field(default_factory=list)


class MailboxOut(BaseModel):
    """A mailbox the user may use, with its unread count (the badge)."""

    id: uuid.UUID
    kind: MailboxKind
    name: str
    unit: str | None
    unread: int


class CaseworkerOut(BaseModel):
    id: str
    name: str


class CitizenMailboxOut(MailboxOut):
    """The e-service mailbox, and the caseworkers one may write to."""

    caseworkers: list[CaseworkerOut]


class MailboxRef(BaseModel):
    """A mailbox as a message's header shows it: a citizen's with the personnummer after the name."""

    id: uuid.UUID
    kind: MailboxKind
    label: str


class AuthorOut(BaseModel):
    """Who really wrote the message: a related person writes for the citizen."""

    name: str
    role: str
    on_behalf_of: str | None = None  # the citizen, when a related person wrote it


class MessageSummary(BaseModel):
    """One line of a folder: the unread marker, sender, subject, time."""

    id: uuid.UUID
    kind: MessageKind
    folder: Folder
    from_label: str
    subject: str
    at: datetime
    unread: bool
    client: str | None = None
    # In a group mailbox: the absent member it was forwarded for (Vidarebefordran, MS-7).
    forwarded_for: str | None = None


class MessageOut(BaseModel):
    """A message as seen from one mailbox (`mailbox_id`, `folder`)."""

    id: uuid.UUID
    kind: MessageKind
    status: MessageStatus
    mailbox_id: uuid.UUID
    folder: Folder
    from_mailbox: MailboxRef
    from_label: str
    author: AuthorOut
    to: list[MailboxRef]
    client: MailboxRef | None
    subject: str
    body: str
    read_receipt: bool
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None
    reply_to_id: uuid.UUID | None
    forwarded_from_id: uuid.UUID | None
    attachments: list[AttachmentOut]
    # In a group mailbox: the absent member it was forwarded for (Vidarebefordran, MS-7).
    forwarded_for: str | None = None
