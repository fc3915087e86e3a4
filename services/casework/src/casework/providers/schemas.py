"""What a caseworker sees of the providers casework knows."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shared.contracts.provider import ProviderKind

MAX_UNITS = 500  # of one provider, in a response


class ProviderUnitOut(BaseModel):
    code: str = Field(description="The unit's code: what an order names (`unit`)")
    name: str


class ProviderOut(BaseModel):
    """A provider (utförare) and the units it takes orders in."""

    id: uuid.UUID
    name: str
    organisation_number: str
    kind: ProviderKind = Field(description="municipal: the municipality's own; lov: a private LOV company")
    units: list[ProviderUnitOut] = Field(max_length=MAX_UNITS)
