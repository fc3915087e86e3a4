"""Events produced by casework.

Topics, each keyed by its aggregate's id (never personal data):
`casework.applications.v1` (key: the e-application id), `casework.cases.v1`
(key: the intake record id), `casework.persons.v1` (key: the person id, so one
person's e-service and approval events stay in order), `casework.journal.v1`
(key: the journaled message's id).

State events carry a `version`: a counter the producer increments under the
aggregate's row lock. Consumers apply an event only when its version is newer
than the one they applied, so a replayed dead letter or a redelivery never sets
older state (docs/event-ordering.md). Timestamps are for people, not ordering:
they come from different hosts' clocks. Events written before versions existed
parse with version 0, which never overrides a versioned state.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Event
from shared.personnummer import Personnummer

APPLICATIONS_TOPIC = "casework.applications.v1"
CASES_TOPIC = "casework.cases.v1"
PERSONS_TOPIC = "casework.persons.v1"
JOURNAL_TOPIC = "casework.journal.v1"

RecordType = Literal["Ansökan SoL", "Begäran LSS", "Förenklad handläggning"]
AlertRecipients = Literal["citizen", "related", "both"]
# At most this many related persons are alerted for one person (casework refuses more).
MAX_RELATED_ALERTS = 20
# The aggregate's version: 0 only in events from before versions were carried.
Version = Annotated[int, Field(ge=0)]


class ApplicationLinked(Event):
    """A caseworker linked an e-application into an intake record (koppla ansökan, CW-2)."""

    ce_type = "se.omsorg.casework.application.linked.v1"
    topic = APPLICATIONS_TOPIC
    key_field = "application_id"

    application_id: uuid.UUID
    record_id: uuid.UUID
    person_id: uuid.UUID
    citizen_pnr: Personnummer
    record_type: RecordType
    status: str  # what the citizen sees now: "Mottagen"
    linked_at: datetime


class CaseworkerAssigned(Event):
    """A caseworker became responsible for an intake record (aktualisering)."""

    ce_type = "se.omsorg.casework.record.caseworker-assigned.v1"
    topic = CASES_TOPIC
    key_field = "record_id"

    record_id: uuid.UUID
    person_id: uuid.UUID
    citizen_pnr: Personnummer
    caseworker_id: str
    caseworker_name: str
    unit: str
    assigned_at: datetime


class _CoCaseworker(Event):
    topic = CASES_TOPIC
    key_field = "record_id"

    record_id: uuid.UUID
    person_id: uuid.UUID
    citizen_pnr: Personnummer
    caseworker_id: str  # the co-caseworker's token sub
    caseworker_name: str
    unit: str  # the record's unit, of which the co-caseworker is a caseworker
    # The record's co-caseworker version: 1 for the record's first addition, +1 on
    # each addition and removal of any of its co-caseworkers, so all of one
    # record's co-caseworker events are ordered. Apply one only when it is newer
    # than the last applied for that record and caseworker: a replayed older
    # addition never brings back a removed co-caseworker. Always set (these
    # events never existed without it).
    version: int = Field(ge=1)


class CoCaseworkerAdded(_CoCaseworker):
    """A caseworker of the record's unit became a co-caseworker (medhandläggare) of
    an intake record: beside its caseworker, they may now message the citizen (MS-3)."""

    ce_type = "se.omsorg.casework.record.co-caseworker-added.v1"

    added_at: datetime


class CoCaseworkerRemoved(_CoCaseworker):
    """A co-caseworker was taken off an intake record: from now on they may no longer
    message the citizen through it."""

    ce_type = "se.omsorg.casework.record.co-caseworker-removed.v1"

    removed_at: datetime


class AlertAddress(BaseModel):
    """Where one related person is alerted (NT-2)."""

    related_pnr: Personnummer
    name: str
    sms_number: str | None
    email: str | None


class EServiceSettingsChanged(Event):
    """A person's e-service settings: message function and where alerts go (CW-5, CW-6)."""

    ce_type = "se.omsorg.casework.person.e-service-settings-changed.v1"
    topic = PERSONS_TOPIC
    key_field = "person_id"

    person_id: uuid.UUID
    pnr: Personnummer
    name: str
    messages_enabled: bool
    sms_number: str | None  # set only when SMS alerts are on
    email: str | None  # set only when e-mail alerts are on
    alert_recipients: AlertRecipients
    related_alerts: list[AlertAddress] = Field(default_factory=list, max_length=MAX_RELATED_ALERTS)
    # Alerts and related persons must never see this person's address.
    protected_identity: bool
    changed_at: datetime
    # The person's e-service settings version: apply only one newer than the last applied.
    version: Version = 0


