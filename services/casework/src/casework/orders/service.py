"""Orders (beställningar, CW-13; journey 9): a caseworker orders a granted service
from a provider unit.

Only a signed decision in force that grants the service (Beviljad, Delvis
beviljad) can be ordered, inside the grant's period, from a unit casework knows
from provider (`providers`), one open order per decision at a time. The order
goes to the provider as OrderPlaced (through the outbox, keyed by the order):
the client (a person with protected identity without their address, ever), the
service, extent and period, the intake record's note, and the documents the
caseworker picked, all of the same person and each a PDF. The files never travel
on Kafka: each is a capability URL on casework,
`<public url>/order-fetch/<document id>?token=...` (shared.capability, purpose
"order", bound to the document and the order), which opens the PDF until it
expires and is spent once the execution has ended; every fetch is audited as a
disclosure to the provider.

The order's state follows provider's events (`provider.orders.v1`): placed →
executing from ExecutionStarted (with its execution date, which never changes)
→ ended with ExecutionEnded (end date and reason, final). Neither carries a
version: each happens once per order, so a late or replayed one only fills in
what is missing and never moves the state back. An event about an order
casework never placed, or from another provider unit than the order's, is
dead-lettered.

Access is the case's (its record's unit), every read and write audited."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from casework.cases import service as cases
from casework.cases.models import Case
from casework.config import SOURCE, TIME_ZONE
from casework.decisions import service as decisions
from casework.decisions.models import Decision
from casework.documents import delivery as deliveries
from casework.documents import service as documents
from casework.models import IntakeRecord, Person
from casework.orders import repository
from casework.orders.models import Order, OrderStatus
from casework.orders.schemas import MAX_ORDERS, ExecutionEndOut, ExecutionOut, OrderCreate, OrderOut
from casework.orders.settings import OrdersConfig
from casework.persons import service as persons
from casework.providers import service as providers
from shared import audit, capability
from shared.auth import User
from shared.contracts.casework import DeliveryFile, OrderedClient, OrderPlaced
from shared.contracts.provider import ExecutionEnded, ExecutionStarted
from shared.events import Envelope
from shared.outbox import add_event
from shared.personnummer import Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

FETCH_ROUTE = "/order-fetch"
PURPOSE = "order"
PROVIDER = "provider"  # the holder of an order's capability, as the audit log names it
GRANTED = frozenset({"Beviljad", "Delvis beviljad"})


class ProviderEventRefused(Exception):
    """A provider event that does not fit casework's orders (an unknown order, or
    another unit's): the record's own failure, dead-lettered. Names no personal data."""


def _today() -> date:
    return datetime.now(TIME_ZONE).date()


def fetch_url(settings: OrdersConfig, document_id: uuid.UUID, order_id: uuid.UUID, now: datetime) -> str:
    """The capability URL the provider fetches one of the order's documents through."""
    token = capability.sign(settings.fetch_key, PURPOSE, document_id, order_id, now + settings.fetch_ttl)
    return f"{settings.public_url}{FETCH_ROUTE}/{document_id}?token={token}"


def _address(person: Person) -> str | None:
    """The client's own address, else the registered one, as one line; never a
    protected person's (nor where they live: no municipality either)."""
    if person.protected:
        return None
    for prefix in ("address_", "registered_"):
        street = getattr(person, f"{prefix}street")
        if street:
            place = " ".join(
                p for p in (getattr(person, f"{prefix}postal_code"), getattr(person, f"{prefix}city")) if p
            )
            return f"{street}, {place}"[:300] if place else street[:300]
    return None


def _phone(person: Person) -> str | None:
    """A number the provider may call the client on: none when it is secret (hemligt telefonnummer)."""
    if person.secret_phone:
        return None
    return person.phone1 or person.phone2 or person.phone3


def client_of(person: Person) -> OrderedClient:
    """The client as the order names them to the provider."""
    return OrderedClient(
        person_id=person.id,
        pnr=Personnummer(person.pnr),
        name=person.name,
        kundnummer=person.kundnummer,
        address=_address(person),
        phone=_phone(person),
        protected_identity=person.protected,
    )


async def _granted_decision(session: AsyncSession, case: Case, decision_id: uuid.UUID) -> Decision:
    """The decision, if it is the case's signed grant in force and its period has not ended."""
    # The copy read before the locks: a signed decision never changes, so the most
    # it can miss is a draft signed meanwhile, refused as a draft (ask again).
    decision = await decisions.by_id(session, decision_id)
    assert decision is not None  # decisions are never deleted
    if decision.signed_at is None:
        raise Conflict("Only a signed decision can be ordered: this one is a draft.")
    if decision.outcome not in GRANTED:
        raise Conflict(
            f"The decision is {decision.outcome}: only a service that was granted can be ordered.",
            outcome=decision.outcome,
        )
    in_force = await decisions.in_force(session, case.id)
    if in_force is None or in_force.id != decision.id:
        raise Conflict(
            "This decision was corrected: order from the decision in force.",
            in_force=str(in_force.id) if in_force is not None else None,
        )
    if decision.period_to is not None and decision.period_to < _today():
        raise Conflict(f"The grant's period ended on {decision.period_to}: it can no longer be ordered.")
    return decision


