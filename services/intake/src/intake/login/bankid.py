"""The BankID Relying Party API v6 over mutual TLS: `auth`, `collect`,
`cancel`. BankID's errors become problem details: 409 for an order already in
progress, 422 for parameters BankID refuses, 503 for everything that is
BankID's or the connection's fault (never a 500)."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from intake.login.backends import BackendName, CollectResult, CompletedUser, Order
from shared.problems import Conflict, InvalidInput, Unavailable

log = logging.getLogger(__name__)


class _Wire(BaseModel):
    # BankID's JSON is camelCase; unknown fields are new in some later version.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


_W = TypeVar("_W", bound=_Wire)


class AuthResponse(_Wire):
    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str


class User(_Wire):
    personal_number: str
    name: str
    given_name: str
    surname: str


class Device(_Wire):
    ip_address: str
    uhi: str | None = None


class CompletionData(_Wire):
    user: User
    device: Device | None = None
    bank_id_issue_date: str | None = None
    signature: str
    ocsp_response: str
    risk: str | None = None


class CollectResponse(_Wire):
    order_ref: str
    status: Literal["pending", "failed", "complete"]
    hint_code: str | None = None
    completion_data: CompletionData | None = None

    @model_validator(mode="after")
    def _complete_has_data(self) -> CollectResponse:
        if self.status == "complete" and self.completion_data is None:
            raise ValueError("a complete order carries completionData")
        return self


class BankIdClient:
    """An `EidBackend` that talks to BankID (or its test environment)."""

    name: BackendName = "bankid"

    def __init__(
        self, base_url: str, cert_file: Path, key_file: Path, ca_file: Path, timeout: float = 10.0
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        # Trust only the CA that issued BankID's server certificate, and show
        # BankID our RP certificate: both ends are authenticated.
        self._ssl = ssl.create_default_context(cafile=str(ca_file))
        self._ssl.load_cert_chain(str(cert_file), str(key_file))

    async def auth(self, end_user_ip: str) -> Order:
        """Start an authentication order (POST /auth)."""
        answer = self._parse(AuthResponse, await self._call("auth", {"endUserIp": end_user_ip}))
        return Order(
            order_ref=answer.order_ref,
            auto_start_token=answer.auto_start_token,
            qr_start_token=answer.qr_start_token,
            qr_start_secret=answer.qr_start_secret,
        )

    async def collect(self, order_ref: str) -> CollectResult:
        """The order's state (POST /collect)."""
        answer = self._parse(CollectResponse, await self._call("collect", {"orderRef": order_ref}))
        user = None
        device_ip = None
        if answer.completion_data is not None:
            u = answer.completion_data.user
            user = CompletedUser(
                personal_number=u.personal_number, name=u.name, given_name=u.given_name, surname=u.surname
            )
            if answer.completion_data.device is not None:
                device_ip = answer.completion_data.device.ip_address
        return CollectResult(status=answer.status, hint_code=answer.hint_code, user=user, device_ip=device_ip)

    async def cancel(self, order_ref: str) -> None:
        """Cancel a pending order (POST /cancel)."""
        await self._call("cancel", {"orderRef": order_ref})

    async def _call(self, method: str, body: dict[str, str]) -> dict[str, Any]:
        # A client per call: the SSL context (certificates) is loaded once, and
        # nothing outlives the request that would need closing at shutdown.
        try:
            async with httpx.AsyncClient(verify=self._ssl, timeout=self._timeout) as client:
                response = await client.post(f"{self._base_url}/{method}", json=body)
        except httpx.HTTPError as exc:
            log.warning("BankID %s failed: %s", method, type(exc).__name__)
            raise Unavailable("BankID cannot be reached just now; try again shortly.") from exc
        if response.status_code == 200:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                raise Unavailable("BankID gave an answer that cannot be read.")
            return payload
        raise _error(method, response)

    @staticmethod
    def _parse(model: type[_W], payload: dict[str, Any]) -> _W:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            # Only the locations: the payload may hold a personal number.
            log.warning(
                "BankID answer not understood at %s", [".".join(map(str, e["loc"])) for e in exc.errors()]
            )
            raise Unavailable("BankID gave an answer that cannot be read.") from None


def _error(method: str, response: httpx.Response) -> Exception:
    """The problem for a BankID error answer (RP API v6 `errorCode`)."""
    try:
        code = str(response.json().get("errorCode", "")) or None
    except (ValueError, AttributeError):
        code = None
    if response.status_code == 400 and code == "alreadyInProgress":
        return Conflict(
            "A BankID login is already in progress for this person: finish or cancel it, then try again.",
            bankid_error=code,
        )
    if response.status_code == 400 and code == "invalidParameters":
        return InvalidInput(
            "BankID refused the request's parameters (the order may have ended).", bankid_error=code
        )
    # Everything else (unauthorized, notFound, requestTimeout, internalError,
    # maintenance, ...) is not the user's to fix: say BankID is unavailable.
    log.warning("BankID %s answered %s %s", method, response.status_code, code or "")
    return Unavailable(
        "BankID is unavailable just now; try again shortly.",
        bankid_error=code or f"http{response.status_code}",
    )
