"""Settings every service shares; each service subclasses with its env prefix
(`INTAKE_DATABASE_URL`, `CASEWORK_KAFKA_BOOTSTRAP_SERVERS`, ...).

Which environment a process runs in is decided by one variable for every
process, OMSORG_ENVIRONMENT. It has no default: a process that is not told
refuses to start, so a forgotten variable never turns development conveniences
(the e-ID simulator, the plain-http development issuer) on in production. A
service's own `<SERVICE>_ENVIRONMENT` may agree with it or be stricter, never
looser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]
ENVIRONMENT_VARIABLE = "OMSORG_ENVIRONMENT"
# Stricter is larger: a per-service setting may only move right.
_STRICTNESS: dict[str, int] = {"development": 0, "test": 1, "production": 2}
DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})


class ConfigurationRefused(Exception):
    """The process must not start with this configuration. Not a ValueError on
    purpose: pydantic would wrap it and print every setting (a database password)."""


def _normalised(value: object, source: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().lower()
    if text not in _STRICTNESS:
        raise ConfigurationRefused(f"{source}={value!r} is not one of development, test, production.")
    return text


def resolve_environment(own: object = None, own_source: str = "the service's own environment") -> Environment:
    """The environment of this process: OMSORG_ENVIRONMENT, made stricter by
    `own` if that is stricter. Refuses when neither chooses one, and when `own`
    would loosen OMSORG_ENVIRONMENT. With OMSORG_ENVIRONMENT unset, `own` can
    only choose production: development is never a default."""
    common = _normalised(os.environ.get(ENVIRONMENT_VARIABLE), ENVIRONMENT_VARIABLE)
    mine = _normalised(own, own_source)
    if common is None:
        if mine == "production":
            return "production"
        raise ConfigurationRefused(
            f"{ENVIRONMENT_VARIABLE} is not set: set it to production, or to development or test "
            "for a local run (deploy/omsorg.sh does that for `make up` and `make test`)."
        )
    if mine is not None and _STRICTNESS[mine] < _STRICTNESS[common]:
        raise ConfigurationRefused(
            f"{own_source}={mine} would loosen {ENVIRONMENT_VARIABLE}={common}: "
            "it may only agree or be stricter."
        )
    chosen = mine if mine is not None and _STRICTNESS[mine] > _STRICTNESS[common] else common
    return cast(Environment, chosen)


def require_development(what: str) -> Environment:
    """For development-only processes (the token issuer): refuse unless
    OMSORG_ENVIRONMENT explicitly says development or test."""
    environment = resolve_environment()
    if environment not in DEVELOPMENT_ENVIRONMENTS:
        raise ConfigurationRefused(
            f"{what} must not run with {ENVIRONMENT_VARIABLE}={environment}: it is for development only."
        )
    return environment


class ServiceSettings(BaseSettings):
    # hide_input_in_errors: a refusal must not print the settings (a database password).
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    # Resolved from OMSORG_ENVIRONMENT (and <SERVICE>_ENVIRONMENT) before validation; never defaulted.
    environment: Environment
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    # OIDC issuer whose JWKS signs the bearer tokens; the dev issuer locally.
    issuer_url: str = "http://127.0.0.1:8100"
    # Issuer of the citizens' e-ID login (intake's BankID login, IN-1); it may
    # vouch for citizens only. Tokens of any other issuer are refused.
    citizen_issuer_url: str = "http://127.0.0.1:8101/auth"
    token_audience: str = "omsorg"
    db_pool_size: int = 10
    # A request waits at most this long for a pooled connection, and a new one
    # may take at most this long to open; past that it answers 503 with
    # Retry-After (shared.db, shared.problems) instead of hanging.
    db_pool_timeout_seconds: float = 2.0
    db_connect_timeout_seconds: float = 3.0
    # Load shedding (shared.overload): at most this many requests at once per
    # process; one more waits for a slot at most admission_wait_seconds (at most
    # max_requests_queued of them wait), else it is answered 503 at once with
    # Retry-After: overload_retry_after_seconds. Health and /metrics are exempt.
    max_requests_in_flight: int = 100
    max_requests_queued: int = 100
    admission_wait_seconds: float = 0.25
    overload_retry_after_seconds: int = 1
    # Consumers: attempts before a failing event goes to the dead-letter topic.
    consumer_max_attempts: int = 5
    # Records per consumer transaction (one poll), and how long an idle poll waits.
    consumer_batch_size: int = 200
    consumer_batch_wait_ms: int = 20
    consumer_backoff_seconds: float = 0.2
    # Request bodies above this are refused with 413 before they are read
    # (shared.http_limits); routes that need more, by path template:
    # <SERVICE>_MAX_BODY_BYTES_BY_ROUTE='{"/messages/{message_id}/attachments": 26214400}'.
    max_body_bytes: int = 1024 * 1024
    max_body_bytes_by_route: dict[str, int] = {}
    # Used by shared.service_app (the event path's hardening); defaults as in inbox/outbox/health.
    consumer_max_pause_seconds: float = 30.0
    consumer_dlq_timeout_seconds: float = 15.0
    stuck_after_seconds: float = 60.0
    outbox_sent_retention_hours: float = 168.0
    # Longer than the dead-letter topics keep a record (90 days): a replayed dead letter
    # reaches every consumer of its topic again, and each must still know it.
    inbox_retention_days: float = 100.0

    @model_validator(mode="before")
    @classmethod
    def _environment_from_omsorg_environment(cls, data: Any) -> Any:
        if isinstance(data, dict):
            prefix = str(cls.model_config.get("env_prefix", "")).upper()
            data = {
                **data,
                "environment": resolve_environment(data.get("environment"), f"{prefix}ENVIRONMENT"),
            }
        return data

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

    # ---- Kafka authentication (shared.kafka_security, docs/kafka-security.md) ----
    # PLAINTEXT for the local broker; production: SASL_SSL as this service's own SCRAM principal.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_username: str | None = None
    # The password itself, or (better) a file holding it, such as a mounted secret; not both.
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None
    # CA bundle that signed the brokers' TLS certificates; the system's CAs when unset.
    kafka_ssl_cafile: Path | None = None

    @model_validator(mode="after")
    def _kafka_sasl_needs_credentials(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_"):
            if not self.kafka_sasl_username:
                raise ValueError(
                    f"kafka_security_protocol={self.kafka_security_protocol} needs kafka_sasl_username"
                )
            if (self.kafka_sasl_password is None) == (self.kafka_sasl_password_file is None):
                raise ValueError(
                    f"kafka_security_protocol={self.kafka_security_protocol} needs "
                    "kafka_sasl_password or kafka_sasl_password_file (exactly one)"
                )
        return self
