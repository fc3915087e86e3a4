"""Provider settings (env prefix PROVIDER_)."""

from pathlib import Path
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

    # ---- Documents per assignment (provider.documents; docs/provider.md) ----
    # Where messaging reaches provider: the base of a document delivery's capability
    # URL (`<url>/document-fetch/<document id>?token=...`).
    public_url: str = "http://127.0.0.1:8104"
    # The HMAC key that signs those URLs; generated in development and test when
    # missing, required in production.
    document_fetch_key_file: Path = Path(".run/provider/document-fetch.key")
    # How long such a URL works: 14 days, longer than the topic keeps the request (7).
    document_fetch_ttl_hours: float = 14 * 24.0
