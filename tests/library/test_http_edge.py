"""The HTTP edge in the library: body limits (413 problem details), bounded
schemas, PDFs rendered off the event loop, and error logs without input values."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from shared.contracts.intake import ApplicationDocument
from shared.http_limits import install_body_size_limit
from shared.pdf import PdfDocument, render_off_loop, render_pdf
from shared.problems import install_problem_handlers

SCHEMA_MODULES = [
    "intake.applications.schemas",
    "intake.citizens.schemas",
    "intake.representations.schemas",
    "intake.login.schemas",
    "intake.catalogue.schemas",
    "casework.e_applications.schemas",
    "casework.intake_records.schemas",
    "casework.persons.schemas",
    "casework.relations.schemas",
]
BOUNDED_FORMATS = {"uuid", "date", "date-time", "ipvanyaddress"}


# --- bodies -----------------------------------------------------------------


def _echo_app(max_bytes: int = 100, by_route: dict[str, int] | None = None) -> tuple[FastAPI, list[Any]]:
    app = FastAPI()
    install_problem_handlers(app)
    install_body_size_limit(app, max_bytes, by_route)
    reached: list[Any] = []
    router = APIRouter()

    @router.post("/things")
    async def things(body: dict[str, Any]) -> dict[str, Any]:
        reached.append(body)
        return body

    @router.post("/uploads/{upload_id}")
    async def upload(upload_id: str, request: Request) -> dict[str, int]:
        data = await request.body()
        reached.append(len(data))
        return {"size": len(data)}

    app.include_router(router)
    return app, reached


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    app, reached = _echo_app(max_bytes=100)
    async with await _client(app) as client:
        response = await client.post(
            "/things", content=json.dumps({"x": "a" * 200}), headers={"content-type": "application/json"}
        )
        small = await client.post("/things", json={"x": "a"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Content too large" and response.json()["max_bytes"] == 100
    assert small.status_code == 200 and reached == [{"x": "a"}]


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit() -> None:
    app, reached = _echo_app(max_bytes=100)

    async def chunks() -> Any:
        yield b'{"x": "'
        for _ in range(10):
            yield b"a" * 50
        yield b'"}'

    async with await _client(app) as client:
        response = await client.post(
            "/things", content=chunks(), headers={"content-type": "application/json"}
        )
        raw = await client.post("/uploads/u1", content=chunks())
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Content too large"
    assert raw.status_code == 413
    assert reached == []


async def test_a_route_can_accept_more_than_the_service_default() -> None:
    app, reached = _echo_app(max_bytes=100, by_route={"/uploads/{upload_id}": 1000})
    async with await _client(app) as client:
        bigger = await client.post("/uploads/u1", content=b"z" * 900)
        too_big = await client.post("/uploads/u1", content=b"z" * 1001)
        elsewhere = await client.post(
            "/things", content=b"{}" + b" " * 200, headers={"content-type": "application/json"}
        )
    assert bigger.status_code == 200 and bigger.json() == {"size": 900}
    assert too_big.status_code == 413 and elsewhere.status_code == 413
    assert reached == [900]


# --- bounded schemas ----------------------------------------------------------


def _models() -> list[type[BaseModel]]:
    models = []
    for name in SCHEMA_MODULES:
        module = importlib.import_module(name)
        models += [
            m
            for _, m in inspect.getmembers(module, inspect.isclass)
            if issubclass(m, BaseModel) and m.__module__ == name
        ]
    return models


def _unbounded_quantifier(pattern: str) -> bool:
    without_classes = re.sub(r"\[[^\]]*\]", "", pattern.replace("\\\\", ""))
    return bool(re.search(r"(?<!\\)[+*]|\{\d*,\}", without_classes))


def _walk(
    schema: Any, path: str, defs: dict[str, Any], request: bool, found: list[str], seen: set[str]
) -> None:
    if isinstance(schema, list):
        for item in schema:
            _walk(item, path, defs, request, found, seen)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _walk(defs[name], name, defs, request, found, seen)
        return
    if schema.get("type") == "array" and "maxItems" not in schema:
        found.append(f"{path}: list without max_length")
    if (
        request
        and schema.get("type") == "string"
        and "maxLength" not in schema
        and "enum" not in schema
        and "const" not in schema
        and schema.get("format") not in BOUNDED_FORMATS
        and not ("pattern" in schema and not _unbounded_quantifier(schema["pattern"]))
    ):
        found.append(f"{path}: string without max_length")
    for key, value in schema.items():
        if key == "properties":
            for prop, sub in value.items():
                _walk(sub, f"{path}.{prop}", defs, request, found, seen)
        elif key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties", "prefixItems"):
            _walk(value, path, defs, request, found, seen)


def test_every_list_in_every_http_schema_is_bounded_and_every_request_string_too() -> None:
    found: list[str] = []
    for model in _models():
        request = model.model_config.get("extra") == "forbid"  # our request bodies forbid extras
        schema = model.model_json_schema(mode="validation" if request else "serialization")
        _walk(schema, model.__name__, schema.get("$defs", {}), request, found, set())
    assert not found, "\n".join(sorted(set(found)))


# --- PDFs off the event loop ----------------------------------------------------

# Short lines: what made the renderer slow (one paragraph of thousands of <br/>).
SLOW_TEXT = "a\n" * 4999 + "a"


def _document(description: str = SLOW_TEXT) -> PdfDocument:
    """The e-application's layout (the contract's), with a description to render."""
    return ApplicationDocument(
        application_id="00000000-0000-0000-0000-000000000001",
        entry="sol",
        applicant_name="Tolvan Tolvansson",
        applicant_pnr="191212121212",
        services=["Hemtjänst"] * 20,
        description=description,
        submitted_at=datetime.now(UTC),
    ).layout(ZoneInfo("Europe/Stockholm"))


def test_a_text_of_many_short_lines_renders_in_linear_time() -> None:
    started = time.perf_counter()
    render_pdf(_document("a" + "\n" * 9998 + "a"))
    render_pdf(_document())
    assert time.perf_counter() - started < 5.0  # was over 17 s: quadratic in the lines


async def test_rendering_off_the_loop_keeps_the_loop_responsive() -> None:
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    pdfs = await asyncio.gather(*(render_off_loop(_document()) for _ in range(4)))
    done.set()
    await tick
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert max(lags) < 0.3, f"the loop stalled {max(lags):.2f}s while PDFs rendered"


# --- error logs without input values ----------------------------------------------
# The HTTP half of issue 12 point 13; the journeys (tests/journeys/test_error_path_logs.py)
# run the same against a real server and database.

PNR = "191212121212"


def test_describe_names_types_and_fields_but_never_values() -> None:
    from fastapi.exceptions import ResponseValidationError

    from shared.problems import describe

    error = ResponseValidationError(
        [
            {
                "type": "string_too_long",
                "loc": ("response", "personnummer"),
                "msg": f"too long {PNR}",
                "input": PNR,
            }
        ]
    )
    try:
        try:
            raise KeyError(PNR)
        except KeyError as inner:
            raise RuntimeError(f"failed for {PNR}") from inner
    except RuntimeError as outer:
        chained = describe(outer)
    assert PNR not in describe(error) and "response.personnummer (string_too_long)" in describe(error)
    assert chained == "RuntimeError <- KeyError"


def test_the_server_error_filter_keeps_frames_and_drops_the_message(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    install_problem_handlers(app)
    logger = logging.getLogger("uvicorn.error")
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        try:
            raise ValueError(f"bad value {PNR}")
        except ValueError as exc:
            logger.error("Exception in ASGI application\n", exc_info=exc)
    assert "ValueError" in caplog.text and "test_http_edge.py" in caplog.text
    assert PNR not in caplog.text
