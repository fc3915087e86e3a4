"""Documents at the service layer, against casework's real PostgreSQL: written and
from templates (a missing field is named), changed until write-protected and
never after (the service answers 409; a trigger refuses whatever else writes),
a written document's PDF frozen on write-protect; "create PDF and send to the
e-service" in one step, asking messaging through the outbox with a capability
URL that opens the PDF while the delivery waits and never after; "send by post"
when the e-service is off; a delivery messaging refused marked so (by post); a
protected person's address never in a letter; another unit refused and audited."""

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
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases.models import Case, CaseStatus
from casework.documents import delivery, service
from casework.documents.schemas import DocumentCreate, DocumentUpdate, SendToEService
from casework.documents.settings import DocumentsConfig
from casework.documents.templates import PROTECTED_ADDRESS
from casework.models import Document, IntakeRecord, Person
from shared import audit, capability
from shared.auth import User
from shared.contracts.casework import EServiceDeliveryRequested
from shared.contracts.messaging import EServiceDeliveryDone, EServiceDeliveryRefused
from shared.events import Envelope
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
REQUESTED = EServiceDeliveryRequested.ce_type
SETTINGS = DocumentsConfig(
    public_url="http://127.0.0.1:8102",
    fetch_key=secrets.token_bytes(32),
    fetch_ttl=timedelta(hours=1),
    municipality="Testkommun",
)
_OUTBOX = text(
    "SELECT headers->>'ce_type', convert_from(payload, 'UTF8') FROM outbox WHERE key = :key ORDER BY id"
)


async def requests_of(session: AsyncSession, record_id: uuid.UUID) -> list[EServiceDeliveryRequested]:
    rows = await session.execute(_OUTBOX, {"key": str(record_id)})
    return [EServiceDeliveryRequested.model_validate(json.loads(p)) for t, p in rows if t == REQUESTED]


async def record_of(session: AsyncSession, person: Person) -> IntakeRecord:
    record = await session.scalar(select(IntakeRecord).where(IntakeRecord.person_id == person.id))
    assert record is not None
    return record


def written(record: IntakeRecord | None = None, **values: Any) -> DocumentCreate:
    return DocumentCreate.model_validate(
        {
            "record_id": record.id if record else None,
            "doc_type": "Anteckning",
            "title": "Samtal med den enskilde",
            "text": "Hon berättade om sin vardag.",
            **values,
        }
    )


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def done_of(request: EServiceDeliveryRequested, message_id: uuid.UUID) -> EServiceDeliveryDone:
    return EServiceDeliveryDone(
        delivery_id=request.delivery_id,
        document_id=request.file.document_id,
        message_id=message_id,
        mailbox_id=uuid.uuid4(),
        person_id=request.person_id,
        delivered_at=datetime.now(UTC),
    )


def messaging_envelope(event: EServiceDeliveryDone | EServiceDeliveryRefused) -> Envelope:
    return Envelope(uuid.uuid4(), event.ce_type, "/omsorg/messaging", datetime.now(UTC))


async def test_a_written_document_of_a_record_is_kept_with_its_type_title_date_and_text(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]], audit_of: Audit
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)

    out = await service.create(session, caseworker, person.id, written(record, date="2026-11-20"), SETTINGS)

    again = await service.details(session, caseworker, out.id)
    assert (again.record_id, again.doc_type, again.title, again.date, again.text, again.source) == (
        record.id,
        "Anteckning",
        "Samtal med den enskilde",
        date(2026, 11, 20),
        "Hon berättade om sin vardag.",
        "written",
    )
    assert not again.write_protected and not again.has_file and again.delivery is None
    assert [d.id for d in await service.of_person(session, caseworker, person.id)] == [out.id]
    rows = await audit_of(person.pnr)
    assert (caseworker.sub, "caseworker", "create", "document", str(out.id), "allowed") in rows
    assert (caseworker.sub, "caseworker", "read", "document", str(out.id), "allowed") in rows


