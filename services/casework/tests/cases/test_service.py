"""Investigations and cases at the service layer, against casework's real
PostgreSQL: starting an investigation (once, never after closing) and closing a
record without one, each announced in the same transaction; cases only while
the investigation runs, with a legal basis that fits the investigation and the
service; their status history; the records' access rule, audited (refusals
too); and the approval of related persons only once an investigation started."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases import service
from casework.cases.models import CaseStatus
from casework.cases.schemas import CaseCreate, InvestigationStart, RecordClose
from casework.intake_records import service as intake_records
from casework.intake_records.schemas import CoCaseworkerAdd
from casework.models import IntakeRecord, Person, RecordStatus
from casework.relations import service as relations
from casework.relations.schemas import ApprovalCreate
from casework.staff import service as staff
from shared.auth import User
from shared.contracts.casework import IntakeRecordClosed, InvestigationStarted, RecordType
from shared.personnummer import Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
Events = Callable[[uuid.UUID], Awaitable[list[str]]]
MakeRecord = Callable[..., Awaitable[IntakeRecord]]
_PAYLOADS = text("SELECT convert_from(payload, 'UTF8') FROM outbox WHERE key = :key ORDER BY id")
HEMTJANST = CaseCreate(service_code="hemtjanst", service_name="Hemtjänst", legal_basis="SoL 4 kap. 1 §")


@pytest.fixture
def record_of(session: AsyncSession, new_pnr: Callable[[], str]) -> MakeRecord:
    """A new intake record of `record_type` in `user`'s unit, `user` its caseworker."""

    async def make(user: User, record_type: RecordType = "Ansökan SoL", **values: Any) -> IntakeRecord:
        person = Person(id=uuid.uuid4(), pnr=new_pnr(), name="Annika Test")
        session.add(person)
        await session.flush()
        record = IntakeRecord(
            id=uuid.uuid4(),
            person_id=person.id,
            record_type=record_type,
            lss_services=["lss_personlig_assistans"] if record_type == "Begäran LSS" else [],
            caseworker_id=user.sub,
            caseworker_name=user.name,
            unit=user.units[0],
            from_whom="Den enskilde",
            channel="Telefon",
            note="",
            status=RecordStatus.NEW,
            created_by=user.sub,
            created_at=datetime.now(UTC),
            **values,
        )
        session.add(record)
        await session.flush()
        return record

    return make


async def pnr_of(session: AsyncSession, record: IntakeRecord) -> str:
    person = await session.get(Person, record.person_id)
    assert person is not None
    return person.pnr


async def payloads(session: AsyncSession, record_id: uuid.UUID) -> list[dict[str, Any]]:
    return [json.loads(p) for p in await session.scalars(_PAYLOADS, {"key": str(record_id)})]


async def investigating(session: AsyncSession, user: User, record: IntakeRecord) -> IntakeRecord:
    await service.start_investigation(session, user, record.id, InvestigationStart())
    return record


# ---- Starting and closing ----


async def test_starting_the_investigation_announces_it_and_the_citizen_sees_utredning_pagar(
    session: AsyncSession, caseworker: User, record_of: MakeRecord, events_of: Events, audit_of: Audit
) -> None:
    record = await record_of(caseworker, application_id=uuid.uuid4())
    started = await service.start_investigation(
        session, caseworker, record.id, InvestigationStart(method="IBIC")
    )
    assert (started.status, started.investigation_type, started.method) == (
        "Utredning",
        "Ansökan SoL",
        "IBIC",
    )
    assert started.status_for_citizen == "Utredning pågår"
    assert (record.status, record.investigation_started_by) == (RecordStatus.INVESTIGATION, caseworker.sub)
    assert await events_of(record.id) == [InvestigationStarted.ce_type]
    [event] = await payloads(session, record.id)
    assert event["application_id"] == str(record.application_id)
    assert (event["status"], event["investigation_type"]) == ("Utredning pågår", "Ansökan SoL")
    assert "citizen_pnr" not in event  # ids only: intake finds the application by its id
    audit = await audit_of(await pnr_of(session, record))
    assert audit == [(caseworker.sub, "caseworker", "start", "investigation", str(record.id), "allowed")]
    # It leaves the caseworker's "Nya aktualiseringar".
    assert record.id not in {r.id for r in await intake_records.new_records(session, caseworker)}
    shown = await intake_records.get_record(session, caseworker, record.id)
    assert (shown.status, shown.investigation_type, shown.investigation_method) == (
        "Utredning",
        "Ansökan SoL",
        "IBIC",
    )


