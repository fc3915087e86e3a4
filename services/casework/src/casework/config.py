"""Casework settings (env prefix CASEWORK_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWORK_", extra="ignore")
