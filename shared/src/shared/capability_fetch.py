"""Fetching a file another service announced in an event, through its capability
URL (shared.capability): streamed, its size and SHA-256 verified against the
announcement, from the configured origin and route of that service only.

Casework fetches a journaled message's attachments from messaging; messaging
fetches a decision or document PDF from casework. What a failure means to the
inbox consumer that fetches:
- the peer unreachable, a timeout, a 5xx or 429, a stream cut short:
  `FetchUnavailable`, a ConnectionError, i.e. an infrastructure failure: the
  partition pauses and the event is retried without limit; nothing is written.
- a 4xx (the link expired, is spent or was never valid; the file is gone), a
  file other than announced, a URL not on the peer's route for that object:
  `FetchRefused`, the record's own failure: retried a few times, then
  dead-lettered.
Exception messages name no URL (it holds the capability) and no content."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

STREAM_PIECE_BYTES = 256 * 1024


class FetchUnavailable(ConnectionError):
    """The peer could not hand the file over now: try again later."""


class FetchRefused(Exception):
    """This fetch will not succeed as it is: the record needs a person."""


@dataclass(frozen=True)
class Announced:
    """A file as the event announced it: its object id (the last path segment of
    the URL), the capability URL, its size and SHA-256 (hex)."""

    object_id: uuid.UUID
    url: str
    size: int
    sha256: str


@dataclass(frozen=True)
class CapabilityFetcher:
    """Fetches from `base_url` + `route` + object id only; `peer` names the other
    service in exception messages."""

    base_url: str
    route: str  # e.g. "/journal-fetch/": the object id follows it
    peer: str
    timeout_seconds: float = 60.0

    def check_url(self, file: Announced) -> str:
        """The URL, if it is the peer's route for this object; FetchRefused otherwise."""
        base = urlsplit(self.base_url.rstrip("/"))
        url = urlsplit(file.url)
        expected_path = f"{base.path}/{self.route.strip('/')}/{file.object_id}"
        if (url.scheme, url.netloc, url.path) != (base.scheme, base.netloc, expected_path) or url.fragment:
            raise FetchRefused(f"the file's URL is not {self.peer}'s fetch route for it")
        return file.url

    @asynccontextmanager
    async def open(self, file: Announced) -> AsyncIterator[AsyncIterator[bytes]]:
        """The file's bytes as they arrive, checked as they come: more than
        announced raises FetchRefused at once, a wrong SHA-256 at the end (after
        the last piece), so a consumer writing the pieces inside a savepoint
        keeps nothing of a bad file."""
        url = self.check_url(file)
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code >= 500 or response.status_code == 429:
                    raise FetchUnavailable(f"{self.peer} answered {response.status_code}")
                if response.status_code != 200:
                    raise FetchRefused(f"{self.peer} answered {response.status_code}")
                pieces = self._checked(response, file)
                try:
                    yield pieces
                finally:
                    await pieces.aclose()  # a caller that stopped early leaves no generator behind
        except httpx.TransportError as exc:
            raise FetchUnavailable(type(exc).__name__) from exc

    async def _checked(self, response: httpx.Response, file: Announced) -> AsyncGenerator[bytes, None]:
        digest = hashlib.sha256()
        size = 0
        async for piece in response.aiter_bytes(STREAM_PIECE_BYTES):
            size += len(piece)
            if size > file.size:
                raise FetchRefused("the file is larger than announced")
            digest.update(piece)
            yield piece
        if size != file.size:
            raise FetchUnavailable("the file ended short of its announced size")
        if digest.hexdigest() != file.sha256:
            raise FetchRefused("the file's SHA-256 is not the announced one")

    async def fetch(self, file: Announced) -> bytes:
        """The file's bytes, exactly as announced (size, SHA-256), in memory."""
        content = bytearray()
        async with self.open(file) as pieces:
            async for piece in pieces:
                content += piece
        return bytes(content)
