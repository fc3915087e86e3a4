"""Validated contact details: Swedish mobile numbers and e-mail addresses."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

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
    # isascii: str.isdigit() also takes superscripts and other scripts' digits.
    if (
        not (national.isascii() and national.isdigit())
        or not 7 <= len(national) <= 9
        or national.startswith("0")
    ):
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


# The same rules as patterns, for the OpenAPI documents: what a client may send
# is what the normalizers accept (spaces, dashes and brackets anywhere).
_N = r"[\s()-]*"
_PREFIX = rf"(?:\+{_N}4{_N}6|0{_N}0{_N}4{_N}6|0)"
PHONE_PATTERN = rf"^{_N}{_PREFIX}{_N}[1-9](?:{_N}[0-9]){{6,8}}{_N}$"
MOBILE_PATTERN = rf"^{_N}{_PREFIX}{_N}7(?:{_N}[0-9]){{8}}{_N}$"
EMAIL_PATTERN = r"^\s*" + _EMAIL.pattern[1:-1] + r"\s*$"


def _documented(pattern: str, max_length: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "maxLength": max_length, "pattern": pattern})


# The length bound comes first, so the normalizers never see a megabyte of input.
PhoneNumber = Annotated[
    str, StringConstraints(max_length=40), AfterValidator(normalize_phone), _documented(PHONE_PATTERN, 40)
]
MobileNumber = Annotated[
    str, StringConstraints(max_length=40), AfterValidator(normalize_mobile), _documented(MOBILE_PATTERN, 40)
]
# 254 characters once stripped: the schema says so, the 320 only bounds the work.
EmailAddress = Annotated[
    str, StringConstraints(max_length=320), AfterValidator(normalize_email), _documented(EMAIL_PATTERN, 254)
]
