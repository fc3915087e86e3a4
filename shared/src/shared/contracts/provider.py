"""Events produced by provider.

Topics, keyed by ids (never personal data):
- `provider.providers.v1` (key: the provider id): providers and their units, so
  casework can order from a unit it knows.
- `provider.orders.v1` (key: the order id): executions started and ended, for
  casework (the order's state on the case, the fee basis) and messaging (which
  provider unit has an assignment for which client, MS-3).
- `provider.absences.v1` (key: the order id, so one execution's absences stay in
  order): absences registered and ended, for casework's fee administrators.

Absences carry a `version`, incremented under the absence's row lock: a replayed
older event never undoes a newer one (docs/event-ordering.md).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.casework import DeliveryFile
from shared.events import Event

PROVIDERS_TOPIC = "provider.providers.v1"
ORDERS_TOPIC = "provider.orders.v1"
ABSENCES_TOPIC = "provider.absences.v1"

ProviderKind = Literal["municipal", "lov"]  # the municipality's own units, or a private LOV company
# "Orsak" when an execution ends (avsluta verkställighet).
EndReason = Literal["Avliden", "Flyttat", "Byte av utförare", "Behov upphört", "Egen begäran", "Annat"]
AbsenceReason = Literal["Sjukhusvistelse", "Korttidsvistelse", "Resa", "Anhörig ger stöd", "Annat"]
Version = Annotated[int, Field(ge=1)]


class ProviderRegistered(Event):
    """The municipality registered a provider (utförare), or changed its name."""

    ce_type = "se.omsorg.provider.provider.registered.v1"
    topic = PROVIDERS_TOPIC
    key_field = "provider_id"

    provider_id: uuid.UUID
    name: str = Field(max_length=200)
    organisation_number: str = Field(max_length=12)
    kind: ProviderKind
    registered_at: datetime


class ProviderUnitAdded(Event):
    """A provider has a unit that can take orders; `unit` is the code provider
    tokens carry in their `units` claim."""

    ce_type = "se.omsorg.provider.unit.added.v1"
    topic = PROVIDERS_TOPIC
    key_field = "provider_id"

    provider_id: uuid.UUID
    unit: str = Field(max_length=100)
    name: str = Field(max_length=200)
    added_at: datetime


class ExecutionStarted(Event):
    """The provider confirmed the order with its execution date (verkställighetsdatum,
    PR-3), which may lie ahead and never changes afterwards."""

    ce_type = "se.omsorg.provider.order.execution-started.v1"
    topic = ORDERS_TOPIC
    key_field = "order_id"

    order_id: uuid.UUID
    provider_id: uuid.UUID
    unit: str = Field(max_length=100)
    person_id: uuid.UUID
    execution_date: date
    confirmed_by: str = Field(max_length=200)  # the provider user's sub
    confirmed_at: datetime


class ExecutionEnded(Event):
    """The provider ended the execution (avsluta verkställighet, PR-5)."""

    ce_type = "se.omsorg.provider.order.execution-ended.v1"
    topic = ORDERS_TOPIC
    key_field = "order_id"

    order_id: uuid.UUID
    provider_id: uuid.UUID
    unit: str = Field(max_length=100)
    person_id: uuid.UUID
    end_date: date
    reason: EndReason
    ended_by: str = Field(max_length=200)
    ended_at: datetime


class _Absence(Event):
    absence_id: uuid.UUID
    order_id: uuid.UUID
    provider_id: uuid.UUID
    unit: str = Field(max_length=100)
    person_id: uuid.UUID
    kundnummer: str = Field(max_length=20)  # the fee administrator's key
    reason: AbsenceReason
    planned: bool
    from_date: date
    to_date: date | None  # open while the client is away
    late: bool  # registered after it began (accepted, marked late)
    version: Version


class AbsenceRegistered(_Absence):
    """The provider registered a client's absence (frånvaro, PR-6): casework signals
    the fee administrator. No description travels: it may say why (health)."""

    ce_type = "se.omsorg.provider.absence.registered.v1"
    topic = ABSENCES_TOPIC
    key_field = "order_id"

    registered_at: datetime


class AbsenceEnded(_Absence):
    """The absence got its end date (or a changed one): casework signals the fee
    administrator again."""

    ce_type = "se.omsorg.provider.absence.ended.v1"
    topic = ABSENCES_TOPIC
    key_field = "order_id"

    ended_at: datetime


class ProviderDocumentDeliveryRequested(Event):
    """Provider staff send a document of an assignment (a genomförandeplan, a
    note) as PDF to the citizen's e-service (PR-10): messaging delivers it as a
    message from the staff member's mailbox, the PDF fetched through a capability
    URL on provider (never on Kafka), and answers `EServiceDeliveryDone`. The
    subject and text are personal data: in the JSON value only."""

    ce_type = "se.omsorg.provider.document.e-service-delivery-requested.v1"
    topic = ORDERS_TOPIC
    key_field = "order_id"

    delivery_id: uuid.UUID  # messaging delivers each once
    order_id: uuid.UUID
    provider_id: uuid.UUID
    unit: str = Field(max_length=100)
    person_id: uuid.UUID
    sender_sub: str = Field(max_length=200)  # the provider user: their personal mailbox
    sender_name: str = Field(max_length=200)  # PD (staff)
    message_subject: str = Field(min_length=1, max_length=200)  # PD: the Ämne
    message_text: str = Field(max_length=10_000)  # PD
    file: DeliveryFile
    requested_at: datetime
