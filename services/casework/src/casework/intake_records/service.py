"""Intake records (aktualiseringar, CW-2, CW-3): linking an e-application creates
or finds the person, creates the record, files the application PDF under its
documentation, and tells intake (ApplicationLinked) and everyone following the
case (CaseworkerAssigned) in the same transaction. Caseworkers of the record's
unit add and remove its co-caseworkers (medhandläggare), announced as
CoCaseworkerAdded/Removed with the record's co-caseworker version.

The PDF is rendered before any row is locked (the e-application, the staff row
of `remember`), from an unlocked read, and in a worker thread; under the lock
only its inputs are compared again. The link stays one transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.config import SOURCE, TIME_ZONE
from casework.e_applications import service as inbox
from casework.intake_records import repository
from casework.intake_records.schemas import (
    MAX_CO_CASEWORKERS,
    CoCaseworkerAdd,
    CoCaseworkerOut,
    DocumentOut,
    IntakeRecordOut,
    LinkApplication,
    LinkResult,
)
from casework.lss import LSS_SERVICES
from casework.models import CoCaseworker, Document, IncomingApplication, IntakeRecord, Person, RecordStatus
from casework.persons import access as person_access
from casework.persons import service as persons
from casework.staff import service as staff
from shared import audit, pdf
from shared.auth import User
from shared.contracts.casework import (
    ApplicationLinked,
    CaseworkerAssigned,
    CoCaseworkerAdded,
    CoCaseworkerRemoved,
)
from shared.contracts.intake import ApplicationDocument
from shared.outbox import add_event
from shared.personnummer import Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

STATUS_FOR_CITIZEN = "Mottagen"  # what the applicant sees in Mina sidor


def _entry(user: User, action: str, object_type: str, object_id: uuid.UUID, pnr: str) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role="caseworker",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        subject_pnr=pnr,
    )


def _check_lss(form: LinkApplication) -> list[str]:
    services = list(dict.fromkeys(form.lss_services))
    if form.record_type == "Begäran LSS":
        if not services:
            raise InvalidInput(
                "Begäran LSS needs at least one of the LSS services (LSS 9 §).", field="lss_services"
            )
        unknown = [s for s in services if s not in LSS_SERVICES]
        if unknown:
            raise InvalidInput(
                f"Not an LSS service: {', '.join(unknown)}.",
                field="lss_services",
                allowed=sorted(LSS_SERVICES),
            )
    elif services:
        raise InvalidInput("LSS services are chosen only with Begäran LSS.", field="lss_services")
    return services


def _document_of(application: IncomingApplication) -> ApplicationDocument:
    return ApplicationDocument(
        application_id=str(application.id),
        entry=application.entry,
        applicant_name=application.applicant_name,
        applicant_pnr=application.applicant_pnr,
        services=[s["name"] for s in application.services],
        description=application.description,
        submitted_at=application.submitted_at,
    )


async def link_application(
    session: AsyncSession, user: User, application_id: uuid.UUID, form: LinkApplication
) -> LinkResult:
    """Link an e-application into a new intake record (Koppla ansökan)."""
    lss_services = _check_lss(form)
    application = await inbox.find(session, application_id)
    # Render first, holding no lock: only for a link that can go through.
    rendered: tuple[ApplicationDocument, bytes] | None = None
    if application.record_id is None and form.unit in user.units:
        document_data = _document_of(application)
        rendered = document_data, await pdf.render_off_loop(document_data.layout(TIME_ZONE))
    await staff.remember(session, user)
    application = await inbox.lock(session, application_id)
    entry = _entry(user, "link", "incoming_application", application.id, application.applicant_pnr)
    if form.unit not in user.units:
        raise await audit.refuse(
            session, entry, NotAllowed("You can create intake records only in your own units.")
        )
    if application.record_id is not None:
        raise Conflict(
            "This e-application is already linked to an intake record.", record_id=str(application.record_id)
        )
    caseworker = await staff.caseworker_of_unit(session, form.caseworker_id, form.unit)
    if caseworker is None:
        raise InvalidInput(
            "The chosen caseworker (Handläggare) is not a caseworker of that organisation.",
            field="caseworker_id",
        )

    now = datetime.now(UTC)
    person, created = await persons.find_or_create(
        session, application.applicant_pnr, application.applicant_name
    )
    record = IntakeRecord(
        id=uuid.uuid4(),
        person_id=person.id,
        application_id=application.id,
        record_type=form.record_type,
        lss_services=lss_services,
        caseworker_id=caseworker.id,
        caseworker_name=caseworker.name,
        unit=form.unit,
        from_whom=form.from_whom,
        channel=form.channel,
        reason=form.reason,
        note=form.note if form.note else application.description,
        status=RecordStatus.NEW,
        created_by=user.sub,
        created_at=now,
    )
    if rendered is None or rendered[0] != _document_of(application):
        # Rare: the e-application changed since the unlocked read; render what is filed.
        document_data = _document_of(application)
        rendered = document_data, await pdf.render_off_loop(document_data.layout(TIME_ZONE))
    content = rendered[1]
    document = Document(
        id=uuid.uuid4(),
        person_id=person.id,
        record_id=record.id,
        doc_type="E-ansökan",
        title="Ansökan",
        content_type="application/pdf",
        content=content,
        created_at=now,
    )
    repository.add(session, record)
    await session.flush()  # the record before its document (foreign key)
    repository.add(session, document)
    inbox.mark_linked(application, record.id, now)

    await add_event(
        session,
        ApplicationLinked(
            application_id=application.id,
            record_id=record.id,
            person_id=person.id,
            citizen_pnr=Personnummer(person.pnr),
            record_type=form.record_type,
            status=STATUS_FOR_CITIZEN,
            linked_at=now,
        ),
        SOURCE,
    )
    await add_event(
        session,
        CaseworkerAssigned(
            record_id=record.id,
            person_id=person.id,
            citizen_pnr=Personnummer(person.pnr),
            caseworker_id=caseworker.id,
            caseworker_name=caseworker.name,
            unit=form.unit,
            assigned_at=now,
        ),
        SOURCE,
    )
    await audit.record(
        session,
        entry,
        *([_entry(user, "create", "person", person.id, person.pnr)] if created else []),
        _entry(user, "create", "intake_record", record.id, person.pnr),
        _entry(user, "create", "document", document.id, person.pnr),
    )
    await session.flush()
    return LinkResult(
        record_id=record.id, person_id=person.id, kundnummer=person.kundnummer, person_created=created
    )


def _co_caseworker_out(row: CoCaseworker) -> CoCaseworkerOut:
    return CoCaseworkerOut(
        caseworker_id=row.caseworker_id,
        caseworker_name=row.caseworker_name,
        added_by=row.added_by,
        added_at=row.added_at,
    )


async def _out(session: AsyncSession, records: list[tuple[IntakeRecord, Person]]) -> list[IntakeRecordOut]:
    documents = await repository.documents_of(session, [r.id for r, _ in records])
    co_caseworkers = await repository.co_caseworkers_of(session, [r.id for r, _ in records])
    return [
        IntakeRecordOut(
            id=r.id,
            person_id=r.person_id,
            person_name=p.name,
            application_id=r.application_id,
            record_type=r.record_type,
            lss_services=r.lss_services,
            caseworker_id=r.caseworker_id,
            caseworker_name=r.caseworker_name,
            co_caseworkers=[_co_caseworker_out(c) for c in co_caseworkers if c.record_id == r.id],
            unit=r.unit,
            from_whom=r.from_whom,
            channel=r.channel,
            reason=r.reason,
            note=r.note,
            status=r.status,
            created_at=r.created_at,
            investigation_type=r.investigation_type,
            investigation_method=r.investigation_method,
            investigation_started_at=r.investigation_started_at,
            closed_at=r.closed_at,
            close_reason=r.close_reason,
            documents=[
                DocumentOut(
                    id=d.id,
                    doc_type=d.doc_type,
                    title=d.title,
                    content_type=d.content_type,
                    created_at=d.created_at,
                )
                for d in documents
                if d.record_id == r.id
            ],
        )
        for r, p in records
    ]


async def new_records(session: AsyncSession, user: User) -> list[IntakeRecordOut]:
    """The caseworker's "Nya aktualiseringar"."""
    await staff.remember(session, user)
    # Only the units the caseworker belongs to now: one who left a unit no longer sees its records.
    records = await repository.of_caseworker(session, user.sub, list(user.units), RecordStatus.NEW)
    people = await persons.by_ids(session, {r.person_id for r in records})
    rows = [(r, people[r.person_id]) for r in records]
    await audit.record_many(session, (_entry(user, "list", "intake_record", r.id, p.pnr) for r, p in rows))
    return await _out(session, rows)


