"""The journal module's attachment fetcher, made once per process from casework's
settings (CASEWORK_MESSAGING_URL, CASEWORK_JOURNAL_FETCH_TIMEOUT_SECONDS)."""

from __future__ import annotations

from functools import lru_cache

from casework.config import Settings
from casework.journal.fetch import Fetcher


@lru_cache(maxsize=1)
def fetcher() -> Fetcher:
    settings = Settings()
    return Fetcher(settings.messaging_url, settings.journal_fetch_timeout_seconds)