async def test_a_template_is_filled_with_the_persons_data_and_the_given_fields(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(
        caseworker, address_street="Storgatan 1", address_postal_code="123 45", address_city="Omsorg"
    )
    record = await record_of(session, person)
    form = DocumentCreate(
        record_id=record.id, template="Kallelse till hembesök", fields={"datum": "2026-12-03", "tid": "10:00"}
    )

    out = await service.create(session, caseworker, person.id, form, SETTINGS)

    assert (out.doc_type, out.title, out.source) == ("Kallelse", "Kallelse till hembesök", "template")
    assert out.text is not None
    assert out.text.startswith("Annika Test\nStorgatan 1\n123 45 Omsorg\n")
    assert "Tid: 3 december 2026 klockan 10.00" in out.text
    assert f"Handläggare: {caseworker.name}" in out.text and record.unit in out.text


async def test_a_template_field_that_is_missing_is_named(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(caseworker)
    form = DocumentCreate(template="Kallelse till hembesök", fields={"datum": "2026-12-03", "plats": "hemma"})

    with pytest.raises(InvalidInput) as raised:
        async with session.begin_nested():
            await service.create(session, caseworker, person.id, form, SETTINGS)

    assert raised.value.extra["field"] == "fields.plats"
    assert raised.value.extra["fields"] == {"plats": "not a field of this template", "tid": "missing"}
    assert "tid: missing" in raised.value.detail


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"template": "Okänd mall"}, "template"),
        ({"template": "Brev", "fields": {"rubrik": "Hej", "text": "x"}, "text": "egen"}, "text"),
        ({"template": "Kallelse till hembesök", "fields": {"datum": "3/12", "tid": "10:00"}}, "fields.datum"),
        ({"fields": {"datum": "2026-12-03"}, "doc_type": "Brev", "title": "t", "text": "x"}, "fields"),
        ({"doc_type": "Brev", "title": "Utan text"}, "text"),
    ],
)
async def test_a_document_without_what_it_needs_is_refused(
    session: AsyncSession,
    caseworker: User,
    linked_person: Callable[..., Awaitable[Person]],
    values: dict[str, Any],
    field: str,
) -> None:
    person = await linked_person(caseworker)

    with pytest.raises(InvalidInput) as raised:
        async with session.begin_nested():
            await service.create(
                session, caseworker, person.id, DocumentCreate.model_validate(values), SETTINGS
            )

    assert raised.value.extra["field"] == field


async def test_a_protected_persons_address_never_goes_into_a_letter(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(
        caseworker, address_street="Hemliga vägen 7", address_city="Omsorg", protected_identity=True
    )
    permitted = User(
        sub=caseworker.sub,
        name=caseworker.name,
        roles=frozenset({"caseworker", "protected_identity"}),
        units=caseworker.units,
    )
    form = DocumentCreate(template="Brev", fields={"rubrik": "Om ditt ärende", "text": "Hej!"})

    for writer in (caseworker, permitted):
        out = await service.create(session, writer, person.id, form, SETTINGS)
        assert out.text is not None
        assert "Hemliga vägen" not in out.text and "Omsorg\n" not in out.text.split("\n\n")[0]
        assert out.text.startswith(f"Annika Test\n{PROTECTED_ADDRESS}")


async def test_a_document_changes_until_it_is_write_protected_and_never_after(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]], audit_of: Audit
) -> None:
    person = await linked_person(caseworker)
    out = await service.create(session, caseworker, person.id, written(), SETTINGS)

    changed = await service.update(
        session, caseworker, out.id, DocumentUpdate(title="Nytt samtal", text="Ny text")
    )
    assert (changed.title, changed.text) == ("Nytt samtal", "Ny text")
    protected = await service.write_protect(session, caseworker, out.id, SETTINGS)

    assert protected.write_protected and protected.write_protected_by == caseworker.sub and protected.has_file
    stored = await session.scalar(select(Document.content).where(Document.id == out.id))
    assert stored is not None and stored.startswith(b"%PDF")
    for attempt in (
        service.update(session, caseworker, out.id, DocumentUpdate(title="Ändrad")),
        service.write_protect(session, caseworker, out.id, SETTINGS),
    ):
        with pytest.raises(Conflict, match="write-protected"):
            async with session.begin_nested():
                await attempt
    assert (
        caseworker.sub,
        "caseworker",
        "write_protect",
        "document",
        str(out.id),
        "allowed",
    ) in await audit_of(person.pnr)


