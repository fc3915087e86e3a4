"""Event contracts and their CloudEvents 1.0 envelope in Kafka binary mode.

Every event is a pydantic model with a `ce_type`, the `topic` it travels on and
the aggregate id that is its Kafka key. Headers carry only the envelope
(`ce_id`, `ce_type`, ...): never personal data.

Strict on what we produce, tolerant on what we consume: building a contract
refuses unknown fields (a typo in a producer fails its test), while consumers
validate with `Event.tolerant()`, which ignores fields a newer producer added.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

SPEC_VERSION = "1.0"

# Every contract's ce_type, so a consumer can tell "another consumer's event on
# a shared topic" (ignored quietly) from "a type nobody here knows" (a newer
# producer: logged at warning and counted).
KNOWN_TYPES: set[str] = set()


class EnvelopeError(ValueError):
    """A record's CloudEvents headers are missing or malformed. Its message names
    only the header, never a value, so it may go to logs and dead letters."""


class Event(BaseModel):
    """Base of every event contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ce_type: ClassVar[str]
    topic: ClassVar[str]
    # The field holding the aggregate id, which is the Kafka key: one
    # aggregate's events share a partition and stay in order.
    key_field: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "ce_type" in cls.__dict__:
            KNOWN_TYPES.add(cls.ce_type)

    @classmethod
    @cache
    def tolerant(cls) -> type[Event]:
        """The contract as consumers read it: unknown fields are ignored, so a
        producer may add an optional field without dead-lettering every event.
        A subclass, so `isinstance(event, Contract)` still holds in handlers."""
        config = ConfigDict(**{**cls.model_config, "extra": "ignore"})
        return type(
            cls.__name__,
            (cls,),
            {"model_config": config, "__module__": cls.__module__, "__doc__": cls.__doc__},
        )

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
        """Raises EnvelopeError when a required attribute is missing or malformed."""

        def text(name: str) -> str:
            value = headers.get(name)
            if isinstance(value, bytes):
                try:
                    value = value.decode()
                except UnicodeDecodeError:
                    raise EnvelopeError(f"header {name} is not UTF-8") from None
            if not value:
                raise EnvelopeError(f"missing header {name}")
            return str(value)

        def parsed(name: str, parse: Any) -> Any:
            try:
                return parse(text(name))
            except ValueError:
                raise EnvelopeError(f"malformed header {name}") from None

        if text("ce_specversion") != SPEC_VERSION:
            raise EnvelopeError("unsupported ce_specversion")
        subject = headers.get("ce_subject")
        return cls(
            id=parsed("ce_id", uuid.UUID),
            type=text("ce_type"),
            source=text("ce_source"),
            time=parsed("ce_time", datetime.fromisoformat),
            subject=text("ce_subject") if subject else None,
        )


class ContractRegistry:
    """Maps ce_type to contract class for the consumers of one topic."""

    def __init__(self, *contracts: type[Event]) -> None:
        self._by_type = {c.ce_type: c.tolerant() for c in contracts}

    def get(self, ce_type: str) -> type[Event] | None:
        """The tolerant contract a consumer validates `ce_type` with, if it handles it."""
        return self._by_type.get(ce_type)
