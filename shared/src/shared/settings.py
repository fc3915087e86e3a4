"""Settings every service shares; each service subclasses with its env prefix
(`INTAKE_DATABASE_URL`, `CASEWORK_KAFKA_BOOTSTRAP_SERVERS`, ...)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    # OIDC issuer whose JWKS signs the bearer tokens; the dev issuer locally.
    issuer_url: str = "http://127.0.0.1:8100"
    token_audience: str = "omsorg"
    db_pool_size: int = 10
    # Consumers: attempts before a failing event goes to the dead-letter topic.
    consumer_max_attempts: int = 5
    consumer_backoff_seconds: float = 0.2

    @model_validator(mode="after")
    def _production_needs_https_issuer(self) -> ServiceSettings:
        if self.environment == "production" and not self.issuer_url.startswith("https://"):
            raise ValueError("production needs an https issuer_url (the municipality's IdP)")
        return self
