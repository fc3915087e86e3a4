"""What the orders module works with, made once per process from casework's
settings: where providers reach casework (CASEWORK_PUBLIC_URL), the key that
signs capability URLs (CASEWORK_E_SERVICE_FETCH_KEY_FILE: the documents' key;
an order's link is signed for its own purpose, so neither opens the other's
route) and how long an order's link works (CASEWORK_ORDER_FETCH_TTL_DAYS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from casework.config import Settings
from shared.capability import load_or_create_key


@dataclass(frozen=True)
class OrdersConfig:
    """What the orders module works with."""

    public_url: str
    fetch_key: bytes
    fetch_ttl: timedelta


@lru_cache(maxsize=1)
def config() -> OrdersConfig:
    """From the environment, once per process."""
    settings = Settings()
    return OrdersConfig(
        public_url=settings.public_url.rstrip("/"),
        fetch_key=load_or_create_key(
            settings.e_service_fetch_key_file, settings.environment, "CASEWORK_E_SERVICE_FETCH_KEY_FILE"
        ),
        fetch_ttl=timedelta(days=settings.order_fetch_ttl_days),
    )
