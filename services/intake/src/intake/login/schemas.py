"""Requests and responses of the citizen e-ID login."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, IPvAnyAddress

from intake.login.backends import CollectStatus
from intake.login.models import SimulatedOutcome
from intake.login.simulator import TEST_NAME, TEST_PERSONNUMMER


def _address_text(value: object) -> object:
    """An address is text: pydantic would read `false` (or 0) as 0.0.0.0."""
    if value is not None and not isinstance(value, str):
        raise ValueError("an IP address is a string")
    return value


class Simulation(BaseModel):
    """Development only: whom the simulator logs in, and how the order ends."""

    model_config = ConfigDict(extra="forbid")

    # Not validated here: the login itself must refuse a bad one from any backend.
    personnummer: str = Field(default=TEST_PERSONNUMMER, min_length=1, max_length=20)
    name: str = Field(default=TEST_NAME, min_length=1, max_length=200)
    outcome: SimulatedOutcome = "complete"
    # The address the simulated device completes from; by default the user's own.
    device_ip: Annotated[IPvAnyAddress, BeforeValidator(_address_text)] | None = None


class LoginStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    simulate: Simulation | None = None


class LoginStarted(BaseModel):
    """Start the BankID app with `auto_start_token` on this device, or show
    `qr_data` as a QR code (refreshed every second from `/qr`)."""

    login_id: uuid.UUID
    auto_start_token: str
    qr_data: str


class QrCode(BaseModel):
    qr_data: str


class LoginStatus(BaseModel):
    """Where the login is; `access_token` only once, on the collect that completes it."""

    status: CollectStatus
    hint_code: str | None
    access_token: str | None = None


class Discovery(BaseModel):
    """The OIDC discovery document of the citizen login issuer."""

    issuer: str
    jwks_uri: str
    id_token_signing_alg_values_supported: list[str] = Field(max_length=10)
    subject_types_supported: list[str] = Field(max_length=10)


class Jwk(BaseModel):
    """An RSA public key (RFC 7517)."""

    kty: Literal["RSA"]
    kid: str
    use: Literal["sig"]
    alg: Literal["RS256"]
    n: str
    e: str


class Jwks(BaseModel):
    keys: list[Jwk] = Field(max_length=20)