async def test_the_database_refuses_to_change_or_delete_a_write_protected_document(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(caseworker)
    out = await service.create(session, caseworker, person.id, written(), SETTINGS)
    await service.write_protect(session, caseworker, out.id, SETTINGS)

    for statement in (
        "UPDATE documents SET text = 'förfalskad' WHERE id = :id",
        "UPDATE documents SET write_protected_at = NULL WHERE id = :id",
        "DELETE FROM documents WHERE id = :id",
    ):
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(text(statement), {"id": out.id})
    # Only the delivery state may still change.
    await session.execute(text("UPDATE documents SET delivered_at = now() WHERE id = :id"), {"id": out.id})


async def test_a_filed_document_has_no_text_to_change(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)
    filed = await service.file_document(
        session,
        person_id=person.id,
        record_id=record.id,
        case_id=None,
        doc_type="Inkommen handling",
        title="Samtycke.pdf",
        content=b"%PDF-1.4 samtycke",
        source="journal",
        created_by="event:/omsorg/messaging",
    )

    with pytest.raises(InvalidInput) as raised:
        async with session.begin_nested():
            await service.update(session, caseworker, filed.id, DocumentUpdate(text="text"))
    assert raised.value.extra["field"] == "text"
    renamed = await service.update(session, caseworker, filed.id, DocumentUpdate(title="Samtycke"))
    assert renamed.title == "Samtycke" and renamed.has_file


async def test_another_units_caseworker_is_refused_and_audited(
    session: AsyncSession,
    make_caseworker: Callable[[], User],
    linked_person: Callable[..., Awaitable[Person]],
    audit_of: Audit,
) -> None:
    mine, other = make_caseworker(), make_caseworker()
    person = await linked_person(mine)
    record = await record_of(session, person)
    on_record = await service.create(session, mine, person.id, written(record), SETTINGS)
    of_person = await service.create(session, mine, person.id, written(), SETTINGS)

    for document_id in (on_record.id, of_person.id):
        for attempt in (
            service.details(session, other, document_id),
            service.update(session, other, document_id, DocumentUpdate(title="x")),
            service.send_to_e_service(session, other, document_id, SendToEService(), SETTINGS),
        ):
            with pytest.raises(NotAllowed):
                async with session.begin_nested():
                    await attempt
    with pytest.raises(NotAllowed):
        async with session.begin_nested():
            await service.create(session, other, person.id, written(), SETTINGS)

    refused = [r for r in await audit_of(person.pnr) if r[0] == other.sub]
    assert len(refused) == 7 and all(r[3] == "document" and r[5] == "refused" for r in refused)
    with pytest.raises(NotFound):
        await service.details(session, mine, uuid.uuid4())


async def test_a_case_document_is_under_the_cases_record(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(caseworker)
    record = await record_of(session, person)
    now = datetime.now(UTC)
    case = Case(
        record_id=record.id,
        person_id=person.id,
        service_code="hemtjanst",
        service_name="Hemtjänst",
        legal_basis="SoL 4 kap. 1 §",
        status=CaseStatus.UNDER_INVESTIGATION,
        created_by=caseworker.sub,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()

    out = await service.create(session, caseworker, person.id, written(case_id=case.id), SETTINGS)

    assert (out.case_id, out.record_id) == (case.id, record.id)
    with pytest.raises(InvalidInput):
        async with session.begin_nested():
            other_record = uuid.uuid4()
            await service.create(
                session, caseworker, person.id, written(case_id=case.id, record_id=other_record), SETTINGS
            )


async def test_sending_to_an_e_service_that_is_off_answers_send_by_post_and_changes_nothing(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(caseworker, messages_enabled=False)
    record = await record_of(session, person)
    out = await service.create(session, caseworker, person.id, written(record), SETTINGS)

    with pytest.raises(Conflict) as raised:
        async with session.begin_nested():
            await service.send_to_e_service(session, caseworker, out.id, SendToEService(), SETTINGS)

    assert "send the document by post" in raised.value.detail and raised.value.extra["delivery"] == "post"
    after = await service.details(session, caseworker, out.id)
    assert not after.write_protected and after.delivery is None
    assert await requests_of(session, record.id) == []


async def test_create_pdf_and_send_asks_messaging_with_a_capability_url_that_works_until_delivered(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]], audit_of: Audit
) -> None:
    person = await linked_person(caseworker, messages_enabled=True)
    record = await record_of(session, person)
    form = DocumentCreate(
        record_id=record.id, template="Kallelse till hembesök", fields={"datum": "2026-12-03", "tid": "10:00"}
    )
    out = await service.create(session, caseworker, person.id, form, SETTINGS)

    sent = await service.send_to_e_service(
        session, caseworker, out.id, SendToEService(subject="Kallelse"), SETTINGS
    )

    assert sent.write_protected and sent.delivery is not None and sent.delivery.status == "requested"
    [request] = await requests_of(session, record.id)
    assert (request.delivery_id, request.kind, request.person_id, request.record_id) == (
        sent.delivery.delivery_id,
        "document",
        person.id,
        record.id,
    )
    assert (request.caseworker_id, request.unit, request.message_subject) == (
        caseworker.sub,
        record.unit,
        "Kallelse",
    )
    assert request.file.filename == "Kallelse till hembesök.pdf"
    assert request.file.url.startswith(f"{SETTINGS.public_url}/e-service-fetch/{out.id}?token=")

    fetched = await service.e_service_fetch(session, out.id, token_of(request.file.url), SETTINGS)
    assert fetched.media_type == "application/pdf" and bytes(fetched.body).startswith(b"%PDF")
    assert (len(fetched.body), hashlib.sha256(fetched.body).hexdigest()) == (
        request.file.size,
        request.file.sha256,
    )
    assert ("messaging", "system", "disclose", "document", str(out.id), "allowed") in await audit_of(
        person.pnr
    )

    done = done_of(request, message_id=uuid.uuid4())
    await service.on_delivery_done(session, done, messaging_envelope(done))
    await service.on_delivery_done(session, done, messaging_envelope(done))  # a replay changes nothing
    delivered = await service.details(session, caseworker, out.id)
    assert delivered.delivery is not None
    assert (delivered.delivery.status, delivered.delivery.message_id) == ("delivered", done.message_id)
    with pytest.raises(NotAllowed, match="spent"):
        async with session.begin_nested():
            await service.e_service_fetch(session, out.id, token_of(request.file.url), SETTINGS)
    with pytest.raises(Conflict, match="already"):
        async with session.begin_nested():
            await service.send_to_e_service(session, caseworker, out.id, SendToEService(), SETTINGS)


async def test_a_refused_delivery_shows_the_document_must_go_by_post_once(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]], audit_of: Audit
) -> None:
    person = await linked_person(caseworker, messages_enabled=True)
    record = await record_of(session, person)
    out = await service.create(session, caseworker, person.id, written(record), SETTINGS)
    await service.send_to_e_service(session, caseworker, out.id, SendToEService(), SETTINGS)
    [request] = await requests_of(session, record.id)
    refused = EServiceDeliveryRefused(
        delivery_id=request.delivery_id,
        document_id=out.id,
        person_id=person.id,
        reason="the message function was turned off after the request",
        refused_at=datetime.now(UTC),
    )
    not_ours = refused.model_copy(update={"delivery_id": uuid.uuid4()})  # e.g. a provider's
    other_document = refused.model_copy(update={"document_id": uuid.uuid4()})

    for event in (not_ours, other_document, refused):
        await service.on_delivery_refused(session, event, messaging_envelope(event))
    later = refused.model_copy(update={"reason": "another", "refused_at": datetime.now(UTC)})
    await service.on_delivery_refused(session, later, messaging_envelope(later))  # a replay changes nothing

    # The document is write-protected: the trigger lets the delivery state change.
    after = await service.details(session, caseworker, out.id)
    assert after.write_protected and after.delivery is not None
    assert (after.delivery.status, after.delivery.refused_reason, after.delivery.refused_at) == (
        "refused",
        refused.reason,
        refused.refused_at,
    )
    assert after.delivery.delivered_at is None
    marked = [
        t
        for t in await audit_of(person.pnr)
        if t[:5] == ("event:/omsorg/messaging", "system", "update", "document", str(out.id))
    ]
    assert len(marked) == 1  # audited once: the replay and the others were no change


