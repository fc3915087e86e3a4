"""Requests and responses of providers and units."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from shared.contracts.provider import ProviderKind
from shared.fields import Trimmed
from shared.personnummer import luhn_checksum_digit

Name = Annotated[str, Trimmed(200, min_length=1)]
Sub = Annotated[str, Trimmed(200, min_length=1)]
# What a token's `units` claim carries: no spaces, nothing to escape in a URL path.
UnitCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
]


def _organisation_number(value: str) -> str:
    """Ten digits with a valid check digit; written with or without the hyphen."""
    digits = value.replace("-", "")
    if luhn_checksum_digit(digits[:9]) != int(digits[9]):
        raise ValueError("the organisation number's check digit is wrong")
    return digits


# The pattern is in the schema; the check digit can only be checked after it.
OrganisationNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}-?[0-9]{4}$"),
    AfterValidator(_organisation_number),
]


class ManagerForm(BaseModel):
    """The provider's first manager, as the staff IdP knows them."""

    model_config = ConfigDict(extra="forbid")

    sub: Sub
    name: Name


class ProviderForm(BaseModel):
    """Register a provider (admin)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    organisation_number: OrganisationNumber
    kind: ProviderKind
    manager: ManagerForm


class UnitForm(BaseModel):
    """Add a unit to a provider (admin)."""

    model_config = ConfigDict(extra="forbid")

    code: UnitCode
    name: Name


class UnitOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    created_at: datetime


class ProviderOut(BaseModel):
    id: uuid.UUID
    name: str
    organisation_number: str
    kind: ProviderKind
    created_at: datetime
    units: list[UnitOut]