async def test_an_investigation_starts_once_and_never_on_a_closed_record(
    session: AsyncSession, caseworker: User, record_of: MakeRecord, events_of: Events
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker))
    with pytest.raises(Conflict, match="started already"):
        async with session.begin_nested():
            await service.start_investigation(session, caseworker, record.id, InvestigationStart())
    closed = await record_of(caseworker)
    await service.close_record(session, caseworker, closed.id, RecordClose(reason="Förenklad handläggning"))
    with pytest.raises(Conflict, match="closed"):
        async with session.begin_nested():
            await service.start_investigation(session, caseworker, closed.id, InvestigationStart())
    assert await events_of(record.id) == [InvestigationStarted.ce_type]
    assert await events_of(closed.id) == [IntakeRecordClosed.ce_type]


async def test_the_investigation_type_follows_the_record_type(
    session: AsyncSession, caseworker: User, record_of: MakeRecord
) -> None:
    sol = await record_of(caseworker, "Ansökan SoL")
    with pytest.raises(InvalidInput, match="investigated as Ansökan SoL"):
        await service.start_investigation(
            session, caseworker, sol.id, InvestigationStart(investigation_type="Begäran LSS")
        )
    lss = await record_of(caseworker, "Begäran LSS")
    with pytest.raises(InvalidInput, match="IBIC"):
        await service.start_investigation(session, caseworker, lss.id, InvestigationStart(method="IBIC"))
    simplified = await record_of(caseworker, "Förenklad handläggning")
    with pytest.raises(InvalidInput, match="Choose the investigation's type"):
        await service.start_investigation(session, caseworker, simplified.id, InvestigationStart())
    started = await service.start_investigation(
        session, caseworker, simplified.id, InvestigationStart(investigation_type="Begäran LSS")
    )
    assert started.investigation_type == "Begäran LSS"
    assert (sol.status, lss.status) == (RecordStatus.NEW, RecordStatus.NEW)


async def test_closing_without_investigation_announces_avslutad_and_is_final(
    session: AsyncSession, caseworker: User, record_of: MakeRecord, events_of: Events, audit_of: Audit
) -> None:
    record = await record_of(caseworker, "Förenklad handläggning", application_id=uuid.uuid4())
    closed = await service.close_record(
        session, caseworker, record.id, RecordClose(reason="Förenklad handläggning")
    )
    assert (closed.status, closed.reason, closed.status_for_citizen) == (
        "Avslutad",
        "Förenklad handläggning",
        "Avslutad",
    )
    [event] = await payloads(session, record.id)
    assert (event["reason"], event["status"], event["application_id"]) == (
        "Förenklad handläggning",
        "Avslutad",
        str(record.application_id),
    )
    with pytest.raises(Conflict, match="closed already"):
        async with session.begin_nested():
            await service.close_record(session, caseworker, record.id, RecordClose(reason="Återtagen"))
    assert await events_of(record.id) == [IntakeRecordClosed.ce_type]
    audit = await audit_of(await pnr_of(session, record))
    assert audit[0] == (caseworker.sub, "caseworker", "close", "intake_record", str(record.id), "allowed")


