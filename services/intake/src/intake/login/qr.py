"""The animated QR code of a BankID order, as BankID documents it: every second
`bankid.<qrStartToken>.<seconds>.<qrAuthCode>`, where qrAuthCode is the hex
HMAC-SHA256 of the seconds (as text) keyed with the order's qrStartSecret."""

from __future__ import annotations

import hashlib
import hmac


def qr_data(qr_start_token: str, qr_start_secret: str, seconds: int) -> str:
    """The QR code's content `seconds` whole seconds after the order started."""
    time = str(seconds)
    auth_code = hmac.new(qr_start_secret.encode(), time.encode(), hashlib.sha256).hexdigest()
    return f"bankid.{qr_start_token}.{time}.{auth_code}"
