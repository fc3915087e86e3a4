"""The SMS gateway's delivery reports (46elks' shape): a form-encoded POST with
HTTP Basic auth, the credentials notify put in the callback URL it handed the
gateway (https://user:pass@host/sms/delivery-reports, as 46elks documents)."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError

from notify.clock import Clock, system_clock
from notify.config import Settings
from notify.sending import service
from notify.sending.metrics import DELIVERY_REPORTS
from notify.sending.schemas import DeliveryReport, DeliveryReportAck
from shared.db import Session
from shared.problems import InvalidInput, NotAuthenticated, problem_responses

log = logging.getLogger(__name__)

router = APIRouter(tags=["sms gateway"])

_FORM = "application/x-www-form-urlencoded"
_MAX_FIELDS = 20


class GatewayNotAuthenticated(NotAuthenticated):
    """The caller is not the SMS gateway: asked for HTTP Basic, not a bearer token."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": 'Basic realm="omsorg delivery reports", charset="UTF-8"'}


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    if not isinstance(settings, Settings):
        raise TypeError("notify's Settings are not on app.state.settings")
    return settings


def _clock(request: Request) -> Clock:
    # Tests set app.state.clock to move time; a running service uses the system clock.
    clock: Clock = getattr(request.app.state, "clock", system_clock)
    return clock


def _basic_credentials(header: str) -> tuple[bytes, bytes] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


async def gateway(request: Request) -> None:
    """Let only the SMS gateway in: HTTP Basic with the callback credentials,
    compared in constant time. Checked before the body is read."""
    settings = _settings(request)
    given = _basic_credentials(request.headers.get("authorization", "")) or (b"", b"")
    # Both compared, always: the time taken says nothing about which part was wrong.
    user_ok = hmac.compare_digest(given[0], settings.callback_username.encode())
    password_ok = hmac.compare_digest(given[1], settings.callback_password.get_secret_value().encode())
    if not (user_ok and password_ok):
        DELIVERY_REPORTS.labels("refused").inc()
        log.warning("a delivery report was refused: missing or wrong gateway credentials")
        raise GatewayNotAuthenticated("Delivery reports are accepted from the SMS gateway only.")


async def _report(request: Request, alert_id: uuid.UUID | None) -> DeliveryReport:
    """The form-encoded body as a DeliveryReport (46elks posts application/x-www-form-urlencoded)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise InvalidInput(f"A delivery report is a form ({_FORM}).")
    try:
        fields = parse_qs((await request.body()).decode(), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("The delivery report's form cannot be read.") from None
    try:
        return DeliveryReport.model_validate(
            {**{name: values[0] for name, values in fields.items()}, "alert_id": alert_id}
        )
    except ValidationError as error:
        # Locations and types only: never the values.
        errors = [{"loc": list(e["loc"]), "type": e["type"]} for e in error.errors()]
        raise InvalidInput("The delivery report does not match 46elks' fields.", errors=errors) from None


def _form_schema() -> dict[str, Any]:
    """The report's form fields for the OpenAPI docs (alert_id comes in the query)."""
    schema = DeliveryReport.model_json_schema()
    schema["properties"].pop("alert_id", None)
    return schema


_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {_FORM: {"schema": _form_schema()}}}
}


@router.post(
    "/sms/delivery-reports",
    responses=problem_responses(GatewayNotAuthenticated, InvalidInput),
    openapi_extra=_OPENAPI_BODY,
)
async def delivery_report(
    _gateway: Annotated[None, Depends(gateway)],
    request: Request,
    session: Session,
    alert_id: Annotated[
        uuid.UUID | None, Query(description="The alert, as notify named it in the URL")
    ] = None,
) -> DeliveryReportAck:
    """A delivery report from the SMS gateway: delivered, failed or sent. Unknown or
    already final alerts are answered 200 and ignored, so the gateway stops sending."""
    report = await _report(request, alert_id)
    outcome = await service.apply_delivery_report(session, report, _settings(request), _clock(request)())
    return DeliveryReportAck(outcome=outcome)
