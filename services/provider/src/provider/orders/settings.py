"""What the orders module works with, made once per process from provider's
settings (provider.config.Settings: PROVIDER_CASEWORK_URL,
PROVIDER_ORDER_DOCUMENT_FETCH_TIMEOUT_SECONDS)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends

from provider.config import Settings
from shared.capability_fetch import CapabilityFetcher

# Casework's capability route for an order's documents: a document's URL must be
# `<casework url>/order-fetch/<document id>?token=...`, nothing else is fetched.
ORDER_FETCH_ROUTE = "/order-fetch/"


@dataclass(frozen=True)
class OrdersConfig:
    """What the orders module works with."""

    fetcher: CapabilityFetcher


@lru_cache(maxsize=1)
def config() -> OrdersConfig:
    """From the environment, once per process."""
    settings = Settings()
    return OrdersConfig(
        fetcher=CapabilityFetcher(
            settings.casework_url,
            ORDER_FETCH_ROUTE,
            "casework",
            settings.order_document_fetch_timeout_seconds,
        )
    )


Config = Annotated[OrdersConfig, Depends(config)]
