"""What the journal module works with, made once per process from messaging's
settings (messaging.config.Settings: MESSAGING_PUBLIC_URL,
MESSAGING_JOURNAL_FETCH_KEY_FILE, MESSAGING_JOURNAL_FETCH_TTL_HOURS,
MESSAGING_RETENTION_DAYS_AFTER_JOURNAL): the signing key loaded (or, in
development, created) and the durations as timedeltas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from messaging.config import Settings
from shared.capability import load_or_create_key


@dataclass(frozen=True)
class JournalConfig:
    """What the journal module works with."""

    public_url: str
    fetch_key: bytes
    fetch_ttl: timedelta
    retention: timedelta


@lru_cache(maxsize=1)
def config() -> JournalConfig:
    """From the environment, once per process."""
    settings = Settings()
    return JournalConfig(
        public_url=settings.public_url.rstrip("/"),
        fetch_key=load_or_create_key(
            settings.journal_fetch_key_file, settings.environment, "MESSAGING_JOURNAL_FETCH_KEY_FILE"
        ),
        fetch_ttl=timedelta(hours=settings.journal_fetch_ttl_hours),
        retention=timedelta(days=settings.retention_days_after_journal),
    )
