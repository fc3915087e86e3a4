"""Fixtures of the channel tests: notify's real SMS and e-mail clients against
the running development counterparts (devsms on 8107, devmail on 2525/8106,
started by deploy/omsorg.sh), over the real wire. A missing counterpart fails
the tests, it never skips them. Every test uses its own random number or
address, so tests running side by side never see each other's messages.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from notify.config import Settings

SMS_GATEWAY = "http://127.0.0.1:8107"
MAIL_HTTP = "http://127.0.0.1:8106"
SMTP_PORT = 2525
# The development credentials deploy/omsorg.sh gives the counterparts.
SMS_USER, SMS_PASSWORD = "omsorg", "omsorg-dev-sms"
SMTP_USER, SMTP_PASSWORD = "omsorg", "omsorg-dev-mail"


@pytest.fixture
def number() -> str:
    """A fresh Swedish mobile number in E.164 that no other test uses."""
    return f"+4670{random.randint(0, 9_999_999):07d}"


@pytest.fixture
def address() -> str:
    """A fresh e-mail address that no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}@example.se"


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on (bound and let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(callback: CallbackReceiver) -> SettingsFactory:
    """Notify's settings in the test environment pointed at the counterparts (and the
    delivery reports at this test session's `callback`), with overrides."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": "postgresql+asyncpg://notify@127.0.0.1:55432/notify",  # not used here
            "smtp_host": "127.0.0.1",
            "smtp_port": SMTP_PORT,
            "sms_api_url": f"{SMS_GATEWAY}/a1/sms",
            "sms_username": SMS_USER,
            "sms_password": SMS_PASSWORD,
            "sms_callback_url": callback.url_with("gateway", "kb"),
            **overrides,
        }
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OMSORG_ENVIRONMENT", os.environ.get("OMSORG_ENVIRONMENT") or "test")
            return Settings(**values)

    return make


@pytest.fixture(scope="session")
def counterparts() -> None:
    """Both development counterparts answer, or the tests fail saying what to start."""
    for name, url in (("devsms", SMS_GATEWAY), ("devmail", MAIL_HTTP)):
        try:
            ok = httpx.get(f"{url}/health", timeout=3).status_code == 200
        except httpx.HTTPError:
            ok = False
        if not ok:
            pytest.fail(
                f"{name} does not answer {url}/health: run `deploy/omsorg.sh services-up` (or `make up`).",
                pytrace=False,
            )


@pytest.fixture
async def http(counterparts: None) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@dataclass
class Report:
    """One delivery report as the callback received it."""

    form: dict[str, str]
    query: dict[str, str]
    credentials: tuple[str, str] | None


@dataclass
class CallbackReceiver:
    """A small HTTP server standing in for notify's /sms/delivery-reports: it keeps
    what the gateway posts; the reports about an alert are answered with the
    statuses `answers[alert_id]` in turn, then 200."""

    url: str  # without credentials
    reports: list[Report] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)

    def url_with(self, user: str, password: str) -> str:
        return self.url.replace("http://", f"http://{user}:{password}@", 1)

    def of(self, gateway_id: str) -> list[Report]:
        return [r for r in self.reports if r.form.get("id") == gateway_id]


@pytest.fixture(scope="session")
async def callback() -> AsyncIterator[CallbackReceiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver = CallbackReceiver(f"http://127.0.0.1:{sock.getsockname()[1]}/sms/delivery-reports")

    async def report(request: Request) -> PlainTextResponse:
        header = request.headers.get("authorization", "")
        credentials = None
        if header.lower().startswith("basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            credentials = (user, password)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        receiver.reports.append(Report(form, dict(request.query_params), credentials))
        planned = receiver.answers.get(request.query_params.get("alert_id", ""), [])
        status = planned.pop(0) if planned else 200
        return PlainTextResponse("ok", status_code=status)

    app = Starlette(routes=[Route("/sms/delivery-reports", report, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    sock.listen(64)  # listening now: a report posted before the server runs waits in the backlog
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield receiver
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
def mail_ca(tmp_path_factory: pytest.TempPathFactory, counterparts: None) -> Path:
    """The CA devmail's STARTTLS certificate is signed by, as a file (NOTIFY_SMTP_CA_FILE)."""
    path = tmp_path_factory.mktemp("devmail") / "ca.pem"
    path.write_bytes(httpx.get(f"{MAIL_HTTP}/certificate", timeout=5).content)
    return path
