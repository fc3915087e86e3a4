"""Overload and unavailable dependencies at the HTTP edge (issue 11): above
capacity a request is answered 503 with Retry-After at once and never reaches
the app; a database that is away or out of connections answers 503 with
Retry-After, quickly, with nothing saved; SIGTERM drains requests in flight.

The load-shedding tests drive tests/library/overload_app.py under a real
uvicorn process over real sockets; the database tests drive an app with the
shared edge against the real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import Infrastructure
from shared.db import Session, make_engine, make_sessionmaker
from shared.problems import PROBLEM_JSON, install_problem_handlers
from shared.service_app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    port: int


def _start_server(**limits: str) -> Server:
    port = _free_port()
    env = {**os.environ, **{f"OVERLOAD_{name.upper()}": value for name, value in limits.items()}}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(HERE),
            "overload_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return Server(process, url, port)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the overload test app did not start")
        time.sleep(0.1)


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**limits: str) -> Server:
        server = _start_server(**limits)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=10)


def _metric(metrics: str, name: str) -> float:
    """The sum of a metric's samples (all label values) in a Prometheus text page."""
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(metrics))


@dataclass
class Timed:
    status: int
    seconds: float
    headers: httpx.Headers
    body: Any


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Timed:
    started = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    elapsed = time.perf_counter() - started
    body = response.json() if response.headers.get("content-type", "").endswith("json") else None
    return Timed(response.status_code, elapsed, response.headers, body)


def _assert_busy_problem(answer: Timed, retry_after: str = "1") -> None:
    assert answer.status == 503
    assert answer.headers["retry-after"] == retry_after
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.body["status"] == 503 and answer.body["title"] == "Service unavailable"
    assert answer.body["type"] == "about:blank" and "Try again" in answer.body["detail"]


# --- load shedding ------------------------------------------------------------


async def test_above_capacity_requests_are_refused_at_once_and_health_is_never_refused(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()  # the service defaults: 100 in flight, 100 waiting 0.25 s
    # 200 concurrent 2-second requests from a client process of its own.
    burst = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "overload_client.py"),
        str(server.port),
        "200",
        "/slow?seconds=2",
        stdout=asyncio.subprocess.PIPE,
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await asyncio.sleep(1.5)  # connected, sent; 100 running, the others refused by now
        probes = [await _timed(client, "GET", path) for path in ("/health/live", "/metrics") * 3]
        during = (await client.get("/metrics")).text
        output, _ = await burst.communicate()
        metrics = (await client.get("/metrics")).text
    answers = [json.loads(line) for line in output.decode().splitlines()]

    served = [a for a in answers if a["status"] == 200]
    refused = [a for a in answers if a["status"] != 200]
    assert len(served) == 100 and len(refused) == 100
    for answer in refused:
        assert answer["status"] == 503 and answer["headers"]["retry-after"] == "1"
        assert answer["headers"]["content-type"] == PROBLEM_JSON
        problem = json.loads(answer["body"])
        assert problem["status"] == 503 and problem["title"] == "Service unavailable"
        assert problem["type"] == "about:blank" and "Try again" in problem["detail"]
    worst_refusal = max(a["seconds"] for a in refused)
    assert worst_refusal < 1.0, f"a refused request waited {worst_refusal:.2f} s"
    assert all(a["seconds"] >= 2 for a in served)
    assert all(p.status == 200 for p in probes), "health and metrics are never refused"
    assert max(p.seconds for p in probes) < 0.5
    assert _metric(during, "omsorg_http_requests_in_flight") == 100, "the probes ran at capacity"
    # A refused request never reached the endpoint; every one is counted.
    assert _metric(metrics, "overload_test_reached_total") == 100
    assert _metric(metrics, "omsorg_http_requests_shed_total") == 100
    assert _metric(metrics, "omsorg_http_requests_in_flight") == 0
    fastest = min(a["seconds"] for a in refused)
    print(f"\nrefused {len(refused)}: fastest {fastest * 1000:.0f} ms, slowest {worst_refusal * 1000:.0f} ms")


