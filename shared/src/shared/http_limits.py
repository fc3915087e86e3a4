"""Request body limits at the edge (413 problem details).

A pure ASGI middleware, on purpose not Starlette's BaseHTTPMiddleware: it must
see the declared Content-Length before the app runs (so an oversized upload is
refused before the app runs), and it must count the bytes of a body streamed
without Content-Length as the app reads them, neither of which
BaseHTTPMiddleware lets it do without buffering the body.

A client that is still sending when the 413 goes out gets a reset connection
instead of the answer, so before the answer completes the rest of a refused
body is read and dropped, up to DRAIN_MAX_BYTES and DRAIN_MAX_SECONDS (what
web servers call a lingering close). A body declared larger than that is
answered at once, and the connection closed.

Each service has one default (`<SERVICE>_MAX_BODY_BYTES`, 1 MiB), and routes
that need more (attachments) get their own by path template
(`<SERVICE>_MAX_BODY_BYTES_BY_ROUTE='{"/messages/{message_id}/attachments": 26214400}'`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import anyio
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import problem

MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 1 * MiB
DRAIN_MAX_BYTES = 4 * MiB
DRAIN_MAX_SECONDS = 5.0
TITLE = "Content too large"


def _detail(limit: int) -> str:
    return f"The request body is larger than this endpoint accepts ({limit} bytes); nothing was saved."


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit. A Starlette
    HTTPException on purpose: FastAPI's body reader passes those on unchanged
    (anything else it turns into a 400), and the problem handler answers 413."""

    title = TITLE

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_detail(limit))
        self.limit = limit


class BodySizeLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES, by_route: Mapping[str, int] | None = None
    ) -> None:
        if max_bytes < 0 or any(limit < 0 for limit in (by_route or {}).values()):
            raise ValueError("body size limits must not be negative")
        self.app = app
        self.max_bytes = max_bytes
        self._by_route: list[tuple[re.Pattern[str], int]] = [
            (compile_path(template)[0], limit) for template, limit in (by_route or {}).items()
        ]

    def limit_for(self, scope: Scope) -> int:
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        for pattern, limit in self._by_route:
            if pattern.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            # Answered before the app runs; the body is only drained, never kept.
            # A client waiting for "100 Continue" has sent nothing: answer at once.
            if declared <= DRAIN_MAX_BYTES and not _expects_continue(scope):
                await _drain(receive)
            await _refuse(scope, receive, send, limit)
            return

        received = 0
        body_complete = False
        tripped = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, body_complete, tripped
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_complete = not message.get("more_body", False)
                if received > limit:
                    tripped = True
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                if tripped:
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            elif (
                tripped
                and not body_complete
                and message["type"] == "http.response.body"
                and not message.get("more_body", False)
            ):
                await _drain(receive)
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            # Normally the problem handler answers it; this catches a body read
            # where no handler runs (another middleware).
            if response_started:
                raise
            await _refuse(scope, receive, send, limit)


async def _drain(receive: Receive) -> None:
    """Read and drop the rest of a refused body, within the drain bounds."""
    drained = 0
    with anyio.move_on_after(DRAIN_MAX_SECONDS):
        while drained <= DRAIN_MAX_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return


def _expects_continue(scope: Scope) -> bool:
    return any(
        name == b"expect" and value.lower() == b"100-continue" for name, value in scope.get("headers", ())
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed one; count the bytes anyway
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem(413, TITLE, _detail(limit), scope["path"], max_bytes=limit)
    # The body may be partly unread: close the connection rather than reuse it.
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def install_body_size_limit(
    app: FastAPI, max_bytes: int = DEFAULT_MAX_BODY_BYTES, by_route: Mapping[str, int] | None = None
) -> None:
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes, by_route=dict(by_route or {}))
