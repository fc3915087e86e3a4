from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel


class RepresentationOut(BaseModel):
    """A citizen the logged-in related person is approved to act for."""

    approval_id: uuid.UUID
    citizen_name: str
    valid_from: date
    valid_to: date
    active: bool  # inside the period today and not revoked
