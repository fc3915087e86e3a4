"""Liveness, readiness and Prometheus metrics for every service (OP-2)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.outbox import LAG_QUERY, PARKED_COUNT

log = logging.getLogger(__name__)

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"])
OUTBOX_PENDING = Gauge("omsorg_outbox_pending", "Outbox rows not yet sent (parked ones excluded)")
OUTBOX_OLDEST = Gauge("omsorg_outbox_oldest_pending_seconds", "Age of the oldest unsent outbox row")
OUTBOX_HELD = Gauge("omsorg_outbox_held", "Outbox rows held behind a parked row of their key")
OUTBOX_PARKED_ROWS = Gauge("omsorg_outbox_parked", "Outbox rows parked after a permanent refusal")

router = APIRouter(tags=["operations"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/health/ready", responses={503: {"description": "Not ready"}})
async def ready(request: Request) -> JSONResponse:
    """Database reachable, broker connected, migrations at head, the outbox relay
    moving (its oldest unsent row younger than the stuck limit), every consumer
    running and none of its partitions paused past that limit."""
    state = request.app.state
    stuck_after = getattr(state, "stuck_after_seconds", 60.0)
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            lag = await _observe_lag(conn)
        checks["database"] = "ok"
        checks["migrations"] = "ok" if version == state.migrations_head else "behind"
        relay = state.relay
        if not relay.running:
            checks["outbox"] = "relay stopped"
        elif lag.pending and lag.oldest_seconds > stuck_after:
            checks["outbox"] = f"stuck ({lag.pending} unsent, oldest {int(lag.oldest_seconds)} s)"
        else:
            checks["outbox"] = "ok"
    except Exception as exc:
        checks["database"] = f"down ({type(exc).__name__})"
        checks["migrations"] = checks["outbox"] = "unknown"
    checks["broker"] = "ok" if await state.broker.ping(timeout=2.0) else "down"
    consumer_problems = state.consumer.problems(stuck_after)
    checks["consumers"] = "; ".join(consumer_problems) if consumer_problems else "ok"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


async def _observe_lag(conn: AsyncConnection) -> Any:
    lag = (await conn.execute(LAG_QUERY)).one()
    OUTBOX_PENDING.set(lag.pending)
    OUTBOX_OLDEST.set(float(lag.oldest_seconds))
    OUTBOX_HELD.set(lag.held)
    OUTBOX_PARKED_ROWS.set(await conn.scalar(PARKED_COUNT) or 0)
    return lag


# A service's own gauges read from its database at scrape time: listed in
# `app.state.scrape_hooks` (ServiceSpec.extra_state), each given the connection.
ScrapeHook = Callable[[AsyncConnection], Awaitable[None]]
SCRAPE_HOOKS_STATE = "scrape_hooks"


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics; the outbox lag (and any service's scrape hooks) are read
    from the database at scrape time."""
    hooks: list[ScrapeHook] = list(getattr(request.app.state, SCRAPE_HOOKS_STATE, ()))
    try:
        async with request.app.state.engine.connect() as conn:
            await _observe_lag(conn)
            for hook in hooks:
                try:
                    await hook(conn)
                except Exception:  # one service gauge failing must not hide the others
                    log.warning("scrape hook %s failed", getattr(hook, "__qualname__", hook), exc_info=False)
                    await conn.rollback()
    except Exception:  # the database being away shows in readiness; keep the other metrics
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class _MetricsMiddleware:
    """Counts requests and observes their latency by route template. Pure ASGI (no
    BaseHTTPMiddleware, which adds a task group and a body copy per request): it
    only watches the response's start message for the status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app fails before it answers

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            # The route template, never the concrete path (it may hold ids).
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


def install_metrics_middleware(app: FastAPI) -> None:
    app.add_middleware(_MetricsMiddleware)
