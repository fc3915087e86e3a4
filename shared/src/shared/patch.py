"""Partial updates (PATCH): a field left out stays, an explicit null clears it,
except for fields that must always have a value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from shared.problems import InvalidInput


def changes(form: BaseModel, not_null: Iterable[str] = ()) -> dict[str, Any]:
    """The fields the caller set; InvalidInput if one of `not_null` is set to null."""
    values = form.model_dump(exclude_unset=True)
    for field in not_null:
        if field in values and values[field] is None:
            raise InvalidInput(f"'{field}' cannot be null.", field=field)
    return values
