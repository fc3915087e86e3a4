"""Orders and their execution (beställning och verkställighet, CW-13, PR-2..PR-5).

Casework orders a granted service from a provider unit (OrderPlaced on
`casework.orders.v1`); `on_order_placed` keeps it as it came, once (a replay
adds nothing). An order naming a unit its provider does not have is kept but
shown to nobody: every read checks that the order's unit is one of the order's
provider's units, one of the user's token units, and that the user is an active
user of that provider (provider.users); a refusal is 403 and audited.

The unit sees the order under "Ej bekräftade beställningar", reads it in full,
prints it, fetches its documents (streamed from casework through the order's
capability URLs, never stored here), and confirms it with the execution date
(verkställighetsdatum) once the service really starts: a future date is
allowed, the date never changes afterwards (a second confirm is 409), and
ExecutionStarted tells casework and messaging. Ending the execution needs an
end date not before the execution date, a reason from the list and an explicit
"I am sure"; ExecutionEnded follows. Every read and write of an order is audited."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from typing import cast
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from provider.config import SOURCE, TIME_ZONE
from provider.models import ProviderUnit, ProviderUser
from provider.orders import repository
from provider.orders.document import order_document
from provider.orders.models import Order, OrderStatus
from provider.orders.schemas import (
    SEARCH_MAX,
    ClientOut,
    ConfirmForm,
    DocumentOut,
    EndForm,
    ExecutionOut,
    OrderOut,
    OrderPage,
    OrderSummary,
    PrintPart,
    SearchForm,
)
from provider.providers import service as providers
from provider.users import service as users
from shared import audit
from shared.auth import User
from shared.capability_fetch import Announced, CapabilityFetcher, FetchRefused, FetchUnavailable
from shared.contracts.casework import DeliveryFile, OrderPlaced
from shared.contracts.provider import EndReason, ExecutionEnded, ExecutionStarted
from shared.events import Envelope
from shared.outbox import add_event
from shared.pdf import PdfResponse
from shared.personnummer import InvalidPersonnummer, Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound, ServiceError, Unavailable

log = logging.getLogger(__name__)

# How far ahead an execution may be confirmed: a typo in the year must not start
# fees and statistics decades later.
MAX_EXECUTION_AHEAD = timedelta(days=366)
_NO_STORE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


class DocumentNotFetched(ServiceError):
    """Casework would not hand the document over as announced (the link expired,
    the file changed): the caseworker must send it again."""

    status = 502
    title = "Bad gateway"


def today() -> date:
    """Today's civil date in the municipality."""
    return datetime.now(TIME_ZONE).date()


# ---- the projection of OrderPlaced ----------------------------------------------


def _row(event: OrderPlaced) -> dict[str, object]:
    client = event.client
    return {
        "id": event.order_id,
        "decision_id": event.decision_id,
        "case_id": event.case_id,
        "record_id": event.record_id,
        "provider_id": event.provider_id,
        "unit": event.unit,
        "person_id": client.person_id,
        "client_pnr": str(client.pnr),
        "client_name": client.name,
        "kundnummer": client.kundnummer,
        # Casework never sends one for protected identity; should it ever, it is not kept.
        "client_address": None if client.protected_identity else client.address,
        "client_phone": client.phone,
        "protected_identity": client.protected_identity,
        "service_code": event.service_code,
        "service_name": event.service_name,
        "extent": event.extent,
        "period_from": event.period_from,
        "period_to": event.period_to,
        "note": event.note,
        "documents": [d.model_dump(mode="json") for d in event.documents],
        "caseworker_id": event.caseworker_id,
        "caseworker_name": event.caseworker_name,
        "caseworker_unit": event.caseworker_unit,
        "placed_at": event.placed_at,
        "received_at": datetime.now(UTC),
    }