async def test_a_request_waits_briefly_for_a_slot_and_beyond_the_line_is_refused_at_once(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(max_in_flight="1", max_queued="1", wait_seconds="1.0")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        first = asyncio.create_task(_timed(client, "GET", "/slow?seconds=0.3"))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(_timed(client, "GET", "/slow?seconds=0"))
        await asyncio.sleep(0.05)
        third = await _timed(client, "GET", "/slow?seconds=0")
        answers = [await first, await second]
        metrics = (await client.get("/metrics")).text

    assert [a.status for a in answers] == [200, 200], "the one in line got the slot when it freed"
    _assert_busy_problem(third)
    assert third.seconds < 0.15, "a full line refuses at once"
    assert _metric(metrics, "overload_test_reached_total") == 2


async def _http_exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, dict[str, str], bytes]:
    """One request and its response on an open connection (Content-Length bodies only)."""
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


def _post(size: int) -> bytes:
    head = f"POST /things HTTP/1.1\r\nhost: test\r\ncontent-length: {size}\r\n\r\n".encode()
    return head + b"x" * size


async def test_a_refused_request_leaves_its_connection_usable_for_the_retry(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(max_in_flight="1", wait_seconds="0")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        busy = asyncio.create_task(client.get("/slow?seconds=0.5"))
        await asyncio.sleep(0.15)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            status, headers, _ = await _http_exchange(reader, writer, _post(200_000))
            assert status == 503 and headers["retry-after"] == "1"
            assert headers.get("connection") != "close"
            assert (await busy).status_code == 200
            # The retry on the same connection: the refused body was dropped, not
            # taken for the next request.
            status, _, body = await _http_exchange(reader, writer, _post(10))
            assert status == 200 and body == b'{"size":10}'
        finally:
            writer.close()


async def test_sigterm_drains_requests_in_flight_and_takes_no_new_ones(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
    status, _, _ = await _http_exchange(
        idle_reader, idle_writer, b"GET /health/live HTTP/1.1\r\nhost: t\r\n\r\n"
    )
    assert status == 200  # a kept-alive connection, idle now
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        in_flight = asyncio.create_task(client.get("/slow?seconds=1.5"))
        await asyncio.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        # The idle connection is closed cleanly (end of stream, no request lost on it) ...
        assert await asyncio.wait_for(idle_reader.read(), 5) == b""
        idle_writer.close()
        # ... no new connection is taken ...
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", server.port)
        # ... and the request in flight completes, told that its connection closes.
        response = await in_flight
    assert response.status_code == 200 and response.headers["connection"] == "close"
    # uvicorn finishes its shutdown, then re-raises the signal it caught.
    assert await asyncio.to_thread(server.process.wait, 10) in (0, -signal.SIGTERM)


async def test_every_service_sheds_load_as_its_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMSORG_ENVIRONMENT", "test")
    settings = ServiceSettings(
        database_url="postgresql+asyncpg://u@127.0.0.1:1/none",
        max_requests_in_flight=1,
        admission_wait_seconds=0,
        overload_retry_after_seconds=3,
    )
    router = APIRouter()
    release = asyncio.Event()

    @router.get("/busy")
    async def busy() -> dict[str, bool]:
        await release.wait()
        return {"done": True}

    app = create_service_app(
        ServiceSpec(
            name="intake",
            title="intake",
            description="intake",
            settings=settings,
            service_dir=HERE.parents[1] / "services" / "intake",
            routers=[router],
        )
    )
    async with _client(app) as client:
        held = asyncio.create_task(client.get("/busy"))
        await asyncio.sleep(0.1)
        refused = await _timed(client, "GET", "/busy")
        live = await client.get("/health/live")
        release.set()
        assert (await held).status_code == 200
    _assert_busy_problem(refused, retry_after="3")
    assert live.status_code == 200


# --- unavailable database -----------------------------------------------------


TABLE = "overload_test_things"


@pytest.fixture(scope="module")
async def table(infrastructure: Infrastructure) -> AsyncIterator[str]:
    engine = make_engine(infrastructure.test_database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (id uuid PRIMARY KEY, step int)"))
    yield TABLE
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    await engine.dispose()


def _db_app(engine: AsyncEngine, observer: AsyncEngine | None = None) -> FastAPI:
    """An app with the shared edge whose endpoint writes two rows in the
    request's transaction; asked to, it has PostgreSQL terminate its connection
    in the middle of a statement between the two (what a shutdown or restart
    does: SQLSTATE 57P01, then 08003)."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.post("/things/{thing_id}", status_code=201)
    async def create(thing_id: uuid.UUID, session: Session, terminate: bool = False) -> dict[str, str]:
        await session.execute(text(f"INSERT INTO {TABLE} VALUES (:id, 1)"), {"id": thing_id})
        if terminate:
            assert observer is not None
            pid = await session.scalar(text("SELECT pg_backend_pid()"))

            async def shut_down_soon() -> None:
                await asyncio.sleep(0.3)
                async with observer.connect() as conn:
                    await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            shutting = asyncio.create_task(shut_down_soon())
            try:
                await session.execute(text("SELECT pg_sleep(5)"))
            finally:
                await shutting
        await session.execute(text(f"INSERT INTO {TABLE} VALUES (:id2, 2)"), {"id2": uuid.uuid4()})
        return {"id": str(thing_id)}

    return app


@asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _rows(url: str, thing_id: uuid.UUID) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(text(f"SELECT count(*) FROM {TABLE} WHERE id = :id"), {"id": thing_id})
            return int(count or 0)
    finally:
        await engine.dispose()


def _assert_unavailable(answer: Timed) -> None:
    _assert_busy_problem(answer, retry_after="2")
    assert "nothing was saved" in answer.body["detail"]
    assert answer.body["correlation_id"] == answer.headers["x-correlation-id"]


async def _post_thing(app: FastAPI, query: str = "") -> tuple[uuid.UUID, Timed]:
    thing_id = uuid.uuid4()
    async with _client(app) as client:
        return thing_id, await _timed(client, "POST", f"/things/{thing_id}{query}")


async def test_a_pool_out_of_connections_answers_503_within_its_timeout(
    infrastructure: Infrastructure, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(infrastructure.test_database_url, pool_size=1, pool_timeout=0.5)
    try:
        # pool_size 1 and as many overflow: two connections, both held elsewhere.
        async with engine.connect() as one, engine.connect() as two:
            await one.execute(text("SELECT 1"))
            await two.execute(text("SELECT 1"))
            thing_id, answer = await _post_thing(_db_app(engine))
        _assert_unavailable(answer)
        assert answer.seconds < 1.5
        assert await _rows(infrastructure.test_database_url, thing_id) == 0
        # Once connections are free again the same request succeeds.
        _, again = await _post_thing(_db_app(engine))
        assert again.status == 201
    finally:
        await engine.dispose()
    assert "dependency unavailable: sqlalchemy.exc.TimeoutError on POST /things/{thing_id}" in caplog.text


async def test_a_database_that_refuses_connections_answers_503_at_once(
    infrastructure: Infrastructure, table: str
) -> None:
    closed = make_url(infrastructure.test_database_url).set(port=_free_port())
    engine = make_engine(closed.render_as_string(hide_password=False), pool_size=1)
    try:
        _, answer = await _post_thing(_db_app(engine))
    finally:
        await engine.dispose()
    _assert_unavailable(answer)
    assert answer.seconds < 1.0


async def test_a_connection_the_server_shuts_down_mid_request_answers_503_and_saves_nothing(
    infrastructure: Infrastructure, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(infrastructure.test_database_url, pool_size=1)
    observer = make_engine(infrastructure.test_database_url, pool_size=1)
    try:
        thing_id, answer = await _post_thing(_db_app(engine, observer), "?terminate=true")
    finally:
        await engine.dispose()
        await observer.dispose()
    _assert_unavailable(answer)
    assert answer.seconds < 2, "answered when the connection died, not after the statement's 5 s"
    assert await _rows(infrastructure.test_database_url, thing_id) == 0, "the first insert is rolled back"
    # The log names types only: no statement, no values.
    assert str(thing_id) not in caplog.text and "INSERT" not in caplog.text
    assert "dependency unavailable:" in caplog.text and "AdminShutdownError" in caplog.text


async def test_a_bug_is_still_a_500_not_a_503(infrastructure: Infrastructure, table: str) -> None:
    engine = make_engine(infrastructure.test_database_url, pool_size=1)
    app = _db_app(engine)

    @app.get("/broken")
    async def broken() -> None:
        raise KeyError("a bug")

    try:
        async with _client(app) as client:
            response = await client.get("/broken")
    finally:
        await engine.dispose()
    assert response.status_code == 500 and "retry-after" not in response.headers