async def _reach_record(
    session: AsyncSession,
    user: User,
    record_id: uuid.UUID,
    action: str,
    object_type: str = "intake_record",
    object_id: uuid.UUID | None = None,
    *,
    for_update: bool = False,
) -> tuple[IntakeRecord, Person]:
    record = await (repository.get_locked if for_update else repository.get)(session, record_id)
    if record is None:
        raise NotFound("There is no such intake record.")
    person = await persons.by_id(session, record.person_id)
    entry = _entry(user, action, object_type, object_id or record.id, person.pnr)
    if record.unit not in user.units:
        raise await audit.refuse(session, entry, NotAllowed("This intake record belongs to another unit."))
    await audit.record(session, entry)
    return record, person


async def get_record(session: AsyncSession, user: User, record_id: uuid.UUID) -> IntakeRecordOut:
    """One intake record with its documentation."""
    record, person = await _reach_record(session, user, record_id, "read")
    return (await _out(session, [(record, person)]))[0]


async def records_of_person(session: AsyncSession, user: User, person_id: uuid.UUID) -> list[IntakeRecordOut]:
    """The person's intake records in the caseworker's units."""
    person = await person_access.reach_person(session, user, person_id, "list", "intake_record")
    records = [r for r in await repository.for_person(session, person_id) if r.unit in user.units]
    return await _out(session, [(r, person) for r in records])


