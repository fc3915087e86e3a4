from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from casework.models import RelationType
from shared.contact import EmailAddress, MobileNumber
from shared.fields import Trimmed, no_null_defaults
from shared.personnummer import Personnummer

Name = Annotated[str, Trimmed(200, min_length=1)]
ConsentInfo = Annotated[str, Trimmed(2000)]


def _given(field: str) -> dict[str, Any]:
    return {"required": [field], "properties": {field: {"type": "string"}}}


def _alerts_need_contact(schema: dict[str, Any]) -> None:
    """What RelationCreate's validator checks, stated: SMS alerts need the mobile
    number, e-mail alerts the address. (An end before the start is beyond a schema.)"""
    schema["allOf"] = [
        {"if": {"properties": {flag: {"const": True}}, "required": [flag]}, "then": _given(contact)}
        for flag, contact in (("sms_alerts", "phone"), ("email_alerts", "email"))
    ]


def _approval_rules(schema: dict[str, Any]) -> None:
    """What relations.service.approve checks before anything stored, stated: the
    citizen's consent is registered, and without valid_to (one year on by default)
    valid_from is before year 9999."""
    schema["properties"]["consent_registered"]["const"] = True
    schema["if"] = {"properties": {"valid_to": {"type": "string"}}, "required": ["valid_to"]}
    schema["else"] = {"properties": {"valid_from": {"not": {"pattern": "^9999-"}}}}


class Party(BaseModel):
    personnummer: str
    name: str


class RelationCreate(BaseModel):
    """Register a relation (CW-8), with the related person's own contact data and alert flags."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_alerts_need_contact)

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
    """Edit a relation's period, contact data or alert flags; a field left out stays,
    null clears valid_to, phone or email (the others cannot be cleared)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)

    valid_from: date | SkipJsonSchema[None] = None
    valid_to: date | None = None
    phone: MobileNumber | None = None
    email: EmailAddress | None = None
    sms_alerts: bool | SkipJsonSchema[None] = None
    email_alerts: bool | SkipJsonSchema[None] = None


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

    model_config = ConfigDict(extra="forbid", json_schema_extra=_approval_rules)

    related_personnummer: Personnummer
    related_name: Name
    valid_from: date
    valid_to: date | None = None
    consent_registered: bool = Field(description="the citizen's consent is obtained and registered")
    consent_info: ConsentInfo | None = Field(default=None, description="Övrig information")


class ApprovalUpdate(BaseModel):
    """Edit an approval; a field left out stays, null clears consent_info (the
    others cannot be cleared)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)

    related_name: Name | SkipJsonSchema[None] = None
    valid_from: date | SkipJsonSchema[None] = None
    valid_to: date | SkipJsonSchema[None] = None
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