async def _order_files(
    session: AsyncSession,
    user: User,
    person: Person,
    document_ids: list[uuid.UUID],
    order_id: uuid.UUID,
    settings: OrdersConfig,
    now: datetime,
) -> list[DeliveryFile]:
    """The picked documents as capability-URL files: each the person's, reachable
    by the caseworker (audited as attached to the order) and a PDF."""
    files: list[DeliveryFile] = []
    for document_id in document_ids:
        found = await documents.by_id(session, document_id)
        if found is None or found.person_id != person.id:
            raise InvalidInput(
                "Each document must be one of the client's own.",
                field="document_ids",
                document_id=str(document_id),
            )
        document, _ = await documents.reach_document(session, user, document_id, "attach")
        content = await documents.pdf_of(session, document)
        if content is None:
            raise InvalidInput(
                "A document goes with an order as its PDF: this one has none yet (write-protect a "
                "written document first, which makes its PDF) or its file is no PDF.",
                field="document_ids",
                document_id=str(document_id),
            )
        files.append(
            DeliveryFile(
                document_id=document.id,
                filename=deliveries.pdf_filename(document.title),
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                url=fetch_url(settings, document.id, order_id, now),
            )
        )
    return files


def _out(order: Order, units: dict[str, providers.UnitRef]) -> OrderOut:
    unit = units.get(order.unit)
    return OrderOut(
        id=order.id,
        decision_id=order.decision_id,
        case_id=order.case_id,
        record_id=order.record_id,
        person_id=order.person_id,
        service_code=order.service_code,
        service_name=order.service_name,
        provider_id=order.provider_id,
        provider_name=unit.provider_name if unit is not None else None,
        unit=order.unit,
        unit_name=unit.name if unit is not None else None,
        status=order.status,
        document_ids=order.document_ids,
        placed_by=order.placed_by,
        placed_by_name=order.placed_by_name,
        placed_at=order.placed_at,
        execution=(
            ExecutionOut(execution_date=order.execution_date, confirmed_at=order.confirmed_at)
            if order.execution_date is not None
            else None
        ),
        end=(
            ExecutionEndOut(end_date=order.end_date, reason=order.end_reason, ended_at=order.ended_at)
            if order.end_date is not None and order.end_reason is not None and order.ended_at is not None
            else None
        ),
    )


async def _outs(session: AsyncSession, orders: list[Order]) -> list[OrderOut]:
    units = await providers.units_named(session, {o.unit for o in orders})
    return [_out(o, units) for o in orders]


async def place_order(
    session: AsyncSession, user: User, decision_id: uuid.UUID, form: OrderCreate, settings: OrdersConfig
) -> OrderOut:
    """Order the decision's granted service from a provider unit (OrderPlaced)."""
    found = await decisions.by_id(session, decision_id)
    if found is None:
        raise NotFound("There is no such decision.")
    order_id = uuid.uuid4()
    # The record's lock, then the case's: one order at a time per decision.
    case, record, person = await cases.reach_case(
        session, user, found.case_id, "create", "order", order_id, for_update=True
    )
    decision = await _granted_decision(session, case, decision_id)
    unit = await providers.unit_of(session, form.unit)
    if unit is None or unit.provider_id != form.provider_id:
        raise InvalidInput("There is no such unit of that provider (see GET /providers).", field="unit")
    open_order = await repository.open_of_decision(session, decision.id)
    if open_order is not None:
        raise Conflict(
            "This decision has an order that has not ended: one provider carries it out at a time.",
            order_id=str(open_order.id),
        )
    now = datetime.now(UTC)
    document_ids = list(dict.fromkeys(form.document_ids))
    files = await _order_files(session, user, person, document_ids, order_id, settings, now)
    order = Order(
        id=order_id,
        decision_id=decision.id,
        case_id=case.id,
        record_id=record.id,
        person_id=person.id,
        service_code=case.service_code,
        service_name=case.service_name,
        provider_id=unit.provider_id,
        unit=unit.code,
        document_ids=document_ids,
        status=OrderStatus.PLACED,
        placed_by=user.sub,
        placed_by_name=user.name or user.sub,
        placed_at=now,
    )
    repository.add(session, order)
    await session.flush()
    await add_event(session, _placed(order, decision, record, person, files, user), SOURCE)
    # What went to the provider: the client's data, for loggkontroll.
    await audit.record(
        session,
        audit.AuditEntry(
            actor=user.sub,
            actor_role="caseworker",
            action="send",
            object_type="order",
            object_id=str(order.id),
            subject_pnr=person.pnr,
            reason=f"ordered from provider unit {unit.code}"[:200],
        ),
    )
    return (await _outs(session, [order]))[0]


