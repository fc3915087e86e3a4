"""Decisions (beslut, CW-9) at the service layer, against casework's real
PostgreSQL with its migrations: drafting on a case under investigation, the
grant's period and extent, signing (the letter filed as a write-protected
document, the case decided, DecisionMade without the text, the letter to the
e-service or by post), write protection down to the database, corrections,
access and audit, and the protected identity's address in the letter."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases.models import Case, CaseStatus
from casework.config import TIME_ZONE
from casework.decisions import service
from casework.decisions.letter import Letterhead, appeal_by
from casework.decisions.schemas import DecisionCreate, DecisionUpdate
from casework.documents.settings import DocumentsConfig
from casework.models import Document, IntakeRecord, Person, RecordStatus
from shared.auth import User
from shared.contracts.casework import DecisionMade, EServiceDeliveryRequested
from shared.pdf import render_pdf
from shared.problems import Conflict, InvalidInput, NotAllowed

LETTERHEAD = Letterhead("Testby kommun", ("Socialtjänsten", "Box 7", "999 99 Testby"))
# Where messaging would fetch a delivered letter: casework's own URL, a key of the test's.
DELIVERY = DocumentsConfig("http://127.0.0.1:8102", b"k" * 32, timedelta(days=1), "Testby kommun")
Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
CaseOf = Callable[..., Awaitable[Case]]
_PAYLOADS = text("SELECT headers->>'ce_type', payload FROM outbox WHERE key = :key ORDER BY id")


def today() -> date:
    return datetime.now(TIME_ZONE).date()


def pdf_text(content: bytes) -> str:
    """The text of a PDF, as a reader sees it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def grant(**values: Any) -> DecisionCreate:
    """A draft granting the service for a year."""
    return DecisionCreate.model_validate(
        {
            "outcome": "Beviljad",
            "text": "Du har behov av trygghetslarm för att kunna bo kvar hemma tryggt.",
            "period_from": today().isoformat(),
            "period_to": (today() + timedelta(days=364)).isoformat(),
            "extent": "Larm dygnet runt",
            **values,
        }
    )


def refusal(**values: Any) -> DecisionCreate:
    return DecisionCreate.model_validate(
        {"outcome": "Avslag", "text": "Ditt behov tillgodoses på annat sätt.", **values}
    )


async def payloads(session: AsyncSession, key: uuid.UUID, ce_type: str) -> list[dict[str, Any]]:
    rows = await session.execute(_PAYLOADS, {"key": str(key)})
    return [json.loads(bytes(payload)) for kind, payload in rows if kind == ce_type]


async def document(session: AsyncSession, document_id: uuid.UUID | None) -> Document:
    assert document_id is not None
    found = await session.get(Document, document_id)
    assert found is not None
    return found


async def _pnr(session: AsyncSession, case: Case) -> str:
    person = await session.get(Person, case.person_id)
    assert person is not None
    return person.pnr


async def test_a_draft_rests_on_the_cases_legal_basis_and_is_audited(
    session: AsyncSession, caseworker: User, case_of: CaseOf, audit_of: Audit
) -> None:
    case = await case_of(caseworker)
    draft = await service.create_decision(session, caseworker, case.id, grant())
    assert (draft.status, draft.legal_basis, draft.decided_by, draft.document_id) == (
        "Utkast",
        "SoL 4 kap. 1 §",
        None,
        None,
    )
    listed = await service.decisions_of_case(session, caseworker, case.id)
    assert [d.id for d in listed] == [draft.id]
    assert (await service.get_decision(session, caseworker, draft.id)).text == draft.text
    rows = await audit_of(await _pnr(session, case))
    assert [(r[2], r[3], r[5]) for r in rows if r[3] == "decision"] == [
        ("create", "decision", "allowed"),
        ("list", "decision", "allowed"),
        ("read", "decision", "allowed"),
    ]


