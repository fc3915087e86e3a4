"""The journal module's settings (env prefix CASEWORK_):

- CASEWORK_MESSAGING_URL: messaging's base URL. A journal request's attachment
  is fetched only from there (`<url>/journal-fetch/<attachment id>`): the URL in
  an event never sends casework anywhere else.
- CASEWORK_JOURNAL_FETCH_TIMEOUT_SECONDS: connect and per-read timeout of a fetch.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from casework.journal.fetch import Fetcher


class JournalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWORK_", extra="ignore", hide_input_in_errors=True)

    messaging_url: str = "http://127.0.0.1:8103"
    journal_fetch_timeout_seconds: float = 60.0


@lru_cache(maxsize=1)
def fetcher() -> Fetcher:
    settings = JournalSettings()
    return Fetcher(settings.messaging_url, settings.journal_fetch_timeout_seconds)
