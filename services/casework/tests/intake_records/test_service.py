"""Linking an e-application into an intake record (Koppla ansökan) at the service
layer, against casework's real PostgreSQL: all or nothing, once, in one's own units."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.e_applications import service as inbox
from casework.intake_records import service
from casework.intake_records.schemas import LinkApplication
from casework.models import ApplicationStatus, Document, IncomingApplication, IntakeRecord, RecordStatus
from shared.auth import User
from shared.contracts.casework import ApplicationLinked, CaseworkerAssigned
from shared.contracts.intake import Applicant, ApplicationSubmitted, AppliedService
from shared.events import Envelope, Event
from shared.personnummer import Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed

Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]


@pytest.fixture
def submit(
    session: AsyncSession, envelope: Callable[[Event], Envelope], new_pnr: Callable[[], str]
) -> Callable[[], Awaitable[ApplicationSubmitted]]:
    """Put a fresh e-application into the inbox, as ApplicationSubmitted does."""

    async def make() -> ApplicationSubmitted:
        event = ApplicationSubmitted(
            application_id=uuid.uuid4(),
            entry="sol",
            services=[AppliedService(code="trygghetslarm", name="Trygghetslarm", category="Trygghet")],
            description="Jag trillar då och då",
            applicant=Applicant(pnr=Personnummer(new_pnr()), name="Annika Test"),
            submitted_at=datetime.now(UTC),
        )
        await inbox.receive_application(session, event, envelope(event))
        return event

    return make


def link_form(user: User, **values: Any) -> LinkApplication:
    return LinkApplication.model_validate(
        {
            "record_type": "Förenklad handläggning",
            "caseworker_id": user.sub,
            "unit": user.units[0],
            "from_whom": "Den enskilde",
            **values,
        }
    )


async def records_of(session: AsyncSession, application_id: uuid.UUID) -> int:
    query = (
        select(func.count()).select_from(IntakeRecord).where(IntakeRecord.application_id == application_id)
    )
    return int(await session.scalar(query) or 0)


async def test_a_link_creates_person_record_and_document_and_tells_intake(
    session: AsyncSession,
    caseworker: User,
    submit: Callable[[], Awaitable[ApplicationSubmitted]],
    events_of: Callable[[uuid.UUID], Awaitable[list[str]]],
) -> None:
    application = await submit()
    linked = await service.link_application(
        session, caseworker, application.application_id, link_form(caseworker)
    )
    assert linked.person_created
    record = await session.get(IntakeRecord, linked.record_id)
    assert record is not None and record.status is RecordStatus.NEW and record.note == "Jag trillar då och då"
    inboxed = await session.get(IncomingApplication, application.application_id)
    assert inboxed is not None and inboxed.status is ApplicationStatus.LINKED
    assert inboxed.record_id == linked.record_id
    documents = list(await session.scalars(select(Document).where(Document.record_id == linked.record_id)))
    assert [(d.title, d.content[:4]) for d in documents] == [("Ansökan", b"%PDF")]
    assert await events_of(application.application_id) == [ApplicationLinked.ce_type]
    assert await events_of(linked.record_id) == [CaseworkerAssigned.ce_type]
    new = await service.new_records(session, caseworker)
    assert [(r.id, r.person_name) for r in new] == [(linked.record_id, "Annika Test")]


async def test_linking_twice_is_refused(
    session: AsyncSession, caseworker: User, submit: Callable[[], Awaitable[ApplicationSubmitted]]
) -> None:
    application = await submit()
    await service.link_application(session, caseworker, application.application_id, link_form(caseworker))
    with pytest.raises(Conflict, match="already linked"):
        async with session.begin_nested():
            await service.link_application(
                session, caseworker, application.application_id, link_form(caseworker)
            )
    assert await records_of(session, application.application_id) == 1


async def test_lss_request_without_lss_services_is_refused_and_nothing_is_written(
    session: AsyncSession,
    caseworker: User,
    submit: Callable[[], Awaitable[ApplicationSubmitted]],
    events_of: Callable[[uuid.UUID], Awaitable[list[str]]],
) -> None:
    application = await submit()
    with pytest.raises(InvalidInput, match="at least one"):
        async with session.begin_nested():
            await service.link_application(
                session,
                caseworker,
                application.application_id,
                link_form(caseworker, record_type="Begäran LSS"),
            )
    assert await records_of(session, application.application_id) == 0
    inboxed = await session.get(IncomingApplication, application.application_id, populate_existing=True)
    assert inboxed is not None and inboxed.status is ApplicationStatus.NEW and inboxed.record_id is None
    assert await events_of(application.application_id) == []


async def test_a_caseworker_of_another_unit_is_refused_and_the_refusal_audited(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    submit: Callable[[], Awaitable[ApplicationSubmitted]],
    audit_of: Audit,
) -> None:
    application = await submit()
    outsider = make_caseworker()
    with pytest.raises(NotAllowed):
        async with session.begin_nested():
            await service.link_application(
                session, outsider, application.application_id, link_form(caseworker)
            )
    assert await records_of(session, application.application_id) == 0
    refused = (outsider.sub, "caseworker", "link", "incoming_application", str(application.application_id))
    assert [row[:5] for row in await audit_of(str(application.applicant.pnr)) if row[5] == "refused"] == [
        refused
    ]
