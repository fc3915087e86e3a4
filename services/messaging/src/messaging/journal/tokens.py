"""Capability tokens of the journal fetch URL: `GET /journal-fetch/{attachment_id}?token=...`.

shared.capability's tokens with the purpose "journal-fetch": bound to the
attachment and the journal request, signed with messaging's own key, expiring;
they work only while the request waits for casework (the journal module checks
that)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared import capability
from shared.capability import BadToken

__all__ = ["PURPOSE", "BadToken", "Grant", "sign", "verify"]

PURPOSE = "journal-fetch"


@dataclass(frozen=True)
class Grant:
    request_id: uuid.UUID
    expires: datetime


def sign(key: bytes, attachment_id: uuid.UUID, request_id: uuid.UUID, expires: datetime) -> str:
    """A token for the attachment of this journal request, until `expires`."""
    return capability.sign(key, PURPOSE, attachment_id, request_id, expires)


def verify(key: bytes, attachment_id: uuid.UUID, token: str, now: datetime | None = None) -> Grant:
    """The journal request the token was signed for; BadToken if it is not valid now."""
    grant = capability.verify(key, PURPOSE, attachment_id, token, now)
    return Grant(grant.grant_id, grant.expires)
