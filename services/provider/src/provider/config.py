"""Provider settings (env prefix PROVIDER_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROVIDER_", extra="ignore")
