"""What the journal module works with, made once per process from messaging's
settings (messaging.config.Settings: MESSAGING_PUBLIC_URL,
MESSAGING_JOURNAL_FETCH_KEY_FILE, MESSAGING_JOURNAL_FETCH_TTL_HOURS,
MESSAGING_RETENTION_DAYS_AFTER_JOURNAL): the signing key loaded (or, in
development, created) and the durations as timedeltas."""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from messaging.config import Settings

KEY_BYTES = 32


@dataclass(frozen=True)
class JournalConfig:
    """What the journal module works with."""

    public_url: str
    fetch_key: bytes
    fetch_ttl: timedelta
    retention: timedelta


def load_or_create_key(path: Path, environment: str) -> bytes:
    """The HMAC key from `path`; in development and test a new one is written there if missing."""
    if not path.exists():
        if environment == "production":
            raise RuntimeError(
                f"The journal fetch key {path} does not exist (MESSAGING_JOURNAL_FETCH_KEY_FILE); "
                "production never generates one."
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
        raise RuntimeError(f"The journal fetch key {path} is shorter than {KEY_BYTES} bytes.")
    return key


@lru_cache(maxsize=1)
def config() -> JournalConfig:
    """From the environment, once per process."""
    settings = Settings()
    return JournalConfig(
        public_url=settings.public_url.rstrip("/"),
        fetch_key=load_or_create_key(settings.journal_fetch_key_file, settings.environment),
        fetch_ttl=timedelta(hours=settings.journal_fetch_ttl_hours),
        retention=timedelta(days=settings.retention_days_after_journal),
    )