class _Approval(Event):
    approval_id: uuid.UUID
    person_id: uuid.UUID
    citizen_pnr: Personnummer
    citizen_name: str
    related_pnr: Personnummer
    related_name: str
    valid_from: date
    valid_to: date
    # The approval's version (1 when approved, +1 on each change and on revocation):
    # apply only one newer than the last applied. A revocation is final whatever
    # its version: nothing after it makes the approval valid again.
    version: Version = 0

    # The field naming when this event's fact happened (approved, changed or revoked).
    happened_field: ClassVar[str]

    def happened_at(self) -> datetime:
        moment: datetime = getattr(self, self.happened_field)
        return moment

    def projection_row(self) -> dict[str, object]:
        """The approval's facts as the row a consumer's projection keeps (intake's
        representations, messaging's rights): one mapping for every consumer."""
        return {
            "approval_id": self.approval_id,
            "person_id": self.person_id,
            "citizen_pnr": str(self.citizen_pnr),
            "citizen_name": self.citizen_name,
            "related_pnr": str(self.related_pnr),
            "related_name": self.related_name,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "changed_at": self.happened_at(),
            "version": self.version,
        }


class RelatedPersonApproved(_Approval):
    """A related person may act for the citizen in the e-service from valid_from to valid_to (CW-7)."""

    ce_type = "se.omsorg.casework.person.related-person-approved.v1"
    topic = PERSONS_TOPIC
    key_field = "person_id"

    happened_field = "approved_at"

    approved_at: datetime


class RelatedPersonApprovalChanged(_Approval):
    """An approval's period or details were edited."""

    ce_type = "se.omsorg.casework.person.related-person-approval-changed.v1"
    topic = PERSONS_TOPIC
    key_field = "person_id"

    happened_field = "changed_at"

    changed_at: datetime


class RelatedPersonApprovalRevoked(_Approval):
    """An approval was removed; the related person may no longer act for the citizen.
    It carries the approval's facts, so a consumer that missed the approval still
    records it as revoked."""

    ce_type = "se.omsorg.casework.person.related-person-approval-revoked.v1"
    topic = PERSONS_TOPIC
    key_field = "person_id"

    happened_field = "revoked_at"

    revoked_at: datetime


class MessageJournaled(Event):
    """Casework journaled a message (MessageJournalRequested): the journal entry is
    written on the intake record and the attachments are filed as its documents.
    Messaging marks the message journaled (the retention rule counts from then).
    Ids only. Keyed by the message, as the request was."""

    ce_type = "se.omsorg.casework.journal.message-journaled.v1"
    topic = JOURNAL_TOPIC
    key_field = "message_id"

    request_id: uuid.UUID  # the journal request answered (an earlier one, if the entry existed)
    message_id: uuid.UUID
    record_id: uuid.UUID
    journal_entry_id: uuid.UUID
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=5)
    journaled_at: datetime


# ---- Investigations, cases, decisions, documents (CW-9, CW-10, MS-10, IN-6; journey 8) ----
#
# All keyed by the intake record, like CaseworkerAssigned: one investigation's
# events stay in order, so intake's status history of the application (Ny →
# Mottagen → Utredning pågår → Beslut fattat) never runs backwards.

InvestigationType = Literal["Ansökan SoL", "Begäran LSS"]
DecisionOutcome = Literal["Beviljad", "Delvis beviljad", "Avslag"]
# What casework delivers into the citizen's e-service mailbox (MS-10, CW-9).
EServiceDeliveryKind = Literal["decision", "document"]
MAX_DELIVERY_BYTES = 16 * 1024 * 1024  # as a message's attachment (MS-4)


class InvestigationStarted(Event):
    """A caseworker started the investigation (utredning) of an intake record: from
    now on related persons can be approved (CW-7), and the citizen sees
    "Utredning pågår" on the application (IN-6)."""

    ce_type = "se.omsorg.casework.record.investigation-started.v1"
    topic = CASES_TOPIC
    key_field = "record_id"

    record_id: uuid.UUID
    person_id: uuid.UUID
    application_id: uuid.UUID | None  # None: a record not made from an e-application
    investigation_type: InvestigationType
    status: str  # what the citizen sees now: "Utredning pågår"
    started_at: datetime


class IntakeRecordClosed(Event):
    """An intake record was closed without an investigation (förenklad
    handläggning, or withdrawn); the citizen sees the application "Avslutad"."""

    ce_type = "se.omsorg.casework.record.closed.v1"
    topic = CASES_TOPIC
    key_field = "record_id"

    record_id: uuid.UUID
    person_id: uuid.UUID
    application_id: uuid.UUID | None
    reason: str = Field(max_length=100)  # a fixed choice, no free text: "Förenklad handläggning", ...
    status: str  # "Avslutad"
    closed_at: datetime


