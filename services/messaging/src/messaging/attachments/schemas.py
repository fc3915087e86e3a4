"""What the attachment store answers."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict


class AttachmentOut(BaseModel):
    """An attachment as a message (or its uploader, before it is attached) shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    content_type: str
    size: int  # bytes
    sha256: str  # hex digest of the content
