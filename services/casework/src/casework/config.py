"""Casework settings (env prefix CASEWORK_) and its constants."""

from zoneinfo import ZoneInfo

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SOURCE = "/omsorg/casework"  # the CloudEvents source of every event casework publishes
TIME_ZONE = ZoneInfo("Europe/Stockholm")  # of civil dates: today, valid from/to


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWORK_", extra="ignore")

    # ---- Journaling (casework.journal) ----
    # Messaging's base URL: a journal request's attachment is fetched only from
    # there (`<url>/journal-fetch/<attachment id>`), so the URL in an event never
    # sends casework anywhere else.
    messaging_url: str = "http://127.0.0.1:8103"
    # Connect and per-read timeout of one fetch.
    journal_fetch_timeout_seconds: float = 60.0
