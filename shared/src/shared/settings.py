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
    # Issuer of the citizens' e-ID login (intake's BankID login, IN-1); it may
    # vouch for citizens only. Tokens of any other issuer are refused.
    citizen_issuer_url: str = "http://127.0.0.1:8101/auth"
    token_audience: str = "omsorg"
    db_pool_size: int = 10
    # Consumers: attempts before a failing event goes to the dead-letter topic.
    consumer_max_attempts: int = 5
    consumer_backoff_seconds: float = 0.2

    @model_validator(mode="after")
    def _production_needs_https_issuer(self) -> ServiceSettings:
        if self.environment == "production" and not self.issuer_url.startswith("https://"):
            raise ValueError("production needs an https issuer_url (the municipality's IdP)")
        if self.environment == "production" and not self.citizen_issuer_url.startswith("https://"):
            raise ValueError("production needs an https citizen_issuer_url (intake's public URL + /auth)")
        if self.citizen_issuer_url.rstrip("/") == self.issuer_url.rstrip("/"):
            # One URL for both is a mistake: the staff IdP's tokens would be refused as citizen-only.
            raise ValueError("citizen_issuer_url must differ from issuer_url")
        return self
