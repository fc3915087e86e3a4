"""Investigations and cases (CW-7, CW-9, IN-6).

A caseworker starts the investigation (utredning) of an intake record, or closes
the record without one (förenklad handläggning). Starting it is what lets
related persons be approved (relations) and shows the citizen "Utredning
pågår"; closing shows "Avslutad" (InvestigationStarted, IntakeRecordClosed, on
the record's key so intake applies them in order). While the investigation
runs, a case (ärende) per service (insats) carries its legal basis and a status
history; decisions (casework.decisions) are made on cases and mark them decided.

Access is the records' rule: caseworkers of the record's unit; every read and
write is audited, refusals too. The record's row lock orders its changes: the
start, the closing and each new case take it, so a case never appears on a
record that was closed meanwhile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases import repository
from casework.cases.models import (
    LSS_BASIS_OF_SERVICE,
    SOL_BASIS,
    Case,
    CaseStatus,
    CaseStatusChange,
)
from casework.cases.schemas import (
    MAX_CASES,
    MAX_HISTORY,
    CaseCreate,
    CaseOut,
    CaseStatusOut,
    InvestigationOut,
    InvestigationStart,
    RecordClose,
    RecordClosedOut,
)
from casework.config import SOURCE
from casework.e_applications import service as inbox
from casework.intake_records import service as intake_records
from casework.lss import LSS_SERVICES
from casework.models import IntakeRecord, Person, RecordStatus
from shared.auth import User
from shared.contracts.casework import IntakeRecordClosed, InvestigationStarted, InvestigationType
from shared.outbox import add_event
from shared.problems import Conflict, InvalidInput, NotFound

# What the citizen sees in Mina sidor (IN-6).
INVESTIGATION_STATUS_FOR_CITIZEN = "Utredning pågår"
CLOSED_STATUS_FOR_CITIZEN = "Avslutad"
DECIDED_STATUS_FOR_CITIZEN = "Beslut fattat"


def under_investigation(record: IntakeRecord) -> bool:
    """Whether the record's investigation runs: cases and decisions are made only then."""
    return record.status == RecordStatus.INVESTIGATION


def _not_open(record: IntakeRecord) -> Conflict:
    if record.status == RecordStatus.INVESTIGATION:
        return Conflict("The investigation of this intake record has started already.")
    return Conflict("This intake record is closed: an investigation can no longer start on it.")


def _investigation_type(record: IntakeRecord, form: InvestigationStart) -> InvestigationType:
    given: InvestigationType | None = None
    if record.record_type == "Ansökan SoL":
        given = "Ansökan SoL"
    elif record.record_type == "Begäran LSS":
        given = "Begäran LSS"
    if given is not None:
        if form.investigation_type not in (None, given):
            raise InvalidInput(
                f"An intake record of {given} is investigated as {given}.", field="investigation_type"
            )
        return given
    if form.investigation_type is None:
        raise InvalidInput(
            "Choose the investigation's type (Ansökan SoL or Begäran LSS) for a record of "
            "Förenklad handläggning.",
            field="investigation_type",
        )
    return form.investigation_type


async def start_investigation(
    session: AsyncSession, user: User, record_id: uuid.UUID, form: InvestigationStart
) -> InvestigationOut:
    """Start the record's investigation (InvestigationStarted): related persons can now be approved."""
    record, person = await intake_records.reach_record(
        session, user, record_id, "start", "investigation", for_update=True
    )
    if record.status in (RecordStatus.INVESTIGATION, RecordStatus.CLOSED):
        raise _not_open(record)
    kind = _investigation_type(record, form)
    if form.method is not None and kind != "Ansökan SoL":
        raise InvalidInput("IBIC is a method of SoL investigations (elderly care).", field="method")
    now = datetime.now(UTC)
    record.status = RecordStatus.INVESTIGATION
    record.investigation_type = kind
    record.investigation_method = form.method
    record.investigation_started_at = now
    record.investigation_started_by = user.sub
    await session.flush()
    await add_event(
        session,
        InvestigationStarted(
            record_id=record.id,
            person_id=person.id,
            application_id=record.application_id,
            investigation_type=kind,
            status=INVESTIGATION_STATUS_FOR_CITIZEN,
            started_at=now,
        ),
        SOURCE,
    )
    return InvestigationOut(
        record_id=record.id,
        status=record.status,
        investigation_type=kind,
        method=form.method,
        started_at=now,
        status_for_citizen=INVESTIGATION_STATUS_FOR_CITIZEN,
    )