async def test_a_record_under_investigation_is_not_closed_as_simplified(
    session: AsyncSession, caseworker: User, record_of: MakeRecord
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker))
    with pytest.raises(Conflict, match="investigation of this intake record has started"):
        await service.close_record(session, caseworker, record.id, RecordClose(reason="Återtagen"))


def test_a_close_reason_is_a_fixed_choice() -> None:
    with pytest.raises(ValidationError):
        RecordClose.model_validate({"reason": "Fri text om den enskilde"})


# ---- Cases ----


async def test_a_case_carries_its_service_legal_basis_caseworkers_and_status_history(
    session: AsyncSession, caseworker: User, record_of: MakeRecord, audit_of: Audit
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker))
    colleague = User(
        sub=f"cw-{uuid.uuid4().hex[:8]}",
        name="Kalle Kollega",
        roles=frozenset({"caseworker"}),
        units=caseworker.units,
    )
    await staff.remember(session, colleague)
    await intake_records.add_co_caseworker(
        session, caseworker, record.id, CoCaseworkerAdd(caseworker_id=colleague.sub)
    )
    case = await service.create_case(session, caseworker, record.id, HEMTJANST)
    assert (case.service_code, case.service_name, case.legal_basis, case.status) == (
        "hemtjanst",
        "Hemtjänst",
        "SoL 4 kap. 1 §",
        "Utredning pågår",
    )
    assert (case.caseworker_id, case.unit) == (caseworker.sub, caseworker.units[0])
    assert [c.caseworker_id for c in case.co_caseworkers] == [colleague.sub]
    assert [h.status for h in case.history] == ["Utredning pågår"]

    row, reached_record, _ = await service.reach_case(
        session, caseworker, case.id, "create", "decision", for_update=True
    )
    assert reached_record.id == record.id
    await service.mark_decided(session, row, datetime.now(UTC), caseworker.sub)
    again = await service.get_case(session, caseworker, case.id)
    assert again.status == CaseStatus.DECIDED
    assert [h.status for h in again.history] == ["Utredning pågår", "Beslut fattat"]
    assert [c.id for c in await service.cases_of_record(session, caseworker, record.id)] == [case.id]
    audit = await audit_of(await pnr_of(session, record))
    assert (caseworker.sub, "caseworker", "create", "case", str(case.id), "allowed") in audit
    assert (caseworker.sub, "caseworker", "create", "decision", str(case.id), "allowed") in audit
    assert (caseworker.sub, "caseworker", "read", "case", str(case.id), "allowed") in audit
    assert (caseworker.sub, "caseworker", "list", "case", str(record.id), "allowed") in audit


async def test_a_case_is_opened_only_while_the_investigation_runs(
    session: AsyncSession, caseworker: User, record_of: MakeRecord
) -> None:
    new = await record_of(caseworker)
    with pytest.raises(Conflict, match="start it first"):
        async with session.begin_nested():
            await service.create_case(session, caseworker, new.id, HEMTJANST)
    closed = await record_of(caseworker, "Förenklad handläggning")
    await service.close_record(session, caseworker, closed.id, RecordClose(reason="Återtagen"))
    with pytest.raises(Conflict):
        await service.create_case(session, caseworker, closed.id, HEMTJANST)
    assert not service.under_investigation(closed)


async def test_an_lss_case_rests_on_the_point_of_its_service(
    session: AsyncSession, caseworker: User, record_of: MakeRecord
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker, "Begäran LSS"))
    with pytest.raises(InvalidInput, match="LSS 9 § 2") as wrong_point:
        await service.create_case(
            session,
            caseworker,
            record.id,
            CaseCreate(service_code="lss_personlig_assistans", legal_basis="LSS 9 § 3"),
        )
    assert wrong_point.value.extra["field"] == "legal_basis"
    with pytest.raises(InvalidInput, match="LSS services only"):
        await service.create_case(session, caseworker, record.id, HEMTJANST)
    case = await service.create_case(
        session,
        caseworker,
        record.id,
        CaseCreate(service_code="lss_personlig_assistans", legal_basis="LSS 9 § 2"),
    )
    assert (case.service_name, case.legal_basis) == ("Personlig assistans", "LSS 9 § 2")


