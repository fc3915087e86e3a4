"""Capability tokens of the journal fetch URL: `GET /journal-fetch/{attachment_id}?token=...`.

A token is `<request id>.<expires, unix seconds>.<HMAC-SHA256 hex>`, the HMAC over
the attachment id, the journal request id and the expiry with messaging's own
key: it works for that attachment of that request only, until it expires, and
only while the request waits for casework (the journal module checks that)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime


class BadToken(Exception):
    """Not a token this key signed for this attachment, or expired. Never says which."""


@dataclass(frozen=True)
class Grant:
    request_id: uuid.UUID
    expires: datetime


def _mac(key: bytes, attachment_id: uuid.UUID, request_id: uuid.UUID, expires: int) -> str:
    message = f"journal-fetch:{attachment_id}:{request_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(key: bytes, attachment_id: uuid.UUID, request_id: uuid.UUID, expires: datetime) -> str:
    seconds = int(expires.timestamp())
    return f"{request_id}.{seconds}.{_mac(key, attachment_id, request_id, seconds)}"


def verify(key: bytes, attachment_id: uuid.UUID, token: str, now: datetime | None = None) -> Grant:
    """The journal request the token was signed for; BadToken if it is not valid now."""
    try:
        request_text, seconds_text, mac = token.split(".")
        request_id = uuid.UUID(request_text)
        seconds = int(seconds_text)
    except ValueError:
        raise BadToken from None
    if not hmac.compare_digest(mac, _mac(key, attachment_id, request_id, seconds)):
        raise BadToken
    expires = datetime.fromtimestamp(seconds, UTC)
    if expires <= (now or datetime.now(UTC)):
        raise BadToken
    return Grant(request_id, expires)