async def close_record(
    session: AsyncSession, user: User, record_id: uuid.UUID, form: RecordClose
) -> RecordClosedOut:
    """Close the record without an investigation (IntakeRecordClosed): the citizen sees "Avslutad"."""
    record, person = await intake_records.reach_record(
        session, user, record_id, "close", "intake_record", for_update=True
    )
    if record.status == RecordStatus.CLOSED:
        raise Conflict("This intake record is closed already.")
    if record.status == RecordStatus.INVESTIGATION:
        raise Conflict(
            "The investigation of this intake record has started: it ends with decisions on its cases, "
            "not by closing the record."
        )
    now = datetime.now(UTC)
    record.status = RecordStatus.CLOSED
    record.closed_at = now
    record.closed_by = user.sub
    record.close_reason = form.reason
    await session.flush()
    await add_event(
        session,
        IntakeRecordClosed(
            record_id=record.id,
            person_id=person.id,
            application_id=record.application_id,
            reason=form.reason,
            status=CLOSED_STATUS_FOR_CITIZEN,
            closed_at=now,
        ),
        SOURCE,
    )
    return RecordClosedOut(
        record_id=record.id,
        status=record.status,
        reason=form.reason,
        closed_at=now,
        status_for_citizen=CLOSED_STATUS_FOR_CITIZEN,
    )


async def _service_name(session: AsyncSession, record: IntakeRecord, form: CaseCreate) -> str:
    if form.service_name is not None:
        return form.service_name
    if form.service_code in LSS_SERVICES:
        return LSS_SERVICES[form.service_code]
    if record.application_id is not None:
        application = await inbox.find(session, record.application_id)
        for service in application.services:
            if service.get("code") == form.service_code:
                return str(service["name"])
    raise InvalidInput(
        "Name the service (service_name): it is neither an LSS service nor one the e-application asked for.",
        field="service_name",
    )


def _check_legal_basis(record: IntakeRecord, form: CaseCreate) -> None:
    lss_basis = LSS_BASIS_OF_SERVICE.get(form.service_code)
    if record.investigation_type == "Begäran LSS":
        if lss_basis is None:
            raise InvalidInput(
                "A Begäran LSS investigates LSS services only.",
                field="service_code",
                allowed=sorted(LSS_SERVICES),
            )
        if form.legal_basis != lss_basis:
            raise InvalidInput(
                f"{LSS_SERVICES[form.service_code]} is granted under {lss_basis}.",
                field="legal_basis",
                expected=lss_basis,
            )
    elif form.legal_basis != SOL_BASIS or lss_basis is not None:
        raise InvalidInput(
            f"An Ansökan SoL investigates services under {SOL_BASIS}; LSS services need a Begäran LSS.",
            field="legal_basis",
            expected=SOL_BASIS,
        )


async def _case_outs(session: AsyncSession, cases: list[Case], record: IntakeRecord) -> list[CaseOut]:
    history = await repository.history_of(session, [c.id for c in cases])
    co_caseworkers = await intake_records.co_caseworkers(session, record.id)
    return [
        CaseOut(
            id=case.id,
            record_id=case.record_id,
            person_id=case.person_id,
            service_code=case.service_code,
            service_name=case.service_name,
            legal_basis=case.legal_basis,
            status=case.status,
            unit=record.unit,
            caseworker_id=record.caseworker_id,
            caseworker_name=record.caseworker_name,
            co_caseworkers=co_caseworkers,
            created_at=case.created_at,
            history=[CaseStatusOut(status=h.status, at=h.at) for h in history if h.case_id == case.id][
                -MAX_HISTORY:
            ],
        )
        for case in cases
    ]


