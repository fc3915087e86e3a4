"""Validated contact details: Swedish mobile numbers and e-mail addresses."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_PHONE_NOISE = re.compile(r"[\s\-()]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def normalize_phone(value: str) -> str:
    """A Swedish number (07x..., +46..., 0046...) in E.164 form; raises ValueError."""
    digits = _PHONE_NOISE.sub("", value)
    if digits.startswith("+46"):
        national = digits[3:]
    elif digits.startswith("0046"):
        national = digits[4:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise ValueError("a Swedish phone number starts with 0, +46 or 0046")
    if not national.isdigit() or not 7 <= len(national) <= 9 or national.startswith("0"):
        raise ValueError("not a valid Swedish phone number")
    return f"+46{national}"


def normalize_mobile(value: str) -> str:
    """A Swedish mobile number (07x...) in E.164 form: only mobiles receive SMS."""
    number = normalize_phone(value)
    if not (number.startswith("+467") and len(number) == 12):
        raise ValueError("not a Swedish mobile number (07x xxx xx xx)")
    return number


def normalize_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


# The length bound comes first, so the normalizers never see a megabyte of input.
PhoneNumber = Annotated[str, StringConstraints(max_length=40), AfterValidator(normalize_phone)]
MobileNumber = Annotated[str, StringConstraints(max_length=40), AfterValidator(normalize_mobile)]
EmailAddress = Annotated[str, StringConstraints(max_length=320), AfterValidator(normalize_email)]
