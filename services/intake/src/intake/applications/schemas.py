from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake.catalogue.codes import APPLICABLE
from shared.contracts.intake import Entry
from shared.fields import Trimmed

DESCRIPTION_MAX = 10_000
MAX_SERVICES = 20
# Responses are bounded too: the bound is the API's promise to clients (maxItems).
MAX_HISTORY = 1000

ServiceCode = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


def _services_of_the_entry(schema: dict[str, Any]) -> None:
    """What applications.service checks against the catalogue, stated: each
    service is one of the catalogue's, under its own entry point."""
    services = schema["properties"]["services"]
    services["items"] = {"type": "string", "enum": [c for codes in APPLICABLE.values() for c in codes]}
    schema["oneOf"] = [
        {
            "title": entry.upper(),
            "properties": {"entry": {"const": entry}, "services": {"items": {"enum": list(codes)}}},
        }
        for entry, codes in APPLICABLE.items()
    ]


class ApplicationCreate(BaseModel):
    """The application form: entry point, one or more services, and the
    mandatory free text ("Övrig information")."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_services_of_the_entry)

    entry: Entry
    services: list[ServiceCode] = Field(min_length=1, max_length=MAX_SERVICES)
    description: Annotated[str, Trimmed(DESCRIPTION_MAX, min_length=1)]
    # Set when a related person tries to apply for the citizen they represent:
    # refused, because only the person who is to receive the service applies (IN-3).
    acting_for: uuid.UUID | None = Field(default=None, description="approval id; always refused")


class ServiceOut(BaseModel):
    code: str
    name: str
    category: str
    # The service's own status once decided ("Beslut fattat") and when; None before.
    status: str | None = None
    status_at: datetime | None = None


class StatusChangeOut(BaseModel):
    status: str
    at: datetime
    # Set on a step of one service (its decision); None on a step of the whole application.
    service_code: str | None = None
    service_name: str | None = None


class ApplicationOut(BaseModel):
    id: uuid.UUID
    entry: Entry
    services: list[ServiceOut] = Field(max_length=MAX_SERVICES)
    description: str
    status: str
    submitted_at: datetime
    history: list[StatusChangeOut] = Field(max_length=MAX_HISTORY)
