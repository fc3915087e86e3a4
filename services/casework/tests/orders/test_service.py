"""Orders (beställningar, CW-13) at the service layer, against casework's real
PostgreSQL with its migrations: only a signed grant in force is ordered, from a
unit casework knows from provider, with the intake note, the client (never a
protected person's address) and the picked documents as capability URLs that
open their PDFs for the provider until the execution ends; the order's state
follows provider's ExecutionStarted and ExecutionEnded, once each, never
backwards; another unit's caseworker is refused and audited."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from casework.config import TIME_ZONE
from casework.decisions import service as decisions
from casework.decisions.letter import Letterhead
from casework.decisions.schemas import DecisionCreate, DecisionOut
from casework.documents import service as documents
from casework.documents.schemas import DocumentCreate
from casework.documents.settings import DocumentsConfig
from casework.models import Person
from casework.orders import service
from casework.orders.schemas import OrderCreate, OrderOut
from casework.orders.settings import OrdersConfig
from shared import capability
from shared.auth import User
from shared.contracts.casework import OrderPlaced
from shared.contracts.provider import ExecutionEnded, ExecutionStarted
from shared.events import Envelope, Event
from shared.problems import Conflict, InvalidInput, NotAllowed

SETTINGS = OrdersConfig("http://127.0.0.1:8102", secrets.token_bytes(32), timedelta(days=30))
LETTERHEAD = Letterhead("Testby kommun", ("Socialtjänsten", "Box 7", "999 99 Testby"))
Granted = Callable[..., Awaitable[DecisionOut]]
UnitOf = Callable[..., Awaitable[tuple[uuid.UUID, str]]]
Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
ProviderEnvelope = Callable[[Event], Envelope]
_PLACED = text(
    "SELECT convert_from(payload, 'UTF8') FROM outbox WHERE key = :key AND headers->>'ce_type' = :type"
)


def today() -> date:
    return datetime.now(TIME_ZONE).date()


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def placed_events(session: AsyncSession, order_id: uuid.UUID) -> list[OrderPlaced]:
    rows = await session.scalars(_PLACED, {"key": str(order_id), "type": OrderPlaced.ce_type})
    return [OrderPlaced.model_validate(json.loads(row)) for row in rows]


async def person_of(session: AsyncSession, decision: DecisionOut) -> Person:
    person = await session.get(Person, decision.person_id)
    assert person is not None
    return person


def order_form(provider_id: uuid.UUID, unit: str, *document_ids: uuid.UUID | None) -> OrderCreate:
    return OrderCreate(provider_id=provider_id, unit=unit, document_ids=[d for d in document_ids if d])


def started(order: OrderOut, execution_date: date) -> ExecutionStarted:
    return ExecutionStarted(
        order_id=order.id,
        provider_id=order.provider_id,
        unit=order.unit,
        person_id=order.person_id,
        execution_date=execution_date,
        confirmed_by="provider-user",
        confirmed_at=datetime.now(UTC),
    )


def ended(order: OrderOut, end_date: date, reason: str = "Flyttat") -> ExecutionEnded:
    return ExecutionEnded.model_validate(
        {
            "order_id": order.id,
            "provider_id": order.provider_id,
            "unit": order.unit,
            "person_id": order.person_id,
            "end_date": end_date,
            "reason": reason,
            "ended_by": "provider-user",
            "ended_at": datetime.now(UTC),
        }
    )


async def test_a_signed_grant_is_ordered_with_the_note_the_client_and_the_picked_documents(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
    audit_of: Audit,
) -> None:
    decision = await granted_decision(
        caseworker,
        note="Behöver hjälp med måltider och tillsyn nattetid.",
        address_street="Storgatan 1",
        address_postal_code="12345",
        address_city="Byn",
        phone1="0701234567",
    )
    provider_id, unit = await provider_unit("Omsorgsbolaget AB")
    person = await person_of(session, decision)

    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit, decision.document_id), SETTINGS
    )

    assert (order.status, order.execution, order.end) == ("Beställd", None, None)
    assert (order.provider_name, order.unit_name, order.service_name) == (
        "Omsorgsbolaget AB",
        "Omsorgsbolaget AB Norr",
        "Särskilt boende",
    )
    [placed] = await placed_events(session, order.id)
    assert (placed.decision_id, placed.case_id, placed.provider_id, placed.unit) == (
        decision.id,
        decision.case_id,
        provider_id,
        unit,
    )
    assert placed.note == "Behöver hjälp med måltider och tillsyn nattetid."
    assert (placed.extent, placed.period_from, placed.period_to) == (
        "Boende med omsorg dygnet runt",
        decision.period_from,
        decision.period_to,
    )
    client = placed.client
    assert (str(client.pnr), client.name, client.kundnummer) == (person.pnr, "Annika Test", person.kundnummer)
    assert (client.address, client.phone, client.protected_identity) == (
        "Storgatan 1, 12345 Byn",
        "0701234567",
        False,
    )
    assert (placed.caseworker_id, placed.caseworker_unit) == (caseworker.sub, caseworker.units[0])

    # The letter goes as a capability URL that opens exactly the announced PDF.
    [file] = placed.documents
    assert file.url.startswith(f"{SETTINGS.public_url}/order-fetch/{decision.document_id}?token=")
    fetched = await service.order_fetch(session, file.document_id, token_of(file.url), SETTINGS)
    assert fetched.media_type == "application/pdf"
    assert (len(fetched.body), hashlib.sha256(fetched.body).hexdigest()) == (file.size, file.sha256)

    rows = [(r[0], r[2], r[3], r[4], r[5]) for r in await audit_of(person.pnr)]
    assert (caseworker.sub, "create", "order", str(order.id), "allowed") in rows
    assert (caseworker.sub, "attach", "document", str(decision.document_id), "allowed") in rows
    assert (caseworker.sub, "send", "order", str(order.id), "allowed") in rows
    assert ("provider", "disclose", "document", str(decision.document_id), "allowed") in rows


async def test_a_protected_persons_order_never_carries_their_address(
    session: AsyncSession, caseworker: User, granted_decision: Granted, provider_unit: UnitOf
) -> None:
    for marker in ("protected_identity", "confidentiality_marking"):
        decision = await granted_decision(
            caseworker,
            address_street="Hemliga vägen 3",
            address_postal_code="12345",
            address_city="Byn",
            registered_street="Folkbokförd gata 9",
            **{marker: True},
        )
        provider_id, unit = await provider_unit()
        order = await service.place_order(
            session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
        )
        [placed] = await placed_events(session, order.id)
        assert (placed.client.address, placed.client.protected_identity) == (None, True)
        payload = placed.model_dump_json()
        assert "Hemliga" not in payload and "Folkbokförd" not in payload and "Byn" not in payload


async def test_a_secret_phone_number_is_not_given_to_the_provider(
    session: AsyncSession, caseworker: User, granted_decision: Granted, provider_unit: UnitOf
) -> None:
    decision = await granted_decision(caseworker, phone1="0701234567", secret_phone=True)
    provider_id, unit = await provider_unit()
    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
    )
    [placed] = await placed_events(session, order.id)
    assert placed.client.phone is None


async def test_only_a_signed_grant_in_force_can_be_ordered(
    session: AsyncSession, caseworker: User, granted_decision: Granted, provider_unit: UnitOf
) -> None:
    provider_id, unit = await provider_unit()
    refused = await granted_decision(caseworker, outcome="Avslag")
    with pytest.raises(Conflict, match="only a service that was granted"):
        async with session.begin_nested():
            await service.place_order(
                session, caseworker, refused.id, order_form(provider_id, unit), SETTINGS
            )

    partly = await granted_decision(caseworker, outcome="Delvis beviljad")
    order = await service.place_order(session, caseworker, partly.id, order_form(provider_id, unit), SETTINGS)
    assert order.status == "Beställd"

    # A draft correcting the grant does not stop it; once signed, the old one is out of force.
    granted = await granted_decision(caseworker)
    correction = await decisions.create_decision(
        session,
        caseworker,
        granted.case_id,
        DecisionCreate.model_validate(
            {
                "outcome": "Beviljad",
                "text": "Rättelse av omfattningen.",
                "period_from": today().isoformat(),
                "period_to": (today() + timedelta(days=100)).isoformat(),
                "extent": "Boende med omsorg",
                "corrects": str(granted.id),
            }
        ),
    )
    with pytest.raises(Conflict, match="draft"):
        async with session.begin_nested():
            await service.place_order(
                session, caseworker, correction.id, order_form(provider_id, unit), SETTINGS
            )
    await decisions.sign_decision(session, caseworker, correction.id, LETTERHEAD)
    with pytest.raises(Conflict, match="corrected") as corrected:
        async with session.begin_nested():
            await service.place_order(
                session, caseworker, granted.id, order_form(provider_id, unit), SETTINGS
            )
    assert corrected.value.extra["in_force"] == str(correction.id)
    assert (
        await service.place_order(session, caseworker, correction.id, order_form(provider_id, unit), SETTINGS)
    ).decision_id == correction.id


async def test_a_unit_casework_does_not_know_or_of_another_provider_is_refused(
    session: AsyncSession, caseworker: User, granted_decision: Granted, provider_unit: UnitOf
) -> None:
    decision = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    other_provider, _ = await provider_unit("Annat Bolag AB")
    for form in (order_form(provider_id, "no-such-unit"), order_form(other_provider, unit)):
        with pytest.raises(InvalidInput) as refused:
            async with session.begin_nested():
                await service.place_order(session, caseworker, decision.id, form, SETTINGS)
        assert refused.value.extra["field"] == "unit"
    assert await service.orders_of_case(session, caseworker, decision.case_id) == []


async def test_documents_of_another_person_or_without_a_pdf_are_refused(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
) -> None:
    decision = await granted_decision(caseworker)
    someone_else = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    unwritten = await documents.create(
        session,
        caseworker,
        decision.person_id,
        DocumentCreate.model_validate(
            {"case_id": str(decision.case_id), "doc_type": "Anteckning", "title": "Samtal", "text": "Text."}
        ),
        DocumentsConfig("http://127.0.0.1:8102", b"k" * 32, timedelta(days=1), "Testby kommun"),
    )
    for document_id, problem in (
        (someone_else.document_id, "client's own"),
        (uuid.uuid4(), "client's own"),
        (unwritten.id, "no PDF|none yet"),
    ):
        with pytest.raises(InvalidInput, match=problem) as refused:
            async with session.begin_nested():
                await service.place_order(
                    session, caseworker, decision.id, order_form(provider_id, unit, document_id), SETTINGS
                )
        assert refused.value.extra["field"] == "document_ids"


async def test_a_caseworker_of_another_unit_can_neither_order_nor_see_orders_and_is_audited(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    granted_decision: Granted,
    provider_unit: UnitOf,
    audit_of: Audit,
) -> None:
    decision = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
    )
    stranger = make_caseworker()
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: service.place_order(session, stranger, decision.id, order_form(provider_id, unit), SETTINGS),
        lambda: service.get_order(session, stranger, order.id),
        lambda: service.orders_of_case(session, stranger, decision.case_id),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            async with session.begin_nested():
                await attempt()
    person = await person_of(session, decision)
    refusals = [(r[2], r[3]) for r in await audit_of(person.pnr) if r[0] == stranger.sub]
    assert refusals == [("create", "order"), ("read", "order"), ("list", "order")]
    assert all(r[5] == "refused" for r in await audit_of(person.pnr) if r[0] == stranger.sub)


async def test_the_orders_state_follows_the_execution_started_and_ended_once_and_never_backwards(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
    provider_envelope: ProviderEnvelope,
    audit_of: Audit,
) -> None:
    decision = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
    )
    execution_date = today() + timedelta(days=10)  # a future date is allowed

    start = started(order, execution_date)
    await service.on_execution_started(session, start, provider_envelope(start))
    shown = await service.get_order(session, caseworker, order.id)
    assert shown.status == "Verkställd"
    assert shown.execution is not None and shown.execution.execution_date == execution_date

    # A second confirmation with another date (a replay, or a bug) never changes the date.
    other = started(order, execution_date + timedelta(days=3))
    await service.on_execution_started(session, other, provider_envelope(other))
    assert (await service.get_order(session, caseworker, order.id)).execution == shown.execution

    end = ended(order, execution_date + timedelta(days=40), "Avliden")
    await service.on_execution_ended(session, end, provider_envelope(end))
    await service.on_execution_started(session, start, provider_envelope(start))  # a late replay
    [listed] = await service.orders_of_case(session, caseworker, decision.case_id)
    assert listed.status == "Avslutad"
    assert listed.end is not None
    assert (listed.end.end_date, listed.end.reason) == (execution_date + timedelta(days=40), "Avliden")
    assert listed.execution is not None and listed.execution.execution_date == execution_date

    person = await person_of(session, decision)
    updates = [r for r in await audit_of(person.pnr) if r[2] == "update" and r[3] == "order"]
    assert [(r[0], r[1]) for r in updates] == [("event:/omsorg/provider", "system")] * 2


async def test_an_end_overtaking_its_start_keeps_the_order_ended(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
    provider_envelope: ProviderEnvelope,
) -> None:
    decision = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
    )
    end, start = ended(order, today()), started(order, today() - timedelta(days=5))
    await service.on_execution_ended(session, end, provider_envelope(end))
    await service.on_execution_started(session, start, provider_envelope(start))
    shown = await service.get_order(session, caseworker, order.id)
    assert shown.status == "Avslutad"
    assert shown.execution is not None and shown.execution.execution_date == today() - timedelta(days=5)


async def test_an_execution_of_an_unknown_order_or_from_another_unit_is_refused_for_the_dead_letters(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
    provider_envelope: ProviderEnvelope,
) -> None:
    decision = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    _, other_unit = await provider_unit("Annat Bolag AB")
    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
    )
    unknown = started(order.model_copy(update={"id": uuid.uuid4()}), today())
    elsewhere = started(order.model_copy(update={"unit": other_unit}), today())
    for event in (unknown, elsewhere):
        with pytest.raises(service.ProviderEventRefused):
            async with session.begin_nested():
                await service.on_execution_started(session, event, provider_envelope(event))
    assert (await service.get_order(session, caseworker, order.id)).status == "Beställd"


async def test_a_decision_has_one_open_order_and_is_ordered_anew_once_it_ended(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
    provider_envelope: ProviderEnvelope,
) -> None:
    decision = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    second_provider, second_unit = await provider_unit("Nya Omsorgen AB")
    first = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit), SETTINGS
    )
    with pytest.raises(Conflict) as refused:
        async with session.begin_nested():
            await service.place_order(
                session, caseworker, decision.id, order_form(second_provider, second_unit), SETTINGS
            )
    assert refused.value.extra["order_id"] == str(first.id)
    start, end = started(first, today() - timedelta(days=30)), ended(first, today(), "Byte av utförare")
    await service.on_execution_started(session, start, provider_envelope(start))
    await service.on_execution_ended(session, end, provider_envelope(end))
    second = await service.place_order(
        session, caseworker, decision.id, order_form(second_provider, second_unit), SETTINGS
    )
    listed = await service.orders_of_case(session, caseworker, decision.case_id)
    assert [(o.id, o.status) for o in listed] == [(second.id, "Beställd"), (first.id, "Avslutad")]


async def test_a_document_link_opens_only_its_document_for_its_order_until_the_execution_ends(
    session: AsyncSession,
    caseworker: User,
    granted_decision: Granted,
    provider_unit: UnitOf,
    provider_envelope: ProviderEnvelope,
    audit_of: Audit,
) -> None:
    decision = await granted_decision(caseworker)
    someone_else = await granted_decision(caseworker)
    provider_id, unit = await provider_unit()
    order = await service.place_order(
        session, caseworker, decision.id, order_form(provider_id, unit, decision.document_id), SETTINGS
    )
    [placed] = await placed_events(session, order.id)
    token = token_of(placed.documents[0].url)
    assert decision.document_id is not None and someone_else.document_id is not None
    expired = capability.sign(
        SETTINGS.fetch_key, service.PURPOSE, decision.document_id, order.id, datetime.now(UTC) - timedelta(1)
    )
    # A delivery's token (another purpose) never opens an order's route.
    e_service = capability.sign(
        SETTINGS.fetch_key,
        "e-service-fetch",
        decision.document_id,
        order.id,
        datetime.now(UTC) + timedelta(1),
    )
    for document_id, attempt in (
        (someone_else.document_id, token),  # another document
        (decision.document_id, expired),
        (decision.document_id, e_service),
        (decision.document_id, "not-a-token"),
    ):
        with pytest.raises(NotAllowed):
            async with session.begin_nested():
                await service.order_fetch(session, document_id, attempt, SETTINGS)

    start, end = started(order, today() - timedelta(days=3)), ended(order, today(), "Flyttat")
    await service.on_execution_started(session, start, provider_envelope(start))
    assert (await service.order_fetch(session, decision.document_id, token, SETTINGS)).status_code == 200
    await service.on_execution_ended(session, end, provider_envelope(end))
    with pytest.raises(NotAllowed, match="spent"):
        async with session.begin_nested():
            await service.order_fetch(session, decision.document_id, token, SETTINGS)
    person = await person_of(session, decision)
    outcomes = [r[5] for r in await audit_of(person.pnr) if r[0] == "provider"]
    assert outcomes == ["allowed", "refused"]
