"""The seam between the login and an e-ID provider: BankID now, Freja eID
later. A backend starts an order, reports on it, and cancels it; the shapes
follow the BankID Relying Party API v6."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

CollectStatus = Literal["pending", "failed", "complete"]
BackendName = Literal["simulator", "bankid"]


@dataclass(frozen=True)
class Order:
    """A started order (BankID `auth` response)."""

    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str = field(repr=False)


@dataclass(frozen=True)
class CompletedUser:
    """Who logged in (BankID `completionData.user`); never shown in repr or logs."""

    personal_number: str = field(repr=False)
    name: str = field(repr=False)
    given_name: str = field(repr=False)
    surname: str = field(repr=False)


@dataclass(frozen=True)
class CollectResult:
    """The state of an order (BankID `collect` response)."""

    status: CollectStatus
    hint_code: str | None = None
    user: CompletedUser | None = None
    # The completing device's address (completionData.device.ipAddress); personal data.
    device_ip: str | None = field(default=None, repr=False)


class EidBackend(Protocol):
    """An e-ID provider's order API. Errors are `shared.problems` errors:
    Conflict (409), InvalidInput (422) or Unavailable (503)."""

    name: BackendName

    async def auth(self, end_user_ip: str) -> Order:
        """Start an authentication order for the user at `end_user_ip`."""

    async def collect(self, order_ref: str) -> CollectResult:
        """The order's state now."""

    async def cancel(self, order_ref: str) -> None:
        """Cancel a pending order."""
