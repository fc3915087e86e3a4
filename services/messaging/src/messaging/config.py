"""Messaging settings (env prefix MESSAGING_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MESSAGING_", extra="ignore")