def _placed(
    order: Order,
    decision: Decision,
    record: IntakeRecord,
    person: Person,
    files: list[DeliveryFile],
    user: User,
) -> OrderPlaced:
    return OrderPlaced(
        order_id=order.id,
        decision_id=decision.id,
        case_id=order.case_id,
        record_id=record.id,
        provider_id=order.provider_id,
        unit=order.unit,
        client=client_of(person),
        service_code=order.service_code,
        service_name=order.service_name,
        extent=decision.extent,
        period_from=decision.period_from,
        period_to=decision.period_to,
        note=record.note[:10_000],
        documents=files,
        caseworker_id=user.sub,
        caseworker_name=order.placed_by_name,
        caseworker_unit=record.unit,
        placed_at=order.placed_at,
    )


async def get_order(session: AsyncSession, user: User, order_id: uuid.UUID) -> OrderOut:
    """One order and its state."""
    order = await repository.get(session, order_id)
    if order is None:
        raise NotFound("There is no such order.")
    await cases.reach_case(session, user, order.case_id, "read", "order", order.id)
    return (await _outs(session, [order]))[0]


async def orders_of_case(session: AsyncSession, user: User, case_id: uuid.UUID) -> list[OrderOut]:
    """The case's orders, newest first, each with its state."""
    case, _, _ = await cases.reach_case(session, user, case_id, "list", "order")
    return await _outs(session, await repository.of_case(session, case.id, MAX_ORDERS))


# ---- the provider's side -------------------------------------------------------


async def order_fetch(
    session: AsyncSession, document_id: uuid.UUID, token: str, settings: OrdersConfig
) -> Response:
    """One of an order's documents, for its provider: the capability URL of
    OrderPlaced (no bearer token; bound to the document and the order, expiring,
    spent once the execution ended). Audited as a disclosure to the provider."""
    refused = audit.AuditEntry(PROVIDER, "system", "disclose", "document", str(document_id))
    try:
        grant = capability.verify(settings.fetch_key, PURPOSE, document_id, token)
    except capability.BadToken:
        raise await audit.refuse(
            session, refused, NotAllowed("The link is not valid for this document, or it has expired.")
        ) from None
    order = await repository.get(session, grant.grant_id)
    document = await documents.by_id(session, document_id)
    if order is None or document is None or document_id not in order.document_ids:
        raise await audit.refuse(session, refused, NotAllowed("The link is not valid for this document."))
    person = await persons.by_id(session, document.person_id)
    entry = audit.AuditEntry(
        PROVIDER,
        "system",
        "disclose",
        "document",
        str(document_id),
        subject_pnr=person.pnr,
        reason=f"order {order.id} to provider unit {order.unit}"[:200],
    )
    if order.status == OrderStatus.ENDED:
        raise await audit.refuse(
            session, entry, NotAllowed("The order's execution has ended: the link is spent.")
        )
    return await documents.disclose_pdf(session, document, entry)


async def _reported(session: AsyncSession, event: ExecutionStarted | ExecutionEnded) -> Order:
    """The order the provider reports on, locked; refused unless it is this unit's."""
    order = await repository.get_locked(session, event.order_id)
    if order is None:
        raise ProviderEventRefused("an execution of an order casework never placed")
    if (order.provider_id, order.unit) != (event.provider_id, event.unit):
        raise ProviderEventRefused("an execution reported by another provider unit than the order's")
    if order.person_id != event.person_id:
        raise ProviderEventRefused("an execution of the order for another person")
    return order


async def _audit_update(session: AsyncSession, envelope: Envelope, order: Order) -> None:
    person = await persons.by_id(session, order.person_id)
    await audit.record(session, audit.from_event(envelope, "update", "order", order.id, person.pnr))


async def on_execution_started(session: AsyncSession, event: ExecutionStarted, envelope: Envelope) -> None:
    """The provider confirmed the order with its execution date: the order is
    executing (unless it has ended already); the date is kept as first given."""
    order = await _reported(session, event)
    if order.execution_date is not None:
        return  # a replay: the execution date never changes
    order.execution_date = event.execution_date
    order.confirmed_at = event.confirmed_at
    if order.status == OrderStatus.PLACED:
        order.status = OrderStatus.EXECUTING
    await session.flush()
    await _audit_update(session, envelope, order)


async def on_execution_ended(session: AsyncSession, event: ExecutionEnded, envelope: Envelope) -> None:
    """The provider ended the execution: the order has ended, for good, with its end
    date and reason; its document links are spent."""
    order = await _reported(session, event)
    if order.end_date is not None:
        return  # a replay: an end is final
    order.end_date = event.end_date
    order.end_reason = event.reason
    order.ended_at = event.ended_at
    order.status = OrderStatus.ENDED
    await session.flush()
    await _audit_update(session, envelope, order)


# ---- for the fees module ----------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    """An order's execution as the fee basis needs it."""

    order_id: uuid.UUID
    person_id: uuid.UUID
    service_code: str
    service_name: str
    unit: str
    execution_date: date
    end_date: date | None


async def executions_between(session: AsyncSession, first: date, last: date) -> list[Execution]:
    """The executions that run on a day from `first` through `last`, by person
    (no access check: the fees module checks its own role)."""
    return [
        Execution(o.id, o.person_id, o.service_code, o.service_name, o.unit, o.execution_date, o.end_date)
        for o in await repository.executions_overlapping(session, first, last)
        if o.execution_date is not None
    ]
