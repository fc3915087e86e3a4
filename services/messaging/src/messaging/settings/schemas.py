"""Requests and answers of the settings module (Inställningar, MS-7, MS-8). Field
names follow the settings page users know: Signatur (signature),
Frånvaromeddelande (absence: on/off, text, period), Vidarebefordran
(forward_to_mailbox_id), Gemensamma brevlådor (group_mailboxes)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, model_validator

from shared.fields import Trimmed, at_least_pattern

# Plain text, shown as written: never HTML.
Signature = Annotated[str, Trimmed(500)]
AbsenceText = Annotated[str, Trimmed(2000)]


def _message_or_forwarding(schema: dict[str, Any]) -> None:
    """The validator's rule, stated: an absence turned on has a message (not blank
    once trimmed) or a mailbox to forward to. (An end before the start is beyond a schema.)"""
    schema["if"] = {"properties": {"enabled": {"const": True}}, "required": ["enabled"]}
    schema["then"] = {
        "anyOf": [
            {"required": ["message"], "properties": {"message": {"pattern": at_least_pattern(1)}}},
            {
                "required": ["forward_to_mailbox_id"],
                "properties": {"forward_to_mailbox_id": {"type": "string"}},
            },
        ]
    }


class AbsenceForm(BaseModel):
    """Frånvaro: the automatic reply (on/off, its text), an optional period of civil
    dates in Europe/Stockholm (both inclusive, either side open), and the group
    mailbox that also receives one's messages while away."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_message_or_forwarding)

    enabled: bool = False
    message: AbsenceText = ""
    valid_from: date | None = None
    valid_to: date | None = None
    forward_to_mailbox_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _period(self) -> AbsenceForm:
        if self.valid_from is not None and self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("the absence ends (valid_to) before it starts (valid_from)")
        if self.enabled and not self.message and self.forward_to_mailbox_id is None:
            raise ValueError("an absence needs a message (message) or forwarding (forward_to_mailbox_id)")
        return self


class SettingsForm(BaseModel):
    """One's own settings, as a whole (PUT)."""

    model_config = ConfigDict(extra="forbid")

    signature: Signature = ""
    absence: AbsenceForm = AbsenceForm()


class GroupMailboxOut(BaseModel):
    id: uuid.UUID
    name: str
    unit: str | None


class AbsenceOut(BaseModel):
    enabled: bool
    message: str
    valid_from: date | None
    valid_to: date | None
    forward_to: GroupMailboxOut | None
    # Whether it acts today (on, and today inside the period).
    active_today: bool
    # Who set it last: the user themselves, or an administrator (unplanned absence).
    set_by: str | None
    set_by_name: str | None
    set_at: datetime | None


class SettingsOut(BaseModel):
    signature: str
    absence: AbsenceOut
    # The group mailboxes the user has access to (their units' gemensamma brevlådor).
    group_mailboxes: list[GroupMailboxOut]


class ForwardedOut(BaseModel):
    """A message in a group mailbox because it was forwarded there for an absent member."""

    message_id: uuid.UUID
    forwarded_for: str  # the absent member's name (their personal mailbox)
    forwarded_for_mailbox_id: uuid.UUID
    forwarded_at: datetime
