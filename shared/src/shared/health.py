"""Liveness, readiness and Prometheus metrics for every service (OP-2)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"])

router = APIRouter(tags=["operations"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/health/ready", responses={503: {"description": "Not ready"}})
async def ready(request: Request) -> JSONResponse:
    """Database reachable, broker connected, migrations at head."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if version == state.migrations_head else "behind"
    except Exception as exc:
        checks["database"] = f"down ({type(exc).__name__})"
        checks["migrations"] = "unknown"
    checks["broker"] = "ok" if await state.broker.ping(timeout=2.0) else "down"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def install_metrics_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                       ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # The route template, never the concrete path (it may hold ids).
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response