async def test_a_capability_for_another_document_or_expired_or_forged_opens_nothing(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    person = await linked_person(caseworker, messages_enabled=True)
    record = await record_of(session, person)
    first = await service.create(session, caseworker, person.id, written(record), SETTINGS)
    second = await service.create(session, caseworker, person.id, written(record), SETTINGS)
    await service.send_to_e_service(session, caseworker, first.id, SendToEService(), SETTINGS)
    sent = await service.send_to_e_service(session, caseworker, second.id, SendToEService(), SETTINGS)
    assert sent.delivery is not None
    token = token_of((await requests_of(session, record.id))[0].file.url)
    expired = capability.sign(
        SETTINGS.fetch_key,
        delivery.PURPOSE,
        second.id,
        sent.delivery.delivery_id,
        datetime.now(UTC) - timedelta(seconds=1),
    )
    forged = capability.sign(
        secrets.token_bytes(32),
        delivery.PURPOSE,
        second.id,
        sent.delivery.delivery_id,
        datetime.now(UTC) + timedelta(hours=1),
    )

    for attempt in (token, expired, forged, "not-a-token"):
        with pytest.raises(NotAllowed):
            async with session.begin_nested():
                await service.e_service_fetch(session, second.id, attempt, SETTINGS)
    await audit.write_refusals(session)
    audit.collect_refusals(session)
    outcomes = await session.scalars(
        text("SELECT outcome FROM audit_log WHERE actor = 'messaging' AND object_id = :id"),
        {"id": str(second.id)},
    )
    assert list(outcomes) == ["refused"] * 4


async def test_a_decision_filed_for_delivery_goes_by_post_when_the_e_service_is_off(
    session: AsyncSession, caseworker: User, linked_person: Callable[..., Awaitable[Person]]
) -> None:
    """The decisions module's way in: file the letter, then ask for the delivery."""
    off = await linked_person(caseworker, messages_enabled=False)
    on = await linked_person(caseworker, messages_enabled=True)
    outcomes = []
    for person in (off, on):
        record = await record_of(session, person)
        letter = await service.file_document(
            session,
            person_id=person.id,
            record_id=record.id,
            case_id=None,
            doc_type="Beslut",
            title="Beslut om hemtjänst",
            content=b"%PDF-1.4 beslut",
            source="decision",
            created_by=caseworker.sub,
            write_protected=True,
        )
        outcomes.append(
            await delivery.request_e_service_delivery(
                session,
                caseworker,
                letter,
                kind="decision",
                subject="Beslut",
                text="Här är beslutet.",
                settings=SETTINGS,
            )
        )
        assert [r.kind for r in await requests_of(session, record.id)] == (
            ["decision"] if person is on else []
        )
    assert outcomes == ["post", "e-service"]