async def on_order_placed(session: AsyncSession, event: OrderPlaced, envelope: Envelope) -> None:
    """Keep casework's order for its unit, once; a replay adds nothing."""
    if not await repository.add_if_new(session, _row(event)):
        return
    if not await _unit_of_provider(session, event.unit, event.provider_id):
        # Ids only: the order stays, for when casework or the municipality sorts it out.
        log.warning(
            "order %s names a unit provider %s does not have: kept, shown to nobody",
            event.order_id,
            event.provider_id,
        )
    await audit.record(
        session, audit.from_event(envelope, "create", "order", event.order_id, event.client.pnr)
    )


# ---- access ---------------------------------------------------------------------


async def _unit_of_provider(session: AsyncSession, code: str, provider_id: uuid.UUID) -> bool:
    unit = await providers.unit_by_code(session, code)
    return unit is not None and unit.provider_id == provider_id


def _entry(
    user: User, action: str, order: Order, object_type: str = "order", object_id: object = None
) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=users.actor_role(user),
        action=action,
        object_type=object_type,
        object_id=str(object_id if object_id is not None else order.id),
        subject_pnr=order.client_pnr,
    )


async def _check(
    session: AsyncSession,
    user: User,
    member: ProviderUser,
    order: Order,
    action: str,
    object_type: str = "order",
    object_id: object = None,
) -> None:
    """The order is one of the user's units' (of their provider): else 403, audited."""
    if (
        order.provider_id != member.provider_id
        or order.unit not in user.units
        or not await _unit_of_provider(session, order.unit, order.provider_id)
    ):
        raise await audit.refuse(
            session,
            _entry(user, action, order, object_type, object_id),
            NotAllowed("This order is not one of your units' orders."),
        )


async def accessible(
    session: AsyncSession,
    user: User,
    order_id: uuid.UUID,
    action: str,
    *,
    lock: bool = False,
    object_type: str = "order",
    object_id: object = None,
) -> Order:
    """The order, if the user is an active user of its provider acting in its unit
    (locked for a change when `lock`); 404 if there is none, 403 audited otherwise.
    What the absences module acts through."""
    member = await users.active_provider_user(session, user)
    order = await (repository.get_locked if lock else repository.get)(session, order_id)
    if order is None:
        raise NotFound("There is no such order.")
    await _check(session, user, member, order, action, object_type, object_id)
    return order


async def of_ids(session: AsyncSession, order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Order]:
    """Orders by id, for a list another module shows (its own access checks done)."""
    return {o.id: o for o in await repository.by_ids(session, order_ids)}


# ---- responses ----------------------------------------------------------------


def _documents(order: Order) -> list[DeliveryFile]:
    return [DeliveryFile.model_validate(d) for d in order.documents]


def order_out(order: Order) -> OrderOut:
    """The order in full, as the unit reads it (never an address for protected identity)."""
    execution = None
    if order.execution_date is not None:
        assert order.confirmed_by is not None and order.confirmed_at is not None  # set together
        execution = ExecutionOut(
            execution_date=order.execution_date,
            confirmed_by=order.confirmed_by,
            confirmed_at=order.confirmed_at,
            end_date=order.end_date,
            end_reason=cast(EndReason | None, order.end_reason),  # stored from EndForm.reason
            ended_by=order.ended_by,
            ended_at=order.ended_at,
        )
    return OrderOut(
        id=order.id,
        status=order.status,
        decision_id=order.decision_id,
        case_id=order.case_id,
        provider_id=order.provider_id,
        unit=order.unit,
        client=ClientOut(
            person_id=order.person_id,
            personnummer=order.client_pnr,
            name=order.client_name,
            kundnummer=order.kundnummer,
            address=None if order.protected_identity else order.client_address,
            phone=order.client_phone,
            protected_identity=order.protected_identity,
        ),
        service_code=order.service_code,
        service_name=order.service_name,
        extent=order.extent,
        period_from=order.period_from,
        period_to=order.period_to,
        note=order.note,
        documents=[
            DocumentOut(
                document_id=d.document_id,
                filename=d.filename,
                content_type=d.content_type,
                size=d.size,
                href=f"/orders/{order.id}/documents/{d.document_id}",
            )
            for d in _documents(order)
        ],
        caseworker_name=order.caseworker_name,
        caseworker_unit=order.caseworker_unit,
        placed_at=order.placed_at,
        execution=execution,
    )


