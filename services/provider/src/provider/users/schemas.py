"""Requests and responses of provider users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from shared.fields import Trimmed

Name = Annotated[str, Trimmed(200, min_length=1)]
Sub = Annotated[str, Trimmed(200, min_length=1)]


class UserForm(BaseModel):
    """Add a user to the provider: who the staff IdP says they are (its `sub`)."""

    model_config = ConfigDict(extra="forbid")

    sub: Sub
    name: Name
    manager: bool = False  # may administer the provider's users (role provider_manager)


class ProviderUserOut(BaseModel):
    sub: str
    name: str
    manager: bool
    active: bool
    created_at: datetime
    changed_at: datetime
    deactivated_at: datetime | None
