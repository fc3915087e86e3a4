"""Intake settings (env prefix INTAKE_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    # Citizen e-ID login (IN-1). Intake signs the citizen tokens itself, as the
    # issuer `citizen_issuer_url` (its public URL + /auth), with this RSA key.
    # In development a missing key file is generated; in production it is an error.
    login_key_file: Path = Path(".run/intake/login-key.pem")
    login_token_seconds: int = 3600
    # BankID orders live about three minutes; collect after that fails the login.
    login_order_seconds: int = 180
    # BankID fails an order whose QR code was not scanned within 30 seconds.
    login_qr_seconds: int = 30

    # Which e-ID backend answers auth/collect/cancel: the development simulator,
    # or the BankID Relying Party API v6 (mutual TLS).
    eid_backend: Literal["simulator", "bankid"] = "simulator"
    bankid_base_url: str = "https://appapi2.test.bankid.com/rp/v6.0"
    bankid_cert_file: Path | None = None  # the RP's client certificate (PEM)
    bankid_key_file: Path | None = None  # its private key (PEM)
    bankid_ca_file: Path | None = None  # the CA that issued BankID's server certificate
    bankid_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _eid_backend_fits_environment(self) -> Settings:
        if self.environment == "production" and self.eid_backend == "simulator":
            raise ValueError("the e-ID simulator must not run in production: set INTAKE_EID_BACKEND=bankid")
        if self.eid_backend == "bankid":
            missing = [name for name in ("bankid_cert_file", "bankid_key_file", "bankid_ca_file")
                       if getattr(self, name) is None]
            if missing:
                raise ValueError(f"the bankid e-ID backend needs {', '.join(missing)}")
            if not self.bankid_base_url.startswith("https://"):
                raise ValueError("bankid_base_url must be https")
        return self
