"""Fetching a journaled message's attachment from messaging, through the
capability URL of MessageJournalRequested: streamed, its size and SHA-256
verified against the event, from messaging's configured origin only.

What a failure means to the inbox consumer:
- messaging unreachable, a timeout, a 5xx or 429, a stream cut short:
  `FetchUnavailable`, a ConnectionError, i.e. an infrastructure failure: the
  partition pauses and the event is retried without limit; nothing is written.
- a 4xx (the link expired, is spent or was never valid; the message was purged),
  a file other than announced, a URL not on messaging: `FetchRefused`, the
  record's own failure: retried a few times, then dead-lettered.
Exception messages name no URL (it holds the capability) and no content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from shared.contracts.messaging import JournalAttachment

FETCH_PATH = "/journal-fetch/"


class FetchUnavailable(ConnectionError):
    """Messaging could not hand the file over now: try again later."""


class FetchRefused(Exception):
    """This fetch will not succeed as it is: the record needs a person."""


@dataclass(frozen=True)
class Fetcher:
    messaging_url: str
    timeout_seconds: float = 60.0

    def _check_url(self, attachment: JournalAttachment) -> str:
        base = urlsplit(self.messaging_url.rstrip("/"))
        url = urlsplit(attachment.url)
        expected_path = f"{base.path}{FETCH_PATH}{attachment.attachment_id}"
        if (url.scheme, url.netloc, url.path) != (base.scheme, base.netloc, expected_path) or url.fragment:
            raise FetchRefused("the attachment's URL is not messaging's journal fetch route for it")
        return attachment.url

    async def fetch(self, attachment: JournalAttachment) -> bytes:
        """The file's bytes, exactly as announced (size, SHA-256)."""
        url = self._check_url(attachment)
        digest = hashlib.sha256()
        content = bytearray()
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code >= 500 or response.status_code == 429:
                    raise FetchUnavailable(f"messaging answered {response.status_code}")
                if response.status_code != 200:
                    raise FetchRefused(f"messaging answered {response.status_code}")
                async for piece in response.aiter_bytes():
                    if len(content) + len(piece) > attachment.size:
                        raise FetchRefused("the file is larger than announced")
                    digest.update(piece)
                    content += piece
        except httpx.TransportError as exc:
            raise FetchUnavailable(type(exc).__name__) from exc
        if len(content) != attachment.size:
            raise FetchUnavailable("the file ended short of its announced size")
        if digest.hexdigest() != attachment.sha256:
            raise FetchRefused("the file's SHA-256 is not the announced one")
        return bytes(content)