async def add_co_caseworker(
    session: AsyncSession, user: User, record_id: uuid.UUID, form: CoCaseworkerAdd
) -> CoCaseworkerOut:
    """Add a co-caseworker (medhandläggare) of the record's unit (CoCaseworkerAdded)."""
    record, person = await _reach_record(session, user, record_id, "create", "co_caseworker", for_update=True)
    colleague = await staff.caseworker_of_unit(session, form.caseworker_id, record.unit)
    if colleague is None:
        raise InvalidInput(
            "The chosen co-caseworker (Medhandläggare) is not a caseworker of the record's unit.",
            field="caseworker_id",
        )
    if colleague.id == record.caseworker_id:
        raise Conflict("The chosen co-caseworker is the record's caseworker already.", field="caseworker_id")
    if await repository.co_caseworker(session, record.id, colleague.id) is not None:
        raise Conflict(
            "The chosen caseworker is a co-caseworker of this record already.", field="caseworker_id"
        )
    if len(await repository.co_caseworkers_of(session, [record.id])) >= MAX_CO_CASEWORKERS:
        raise Conflict(f"An intake record has at most {MAX_CO_CASEWORKERS} co-caseworkers.")
    now = datetime.now(UTC)
    row = CoCaseworker(
        record_id=record.id,
        caseworker_id=colleague.id,
        caseworker_name=colleague.name,
        added_by=user.sub,
        added_at=now,
    )
    repository.add(session, row)
    record.co_caseworker_version += 1  # under the record's row lock
    await session.flush()
    await add_event(
        session,
        CoCaseworkerAdded(
            record_id=record.id,
            person_id=person.id,
            citizen_pnr=Personnummer(person.pnr),
            caseworker_id=colleague.id,
            caseworker_name=colleague.name,
            unit=record.unit,
            added_at=now,
            version=record.co_caseworker_version,
        ),
        SOURCE,
    )
    return _co_caseworker_out(row)


async def remove_co_caseworker(
    session: AsyncSession, user: User, record_id: uuid.UUID, caseworker_id: str
) -> None:
    """Take a co-caseworker off the record; they may no longer message the citizen (CoCaseworkerRemoved)."""
    record, person = await _reach_record(session, user, record_id, "delete", "co_caseworker", for_update=True)
    row = await repository.co_caseworker(session, record.id, caseworker_id)
    if row is None:
        raise NotFound("That caseworker is not a co-caseworker of this record.")
    await repository.delete(session, row)
    record.co_caseworker_version += 1  # under the record's row lock
    await session.flush()
    await add_event(
        session,
        CoCaseworkerRemoved(
            record_id=record.id,
            person_id=person.id,
            citizen_pnr=Personnummer(person.pnr),
            caseworker_id=row.caseworker_id,
            caseworker_name=row.caseworker_name,
            unit=record.unit,
            removed_at=datetime.now(UTC),
            version=record.co_caseworker_version,
        ),
        SOURCE,
    )


# What other modules may ask about intake records (this module alone queries them).


async def units_of(session: AsyncSession, person_id: uuid.UUID) -> set[str]:
    """The units that hold an intake record of the person."""
    return await repository.units_of(session, person_id)


async def has_record(session: AsyncSession, person_id: uuid.UUID) -> bool:
    """Whether the person has an intake record (the e-service can be activated)."""
    return await repository.any_of(session, person_id)


async def has_investigation(session: AsyncSession, person_id: uuid.UUID) -> bool:
    """Whether an investigation has started on one of the person's intake records."""
    return await repository.any_investigation_of(session, person_id)


async def reach_record(
    session: AsyncSession,
    user: User,
    record_id: uuid.UUID,
    action: str,
    object_type: str = "intake_record",
    object_id: uuid.UUID | None = None,
    *,
    for_update: bool = False,
) -> tuple[IntakeRecord, Person]:
    """The record (locked and read afresh `for_update`) and its person, if a unit of
    the caseworker's holds it (NotFound, or a refusal audited, otherwise); the
    access is audited as `action` on `object_type` `object_id` (the record's id)."""
    return await _reach_record(
        session, user, record_id, action, object_type, object_id, for_update=for_update
    )


async def co_caseworkers(session: AsyncSession, record_id: uuid.UUID) -> list[CoCaseworkerOut]:
    """The record's co-caseworkers (medhandläggare)."""
    return [_co_caseworker_out(c) for c in await repository.co_caseworkers_of(session, [record_id])]


def person_ids_in(units: list[str]) -> Select[uuid.UUID]:
    """A subquery of the persons with an intake record in one of `units`, for a search to filter by."""
    return repository.person_ids_in(units)
