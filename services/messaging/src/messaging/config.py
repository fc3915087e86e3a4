"""Messaging settings (env prefix MESSAGING_) and the constants its modules share."""

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# The `source` of every event messaging publishes (CloudEvents ce_source).
SOURCE = "/omsorg/messaging"
TIME_ZONE = ZoneInfo("Europe/Stockholm")  # of civil dates (the municipality's)
# MS-4: at most this many attachments on one message.
MAX_ATTACHMENTS = 5


# Attachments (docs/attachments.md): the upload route, whose body is the raw file.
ATTACHMENT_UPLOAD_ROUTE = "/attachments"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MESSAGING_", extra="ignore")

    # ---- Attachments (messaging.attachments; docs/attachments.md) ----
    # Largest file accepted (16 MB, MS-4); also the edge limit of the upload route.
    attachment_max_bytes: int = 16 * 1024 * 1024
    # Unclaimed uploads (never attached to a message) older than this are deleted.
    attachment_unclaimed_hours: float = 24.0

    # ---- Journaling and retention (messaging.journal; docs/messaging.md) ----
    # Where casework reaches messaging: the base of the attachments' capability URLs.
    public_url: str = "http://127.0.0.1:8103"
    # The HMAC key that signs those URLs; generated in development and test when
    # missing, required in production.
    journal_fetch_key_file: Path = Path(".run/messaging/journal-fetch.key")
    # How long a capability URL works: 14 days, longer than the topic keeps the request (7).
    journal_fetch_ttl_hours: float = 14 * 24.0
    # A journaled message is purged this many days after casework journaled it (MS-11).
    retention_days_after_journal: float = 90.0

    # ---- Deliveries to the e-service (messaging.deliveries; docs/messaging.md) ----
    # Casework's base URL: a delivery's PDF is fetched only from there
    # (`<url>/e-service-fetch/<document id>`), so the URL in an event never sends
    # messaging anywhere else.
    casework_url: str = "http://127.0.0.1:8102"
    # Connect and per-read timeout of one fetch.
    delivery_fetch_timeout_seconds: float = 60.0
    # Provider's base URL: a provider document's PDF (ProviderDocumentDeliveryRequested)
    # is fetched only from there (`<url>/document-fetch/<document id>`).
    provider_url: str = "http://127.0.0.1:8104"

    @model_validator(mode="after")
    def _attachment_upload_route_limit(self) -> "Settings":
        """The upload route's edge limit (shared.http_limits) is the attachment limit,
        unless MESSAGING_MAX_BODY_BYTES_BY_ROUTE names the route itself."""
        self.max_body_bytes_by_route = {
            ATTACHMENT_UPLOAD_ROUTE: self.attachment_max_bytes,
            **self.max_body_bytes_by_route,
        }
        return self
