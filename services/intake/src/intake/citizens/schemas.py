from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.contact import EmailAddress, MobileNumber


class ProfileUpdate(BaseModel):
    """The citizen's own contact details; null clears one."""

    model_config = ConfigDict(extra="forbid")

    mobile: MobileNumber | None
    email: EmailAddress | None


class ProfileOut(BaseModel):
    name: str
    mobile: str | None
    email: str | None
    updated_at: datetime | None


class ContactOut(BaseModel):
    """A caseworker on one of the citizen's ongoing matters."""

    caseworker_name: str
    unit: str
    since: datetime
