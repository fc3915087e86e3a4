"""What the deliveries module works with, made once per process from messaging's
settings (messaging.config.Settings: MESSAGING_CASEWORK_URL,
MESSAGING_PROVIDER_URL,
MESSAGING_DELIVERY_FETCH_TIMEOUT_SECONDS, MESSAGING_ATTACHMENT_MAX_BYTES,
MESSAGING_ATTACHMENT_UNCLAIMED_HOURS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from messaging.attachments.service import Limits
from messaging.config import Settings
from shared.capability_fetch import CapabilityFetcher

FETCH_ROUTE = "/e-service-fetch/"  # casework's capability route
PROVIDER_FETCH_ROUTE = "/document-fetch/"  # provider's capability route


@dataclass(frozen=True)
class DeliveriesConfig:
    """What the deliveries module works with."""

    fetcher: CapabilityFetcher
    limits: Limits
    # Provider's documents (ProviderDocumentDeliveryRequested); None: not configured.
    provider_fetcher: CapabilityFetcher | None = None


@lru_cache(maxsize=1)
def config() -> DeliveriesConfig:
    """From the environment, once per process."""
    settings = Settings()
    return DeliveriesConfig(
        fetcher=CapabilityFetcher(
            settings.casework_url, FETCH_ROUTE, "casework", settings.delivery_fetch_timeout_seconds
        ),
        limits=Limits(
            max_bytes=settings.attachment_max_bytes,
            unclaimed_after=timedelta(hours=settings.attachment_unclaimed_hours),
        ),
        provider_fetcher=CapabilityFetcher(
            settings.provider_url, PROVIDER_FETCH_ROUTE, "provider", settings.delivery_fetch_timeout_seconds
        ),
    )
