"""Messaging settings (env prefix MESSAGING_)."""

from zoneinfo import ZoneInfo

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

TIME_ZONE = ZoneInfo("Europe/Stockholm")  # of civil dates (the municipality's)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MESSAGING_", extra="ignore")
