"""Intake settings (env prefix INTAKE_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import DEVELOPMENT_ENVIRONMENTS, ServiceSettings

# The `source` of every event intake publishes (CloudEvents ce_source).
SOURCE = "/omsorg/intake"
# An application's status for the citizen until casework reports another.
STATUS_NEW = "Ny"
# Civil dates and times as citizens read them (today, the PDF's "Skapad").
TIME_ZONE = ZoneInfo("Europe/Stockholm")


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
    # Ended logins (and expired pending ones, and the simulator's orders) are
    # deleted this long after they ended; the purge runs every interval.
    login_retention_seconds: int = 900
    login_purge_interval_seconds: float = 60.0
    # Fail a login when the device that completes it (BankID completionData.device.ipAddress)
    # is at another address than the browser that started it (endUserIp).
    login_require_same_device_ip: bool = True
    # Per client address, per intake process (an in-memory token bucket): a
    # burst, then so many per minute. Many citizens may share one address (NAT).
    login_start_burst: int = 20
    login_start_per_minute: float = 30.0
    login_collect_burst: int = 60
    login_collect_per_minute: float = 300.0

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
        if self.eid_backend == "simulator" and self.environment not in DEVELOPMENT_ENVIRONMENTS:
            raise ValueError(
                f"the e-ID simulator must not run in {self.environment}: set INTAKE_EID_BACKEND=bankid"
            )
        if self.eid_backend == "bankid":
            missing = [
                name
                for name in ("bankid_cert_file", "bankid_key_file", "bankid_ca_file")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"the bankid e-ID backend needs {', '.join(missing)}")
            if not self.bankid_base_url.startswith("https://"):
                raise ValueError("bankid_base_url must be https")
        return self
