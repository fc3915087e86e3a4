from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, model_validator

from shared.contact import EmailAddress, MobileNumber


class ProfileUpdate(BaseModel):
    """The citizen's own contact details: a field left out stays, null clears it."""

    # The validator's rule, stated: at least one of the two fields.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    mobile: MobileNumber | None = None
    email: EmailAddress | None = None

    @model_validator(mode="after")
    def _something(self) -> ProfileUpdate:
        if not self.model_fields_set:
            raise ValueError("give mobile, email or both")
        return self


class ProfileOut(BaseModel):
    citizen_id: uuid.UUID | None  # the key of this citizen's ContactDetailsChanged events
    name: str
    mobile: str | None
    email: str | None
    updated_at: datetime | None


class ContactOut(BaseModel):
    """A caseworker on one of the citizen's ongoing matters."""

    caseworker_name: str
    unit: str
    since: datetime
