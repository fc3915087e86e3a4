"""The two ways an alert leaves notify: SMS through an HTTP SMS gateway
(46elks' API) and e-mail through an SMTP relay. Each client answers every send
with one of three outcomes, and never raises for a refusal the remote side
states: the sender decides from the outcome whether to retry, stop or fall back.

- `Accepted`: the gateway or relay took the alert (`provider_id`: the gateway's
  message id, which its delivery reports name; the relay's queue id or None).
- `TemporaryFailure`: worth trying again later (timeout, connection refused,
  HTTP 5xx/429, SMTP 4xx).
- `PermanentFailure`: trying again cannot help (an invalid number, HTTP 4xx
  other than 429, SMTP 5xx: a hard bounce). The reason is for operators: it
  never holds the alert's text or the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Channel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class Accepted:
    provider_id: str | None


@dataclass(frozen=True, slots=True)
class TemporaryFailure:
    reason: str


@dataclass(frozen=True, slots=True)
class PermanentFailure:
    reason: str


SendOutcome = Accepted | TemporaryFailure | PermanentFailure


class SmsSender(Protocol):
    async def send_sms(self, to: str, text: str, reference: str) -> SendOutcome:
        """Send `text` to the E.164 number `to`; `reference` (the alert's id) lets a
        delivery report be matched even if the gateway's id were lost."""


class EmailSender(Protocol):
    async def send_email(self, to: str, subject: str, text: str, reference: str) -> SendOutcome:
        """Send a plain-text e-mail; `reference` (the alert's id) goes into the Message-ID."""
