"""What the documents module works with, made once per process from casework's
settings (casework.config.Settings: CASEWORK_PUBLIC_URL,
CASEWORK_E_SERVICE_FETCH_KEY_FILE, CASEWORK_E_SERVICE_FETCH_TTL_HOURS,
CASEWORK_MUNICIPALITY_NAME): the signing key loaded (or, in development,
created) and the duration as a timedelta."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from casework.config import Settings
from shared.capability import load_or_create_key


@dataclass(frozen=True)
class DocumentsConfig:
    """What the documents module works with."""

    public_url: str
    fetch_key: bytes
    fetch_ttl: timedelta
    municipality: str


@lru_cache(maxsize=1)
def config() -> DocumentsConfig:
    """From the environment, once per process."""
    settings = Settings()
    return DocumentsConfig(
        public_url=settings.public_url.rstrip("/"),
        fetch_key=load_or_create_key(
            settings.e_service_fetch_key_file, settings.environment, "CASEWORK_E_SERVICE_FETCH_KEY_FILE"
        ),
        fetch_ttl=timedelta(hours=settings.e_service_fetch_ttl_hours),
        municipality=settings.municipality_name,
    )
