"""Event contracts and their CloudEvents 1.0 envelope in Kafka binary mode.

Every event is a pydantic model with a `ce_type`, the `topic` it travels on and
the aggregate id that is its Kafka key. Headers carry only the envelope
(`ce_id`, `ce_type`, ...): never personal data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

SPEC_VERSION = "1.0"


class Event(BaseModel):
    """Base of every event contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ce_type: ClassVar[str]
    topic: ClassVar[str]
    # The field holding the aggregate id, which is the Kafka key: one
    # aggregate's events share a partition and stay in order.
    key_field: ClassVar[str]

    def key(self) -> str:
        return str(getattr(self, self.key_field))

    def subject(self) -> str | None:
        return None


@dataclass(frozen=True)
class Envelope:
    """The CloudEvents attributes of one event."""

    id: uuid.UUID
    type: str
    source: str
    time: datetime
    subject: str | None = None

    @classmethod
    def new(cls, event: Event, source: str) -> Envelope:
        return cls(uuid.uuid4(), event.ce_type, source, datetime.now(UTC), event.subject())

    def headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.id),
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.time.isoformat(),
            "content-type": "application/json",
        }
        if self.subject:
            headers["ce_subject"] = self.subject
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, Any]) -> Envelope:
        """Raises ValueError when a required attribute is missing or malformed."""

        def text(name: str) -> str:
            value = headers.get(name)
            if isinstance(value, bytes):
                value = value.decode()
            if not value:
                raise ValueError(f"missing header {name}")
            return str(value)

        if text("ce_specversion") != SPEC_VERSION:
            raise ValueError("unsupported ce_specversion")
        subject = headers.get("ce_subject")
        return cls(
            id=uuid.UUID(text("ce_id")),
            type=text("ce_type"),
            source=text("ce_source"),
            time=datetime.fromisoformat(text("ce_time")),
            subject=subject.decode() if isinstance(subject, bytes) else subject,
        )


class ContractRegistry:
    """Maps ce_type to contract class for the consumers of one topic."""

    def __init__(self, *contracts: type[Event]) -> None:
        self._by_type = {c.ce_type: c for c in contracts}

    def get(self, ce_type: str) -> type[Event] | None:
        return self._by_type.get(ce_type)
