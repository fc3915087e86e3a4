"""How a service authenticates to Kafka, from its settings (docs/kafka-security.md).

The local broker of `make up` is PLAINTEXT and needs nothing. With
authentication on, every service connects as its own SCRAM-SHA-512 principal
(its service name) and the broker's ACLs allow it only its own topics; in
production that runs over TLS (SASL_SSL).

Two forms, one source:

    KafkaBroker(..., security=broker_security(settings))     # FastStream
    AIOKafkaProducer(..., **client_kwargs(settings))          # raw aiokafka clients

Command-line tools read the same options from the environment
(`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD_FILE`,
...) with `env_client_kwargs()`.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream.security import BaseSecurity, SASLScram512
from pydantic import SecretStr

log = logging.getLogger(__name__)

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISM = "SCRAM-SHA-512"


class KafkaSecurityRefused(Exception):
    """The Kafka security settings cannot work; the message never holds a secret."""


@dataclass(frozen=True)
class KafkaCredentials:
    security_protocol: str = "PLAINTEXT"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: Path | None = None
    ssl_cafile: Path | None = None

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    def checked(self) -> KafkaCredentials:
        """Self, if it can work: SASL needs a user and exactly one password source."""
        if self.security_protocol not in PROTOCOLS:
            raise KafkaSecurityRefused(
                f"Kafka security protocol {self.security_protocol!r} is not one of {', '.join(PROTOCOLS)}"
            )
        if self.uses_sasl:
            if not self.username:
                raise KafkaSecurityRefused(f"{self.security_protocol} needs a SASL username")
            if (self.password is None) == (self.password_file is None):
                raise KafkaSecurityRefused(
                    f"{self.security_protocol} needs a SASL password or a password file (exactly one)"
                )
        return self

    def resolved_password(self) -> str:
        """The password, read from its file at call time (a rotated secret is picked up on restart)."""
        if self.password is not None:
            return self.password
        assert self.password_file is not None
        try:
            return self.password_file.read_text().rstrip("\r\n")
        except OSError as error:
            raise KafkaSecurityRefused(
                f"cannot read the Kafka password file {self.password_file}: {error.strerror}"
            ) from None


def credentials(settings: Any) -> KafkaCredentials:
    """The Kafka credentials of a service's settings (shared.settings.ServiceSettings)."""
    secret = getattr(settings, "kafka_sasl_password", None)
    password = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    password_file = getattr(settings, "kafka_sasl_password_file", None)
    cafile = getattr(settings, "kafka_ssl_cafile", None)
    return KafkaCredentials(
        security_protocol=str(getattr(settings, "kafka_security_protocol", "PLAINTEXT")).upper(),
        username=getattr(settings, "kafka_sasl_username", None) or None,
        password=password or None,
        password_file=Path(password_file) if password_file else None,
        ssl_cafile=Path(cafile) if cafile else None,
    ).checked()


def credentials_from_env(
    prefix: str = "KAFKA_", environ: Mapping[str, str] | None = None
) -> KafkaCredentials:
    """Credentials for command-line tools: `<prefix>SECURITY_PROTOCOL`, `<prefix>SASL_USERNAME`,
    `<prefix>SASL_PASSWORD` or `<prefix>SASL_PASSWORD_FILE`, `<prefix>SSL_CAFILE`."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return env.get(prefix + name) or None

    password_file, cafile = get("SASL_PASSWORD_FILE"), get("SSL_CAFILE")
    return KafkaCredentials(
        security_protocol=(get("SECURITY_PROTOCOL") or "PLAINTEXT").upper(),
        username=get("SASL_USERNAME"),
        password=get("SASL_PASSWORD"),
        password_file=Path(password_file) if password_file else None,
        ssl_cafile=Path(cafile) if cafile else None,
    ).checked()


def _ssl_context(creds: KafkaCredentials) -> ssl.SSLContext:
    # Verifies the brokers' certificates and host names; the system's CAs unless a bundle is given.
    return ssl.create_default_context(cafile=str(creds.ssl_cafile) if creds.ssl_cafile else None)


def security_of(creds: KafkaCredentials) -> BaseSecurity | None:
    """FastStream's security object for these credentials; None for PLAINTEXT."""
    if creds.security_protocol == "PLAINTEXT":
        return None
    context = _ssl_context(creds) if creds.security_protocol == "SASL_SSL" else None
    assert creds.username is not None
    return SASLScram512(
        creds.username, creds.resolved_password(), ssl_context=context, use_ssl=context is not None
    )


def kwargs_of(creds: KafkaCredentials) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer, consumer and admin client; {} for PLAINTEXT."""
    if creds.security_protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {
        "security_protocol": creds.security_protocol,
        "sasl_mechanism": SASL_MECHANISM,
        "sasl_plain_username": creds.username,
        "sasl_plain_password": creds.resolved_password(),
    }
    if creds.security_protocol == "SASL_SSL":
        options["ssl_context"] = _ssl_context(creds)
    return options


def _warn_if_unprotected(settings: Any, creds: KafkaCredentials) -> None:
    if getattr(settings, "environment", None) == "production" and creds.security_protocol != "SASL_SSL":
        log.warning(
            "Kafka runs %s in production: use SASL_SSL with this service's own principal "
            "(docs/kafka-security.md)",
            creds.security_protocol,
        )


def broker_security(settings: Any) -> BaseSecurity | None:
    """For `KafkaBroker(..., security=broker_security(settings))`."""
    creds = credentials(settings)
    _warn_if_unprotected(settings, creds)
    return security_of(creds)


def client_kwargs(settings: Any) -> dict[str, Any]:
    """For raw aiokafka clients: `AIOKafkaProducer(..., **client_kwargs(settings))`."""
    return kwargs_of(credentials(settings))


def env_client_kwargs(prefix: str = "KAFKA_") -> dict[str, Any]:
    """For command-line tools (deploy/kafka_admin.py, shared.dlq): options from the environment."""
    return kwargs_of(credentials_from_env(prefix))
