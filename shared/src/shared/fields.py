"""Request fields whose schema states the whole rule the service applies.

Free text, trimmed (`Trimmed`):
`strip_whitespace` with `min_length` checks the length after trimming, which a
schema's `minLength` (on the text as sent) cannot say: "   " met `minLength: 1`
and was refused. `Trimmed` checks the length as sent against `max_length`, trims,
then checks `min_length`, and states the same rule as a pattern: a text of at
least one (two) characters once trimmed is one with one (two) characters that
are not whitespace. Whitespace is spelled out (Unicode White_Space, what the trim
removes), because `\\s` means a different set in every regex engine.

A field of a partial update that may be left out but not cleared
(`X | SkipJsonSchema[None] = None`, refused as null by `shared.patch.changes`):
the schema offers no null, and `no_null_defaults` drops pydantic's `default: null`
(a default the schema itself refuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_CLASS = r"\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# JSON Schema patterns are searched for, not anchored.
_AT_LEAST = {1: f"[^{_CLASS}]", 2: f"[^{_CLASS}][{_CLASS}]*[^{_CLASS}]"}


def trim(text: str) -> str:
    """The text without leading and trailing whitespace (the set the pattern names)."""
    return text.strip(WHITESPACE)


def at_least_pattern(min_length: int) -> str:
    """The pattern of a text that is at least `min_length` (1 or 2) characters once trimmed."""
    return _AT_LEAST[min_length]


@dataclass(frozen=True)
class Trimmed:
    """`Annotated[str, Trimmed(200, min_length=1)]`: at most 200 characters as sent,
    trimmed, at least 1 then."""

    max_length: int
    min_length: int = 0

    def __post_init__(self) -> None:
        if self.min_length not in (0, *_AT_LEAST):
            raise ValueError(f"no pattern for min_length={self.min_length}")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Length as sent, trim, length once trimmed."""
        return core_schema.chain_schema(
            [
                core_schema.str_schema(max_length=self.max_length),
                core_schema.no_info_plain_validator_function(trim),
                core_schema.str_schema(min_length=self.min_length),
            ]
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """A string of at most max_length characters with the pattern of min_length."""
        stated: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            stated["pattern"] = _AT_LEAST[self.min_length]
        return stated


def no_null_defaults(schema: dict[str, Any]) -> None:
    """json_schema_extra of a model: no `default: null` on a property that cannot be null."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None and not _nullable(prop):
            del prop["default"]


def _nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(_nullable(p) for p in prop.get("anyOf", ()))
