"""Personal data stays out of the logs on the error path (issue 12, point 13,
the HTTP half). A test app wired like a service (shared.problems' handlers and
middleware, shared.db's request session on real PostgreSQL) runs under a real
uvicorn server, and its routes fail in each way that puts input values into an
exception's message: a response that does not match its model, database errors
whose message or DETAIL quotes the row, and a bug whose message names the
person. The captured logs, uvicorn's own error log included, must not hold the
personnummer; each failure must be logged with its type, route template and a
correlation id."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text

from conftest import Infrastructure, new_personnummer
from shared.db import Session, make_engine, make_sessionmaker
from shared.http_limits import install_body_size_limit
from shared.problems import install_problem_handlers


class Person(BaseModel):
    personnummer: str = Field(max_length=10)  # a 12-digit one fails the response model


def _test_app(database_url: str, pnr: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_body_size_limit(app)
    router = APIRouter()

    @router.get("/persons/{person_id}")
    async def response_does_not_match(person_id: str) -> Person:
        return {"personnummer": pnr}  # type: ignore[return-value]

    @router.post("/persons/{person_id}/db-raise")
    async def raise_in_database(person_id: str, session: Session) -> None:
        await session.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'no such person %', '{pnr}'; END $$"))

    @router.post("/persons/{person_id}/twice")
    async def duplicate(person_id: str, session: Session) -> None:
        await session.execute(text("CREATE TEMP TABLE people (pnr text PRIMARY KEY) ON COMMIT DROP"))
        for _ in range(2):  # the second: DETAIL: Key (pnr)=(<pnr>) already exists.
            await session.execute(text("INSERT INTO people VALUES (:pnr)"), {"pnr": pnr})

    @router.post("/persons/{person_id}/bad-value")
    async def bad_value(person_id: str, session: Session) -> None:
        await session.execute(text("SELECT CAST(:value AS integer)"), {"value": f"{pnr}x"})

    @router.post("/persons/{person_id}/bug")
    async def bug(person_id: str) -> None:
        raise RuntimeError(f"could not find a case for {pnr}")

    app.include_router(router)
    engine = make_engine(database_url, 2)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(infrastructure: Infrastructure) -> AsyncIterator[tuple[str, str]]:
    """(base URL, personnummer) of the test app under uvicorn. log_config=None:
    uvicorn's loggers then reach the root logger, where caplog listens."""
    pnr = new_personnummer()
    app = _test_app(infrastructure.test_database_url, pnr)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the test server did not start"
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}", pnr
    server.should_exit = True
    await task
    await app.state.engine.dispose()


async def test_error_responses_and_logs_hold_no_personnummer(
    served: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    base, pnr = served
    expected = {
        ("GET", "/persons/p1"): (500, "ResponseValidationError", "/persons/{person_id}"),
        ("POST", "/persons/p1/db-raise"): (500, "DBAPIError", "/persons/{person_id}/db-raise"),
        ("POST", "/persons/p1/twice"): (409, "integrity conflict 23505", "/persons/{person_id}/twice"),
        ("POST", "/persons/p1/bad-value"): (422, None, None),
        ("POST", "/persons/p1/bug"): (500, "RuntimeError", "/persons/{person_id}/bug"),
    }
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for (method, path), (status, logged, template) in expected.items():
            response = await client.request(method, path)
            assert response.status_code == status, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert pnr not in response.text
            if status == 500:
                cid = response.json()["correlation_id"]
                assert response.headers["x-correlation-id"] == cid
                [line] = [r.getMessage() for r in caplog.records if cid in r.getMessage()]
                assert logged in line and f"{method} {template} " in line, line
            elif logged:
                assert any(logged in r.getMessage() and template in r.getMessage() for r in caplog.records)
        # A caller's own request id is used as the correlation id.
        traced = await client.get("/persons/p2", headers={"x-request-id": "req-12345678"})
        assert traced.json()["correlation_id"] == "req-12345678"

    assert caplog.records, "nothing was logged: the capture does not work"
    everything = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.exc_info[1] if r.exc_info else ''}" for r in caplog.records
    )
    assert pnr not in everything
    assert pnr[2:] not in everything  # nor its 10-digit form
