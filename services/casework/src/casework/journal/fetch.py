"""Fetching a journaled message's attachment from messaging, through the
capability URL of MessageJournalRequested: shared.capability_fetch, pointed at
messaging's configured origin and its `/journal-fetch/` route (see there what
`FetchUnavailable` and `FetchRefused` mean to the inbox consumer)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.capability_fetch import Announced, CapabilityFetcher, FetchRefused, FetchUnavailable
from shared.contracts.messaging import JournalAttachment

__all__ = ["FETCH_PATH", "FetchRefused", "FetchUnavailable", "Fetcher"]

FETCH_PATH = "/journal-fetch/"


@dataclass(frozen=True)
class Fetcher:
    messaging_url: str
    timeout_seconds: float = 60.0

    async def fetch(self, attachment: JournalAttachment) -> bytes:
        """The file's bytes, exactly as announced (size, SHA-256)."""
        fetcher = CapabilityFetcher(self.messaging_url, FETCH_PATH, "messaging", self.timeout_seconds)
        return await fetcher.fetch(
            Announced(attachment.attachment_id, attachment.url, attachment.size, attachment.sha256)
        )
