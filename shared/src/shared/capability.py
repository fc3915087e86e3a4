"""Capability tokens: what lets one service fetch one object from another without
a bearer token (messaging's journal fetch, casework's e-service fetch).

A token is `<grant id>.<expires, unix seconds>.<HMAC-SHA256 hex>`, the HMAC over
the purpose, the object id, the grant id and the expiry with the serving
service's own key. It opens that object, for that grant (a journal request, a
delivery), for that purpose, until it expires. Whether the grant still waits
(is not spent) is the serving module's rule: it checks that after `verify`.

The key is a file of at least KEY_BYTES random bytes; development and test
create it on first use, production never does (`load_or_create_key`)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

KEY_BYTES = 32


class BadToken(Exception):
    """Not a token this key signed for this object and purpose, or expired. Never says which."""


@dataclass(frozen=True)
class Grant:
    """What a valid token was signed for: the grant (request, delivery) and until when."""

    grant_id: uuid.UUID
    expires: datetime


def _mac(key: bytes, purpose: str, object_id: uuid.UUID, grant_id: uuid.UUID, expires: int) -> str:
    message = f"{purpose}:{object_id}:{grant_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(key: bytes, purpose: str, object_id: uuid.UUID, grant_id: uuid.UUID, expires: datetime) -> str:
    """A token opening `object_id` for `grant_id` and `purpose` until `expires`."""
    seconds = int(expires.timestamp())
    return f"{grant_id}.{seconds}.{_mac(key, purpose, object_id, grant_id, seconds)}"


def verify(key: bytes, purpose: str, object_id: uuid.UUID, token: str, now: datetime | None = None) -> Grant:
    """The grant the token was signed for; BadToken if it is not valid now."""
    try:
        grant_text, seconds_text, mac = token.split(".")
        grant_id = uuid.UUID(grant_text)
        seconds = int(seconds_text)
    except ValueError:
        raise BadToken from None
    if not hmac.compare_digest(mac, _mac(key, purpose, object_id, grant_id, seconds)):
        raise BadToken
    expires = datetime.fromtimestamp(seconds, UTC)
    if expires <= (now or datetime.now(UTC)):
        raise BadToken
    return Grant(grant_id, expires)


def load_or_create_key(path: Path, environment: str, setting: str) -> bytes:
    """The HMAC key from `path`; in development and test a new one is written there
    if missing. `setting` names the environment variable, for the refusal."""
    if not path.exists():
        if environment == "production":
            raise RuntimeError(
                f"The capability key {path} does not exist ({setting}); production never generates one."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(partial, path)  # the first writer wins; every replica loads that key
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise RuntimeError(f"The capability key {path} ({setting}) is shorter than {KEY_BYTES} bytes.")
    return key