async def test_a_grant_needs_its_period_and_extent_and_a_period_that_ends_after_it_starts(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(caseworker)
    for missing in ("period_from", "period_to", "extent"):
        with pytest.raises(InvalidInput) as refused:
            await service.create_decision(session, caseworker, case.id, grant(**{missing: None}))
        assert refused.value.extra["field"] == missing
    backwards = grant(period_from=today().isoformat(), period_to=(today() - timedelta(days=1)).isoformat())
    with pytest.raises(InvalidInput) as refused:
        await service.create_decision(session, caseworker, case.id, backwards)
    assert refused.value.extra["field"] == "period_to"
    with pytest.raises(InvalidInput):
        await service.create_decision(session, caseworker, case.id, refusal(extent="Larm dygnet runt"))
    # A draft edited into a backwards period is refused the same way.
    draft = await service.create_decision(session, caseworker, case.id, grant())
    with pytest.raises(InvalidInput):
        await service.update_decision(
            session,
            caseworker,
            draft.id,
            DecisionUpdate(period_to=today() - timedelta(days=1)),
        )


async def test_signing_files_the_letter_decides_the_case_and_announces_the_decision_without_its_text(
    session: AsyncSession, caseworker: User, case_of: CaseOf, audit_of: Audit
) -> None:
    case = await case_of(
        caseworker, address_street="Storgatan 1", address_postal_code="12345", address_city="Byn"
    )
    draft = await service.create_decision(session, caseworker, case.id, grant())
    signed = await service.sign_decision(session, caseworker, draft.id, LETTERHEAD)

    assert signed.status == "Signerat"
    assert signed.decided_by is not None and signed.decided_by.id == caseworker.sub
    assert signed.decided_on == today()
    assert signed.appeal_by == appeal_by(today())
    assert signed.delivery == "post"  # the e-service is not active
    assert case.status == CaseStatus.DECIDED

    letter = await document(session, signed.document_id)
    assert (letter.case_id, letter.record_id, letter.content_type) == (
        case.id,
        case.record_id,
        "application/pdf",
    )
    assert letter.write_protected_at is not None
    words = pdf_text(letter.content)
    for shown in (
        "Testby kommun",
        "Box 7",
        "Beslut",
        "Du beviljas trygghetslarm.",
        "Larm dygnet runt",
        "SoL 4 kap. 1 §",
        "Storgatan 1",
        "förvaltningsrätten",
        "tre veckor",
        appeal_by(today()).isoformat(),
        caseworker.name,
    ):
        assert shown in words, shown

    [made] = await payloads(session, case.record_id, DecisionMade.ce_type)
    assert made["decision_id"] == str(signed.id)
    assert (made["outcome"], made["service_code"], made["status"]) == (
        "Beviljad",
        "trygghetslarm",
        "Beslut fattat",
    )
    assert "text" not in made and draft.text not in json.dumps(made)
    assert await payloads(session, case.record_id, EServiceDeliveryRequested.ce_type) == []

    rows = await audit_of(await _pnr(session, case))
    assert ("sign", "decision", str(signed.id), "allowed") in [(r[2], r[3], r[4], r[5]) for r in rows]
    assert ("create", "document", str(letter.id), "allowed") in [(r[2], r[3], r[4], r[5]) for r in rows]


async def test_with_the_e_service_active_the_signed_letter_is_sent_to_it(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(caseworker, messages_enabled=True)
    draft = await service.create_decision(session, caseworker, case.id, refusal())
    signed = await service.sign_decision(session, caseworker, draft.id, LETTERHEAD, DELIVERY)
    assert signed.delivery == "e-service"
    [request] = await payloads(session, case.record_id, EServiceDeliveryRequested.ce_type)
    assert (request["kind"], request["case_id"], request["caseworker_id"]) == (
        "decision",
        str(case.id),
        caseworker.sub,
    )
    assert request["file"]["document_id"] == str(signed.document_id)
    assert request["message_subject"] == "Beslut om trygghetslarm"
    letter = await document(session, signed.document_id)
    assert request["file"]["size"] == len(letter.content)
    assert "Din ansökan om trygghetslarm avslås." in pdf_text(letter.content)


async def test_a_signed_decision_is_write_protected_down_to_the_database(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(caseworker)
    draft = await service.create_decision(session, caseworker, case.id, grant())
    edited = await service.update_decision(
        session, caseworker, draft.id, DecisionUpdate(extent="Larm och tillsyn")
    )
    assert edited.extent == "Larm och tillsyn"
    await service.sign_decision(session, caseworker, draft.id, LETTERHEAD)

    with pytest.raises(Conflict):
        await service.update_decision(session, caseworker, draft.id, DecisionUpdate(text="Något annat"))
    with pytest.raises(Conflict):
        await service.replace_decision(session, caseworker, draft.id, grant(text="Något annat"))
    with pytest.raises(Conflict):
        await service.sign_decision(session, caseworker, draft.id, LETTERHEAD)
    # Whatever writes to the table: the database refuses too.
    for statement in (
        "UPDATE decisions SET text = 'x' WHERE id = :id",
        "DELETE FROM decisions WHERE id = :id",
    ):
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(text(statement), {"id": draft.id})
    assert (await service.get_decision(session, caseworker, draft.id)).extent == "Larm och tillsyn"


async def test_a_second_decision_must_correct_the_one_in_force_and_replaces_it(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(caseworker)
    first = await service.create_decision(session, caseworker, case.id, grant())
    other_draft = await service.create_decision(session, caseworker, case.id, refusal())
    await service.sign_decision(session, caseworker, first.id, LETTERHEAD)

    # The case is decided: no new decision without `corrects`, and a draft made
    # before cannot be signed as a second first decision.
    with pytest.raises(Conflict) as refused:
        await service.create_decision(session, caseworker, case.id, refusal())
    assert refused.value.extra["in_force"] == str(first.id)
    with pytest.raises(Conflict):
        await service.sign_decision(session, caseworker, other_draft.id, LETTERHEAD)

    correction = await service.create_decision(
        session, caseworker, case.id, grant(extent="Larm och tillsyn", corrects=str(first.id))
    )
    signed = await service.sign_decision(session, caseworker, correction.id, LETTERHEAD)
    assert signed.corrects == first.id
    letter = await document(session, signed.document_id)
    assert f"ersätter beslutet av {today().isoformat()}" in pdf_text(letter.content)
    assert (await service.get_decision(session, caseworker, first.id)).corrected_by == signed.id

    # Only the decision in force can be corrected; `corrects` must be one of this case's.
    with pytest.raises(Conflict) as refused:
        await service.create_decision(session, caseworker, case.id, refusal(corrects=str(first.id)))
    assert refused.value.extra["in_force"] == str(signed.id)
    other_case = await case_of(caseworker)
    with pytest.raises(InvalidInput):
        await service.create_decision(session, caseworker, other_case.id, refusal(corrects=str(signed.id)))


async def test_no_decision_on_a_record_whose_investigation_is_not_running(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(caseworker)
    draft = await service.create_decision(session, caseworker, case.id, grant())
    record = await session.get(IntakeRecord, case.record_id)
    assert record is not None
    record.status = RecordStatus.CLOSED  # as no endpoint does today: the rule holds regardless
    await session.flush()
    with pytest.raises(Conflict):
        await service.create_decision(session, caseworker, case.id, grant())
    with pytest.raises(Conflict):
        await service.sign_decision(session, caseworker, draft.id, LETTERHEAD)


async def test_a_decision_dated_in_the_future_is_not_signed(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(caseworker)
    draft = await service.create_decision(
        session, caseworker, case.id, grant(decided_on=(today() + timedelta(days=1)).isoformat())
    )
    with pytest.raises(InvalidInput) as refused:
        await service.sign_decision(session, caseworker, draft.id, LETTERHEAD)
    assert refused.value.extra["field"] == "decided_on"


async def test_a_caseworker_of_another_unit_is_refused_and_the_refusal_audited(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    case_of: CaseOf,
    audit_of: Audit,
) -> None:
    case = await case_of(caseworker)
    draft = await service.create_decision(session, caseworker, case.id, grant())
    stranger = make_caseworker()
    for attempt in (
        service.create_decision(session, stranger, case.id, grant()),
        service.decisions_of_case(session, stranger, case.id),
        service.get_decision(session, stranger, draft.id),
        service.update_decision(session, stranger, draft.id, DecisionUpdate(text="x")),
        service.sign_decision(session, stranger, draft.id, LETTERHEAD),
        service.decision_letter_layout(session, stranger, draft.id, LETTERHEAD),
    ):
        with pytest.raises(NotAllowed):
            await attempt
    refused = [r for r in await audit_of(await _pnr(session, case)) if r[0] == stranger.sub]
    assert [(r[2], r[5]) for r in refused] == [
        ("create", "refused"),
        ("list", "refused"),
        ("read", "refused"),
        ("update", "refused"),
        ("sign", "refused"),
        ("read", "refused"),
    ]
    assert (await service.get_decision(session, caseworker, draft.id)).status == "Utkast"


async def test_a_protected_persons_address_is_only_in_the_letter_printed_with_the_permission(
    session: AsyncSession, caseworker: User, case_of: CaseOf
) -> None:
    case = await case_of(
        caseworker,
        protected_identity=True,
        registered_street="Hemliga vägen 3",
        registered_postal_code="11111",
        registered_city="Gömstad",
    )
    draft = await service.create_decision(session, caseworker, case.id, grant())
    signed = await service.sign_decision(session, caseworker, draft.id, LETTERHEAD)
    filed = pdf_text((await document(session, signed.document_id)).content)
    assert "Annika Test" in filed
    assert "Hemliga vägen" not in filed and "Gömstad" not in filed

    printed = pdf_text(
        render_pdf(await service.decision_letter_layout(session, caseworker, draft.id, LETTERHEAD))
    )
    assert "Hemliga vägen" not in printed and "Gömstad" not in printed
    permitted = User(
        sub=caseworker.sub,
        name=caseworker.name,
        roles=frozenset({"caseworker", "protected_identity"}),
        units=caseworker.units,
    )
    printed = pdf_text(
        render_pdf(await service.decision_letter_layout(session, permitted, draft.id, LETTERHEAD))
    )
    assert "Hemliga vägen 3" in printed and "11111 Gömstad" in printed


def test_the_appeal_deadline_is_three_weeks_on_and_never_a_weekend() -> None:
    assert appeal_by(date(2025, 3, 3)) == date(2025, 3, 24)  # a Monday: three weeks on
    assert appeal_by(date(2025, 3, 1)) == date(2025, 3, 24)  # a Saturday's deadline moves to the Monday
    assert appeal_by(date(2025, 3, 2)) == date(2025, 3, 24)  # and a Sunday's
