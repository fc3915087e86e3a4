"""DEVELOPMENT SMS gateway — never for production (docs/notify-local.md).

Speaks 46elks' API (https://46elks.se/docs/send-sms) on 127.0.0.1:8107:

    POST /a1/sms   form: from, to, message, whendelivered (optional); HTTP Basic
                   → 200 {"id": "s…", "status": "created", ...}, 400 "Invalid to number", 401

and then posts the delivery reports to `whendelivered` (form: id, status=sent;
then id, status=delivered|failed, delivered=<UTC time>), with the Basic
credentials the URL carries as userinfo, retrying a callback that fails.
It keeps the last 10 000 SMS and can be told how to answer:

    GET    /messages?to=<number>      what arrived (id, to, from, message, dlr, ...)
    DELETE /messages
    POST   /control                   {"mode": "ok" | "fail" | "refuse" | "delay", "delay_seconds": n}
    POST   /control/numbers/{number}  {"send": "ok" | "fail" | "refuse",
                                       "dlr": "delivered" | "failed" | "none", "delay_seconds": n}
    GET    /health

fail answers 503, refuse 400, delay waits before answering. The global mode is
for outage drills; tests set rules per number (a unique number each).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import secrets
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from notify.config import DEV_SMS_GATEWAY_PORT, DEV_SMS_PASSWORD
from notify.local import run
from shared.problems import install_problem_handlers

log = logging.getLogger("notify.local.sms_gateway")

KEEP = 10_000  # SMS kept; the oldest go first
E164 = re.compile(r"\+[1-9]\d{6,14}")
SENDER = re.compile(r"[A-Za-z][A-Za-z0-9]{1,10}|\+[1-9]\d{6,14}")  # 46elks: 2-11 alphanumerics, or a number
# GSM 03.38's basic set (Swedish letters included): a message of these fits 160 per SMS, else 70.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
Mode = Literal["ok", "fail", "refuse", "delay"]
Send = Literal["ok", "fail", "refuse"]
Report = Literal["delivered", "failed", "none"]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEVSMS_", extra="ignore")

    port: int = DEV_SMS_GATEWAY_PORT
    # The API account notify uses (NOTIFY_SMS_USERNAME / NOTIFY_SMS_PASSWORD).
    username: str = "omsorg"
    password: str = DEV_SMS_PASSWORD
    # Between accepting an SMS and its first report, and between the two reports.
    report_delay_seconds: float = 0.1
    callback_attempts: int = 5


class ReceivedSms(BaseModel):
    id: str
    to: str
    sender: str = Field(serialization_alias="from")
    message: str
    parts: int
    received_at: datetime
    dlr: Literal["pending", "sent", "delivered", "failed", "none"] = "pending"
    # The HTTP status of each delivery-report post (0: no answer), to see notify's side.
    callback_answers: list[int] = Field(default_factory=list)


class ControlMode(BaseModel):
    mode: Mode
    delay_seconds: float = Field(default=0.0, ge=0, le=600)


class NumberRule(BaseModel):
    send: Send = "ok"
    dlr: Report = "delivered"
    delay_seconds: float = Field(default=0.0, ge=0, le=600)


_DEFAULT_RULE = NumberRule()


def _parts(message: str) -> int:
    single, multi = (160, 153) if set(message) <= GSM7 else (70, 67)
    return 1 if len(message) <= single else -(-len(message) // multi)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _callback_target(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """The URL without its userinfo, and that userinfo as Basic credentials (as 46elks does)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), auth


