"""Applying and following an application at the service layer, against
intake's real PostgreSQL: the application and its ApplicationSubmitted event
in one transaction, the refusals, and the status history casework reports
(Ny → Mottagen → Utredning pågår → Beslut fattat per service, or Avslutad),
each step once, never run back by an older event replayed late."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import service
from intake.applications.schemas import ApplicationCreate, ApplicationOut
from shared.auth import User
from shared.contracts.casework import (
    ApplicationLinked,
    DecisionMade,
    IntakeRecordClosed,
    InvestigationStarted,
)
from shared.contracts.intake import ApplicationSubmitted
from shared.events import Envelope, Event
from shared.problems import InvalidInput, NotAllowed, NotFound

FORM = ApplicationCreate(entry="sol", services=["trygghetslarm"], description="Jag trillar ibland")


async def _apply(session: AsyncSession, user: User, **changes: Any) -> ApplicationOut:
    return await service.submit(session, user, FORM.model_copy(update=changes))


async def test_an_application_is_stored_with_its_event_and_its_first_status(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    outbox: Callable[[str, str], Awaitable[list[dict[str, Any]]]],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    submitted = await _apply(session, user, services=["trygghetslarm", "trygghetslarm"])
    assert [s.code for s in submitted.services] == ["trygghetslarm"]  # a repeat is dropped
    assert [h.status for h in submitted.history] == ["Ny"] and submitted.status == "Ny"
    [event] = await outbox(ApplicationSubmitted.ce_type, str(submitted.id))
    assert (event["applicant"]["pnr"], event["entry"]) == (str(user.pnr), "sol")
    assert [(e["action"], e["object_id"]) for e in await audit_log(str(user.pnr))] == [
        ("create", str(submitted.id))
    ]
    assert await service.get_own(session, user, submitted.id) == submitted


async def test_applying_for_someone_else_is_refused_and_the_refusal_audited(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    with pytest.raises(NotAllowed):
        await _apply(session, user, acting_for=uuid.uuid4())
    assert [(e["action"], e["outcome"]) for e in await audit_log(str(user.pnr))] == [("create", "refused")]


async def test_a_service_is_applied_for_only_under_its_own_entry_point(
    session: AsyncSession, make_citizen: Callable[..., User]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await _apply(session, make_citizen(), entry="lss")
    assert refused.value.extra == {"wrong_entry": ["trygghetslarm"]}
    with pytest.raises(InvalidInput, match="Unknown service"):
        await _apply(session, make_citizen(), services=["no_such_service"])


async def test_another_citizens_application_is_refused_and_the_refusal_audited(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    owner, other = make_citizen(), make_citizen()
    submitted = await _apply(session, owner)
    with pytest.raises(NotAllowed):
        await service.pdf_of_own(session, other, submitted.id)
    refusals = [e for e in await audit_log(str(owner.pnr)) if e["outcome"] == "refused"]
    assert [(e["actor"], e["action"]) for e in refusals] == [(other.sub, "read_pdf")]
    with pytest.raises(NotFound):
        await service.get_own(session, owner, uuid.uuid4())


def _linked(application: ApplicationOut, user: User, at: datetime) -> ApplicationLinked:
    assert user.pnr is not None
    return ApplicationLinked(
        application_id=application.id,
        record_id=uuid.uuid4(),
        person_id=uuid.uuid4(),
        citizen_pnr=user.pnr,
        record_type="Förenklad handläggning",
        status="Mottagen",
        linked_at=at,
    )


async def test_the_status_history_follows_application_linked(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    make_envelope: Callable[[Event], Envelope],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    submitted = await _apply(session, user)
    linked_at = datetime.now(UTC) + timedelta(minutes=1)
    event = _linked(submitted, user, linked_at)
    await service.on_linked(session, event, make_envelope(event))
    await service.on_linked(session, event, make_envelope(event))  # replayed with a new ce_id
    [seen] = await service.list_own(session, user)
    assert seen.status == "Mottagen"
    history = [(h.status, h.at) for h in seen.history]
    assert history == [("Ny", submitted.submitted_at), ("Mottagen", linked_at)]
    applied = [e for e in await audit_log(str(user.pnr)) if e["action"] == "update"]
    assert [(e["actor"], e["actor_role"], e["object_id"]) for e in applied] == [
        ("event:/omsorg/casework", "system", str(submitted.id))
    ]


async def test_a_link_of_an_application_intake_never_had_fails_loudly(
    session: AsyncSession, make_citizen: Callable[..., User], make_envelope: Callable[[Event], Envelope]
) -> None:
    user = make_citizen()
    unknown = ApplicationOut(
        id=uuid.uuid4(),
        entry="sol",
        services=[],
        description="-",
        status="Ny",
        submitted_at=datetime.now(UTC),
        history=[],
    )
    event = _linked(unknown, user, datetime.now(UTC))
    with pytest.raises(LookupError):
        await service.on_linked(session, event, make_envelope(event))


def _started(application: ApplicationOut, at: datetime) -> InvestigationStarted:
    return InvestigationStarted(
        record_id=uuid.uuid4(),
        person_id=uuid.uuid4(),
        application_id=application.id,
        investigation_type="Ansökan SoL",
        status="Utredning pågår",
        started_at=at,
    )


def _decided(application: ApplicationOut, service_code: str, at: datetime) -> DecisionMade:
    return DecisionMade(
        decision_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        record_id=uuid.uuid4(),
        person_id=uuid.uuid4(),
        application_id=application.id,
        service_code=service_code,
        outcome="Beviljad",
        status="Beslut fattat",
        decided_at=at,
    )


async def test_the_status_history_follows_the_investigation_to_a_decision_per_service(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    make_envelope: Callable[[Event], Envelope],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    submitted = await _apply(session, user, services=["hemtjanst", "trygghetslarm"])
    now = datetime.now(UTC)
    linked, started = _linked(submitted, user, now), _started(submitted, now + timedelta(minutes=1))
    decided = _decided(submitted, "trygghetslarm", now + timedelta(minutes=2))
    await service.on_linked(session, linked, make_envelope(linked))
    for _ in range(2):  # the second time replayed (new ce_ids)
        await service.on_investigation_started(session, started, make_envelope(started))
        await service.on_decision_made(session, decided, make_envelope(decided))
    session.expire_all()  # read as the next request would
    seen = await service.get_own(session, user, submitted.id)
    assert seen.status == "Beslut fattat"
    assert [(h.status, h.service_name) for h in seen.history] == [
        ("Ny", None),
        ("Mottagen", None),
        ("Utredning pågår", None),
        ("Beslut fattat", "Trygghetslarm"),
    ]
    assert [(s.code, s.status, s.status_at) for s in seen.services] == [
        ("hemtjanst", None, None),
        ("trygghetslarm", "Beslut fattat", decided.decided_at),
    ]
    applied = [e for e in await audit_log(str(user.pnr)) if e["action"] == "update"]
    assert len(applied) == 3  # one per step applied, none for the replays


async def test_an_older_step_replayed_late_never_runs_the_status_back(
    session: AsyncSession, make_citizen: Callable[..., User], make_envelope: Callable[[Event], Envelope]
) -> None:
    user = make_citizen()
    submitted = await _apply(session, user)
    now = datetime.now(UTC)
    started, linked = _started(submitted, now + timedelta(minutes=1)), _linked(submitted, user, now)
    await service.on_investigation_started(session, started, make_envelope(started))
    await service.on_linked(session, linked, make_envelope(linked))  # a dead letter replayed after
    session.expire_all()
    seen = await service.get_own(session, user, submitted.id)
    assert seen.status == "Utredning pågår"
    assert [h.status for h in seen.history] == ["Ny", "Mottagen", "Utredning pågår"]  # by time


async def test_a_record_closed_without_investigation_shows_avslutad(
    session: AsyncSession, make_citizen: Callable[..., User], make_envelope: Callable[[Event], Envelope]
) -> None:
    user = make_citizen()
    submitted = await _apply(session, user)
    now = datetime.now(UTC)
    linked = _linked(submitted, user, now)
    closed = IntakeRecordClosed(
        record_id=linked.record_id,
        person_id=linked.person_id,
        application_id=submitted.id,
        reason="Förenklad handläggning",
        status="Avslutad",
        closed_at=now + timedelta(minutes=1),
    )
    await service.on_linked(session, linked, make_envelope(linked))
    await service.on_record_closed(session, closed, make_envelope(closed))
    session.expire_all()
    seen = await service.get_own(session, user, submitted.id)
    assert (seen.status, [h.status for h in seen.history]) == ("Avslutad", ["Ny", "Mottagen", "Avslutad"])


async def test_a_step_of_a_record_without_an_e_application_changes_nothing(
    session: AsyncSession, make_citizen: Callable[..., User], make_envelope: Callable[[Event], Envelope]
) -> None:
    user = make_citizen()
    submitted = await _apply(session, user)
    started = _started(submitted, datetime.now(UTC)).model_copy(update={"application_id": None})
    await service.on_investigation_started(session, started, make_envelope(started))
    assert (await service.get_own(session, user, submitted.id)).status == "Ny"
    unknown = _started(submitted, datetime.now(UTC)).model_copy(update={"application_id": uuid.uuid4()})
    with pytest.raises(LookupError):
        await service.on_investigation_started(session, unknown, make_envelope(unknown))