async def create_case(session: AsyncSession, user: User, record_id: uuid.UUID, form: CaseCreate) -> CaseOut:
    """Open a case for one service of the record's investigation, with its legal basis."""
    case_id = uuid.uuid4()
    record, person = await intake_records.reach_record(
        session, user, record_id, "create", "case", case_id, for_update=True
    )
    if not under_investigation(record):
        raise Conflict(
            "Cases are opened only while the record's investigation runs: start it first "
            "(POST /intake-records/{id}/investigation)."
        )
    _check_legal_basis(record, form)
    if await repository.of_service(session, record.id, form.service_code) is not None:
        raise Conflict("This record has a case for that service already.", field="service_code")
    if await repository.count_of_record(session, record.id) >= MAX_CASES:
        raise Conflict(f"An intake record has at most {MAX_CASES} cases.")
    now = datetime.now(UTC)
    case = Case(
        id=case_id,
        record_id=record.id,
        person_id=person.id,
        service_code=form.service_code,
        service_name=await _service_name(session, record, form),
        legal_basis=form.legal_basis,
        status=CaseStatus.UNDER_INVESTIGATION,
        created_by=user.sub,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, case)
    await session.flush()  # the case before its history (foreign key)
    repository.add(
        session,
        CaseStatusChange(case_id=case.id, status=CaseStatus.UNDER_INVESTIGATION, at=now, by_sub=user.sub),
    )
    await session.flush()
    return (await _case_outs(session, [case], record))[0]


async def reach_case(
    session: AsyncSession,
    user: User,
    case_id: uuid.UUID,
    action: str,
    object_type: str = "case",
    object_id: uuid.UUID | None = None,
    *,
    for_update: bool = False,
) -> tuple[Case, IntakeRecord, Person]:
    """The case, its record and person, if a unit of the caseworker's holds the record
    (NotFound, or a refusal audited, otherwise); the access is audited as `action` on
    `object_type` `object_id` (the case's id). `for_update` locks the record's row,
    then the case's, always in that order."""
    case = await repository.get(session, case_id)
    if case is None:
        raise NotFound("There is no such case.")
    record, person = await intake_records.reach_record(
        session, user, case.record_id, action, object_type, object_id or case.id, for_update=for_update
    )
    if for_update:
        locked = await repository.get_locked(session, case_id)
        assert locked is not None  # cases are never deleted
        case = locked
    return case, record, person


async def get_case(session: AsyncSession, user: User, case_id: uuid.UUID) -> CaseOut:
    """One case with its status history."""
    case, record, _ = await reach_case(session, user, case_id, "read")
    return (await _case_outs(session, [case], record))[0]


async def cases_of_record(session: AsyncSession, user: User, record_id: uuid.UUID) -> list[CaseOut]:
    """The record's cases, oldest first."""
    record, _ = await intake_records.reach_record(session, user, record_id, "list", "case")
    return await _case_outs(session, await repository.of_record(session, record.id), record)


async def mark_decided(session: AsyncSession, case: Case, at: datetime, by_sub: str) -> None:
    """The case's decision was signed: its status becomes "Beslut fattat" (again, for a correction)."""
    case.status = CaseStatus.DECIDED
    case.updated_at = at
    repository.add(
        session, CaseStatusChange(case_id=case.id, status=CaseStatus.DECIDED, at=at, by_sub=by_sub)
    )
    await session.flush()


async def of_record(session: AsyncSession, record_id: uuid.UUID) -> list[Case]:
    """The record's cases (no access check: for a module that reached the record)."""
    return await repository.of_record(session, record_id)


async def get(session: AsyncSession, case_id: uuid.UUID) -> Case | None:
    """A case by id (no access check: for a module that reached its record)."""
    return await repository.get(session, case_id)
