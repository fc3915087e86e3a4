from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from casework.models import RelationType
from shared.contact import EmailAddress, MobileNumber
from shared.personnummer import Personnummer

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ConsentInfo = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Party(BaseModel):
    personnummer: str
    name: str


class RelationCreate(BaseModel):
    """Register a relation (CW-8), with the related person's own contact data and alert flags."""

    model_config = ConfigDict(extra="forbid")

    relation_type: RelationType
    related_personnummer: Personnummer
    related_name: Name
    valid_from: date
    valid_to: date | None = None
    phone: MobileNumber | None = None
    email: EmailAddress | None = None
    sms_alerts: bool = False
    email_alerts: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> RelationCreate:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        if self.sms_alerts and not self.phone:
            raise ValueError("SMS alerts need the related person's mobile number")
        if self.email_alerts and not self.email:
            raise ValueError("e-mail alerts need the related person's e-mail address")
        return self


class RelationUpdate(BaseModel):
    """Edit a relation's period, contact data or alert flags; a field left out stays."""

    model_config = ConfigDict(extra="forbid")

    valid_from: date | None = None
    valid_to: date | None = None
    phone: MobileNumber | None = None
    email: EmailAddress | None = None
    sms_alerts: bool | None = None
    email_alerts: bool | None = None


class RelationOut(BaseModel):
    id: uuid.UUID
    relation_type: RelationType
    related: Party
    valid_from: date
    valid_to: date | None
    phone: str | None
    email: str | None
    sms_alerts: bool
    email_alerts: bool


class ApprovalCreate(BaseModel):
    """Approve a related person (Godkänna närstående, CW-7). The citizen is the
    person of the URL; `valid_to` defaults to one year after `valid_from`."""

    model_config = ConfigDict(extra="forbid")

    related_personnummer: Personnummer
    related_name: Name
    valid_from: date
    valid_to: date | None = None
    consent_registered: bool = Field(description="the citizen's consent is obtained and registered")
    consent_info: ConsentInfo | None = Field(default=None, description="Övrig information")


class ApprovalUpdate(BaseModel):
    """Edit an approval; a field left out stays."""

    model_config = ConfigDict(extra="forbid")

    related_name: Name | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    consent_info: ConsentInfo | None = None


class ApprovalOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    citizen: Party
    related: Party
    valid_from: date
    valid_to: date
    consent_info: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