class DecisionMade(Event):
    """A decision (beslut) on a case was signed (CW-9): for intake's status history
    ("Beslut fattat" per service) and, for a grant, provider orders later. Ids,
    outcome and service code only: never the decision's text."""

    ce_type = "se.omsorg.casework.case.decision-made.v1"
    topic = CASES_TOPIC
    key_field = "record_id"

    decision_id: uuid.UUID
    case_id: uuid.UUID
    record_id: uuid.UUID
    person_id: uuid.UUID
    application_id: uuid.UUID | None
    service_code: str = Field(max_length=60)
    outcome: DecisionOutcome
    corrects: uuid.UUID | None = None  # the earlier decision this one replaces
    period_from: date | None = None  # a grant's period
    period_to: date | None = None
    status: str  # what the citizen sees for the service: "Beslut fattat"
    decided_at: datetime


class DeliveryFile(BaseModel):
    """The PDF to deliver: fetched from casework through a capability URL
    (HMAC-signed, expiring, bound to this document and delivery), never sent on
    Kafka. Verify `size` and `sha256`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_id: uuid.UUID
    filename: str = Field(max_length=255)
    content_type: Literal["application/pdf"] = "application/pdf"
    size: int = Field(gt=0, le=MAX_DELIVERY_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = Field(max_length=2000)


class EServiceDeliveryRequested(Event):
    """Casework asks messaging to deliver a decision letter or a document into the
    citizen's e-service mailbox as a message from the caseworker, the PDF attached
    (CW-9, MS-10). Messaging answers `EServiceDeliveryDone` and announces the
    delivery (`MessageDeliveredToEService` with this kind), which notify alerts.
    The subject and text are personal data: in the JSON value only."""

    ce_type = "se.omsorg.casework.document.e-service-delivery-requested.v1"
    topic = CASES_TOPIC
    key_field = "record_id"

    delivery_id: uuid.UUID  # messaging delivers each once
    kind: EServiceDeliveryKind
    record_id: uuid.UUID
    case_id: uuid.UUID | None
    person_id: uuid.UUID
    caseworker_id: str = Field(max_length=200)  # the sender: their personal mailbox
    caseworker_name: str = Field(max_length=200)  # PD (staff)
    unit: str = Field(max_length=100)
    message_subject: str = Field(min_length=1, max_length=200)  # PD: the Ämne
    message_text: str = Field(max_length=10_000)  # PD: the message's text, plain
    file: DeliveryFile
    requested_at: datetime


# ---- Orders to providers (CW-13; journey 9) ------------------------------------

ORDERS_TOPIC = "casework.orders.v1"  # key: the order id
MAX_ORDER_DOCUMENTS = 10


class OrderedClient(BaseModel):
    """Who the order is for, as the provider needs them to carry it out. A person
    with protected identity has no address here, ever (`address` None)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: uuid.UUID
    pnr: Personnummer  # PD
    name: str = Field(max_length=200)  # PD
    kundnummer: str = Field(max_length=20)
    address: str | None = Field(default=None, max_length=300)  # PD; None for protected identity
    phone: str | None = Field(default=None, max_length=20)  # PD
    protected_identity: bool


class OrderPlaced(Event):
    """A caseworker ordered a granted service (from a signed decision) from a
    provider unit (beställning, CW-13): the provider sees it under "Ej bekräftade
    beställningar". Carries the intake note and the documents the caseworker
    picked, each as a capability URL on casework (never the files themselves).
    Personal data in the JSON value only; keyed by the order."""

    ce_type = "se.omsorg.casework.order.placed.v1"
    topic = ORDERS_TOPIC
    key_field = "order_id"

    order_id: uuid.UUID
    decision_id: uuid.UUID
    case_id: uuid.UUID
    record_id: uuid.UUID
    provider_id: uuid.UUID
    unit: str = Field(max_length=100)  # the provider unit's code, as provider tokens carry it
    client: OrderedClient
    service_code: str = Field(max_length=60)
    service_name: str = Field(max_length=200)
    extent: str | None = Field(default=None, max_length=500)  # the decision's omfattning
    period_from: date | None
    period_to: date | None
    note: str = Field(max_length=10_000)  # PD: the intake note (aktualiseringens anteckning)
    documents: list[DeliveryFile] = Field(default_factory=list, max_length=MAX_ORDER_DOCUMENTS)
    caseworker_id: str = Field(max_length=200)
    caseworker_name: str = Field(max_length=200)  # PD (staff)
    caseworker_unit: str = Field(max_length=100)
    placed_at: datetime
