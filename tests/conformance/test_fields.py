"""Each service's `fields` module (free text trimmed, fields that cannot be
cleared): the pattern the OpenAPI document states admits exactly what the field
accepts, and the copies in the services are one and the same module."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.fields import WHITESPACE, Trimmed, at_least_pattern, no_null_defaults


class _Form(BaseModel):
    one: Annotated[str, Trimmed(10, min_length=1)] | None = None
    two: Annotated[str, Trimmed(10, min_length=2)] | None = None


def _accepts(name: str, text: str) -> bool:
    try:
        _Form.model_validate({name: text})
    except ValidationError:
        return False
    return True


# Whitespace of every kind the trim removes, a few it does not (BOM, U+001C), letters.
_TEXT = st.text(alphabet=WHITESPACE + "\ufeff\x1cab.", max_size=10)


@settings(max_examples=300, deadline=None, database=None)
@given(_TEXT)
def test_what_the_pattern_admits_is_accepted_and_nothing_else(text: str) -> None:
    for name, least in (("one", 1), ("two", 2)):
        assert _accepts(name, text) == bool(re.search(at_least_pattern(least), text)), (name, text)


def test_the_length_bound_is_on_the_text_as_sent() -> None:
    assert not _accepts("one", " " + "a" * 10)  # 11 as sent, 10 once trimmed: over, as maxLength says
    assert _Form(one="  a b  ").one == "a b"


@pytest.mark.parametrize("least", [3, -1])
def test_no_pattern_is_made_up_for_other_lengths(least: int) -> None:
    with pytest.raises(ValueError):
        Trimmed(10, min_length=least)


def test_a_field_that_cannot_be_cleared_offers_no_null() -> None:
    schema = {
        "properties": {
            "a": {"type": "string", "default": None},
            "b": {"anyOf": [{"type": "null"}], "default": None},
        }
    }
    no_null_defaults(schema)
    assert schema == {
        "properties": {"a": {"type": "string"}, "b": {"anyOf": [{"type": "null"}], "default": None}}
    }
