"""What the documents module works with, made once per process from provider's
settings (provider.config.Settings: PROVIDER_PUBLIC_URL,
PROVIDER_DOCUMENT_FETCH_KEY_FILE, PROVIDER_DOCUMENT_FETCH_TTL_HOURS): the
signing key loaded (or, in development, created)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from fastapi import Depends

from provider.config import Settings
from shared.capability import load_or_create_key


@dataclass(frozen=True)
class DocumentsConfig:
    """What the documents module works with."""

    public_url: str
    fetch_key: bytes
    fetch_ttl: timedelta


@lru_cache(maxsize=1)
def config() -> DocumentsConfig:
    """From the environment, once per process."""
    settings = Settings()
    return DocumentsConfig(
        public_url=settings.public_url.rstrip("/"),
        fetch_key=load_or_create_key(
            settings.document_fetch_key_file, settings.environment, "PROVIDER_DOCUMENT_FETCH_KEY_FILE"
        ),
        fetch_ttl=timedelta(hours=settings.document_fetch_ttl_hours),
    )


Config = Annotated[DocumentsConfig, Depends(config)]