async def test_a_sol_case_rests_on_sol_and_needs_a_name_for_a_service_nobody_applied_for(
    session: AsyncSession, caseworker: User, record_of: MakeRecord
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker))
    with pytest.raises(InvalidInput, match=r"SoL 4 kap\. 1 §"):
        await service.create_case(
            session, caseworker, record.id, CaseCreate(service_code="hemtjanst", legal_basis="LSS 9 § 1")
        )
    with pytest.raises(InvalidInput, match="Begäran LSS"):
        await service.create_case(
            session,
            caseworker,
            record.id,
            CaseCreate(service_code="lss_radgivning", legal_basis="SoL 4 kap. 1 §"),
        )
    with pytest.raises(InvalidInput, match="service_name"):
        await service.create_case(
            session,
            caseworker,
            record.id,
            CaseCreate(service_code="trygghetslarm", legal_basis="SoL 4 kap. 1 §"),
        )


def test_a_legal_basis_outside_the_list_is_refused() -> None:
    with pytest.raises(ValidationError):
        CaseCreate.model_validate(
            {"service_code": "hemtjanst", "service_name": "Hemtjänst", "legal_basis": "SoL 2 kap."}
        )


async def test_one_case_per_service_of_a_record(
    session: AsyncSession, caseworker: User, record_of: MakeRecord
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker))
    await service.create_case(session, caseworker, record.id, HEMTJANST)
    with pytest.raises(Conflict, match="case for that service already"):
        await service.create_case(session, caseworker, record.id, HEMTJANST)


# ---- Access ----


async def test_another_units_caseworker_is_refused_everything_and_it_is_audited(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    record_of: MakeRecord,
    audit_of: Audit,
) -> None:
    record = await investigating(session, caseworker, await record_of(caseworker))
    case = await service.create_case(session, caseworker, record.id, HEMTJANST)
    other = make_caseworker()
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: service.start_investigation(session, other, record.id, InvestigationStart()),
        lambda: service.close_record(session, other, record.id, RecordClose(reason="Återtagen")),
        lambda: service.create_case(session, other, record.id, HEMTJANST),
        lambda: service.cases_of_record(session, other, record.id),
        lambda: service.get_case(session, other, case.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            async with session.begin_nested():
                await attempt()
    refused = [row for row in await audit_of(await pnr_of(session, record)) if row[0] == other.sub]
    assert [(r[2], r[3], r[5]) for r in refused] == [
        ("start", "investigation", "refused"),
        ("close", "intake_record", "refused"),
        ("create", "case", "refused"),
        ("list", "case", "refused"),
        ("read", "case", "refused"),
    ]


async def test_an_unknown_case_or_record_is_not_found(session: AsyncSession, caseworker: User) -> None:
    with pytest.raises(NotFound):
        await service.get_case(session, caseworker, uuid.uuid4())
    with pytest.raises(NotFound):
        await service.start_investigation(session, caseworker, uuid.uuid4(), InvestigationStart())


# ---- The approval gate (CW-7, IN-7) ----


async def test_related_persons_are_approved_only_once_an_investigation_started(
    session: AsyncSession, caseworker: User, record_of: MakeRecord, new_pnr: Callable[[], str]
) -> None:
    record = await record_of(caseworker)
    form = ApprovalCreate(
        related_personnummer=Personnummer(new_pnr()),
        related_name="Josefine Test",
        valid_from=date.today(),
        consent_registered=True,
    )
    with pytest.raises(Conflict, match="investigation has started"):
        async with session.begin_nested():
            await relations.approve(session, caseworker, record.person_id, form)
    await investigating(session, caseworker, record)
    approval = await relations.approve(session, caseworker, record.person_id, form)
    assert approval.active
