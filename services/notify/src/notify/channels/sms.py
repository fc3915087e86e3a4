"""SMS through an HTTP SMS gateway speaking 46elks' API (https://46elks.se/docs/send-sms):
a form-encoded `POST /a1/sms` with HTTP Basic auth, answered with JSON holding the
message's id; the gateway later posts delivery reports to `whendelivered`.

The answers map to the channel outcomes (notify.channels): 200 with an id is
Accepted; a timeout, a refused connection, 429 or 5xx is temporary; a 4xx
naming the request (400 "Invalid to number") is permanent. 401/402/403 are
temporary on purpose: they say our account or credentials are wrong, which an
operator fixes, and the alert should still go out after that rather than be
given up for every recipient at once.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from notify.channels import Accepted, PermanentFailure, SendOutcome, TemporaryFailure
from notify.config import Settings

log = logging.getLogger(__name__)

# Statuses that say nothing about the message itself: retry after an operator or the gateway recovers.
_TEMPORARY_STATUSES = frozenset({401, 402, 403, 408, 429})
# A gateway's error text may echo the request; anything that looks like a number is masked.
_DIGITS = re.compile(r"\+?\d[\d \-]{4,}\d")
_REASON_LIMIT = 200


def _safe_excerpt(body: str, to: str, text: str) -> str:
    """The gateway's own words, without the number or the text (reasons are for operators)."""
    excerpt = body.strip().replace("\n", " ")[:_REASON_LIMIT]
    for secret in (to, text):
        if secret:
            excerpt = excerpt.replace(secret, "…")
    return _DIGITS.sub("…", excerpt)


def _with_reference(callback_url: str, reference: str) -> str:
    """The delivery-report URL naming the alert too: a report can be matched even without the gateway's id."""
    parts = urlsplit(callback_url)
    extra = urlencode({"alert_id": reference})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


class SmsClient:
    """The SMS gateway's client: one per process (it pools connections), closed with `aclose()`."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.sms_api_url
        self._sender = settings.sms_sender
        self._callback_url = settings.sms_callback_url_with_credentials()
        self._client = httpx.AsyncClient(
            auth=httpx.BasicAuth(settings.sms_username, settings.sms_password.get_secret_value()),
            timeout=httpx.Timeout(settings.sms_timeout_seconds),
            # As many connections as the sender sends at once, so none waits for a free one.
            limits=httpx.Limits(max_connections=settings.sender_concurrency),
        )

    async def aclose(self) -> None:
        """Close the pooled connections (at shutdown)."""
        await self._client.aclose()

    async def send_sms(self, to: str, text: str, reference: str) -> SendOutcome:
        """Hand one SMS to the gateway; the outcome says whether to wait for its report, retry or stop."""
        form = {
            "from": self._sender,
            "to": to,
            "message": text,
            "whendelivered": _with_reference(self._callback_url, reference),
        }
        try:
            response = await self._client.post(self._url, data=form)
        except httpx.TimeoutException:
            return TemporaryFailure("the SMS gateway did not answer in time")
        except httpx.TransportError as error:
            return TemporaryFailure(f"the SMS gateway could not be reached ({type(error).__name__})")
        return self._outcome(response, to, text, reference)

    def _outcome(self, response: httpx.Response, to: str, text: str, reference: str) -> SendOutcome:
        status = response.status_code
        if status == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            message_id = body.get("id") if isinstance(body, dict) else None
            if not isinstance(message_id, str) or not message_id:
                # Accepted or not is unknown; a retry may send twice, which beats sending never.
                return TemporaryFailure("the SMS gateway answered 200 without a message id")
            log.debug("alert %s: SMS accepted by the gateway as %s", reference, message_id)
            return Accepted(message_id)
        said = _safe_excerpt(response.text, to, text)
        if status >= 500 or status in _TEMPORARY_STATUSES:
            if status in (401, 403):
                return TemporaryFailure(f"the SMS gateway refused our credentials (HTTP {status}): {said}")
            return TemporaryFailure(f"the SMS gateway answered HTTP {status}: {said}")
        return PermanentFailure(f"the SMS gateway refused the SMS (HTTP {status}): {said}")
