from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from shared.fields import Trimmed

RecipientKind = Literal["citizen", "staff", "group"]


class RecipientSearch(BaseModel):
    """Find recipients: citizens with the message function on (Till klient), staff and
    group mailboxes (Till); `kind` narrows the search to one of them."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Trimmed(200, min_length=2)]
    kind: RecipientKind | None = None


class RecipientOut(BaseModel):
    """A recipient to choose: a citizen's `id` is their person id (for `to_client`),
    a staff member's or group's is their mailbox id (for `to`)."""

    kind: RecipientKind
    id: uuid.UUID
    # A citizen always with the personnummer after the name (MS-2).
    label: str
    unit: str | None = None
