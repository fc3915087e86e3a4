"""Messaging settings (env prefix MESSAGING_) and the constants its modules share."""

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

    @model_validator(mode="after")
    def _attachment_upload_route_limit(self) -> "Settings":
        """The upload route's edge limit (shared.http_limits) is the attachment limit,
        unless MESSAGING_MAX_BODY_BYTES_BY_ROUTE names the route itself."""
        self.max_body_bytes_by_route = {
            ATTACHMENT_UPLOAD_ROUTE: self.attachment_max_bytes,
            **self.max_body_bytes_by_route,
        }
        return self
