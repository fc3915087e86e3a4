"""Provider settings (env prefix PROVIDER_)."""

from zoneinfo import ZoneInfo

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SOURCE = "/omsorg/provider"  # the CloudEvents source of every event provider publishes
TIME_ZONE = ZoneInfo("Europe/Stockholm")  # of civil dates (the municipality's)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROVIDER_", extra="ignore")

    # ---- Orders (provider.orders; docs/provider.md) ----
    # Casework's base URL: an order's documents are fetched only from there
    # (`<url>/order-fetch/<document id>`), so a URL in an event never sends
    # provider anywhere else.
    casework_url: str = "http://127.0.0.1:8102"
    # Connect and per-read timeout of one document fetch.
    order_document_fetch_timeout_seconds: float = 60.0
