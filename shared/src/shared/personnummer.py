"""Swedish personal identity number (personnummer) and coordination number
(samordningsnummer) as one value type.

Canonical form is 12 digits, YYYYMMDDNNNC. Input may be 10 or 12 digits with or
without the separator; a 10-digit number takes its century from the separator
('-' under 100 years old, '+' 100 or older). The value never shows itself in
repr() or logs: personal data stays out of logs.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# ASCII digits only: \d alone also takes other scripts' digits, which int() reads.
_PATTERN = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$", re.ASCII)
# For the OpenAPI documents. A pattern could give the shape but not the valid date
# or the check digit, and generators fill a pattern before a format: the format
# names the whole rule (tests/conformance/hooks.py generates it).
JSON_SCHEMA: dict[str, str | int] = {
    "type": "string",
    "format": "personnummer",
    "minLength": 10,
    "maxLength": 13,
    "description": "Personnummer or samordningsnummer: YYYYMMDDNNNC or YYMMDDNNNC, '-' (or '+' at 100 "
    "or older) before the last four digits allowed; a valid date not in the future; Luhn check digit.",
}
_COORDINATION_DAY_OFFSET = 60


class InvalidPersonnummer(ValueError):
    """The text is not a valid personnummer or samordningsnummer."""


def luhn_checksum_digit(nine_digits: str) -> int:
    total = 0
    for i, ch in enumerate(nine_digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


class Personnummer(str):
    """A validated personnummer in its 12-digit canonical form."""

    __slots__ = ()

    def __new__(cls, value: str, *, today: date | None = None) -> Personnummer:
        return super().__new__(cls, _canonical(value, today or date.today()))

    @property
    def is_coordination_number(self) -> bool:
        return int(self[6:8]) > _COORDINATION_DAY_OFFSET

    @property
    def birth_date(self) -> date:
        day = int(self[6:8])
        if day > _COORDINATION_DAY_OFFSET:
            day -= _COORDINATION_DAY_OFFSET
        return date(int(self[0:4]), int(self[4:6]), day)

    def masked(self) -> str:
        """Birth date only, for places that must not show the whole number."""
        return f"{self[:8]}-****"

    def __repr__(self) -> str:
        return "Personnummer(***)"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Personnummer:
            if isinstance(value, Personnummer):
                return value
            if not isinstance(value, str):
                raise PydanticCustomError("personnummer_type", "personnummer must be a string")
            try:
                return cls(value)
            except InvalidPersonnummer as exc:
                # The message names the rule that failed, never the value.
                raise PydanticCustomError("personnummer", str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
            json_schema_input_schema=core_schema.str_schema(),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(JSON_SCHEMA)


def _canonical(value: str, today: date) -> str:
    text = value.strip() if isinstance(value, str) else ""
    match = _PATTERN.match(text)
    if not match:
        raise InvalidPersonnummer("personnummer must be 10 or 12 digits (YYYYMMDD-NNNN)")
    century, yy, mm, dd, separator, serial, check = match.groups()
    if century is None:
        # 10 digits: the latest year with these two digits not in the future,
        # or a hundred years earlier when the '+' separator says 100 or older.
        year = today.year - (today.year - int(yy)) % 100
        if separator == "+":
            year -= 100
        century = str(year // 100)
    elif separator == "+":
        raise InvalidPersonnummer("the '+' separator is only used with 10 digits")
    day = int(dd)
    if day > _COORDINATION_DAY_OFFSET:
        day -= _COORDINATION_DAY_OFFSET
    try:
        born = date(int(century + yy), int(mm), day)
    except ValueError:
        raise InvalidPersonnummer("personnummer has an invalid date") from None
    if born > today:
        raise InvalidPersonnummer("personnummer has a date in the future")
    if luhn_checksum_digit(yy + mm + dd + serial) != int(check):
        raise InvalidPersonnummer("personnummer has an invalid check digit")
    return f"{century}{yy}{mm}{dd}{serial}{check}"


PersonnummerField = Annotated[Personnummer, "personnummer"]
