from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from casework.models import SmsPhone
from shared.contact import EmailAddress, PhoneNumber
from shared.contracts.casework import AlertRecipients
from shared.fields import Trimmed, no_null_defaults

Name = Annotated[str, Trimmed(200, min_length=1)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: Annotated[str, Trimmed(200, min_length=1)]
    # Exactly as the pattern says: ASCII digits (`\d` is any script's digit in pydantic's engine).
    postal_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{3} ?[0-9]{2}$")]
    city: Annotated[str, Trimmed(100, min_length=1)]


class Markers(BaseModel):
    protected_identity: bool = Field(description="skyddad folkbokföring")
    confidentiality_marking: bool = Field(description="sekretessmarkering")
    secret_phone: bool = Field(description="hemligt telefonnummer")
    interpreter_needed: bool = Field(description="tolkbehov")


class EServiceOut(BaseModel):
    """What is active: the banner of the person record."""

    messages_enabled: bool
    sms_alerts: bool
    sms_phone: SmsPhone | None
    email_alerts: bool
    alert_recipients: AlertRecipients


class PersonOut(BaseModel):
    """The person record (personbild)."""

    id: uuid.UUID
    name: str
    personnummer: str
    kundnummer: str
    # Withheld (null), like municipality and county, for persons with protected
    # identity unless the reader has the permission.
    address: Address | None
    registered_address: Address | None
    address_withheld: bool
    municipality: str | None
    county: str | None
    phone1: str | None
    phone2: str | None
    phone3: str | None
    email: str | None
    markers: Markers
    e_service: EServiceOut
    updated_at: datetime


class PersonSummary(BaseModel):
    id: uuid.UUID
    name: str
    personnummer: str
    kundnummer: str


class PersonUpdate(BaseModel):
    """Fields to change; a field left out stays, an explicit null clears it (but for
    the name and the markers, which cannot be cleared)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)

    name: Name | SkipJsonSchema[None] = None
    address: Address | None = None
    registered_address: Address | None = None
    municipality: Annotated[str, Trimmed(100)] | None = None
    county: Annotated[str, Trimmed(100)] | None = None
    phone1: PhoneNumber | None = None
    phone2: PhoneNumber | None = None
    phone3: PhoneNumber | None = None
    email: EmailAddress | None = None
    protected_identity: bool | SkipJsonSchema[None] = None
    confidentiality_marking: bool | SkipJsonSchema[None] = None
    secret_phone: bool | SkipJsonSchema[None] = None
    interpreter_needed: bool | SkipJsonSchema[None] = None


class EServiceUpdate(BaseModel):
    """Activate the e-service (CW-5): message function, SMS alerts to phone 1 or 2,
    e-mail alerts, and who is alerted (citizen, related persons, or both)."""

    model_config = ConfigDict(extra="forbid")

    messages_enabled: bool
    sms_alerts: bool = False
    sms_phone: SmsPhone | None = None
    email_alerts: bool = False
    alert_email: EmailAddress | None = Field(default=None, description="sets the person's e-mail")
    alert_recipients: AlertRecipients = "citizen"


class PersonSearch(BaseModel):
    """Search by name, personnummer or customer number (CW-14)."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Trimmed(200, min_length=2)]
