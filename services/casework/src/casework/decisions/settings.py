"""The decision letters' letterhead, read once per process from casework's
settings (CASEWORK_MUNICIPALITY_NAME, CASEWORK_MUNICIPALITY_ADDRESS)."""

from __future__ import annotations

from functools import lru_cache

from casework.config import Settings
from casework.decisions.letter import Letterhead


@lru_cache(maxsize=1)
def letterhead() -> Letterhead:
    settings = Settings()
    return Letterhead(settings.municipality_name, settings.municipality_address)