def summary(order: Order) -> OrderSummary:
    """One row of a list of orders."""
    return OrderSummary(
        id=order.id,
        status=order.status,
        unit=order.unit,
        client_name=order.client_name,
        personnummer=order.client_pnr,
        kundnummer=order.kundnummer,
        service_code=order.service_code,
        service_name=order.service_name,
        placed_at=order.placed_at,
        execution_date=order.execution_date,
        end_date=order.end_date,
    )


# ---- lists and search -------------------------------------------------------------


def encode_cursor(placed_at: datetime, order_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{placed_at.isoformat()}|{order_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        when, id_ = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("cursor time without zone")
        return at.astimezone(UTC), uuid.UUID(id_)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("The 'after' cursor is not one this API gave out.") from None


async def list_of_unit(
    session: AsyncSession,
    user: User,
    unit: str,
    status: OrderStatus | None,
    limit: int,
    after: str | None,
) -> OrderPage:
    """A page of the unit's orders of one status ("Ej bekräftade beställningar":
    unconfirmed; "Bekräftade": confirmed), newest first."""
    acting: ProviderUnit = await users.acting_in_unit(session, user, unit)
    rows = await repository.page_of_unit(
        session,
        acting.provider_id,
        acting.code,
        status,
        limit + 1,
        decode_cursor(after) if after else None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    await audit.record_each(
        session, user.sub, users.actor_role(user), "list", "order", ((o.id, o.client_pnr) for o in rows)
    )
    next_cursor = encode_cursor(rows[-1].placed_at, rows[-1].id) if more and rows else None
    return OrderPage(items=[summary(o) for o in rows], next=next_cursor)


async def search(session: AsyncSession, user: User, unit: str, form: SearchForm) -> list[OrderSummary]:
    """Sök brukare: the unit's orders of the client with this personnummer or
    kundnummer, or whose name contains the text."""
    acting = await users.acting_in_unit(session, user, unit)
    text = form.query.strip()
    try:
        pnr: str | None = str(Personnummer(text))
    except InvalidPersonnummer:
        pnr = None
    rows = await repository.search_in_unit(
        session, acting.provider_id, acting.code, pnr=pnr, text=text, limit=SEARCH_MAX
    )
    await audit.record_each(
        session, user.sub, users.actor_role(user), "search", "order", ((o.id, o.client_pnr) for o in rows)
    )
    return [summary(o) for o in rows]


# ---- one order ----------------------------------------------------------------


async def read(session: AsyncSession, user: User, order_id: uuid.UUID) -> OrderOut:
    """The order in full (läsa beställningen i sin helhet)."""
    order = await accessible(session, user, order_id, "read")
    await audit.record(session, _entry(user, "read", order))
    return order_out(order)


async def print_pdf(
    session: AsyncSession, user: User, order_id: uuid.UUID, parts: Collection[PrintPart]
) -> PdfResponse:
    """Skriv ut: the order (its chosen parts) as a PDF, rendered after the transaction."""
    order = await accessible(session, user, order_id, "print")
    await audit.record(session, _entry(user, "print", order))
    headers = {**_NO_STORE, "content-disposition": f'inline; filename="bestallning-{order.id}.pdf"'}
    return PdfResponse(order_document(order, parts, datetime.now(UTC)), headers=headers)


def _disposition(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in " .-_()") else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _held_back(pieces: AsyncIterator[bytes], stack: AsyncExitStack) -> AsyncIterator[bytes]:
    """The pieces, each sent only once the next one came: the last goes only after
    the fetcher checked size and SHA-256, so a file other than announced reaches
    the user short of its Content-Length, never as if complete."""
    try:
        previous: bytes | None = None
        async for piece in pieces:
            if previous is not None:
                yield previous
            previous = piece
        if previous is not None:
            yield previous
    except (FetchRefused, FetchUnavailable) as exc:
        log.warning("an order document's stream from casework broke off (%s)", type(exc).__name__)
        raise
    finally:
        await stack.aclose()


async def open_document(
    session: AsyncSession, user: User, order_id: uuid.UUID, document_id: uuid.UUID, fetcher: CapabilityFetcher
) -> StreamingResponse:
    """One of the order's documents, fetched from casework through its capability
    URL now and streamed to the user as it arrives (nothing kept here)."""
    order = await accessible(
        session, user, order_id, "read", object_type="order_document", object_id=document_id
    )
    file = next((d for d in _documents(order) if d.document_id == document_id), None)
    if file is None:
        raise NotFound("The order has no such document.")
    stack = AsyncExitStack()
    try:
        pieces = await stack.enter_async_context(
            fetcher.open(Announced(file.document_id, file.url, file.size, file.sha256))
        )
    except FetchUnavailable:
        await stack.aclose()
        raise Unavailable("Casework cannot hand the document over now; try again in a while.") from None
    except FetchRefused:
        await stack.aclose()
        if order.end_date is not None:
            raise DocumentNotFetched(
                "The execution has ended: casework no longer hands out the order's documents."
            ) from None
        raise DocumentNotFetched(
            "Casework does not hand this document over (its link may have expired): ask the caseworker."
        ) from None
    await audit.record(session, _entry(user, "read", order, "order_document", document_id))
    return StreamingResponse(
        _held_back(pieces, stack),
        media_type=file.content_type,
        headers={
            **_NO_STORE,
            "content-length": str(file.size),
            "content-disposition": _disposition(file.filename),
        },
    )


# ---- execution ------------------------------------------------------------------


async def confirm(session: AsyncSession, user: User, order_id: uuid.UUID, form: ConfirmForm) -> OrderOut:
    """Bekräfta: start the execution on its date (which may lie ahead); once only."""
    order = await accessible(session, user, order_id, "confirm", lock=True)
    if order.execution_date is not None:
        raise Conflict(
            f"The order is confirmed already, with the execution date {order.execution_date}: "
            "the date can never be changed."
        )
    if form.execution_date > today() + MAX_EXECUTION_AHEAD:
        raise InvalidInput("The execution date is more than a year ahead.")
    now = datetime.now(UTC)
    order.execution_date, order.confirmed_by, order.confirmed_at = form.execution_date, user.sub, now
    await session.flush()
    await add_event(
        session,
        ExecutionStarted(
            order_id=order.id,
            provider_id=order.provider_id,
            unit=order.unit,
            person_id=order.person_id,
            execution_date=form.execution_date,
            confirmed_by=user.sub,
            confirmed_at=now,
        ),
        SOURCE,
    )
    await audit.record(session, _entry(user, "confirm", order))
    return order_out(order)


async def end(session: AsyncSession, user: User, order_id: uuid.UUID, form: EndForm) -> OrderOut:
    """Avsluta verkställighet: the end date (not before the execution date), the
    reason, and the user's explicit confirmation that they are sure."""
    if not form.confirm:
        raise InvalidInput("Confirm that you are sure the execution ends (confirm: true).")
    order = await accessible(session, user, order_id, "end", lock=True)
    if order.execution_date is None:
        raise Conflict("The order is not confirmed: there is no execution to end.")
    if order.end_date is not None:
        raise Conflict(f"The execution ended already, on {order.end_date}.")
    if form.end_date < order.execution_date:
        raise InvalidInput(f"The end date is before the execution date {order.execution_date}.")
    now = datetime.now(UTC)
    order.end_date, order.end_reason, order.ended_by, order.ended_at = (
        form.end_date,
        form.reason,
        user.sub,
        now,
    )
    await session.flush()
    await add_event(
        session,
        ExecutionEnded(
            order_id=order.id,
            provider_id=order.provider_id,
            unit=order.unit,
            person_id=order.person_id,
            end_date=form.end_date,
            reason=form.reason,
            ended_by=user.sub,
            ended_at=now,
        ),
        SOURCE,
    )
    await audit.record(session, _entry(user, "end", order))
    return order_out(order)
