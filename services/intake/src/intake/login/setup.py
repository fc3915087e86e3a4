"""What the login needs, built once when intake starts: a missing signing key
in production, or missing BankID certificates, stop the start."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.config import Settings
from intake.login.backends import EidBackend
from intake.login.bankid import BankIdClient
from intake.login.ratelimit import RateLimiter
from intake.login.simulator import Simulator
from intake.login.tokens import CitizenTokenIssuer, load_or_create_key


@dataclass(frozen=True)
class LoginSetup:
    issuer: CitizenTokenIssuer
    environment: str
    order_seconds: int
    qr_seconds: int
    bankid: BankIdClient | None  # None: the development simulator answers
    retention_seconds: int = 900
    purge_interval_seconds: float = 60.0
    require_same_device_ip: bool = True
    start_limiter: RateLimiter | None = None  # None: unlimited
    collect_limiter: RateLimiter | None = None

    @property
    def secure_cookie(self) -> bool:
        # Locally intake speaks plain http, where a Secure cookie would never come back.
        return self.environment == "production"

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginSetup:
        """Load the signing key and the e-ID backend's credentials."""
        issuer = CitizenTokenIssuer(
            issuer=settings.citizen_issuer_url.rstrip("/"),
            audience=settings.token_audience,
            key=load_or_create_key(settings.login_key_file, settings.environment),
            lifetime_seconds=settings.login_token_seconds,
        )
        bankid = None
        if settings.eid_backend == "bankid":
            # The settings guarantee the three files are named.
            assert settings.bankid_cert_file and settings.bankid_key_file and settings.bankid_ca_file
            bankid = BankIdClient(
                settings.bankid_base_url,
                settings.bankid_cert_file,
                settings.bankid_key_file,
                settings.bankid_ca_file,
                settings.bankid_timeout_seconds,
            )
        return cls(
            issuer=issuer,
            environment=settings.environment,
            order_seconds=settings.login_order_seconds,
            qr_seconds=settings.login_qr_seconds,
            bankid=bankid,
            retention_seconds=settings.login_retention_seconds,
            purge_interval_seconds=settings.login_purge_interval_seconds,
            require_same_device_ip=settings.login_require_same_device_ip,
            start_limiter=RateLimiter(settings.login_start_burst, settings.login_start_per_minute),
            collect_limiter=RateLimiter(settings.login_collect_burst, settings.login_collect_per_minute),
        )

    def backend(self, sessionmaker: async_sessionmaker[AsyncSession]) -> EidBackend:
        """The configured e-ID backend."""
        if self.bankid is not None:
            return self.bankid
        return Simulator(sessionmaker, self.environment)
