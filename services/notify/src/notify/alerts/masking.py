"""Addresses as operations see them: enough to tell two apart, not to use one."""

from __future__ import annotations

_DOT = "•"


def mask_number(number: str) -> str:
    """+46701234512 → +4670•••••12: the country and operator prefix and the last two digits."""
    if len(number) <= 7:
        return _DOT * max(len(number) - 2, 1) + number[-2:]
    return number[:5] + _DOT * (len(number) - 7) + number[-2:]


def mask_email(email: str) -> str:
    """tove@example.se → t•••@example.se: the first letter and the domain."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return _DOT * 3
    return f"{local[0]}{_DOT * 3}@{domain}"


def mask(channel: str, address: str) -> str:
    """The masked address of an alert on `channel`."""
    return mask_number(address) if channel == "sms" else mask_email(address)
