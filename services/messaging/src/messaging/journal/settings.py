"""The journal module's settings (env prefix MESSAGING_), apart from
messaging.config.Settings so they can be read where the module needs them.

- MESSAGING_PUBLIC_URL: where casework reaches messaging (the capability URLs).
- MESSAGING_JOURNAL_FETCH_KEY_FILE: the HMAC key that signs them; generated in
  development and test when missing, required in production.
- MESSAGING_JOURNAL_FETCH_TTL_HOURS: how long a capability URL works (14 days:
  longer than the topic keeps the request, 7 days).
- MESSAGING_RETENTION_DAYS_AFTER_JOURNAL: a journaled message is purged this
  many days after casework journaled it (MS-11).
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import resolve_environment

KEY_BYTES = 32


class JournalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MESSAGING_", extra="ignore", hide_input_in_errors=True)

    environment: str | None = None  # resolved with OMSORG_ENVIRONMENT, as every setting is
    public_url: str = "http://127.0.0.1:8103"
    journal_fetch_key_file: Path = Path(".run/messaging/journal-fetch.key")
    journal_fetch_ttl_hours: float = 14 * 24.0
    retention_days_after_journal: float = 90.0


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
    settings = JournalSettings()
    environment = resolve_environment(settings.environment, "MESSAGING_ENVIRONMENT")
    return JournalConfig(
        public_url=settings.public_url.rstrip("/"),
        fetch_key=load_or_create_key(settings.journal_fetch_key_file, environment),
        fetch_ttl=timedelta(hours=settings.journal_fetch_ttl_hours),
        retention=timedelta(days=settings.retention_days_after_journal),
    )
