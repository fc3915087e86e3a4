"""Requests and responses of service windows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.fields import Trimmed


class WindowForm(BaseModel):
    """Announce a planned service window: from, to (with their time zone) and what happens."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    starts_at: AwareDatetime = Field(alias="from")
    ends_at: AwareDatetime = Field(alias="to")
    text: Annotated[str, Trimmed(1000, min_length=1)]

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> WindowForm:
        if self.ends_at <= self.starts_at:
            raise ValueError("a service window ends after it starts")
        return self


class WindowOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    starts_at: datetime = Field(serialization_alias="from")
    ends_at: datetime = Field(serialization_alias="to")
    text: str
    current: bool  # under way now
    created_at: datetime