class Gateway:
    """What the gateway keeps, how it answers, and its delivery reports in flight."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.messages: deque[ReceivedSms] = deque(maxlen=KEEP)
        self.mode = ControlMode(mode="ok")
        self.rules: dict[str, NumberRule] = {}
        self.client = httpx.AsyncClient(timeout=5.0)
        self._reports: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        for task in list(self._reports):
            task.cancel()
        await asyncio.gather(*self._reports, return_exceptions=True)
        await self.client.aclose()

    def authorised(self, header: str | None) -> bool:
        given = _basic_credentials(header)
        if given is None:
            return False
        user_ok = secrets.compare_digest(given[0].encode(), self.settings.username.encode())
        password_ok = secrets.compare_digest(given[1].encode(), self.settings.password.encode())
        return user_ok and password_ok

    def report_later(self, sms: ReceivedSms, callback: str, outcome: Report) -> None:
        task = asyncio.create_task(self._report(sms, callback, outcome))
        self._reports.add(task)  # held, so the task is not collected mid-way
        task.add_done_callback(self._reports.discard)

    async def _report(self, sms: ReceivedSms, callback: str, outcome: Report) -> None:
        await asyncio.sleep(self.settings.report_delay_seconds)
        if await self._post(sms, callback, {"id": sms.id, "status": "sent"}):
            sms.dlr = "sent"
        if outcome == "none":  # the operator's network never reports: the alert stays accepted
            sms.dlr = "none"
            return
        await asyncio.sleep(self.settings.report_delay_seconds)
        form = {"id": sms.id, "status": outcome}
        if outcome == "delivered":
            form["delivered"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        await self._post(sms, callback, form)
        sms.dlr = outcome

    async def _post(self, sms: ReceivedSms, callback: str, form: dict[str, str]) -> bool:
        url, auth = _callback_target(callback)
        for attempt in range(self.settings.callback_attempts):
            try:
                response = await self.client.post(url, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
                sms.callback_answers.append(response.status_code)
                if response.is_success:
                    return True
            except httpx.HTTPError:
                sms.callback_answers.append(0)
            await asyncio.sleep(0.2 * 2**attempt)
        log.warning("sms %s: delivery report %s not taken by the callback", sms.id, form["status"])
        return False


def build(settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway's HTTP API (46elks' /a1/sms, plus what tests and people read and control)."""
    settings = settings or GatewaySettings()
    gateway = Gateway(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await gateway.aclose()

    app = FastAPI(
        title="Omsorg DEVELOPMENT SMS gateway",
        description="Development only: speaks 46elks' SMS API and keeps what notify sends.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)

    @app.post("/a1/sms", response_model=None)
    async def send_sms(request: Request) -> Response:
        """46elks' send-SMS call: form-encoded, Basic auth; answers as 46elks does."""
        if not gateway.authorised(request.headers.get("authorization")):
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"www-authenticate": 'Basic realm="API"'}
            )
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
        for key in ("from", "to", "message"):
            if not form.get(key):
                return PlainTextResponse(f"Missing key {key}", status_code=400)
        to, text = form["to"], form["message"]
        if not E164.fullmatch(to):
            return PlainTextResponse("Invalid to number", status_code=400)
        if not SENDER.fullmatch(form["from"]):
            return PlainTextResponse("Invalid from field", status_code=400)
        rule = gateway.rules.get(to, _DEFAULT_RULE)
        delay = max(rule.delay_seconds, gateway.mode.delay_seconds if gateway.mode.mode == "delay" else 0)
        if delay:
            await asyncio.sleep(delay)
        if gateway.mode.mode == "fail" or rule.send == "fail":
            return PlainTextResponse("Service unavailable (development gateway)", status_code=503)
        if gateway.mode.mode == "refuse" or rule.send == "refuse":
            return PlainTextResponse("Refused (development gateway)", status_code=400)
        sms = ReceivedSms(
            id=f"s{uuid.uuid4().hex}",
            to=to,
            sender=form["from"],
            message=text,
            parts=_parts(text),
            received_at=datetime.now(UTC),
        )
        gateway.messages.append(sms)
        log.info("sms %s accepted", sms.id)  # not the number: the log is no inbox
        if form.get("whendelivered"):
            gateway.report_later(sms, form["whendelivered"], rule.dlr)
        else:
            sms.dlr = "none"
        body = {
            "status": "created",
            "direction": "outgoing",
            "from": sms.sender,
            "to": sms.to,
            "message": sms.message,
            "created": sms.received_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "parts": sms.parts,
            "cost": 3500 * sms.parts,  # 46elks counts in 10 000ths of the currency
            "id": sms.id,
        }
        return JSONResponse(body)

    @app.get("/messages")
    async def messages(to: str | None = None) -> list[dict[str, object]]:
        """The SMS received, oldest first; `to` keeps those to one number."""
        kept = [m for m in gateway.messages if to is None or m.to == to]
        return [m.model_dump(mode="json", by_alias=True) for m in kept]

    @app.delete("/messages", status_code=204)
    async def forget() -> Response:
        """Forget every SMS received."""
        gateway.messages.clear()
        return Response(status_code=204)

    @app.post("/control")
    async def control(body: ControlMode) -> ControlMode:
        """How every send is answered (outage drills): ok, fail (503), refuse (400), delay."""
        gateway.mode = body
        log.info("mode %s", body.mode)
        return body

    @app.post("/control/numbers/{number}")
    async def control_number(number: str, body: NumberRule) -> NumberRule:
        """How sends to one number are answered and reported (the default forgets the rule)."""
        gateway.rules.pop(number, None)
        if body != _DEFAULT_RULE:
            gateway.rules[number] = body
            while len(gateway.rules) > KEEP:  # bounded, as the messages are
                gateway.rules.pop(next(iter(gateway.rules)))
        return body

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Answers while the gateway runs, whatever its mode."""
        return {"status": "ok", "mode": gateway.mode.mode}

    return app


def main() -> None:
    """Start the development SMS gateway (refuses production)."""
    settings = GatewaySettings()
    run("The development SMS gateway", lambda: build(settings), settings.port)


if __name__ == "__main__":
    main()
