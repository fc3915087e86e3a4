"""Load shedding at the HTTP edge: above capacity a request is answered at once
with 503 and `Retry-After`, instead of waiting in an ever longer queue.

Without a bound, a burst beyond what a process can serve piles up in the event
loop and in the connection pool's queue: every request gets slow, the pool's
checkouts time out, and clients wait for minutes only to fail. Here each
process admits at most `max_in_flight` requests at a time. A request beyond
that waits in line for a slot for at most `wait_seconds` (a burst that lasts a
moment is smoothed, not refused), and at most `max_queued` requests wait; any
other is answered 503 problem details with `Retry-After` before the app sees
it, so a refused request has done nothing and its client may simply retry.

A pure ASGI middleware (no BaseHTTPMiddleware, which runs every request in a
task group of its own): an admitted request costs a counter increment and
decrement. Health checks and `/metrics` are never counted nor refused: an
overloaded process is alive, and its metrics are how one sees it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.problems import problem

log = logging.getLogger(__name__)

DEFAULT_MAX_IN_FLIGHT = 100
DEFAULT_MAX_QUEUED = 100
DEFAULT_WAIT_SECONDS = 0.25
DEFAULT_RETRY_AFTER_SECONDS = 1
# Never counted nor refused: liveness and readiness probes, and the metrics scrape.
EXEMPT_PREFIXES = ("/health/",)
EXEMPT_PATHS = frozenset({"/metrics"})
# Busy logs at most this often: under overload a line per refusal would add to it.
LOG_EVERY_SECONDS = 10.0

SHED = Counter(
    "omsorg_http_requests_shed_total",
    "HTTP requests refused with 503 before reaching the app, because the process was at capacity",
    ["reason"],
)
_SHED_QUEUE_FULL = SHED.labels("queue_full")
_SHED_WAITED = SHED.labels("waited_too_long")
IN_FLIGHT = Gauge("omsorg_http_requests_in_flight", "HTTP requests admitted and not yet answered")
QUEUED = Gauge("omsorg_http_requests_queued", "HTTP requests waiting for a slot")

TITLE = "Service unavailable"


class LoadShedder:
    """Admits at most `max_in_flight` requests at once per process (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_queued: int = DEFAULT_MAX_QUEUED,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS,
    ) -> None:
        if max_in_flight < 1 or max_queued < 0 or wait_seconds < 0 or retry_after_seconds < 0:
            raise ValueError("load shedding needs max_in_flight >= 1 and no negative bound")
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.wait_seconds = wait_seconds
        self.retry_after_seconds = retry_after_seconds
        self.in_flight = 0
        # Futures of the requests waiting for a slot, oldest first. A slot freed is
        # handed to the oldest (result True); its timer gives up with False.
        self._waiters: collections.deque[asyncio.Future[bool]] = collections.deque()
        self._last_logged = 0.0
        # Read at scrape time: nothing per request.
        IN_FLIGHT.set_function(lambda: self.in_flight)
        QUEUED.set_function(lambda: len(self._waiters))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):  # mounted under a prefix
            path = path[len(root_path) :]
        if path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        # The fast path: a free slot and nobody ahead in line.
        if self.in_flight < self.max_in_flight and not self._waiters:
            self.in_flight += 1
        elif not await self._wait_for_slot():
            await self._refuse(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._release()

    async def _wait_for_slot(self) -> bool:
        """Wait in line for a slot; True once one is handed over, False when refused."""
        if len(self._waiters) >= self.max_queued or self.wait_seconds == 0:
            _SHED_QUEUE_FULL.inc()
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        # A timer that answers False, rather than a cancellation: whichever of the
        # timer and a freed slot comes first decides, and a slot handed over can
        # never be lost to a timeout that fires a moment later.
        timer = loop.call_later(self.wait_seconds, self._give_up, waiter)
        try:
            admitted = await waiter
        except BaseException:
            # Cancelled while waiting (the server's shutdown timeout): give back a
            # slot that was handed over meanwhile, or leave the line.
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._release()
            else:
                waiter.cancel()
                self._leave_line(waiter)
            raise
        finally:
            timer.cancel()
        if not admitted:
            _SHED_WAITED.inc()
        return admitted

    def _give_up(self, waiter: asyncio.Future[bool]) -> None:
        if not waiter.done():
            waiter.set_result(False)
            self._leave_line(waiter)

    def _leave_line(self, waiter: asyncio.Future[bool]) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass  # already handed a slot and taken off the line

    def _release(self) -> None:
        """Hand the finished request's slot to the oldest waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)  # the slot passes on: in_flight stays
                return
        self.in_flight -= 1

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = time.monotonic()
        if now - self._last_logged > LOG_EVERY_SECONDS:
            self._last_logged = now
            # No path: it may hold ids of a person. The counter has the totals.
            log.warning(
                "at capacity (%d requests in flight, %d waiting): refusing requests with 503",
                self.in_flight,
                len(self._waiters),
            )
        seconds = self.retry_after_seconds
        response = problem(
            503,
            TITLE,
            f"The service is busy; the request was not processed. Try again in {seconds} s.",
            scope["path"],
            retry_after=seconds,
        )
        response.headers["retry-after"] = str(seconds)
        # The request body is never read: the server drops what the client still
        # sends and keeps the connection open for the retry.
        await response(scope, receive, send)


def install_load_shedding(
    app: FastAPI,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    max_queued: int = DEFAULT_MAX_QUEUED,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS,
) -> None:
    """Install the load shedder; call it before the metrics middleware, so that
    refusals are counted and timed with the rest."""
    app.add_middleware(
        LoadShedder,
        max_in_flight=max_in_flight,
        max_queued=max_queued,
        wait_seconds=wait_seconds,
        retry_after_seconds=retry_after_seconds,
    )
