"""Notify settings (env prefix NOTIFY_) and the constants its modules share."""

from __future__ import annotations

import ipaddress
from datetime import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# The `source` of every event notify publishes (CloudEvents ce_source).
SOURCE = "/omsorg/notify"
# Civil dates and the quiet hours are the municipality's.
TIME_ZONE = ZoneInfo("Europe/Stockholm")

# The development counterparts (notify.local; docs/notify-local.md). Their
# passwords are the defaults below, which production refuses.
DEV_SMTP_PORT = 2525
DEV_MAIL_HTTP_PORT = 8106
DEV_SMS_GATEWAY_PORT = 8107
DEV_SMS_PASSWORD = "omsorg-dev-sms"
DEV_CALLBACK_PASSWORD = "omsorg-dev-callback"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _netloc(host: str, port: int | None, userinfo: str = "") -> str:
    bracketed = f"[{host}]" if ":" in host else host  # an IPv6 literal
    return f"{userinfo + '@' if userinfo else ''}{bracketed}{'' if port is None else f':{port}'}"


def _clock_time(value: str, name: str) -> time:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a time of day HH:MM, such as 21:00") from None
    return parsed


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    # ---- E-mail: an SMTP relay (the municipality's; the dev mail server locally) ----
    smtp_host: str = "127.0.0.1"
    smtp_port: int = DEV_SMTP_PORT
    smtp_starttls: bool = False
    # CA bundle that signed the relay's certificate (an internal CA); the system's CAs when unset.
    smtp_ca_file: Path | None = None
    # Login after STARTTLS when set (both or neither).
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Omsorg <no-reply@omsorg.local>"
    smtp_timeout_seconds: float = 10.0

    # ---- SMS: an HTTP SMS gateway speaking 46elks' API (the dev gateway locally) ----
    sms_api_url: str = f"http://127.0.0.1:{DEV_SMS_GATEWAY_PORT}/a1/sms"
    sms_username: str = "omsorg"
    sms_password: SecretStr = SecretStr(DEV_SMS_PASSWORD)
    # 46elks: up to 11 alphanumeric characters, shown as the sender.
    sms_sender: str = "Omsorg"
    sms_timeout_seconds: float = 10.0
    # Where the gateway posts delivery reports (notify's /sms/delivery-reports).
    # It may carry the callback credentials as userinfo (user:pass@host); they are
    # moved into callback_username/callback_password here, so this value never
    # shows a password, and `sms_callback_url_with_credentials()` puts them back.
    sms_callback_url: str = "http://127.0.0.1:8105/sms/delivery-reports"
    # HTTP Basic credentials the gateway must present on the callback.
    callback_username: str = "gateway"
    callback_password: SecretStr = SecretStr(DEV_CALLBACK_PASSWORD)

    # ---- Planning ----
    # Triggers for one recipient and channel within this window make one alert.
    coalesce_window_seconds: float = 300.0
    # SMS are not sent between these times (Europe/Stockholm); e-mail is never held.
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"

    # ---- Retries (GOV.UK Notify's reference: 48 attempts over 4 hours) ----
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 1800.0
    retry_deadline_seconds: float = 14400.0
    max_attempts: int = 48

    # ---- The sender worker ----
    sender_batch_size: int = 50
    sender_concurrency: int = 20
    sender_lease_seconds: float = 60.0
    sender_poll_seconds: float = 1.0

    @property
    def quiet_start(self) -> time:
        """The start of the SMS quiet hours as a time of day (Europe/Stockholm)."""
        return _clock_time(self.quiet_hours_start, "quiet_hours_start")

    @property
    def quiet_end(self) -> time:
        """The end of the SMS quiet hours as a time of day (Europe/Stockholm)."""
        return _clock_time(self.quiet_hours_end, "quiet_hours_end")

    def sms_callback_url_with_credentials(self) -> str:
        """The delivery-report URL handed to the gateway, with the callback credentials as userinfo."""
        parts = urlsplit(self.sms_callback_url)
        userinfo = (
            f"{quote(self.callback_username, safe='')}:"
            f"{quote(self.callback_password.get_secret_value(), safe='')}"
        )
        return urlunsplit(parts._replace(netloc=_netloc(parts.hostname or "", parts.port, userinfo)))

    @model_validator(mode="after")
    def _callback_credentials_out_of_the_url(self) -> Settings:
        parts = urlsplit(self.sms_callback_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("sms_callback_url must be an http(s) URL")
        if parts.username is not None or parts.password is not None:
            user, password = unquote(parts.username or ""), unquote(parts.password or "")
            # Credentials in the URL and in the settings that disagree would make every
            # delivery report a 401; refuse rather than guess which is meant.
            explicit = self.model_fields_set
            if "callback_username" in explicit and user != self.callback_username:
                raise ValueError("sms_callback_url's user differs from callback_username")
            if "callback_password" in explicit and password != self.callback_password.get_secret_value():
                raise ValueError("sms_callback_url's password differs from callback_password")
            self.callback_username = user
            self.callback_password = SecretStr(password)
            self.sms_callback_url = urlunsplit(parts._replace(netloc=_netloc(parts.hostname, parts.port)))
        return self

    @model_validator(mode="after")
    def _values_make_sense(self) -> Settings:
        # Parsed now, so a typo refuses to start instead of failing at the first SMS.
        _clock_time(self.quiet_hours_start, "quiet_hours_start")
        _clock_time(self.quiet_hours_end, "quiet_hours_end")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("smtp_username and smtp_password go together (both or neither)")
        if urlsplit(self.sms_api_url).scheme not in ("http", "https"):
            raise ValueError("sms_api_url must be an http(s) URL")
        positive = (
            "smtp_timeout_seconds",
            "sms_timeout_seconds",
            "retry_base_seconds",
            "retry_max_seconds",
            "retry_deadline_seconds",
            "max_attempts",
            "sender_batch_size",
            "sender_concurrency",
            "sender_lease_seconds",
            "sender_poll_seconds",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.coalesce_window_seconds < 0:
            raise ValueError("coalesce_window_seconds must not be negative")
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must not be below retry_base_seconds")
        return self

    @model_validator(mode="after")
    def _production_uses_the_real_endpoints(self) -> Settings:
        if self.environment != "production":
            return self
        if self.sms_password.get_secret_value() == DEV_SMS_PASSWORD:
            raise ValueError("production needs its own sms_password (the gateway account's)")
        if self.callback_password.get_secret_value() == DEV_CALLBACK_PASSWORD:
            raise ValueError("production needs its own callback_password")
        api = urlsplit(self.sms_api_url)
        if api.scheme != "https":
            raise ValueError("production needs an https sms_api_url (the SMS provider's API)")
        if _is_loopback(api.hostname):
            raise ValueError("sms_api_url names a loopback address: the development gateway")
        callback = urlsplit(self.sms_callback_url)
        # The gateway sends the callback credentials in this URL: never in clear text.
        if callback.scheme != "https" or _is_loopback(callback.hostname):
            raise ValueError("production needs an https sms_callback_url the gateway can reach")
        if _is_loopback(self.smtp_host) and (not self.smtp_starttls or self.smtp_port == DEV_SMTP_PORT):
            raise ValueError("smtp_host names the development mail server: set the municipality's relay")
        if self.smtp_username is not None and not self.smtp_starttls:
            raise ValueError("production sends SMTP credentials only after STARTTLS (smtp_starttls)")
        return self
