"""A small app with the shared HTTP edge (problem details, load shedding,
metrics, health), run under uvicorn by tests/library/test_overload.py. Its
limits come from the environment, so each test starts the server it needs."""

from __future__ import annotations

import asyncio
import os

from fastapi import FastAPI, Request
from prometheus_client import Counter

from shared.health import install_metrics_middleware
from shared.health import router as health_router
from shared.overload import install_load_shedding
from shared.problems import install_problem_handlers

# How many requests reached an endpoint: a refused one must never count here.
REACHED = Counter("overload_test_reached_total", "Requests that reached the test app's endpoints")

app = FastAPI()
install_problem_handlers(app)
install_load_shedding(
    app,
    max_in_flight=int(os.environ.get("OVERLOAD_MAX_IN_FLIGHT", "100")),
    max_queued=int(os.environ.get("OVERLOAD_MAX_QUEUED", "100")),
    wait_seconds=float(os.environ.get("OVERLOAD_WAIT_SECONDS", "0.25")),
    retry_after_seconds=int(os.environ.get("OVERLOAD_RETRY_AFTER_SECONDS", "1")),
)
install_metrics_middleware(app)
app.include_router(health_router)


@app.get("/slow")
async def slow(seconds: float) -> dict[str, float]:
    """Answers after `seconds`, as a request busy with its database would."""
    REACHED.inc()
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@app.post("/things")
async def things(request: Request) -> dict[str, int]:
    """Reads the whole body."""
    REACHED.inc()
    return {"size": len(await request.body())}
