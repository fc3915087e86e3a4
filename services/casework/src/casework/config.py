"""Casework settings (env prefix CASEWORK_) and its constants."""

from zoneinfo import ZoneInfo

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SOURCE = "/omsorg/casework"  # the CloudEvents source of every event casework publishes
TIME_ZONE = ZoneInfo("Europe/Stockholm")  # of civil dates: today, valid from/to


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWORK_", extra="ignore")
