"""Casework settings (env prefix CASEWORK_) and its constants."""

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SOURCE = "/omsorg/casework"  # the CloudEvents source of every event casework publishes
TIME_ZONE = ZoneInfo("Europe/Stockholm")  # of civil dates: today, valid from/to


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWORK_", extra="ignore")

    # ---- Journaling (casework.journal) ----
    # Messaging's base URL: a journal request's attachment is fetched only from
    # there (`<url>/journal-fetch/<attachment id>`), so the URL in an event never
    # sends casework anywhere else.
    messaging_url: str = "http://127.0.0.1:8103"
    # Connect and per-read timeout of one fetch.
    journal_fetch_timeout_seconds: float = 60.0

    # ---- Decision letters (casework.decisions) ----
    # The municipality's header on every decision letter, and where an appeal is
    # sent: its name and its postal address, one line each.
    municipality_name: str = "Omsorgs kommun"
    municipality_address: tuple[str, ...] = ("Socialförvaltningen", "Box 100", "123 45 Omsorg")

    # ---- Documents and their delivery to the e-service (casework.documents) ----
    # Where messaging reaches casework: the base of a delivery's capability URL
    # (`<url>/e-service-fetch/<document id>?token=...`).
    public_url: str = "http://127.0.0.1:8102"
    # The HMAC key that signs those URLs; generated in development and test when
    # missing, required in production.
    e_service_fetch_key_file: Path = Path(".run/casework/e-service-fetch.key")
    # How long a capability URL works: 14 days, longer than the topic keeps the request (7).
    e_service_fetch_ttl_hours: float = 14 * 24.0

    # ---- Orders to providers (casework.orders) ----
    # How long an order's document links work (`<public url>/order-fetch/<document id>`,
    # signed with the same key, for another purpose): the provider opens the order
    # whenever it needs to while the execution runs, so two years; a link is spent
    # anyway once the execution has ended.
    order_fetch_ttl_days: float = 730.0
