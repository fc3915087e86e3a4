"""Applying for a service (IN-2..IN-5) and following it in Mina sidor (IN-6):
validation against the catalogue, storage with the ApplicationSubmitted event in
the same transaction, the application PDF, and the status casework reports.

The status history: Ny → Mottagen (ApplicationLinked) → Utredning pågår
(InvestigationStarted) → Beslut fattat per service (DecisionMade), or Avslutad
(IntakeRecordClosed). Casework's events of one record share its key and arrive
in order; a dead letter replayed late may not, so each step belongs to a stage
and a status never replaces one of a later stage. Each step is recorded once:
a whole-application step by its status, a decision by its id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import repository
from intake.applications.repository import NewApplication
from intake.applications.schemas import ApplicationCreate, ApplicationOut, ServiceOut, StatusChangeOut
from intake.catalogue import service as catalogue
from intake.catalogue.service import CatalogueItem
from intake.config import SOURCE, STATUS_NEW
from intake.models import Application, StatusChange
from shared import audit
from shared.auth import User
from shared.contracts.casework import (
    ApplicationLinked,
    DecisionMade,
    IntakeRecordClosed,
    InvestigationStarted,
)
from shared.contracts.intake import Applicant, ApplicationDocument, ApplicationSubmitted, AppliedService
from shared.events import Envelope
from shared.outbox import add_event
from shared.problems import InvalidInput, NotAllowed, NotFound


def _entry(
    user: User,
    action: str,
    object_id: str | None = None,
    subject_pnr: str | None = None,
    role: str = "citizen",
) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=role,
        action=action,
        object_type="application",
        object_id=object_id,
        subject_pnr=subject_pnr or str(user.pnr),
    )


async def submit(session: AsyncSession, user: User, form: ApplicationCreate) -> ApplicationOut:
    """File a new application for the logged-in citizen themself."""
    assert user.pnr is not None  # the Citizen dependency guarantees it
    if not 1 <= len(user.name.strip()) <= 200:
        raise InvalidInput("Your login gave no usable name; log in again with your e-ID.")
    if form.acting_for is not None:
        raise await audit.refuse(
            session,
            _entry(user, "create"),
            NotAllowed(
                "Only the person who is to receive the service can file a new application; "
                "a related person cannot apply for someone else."
            ),
        )
    codes = list(dict.fromkeys(form.services))  # drop repeats, keep the applicant's order
    known = await catalogue.by_codes(session, codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"Unknown service code(s): {', '.join(unknown)}.", unknown=unknown)
    wrong_entry = [c for c in codes if known[c].entry != form.entry]
    if wrong_entry:
        raise InvalidInput(
            f"Service(s) {', '.join(wrong_entry)} cannot be applied for under the "
            f"{form.entry.upper()} entry point.",
            wrong_entry=wrong_entry,
        )

    now = datetime.now(UTC)
    new = NewApplication(
        id=uuid.uuid4(),
        applicant_pnr=str(user.pnr),
        applicant_name=user.name,
        entry=form.entry,
        description=form.description,
        status=STATUS_NEW,
        submitted_at=now,
        service_codes=tuple(codes),
    )
    # A plain insert: nothing reads the new rows back in this request, so the
    # ORM's unit of work (identity map, flush ordering, generated ids) buys nothing.
    await repository.insert_new(session, new)
    services = [known[c] for c in codes]
    await add_event(
        session,
        ApplicationSubmitted(
            application_id=new.id,
            entry=form.entry,
            services=[AppliedService(code=s.code, name=s.name, category=s.category) for s in services],
            description=new.description,
            applicant=Applicant(pnr=user.pnr, name=user.name),
            submitted_at=new.submitted_at,
        ),
        SOURCE,
    )
    await audit.record(session, _entry(user, "create", str(new.id)))
    return ApplicationOut(
        id=new.id,
        entry=new.entry,
        services=[ServiceOut(code=s.code, name=s.name, category=s.category) for s in services],
        description=new.description,
        status=new.status,
        submitted_at=new.submitted_at,
        history=[StatusChangeOut(status=new.status, at=new.submitted_at)],
    )


async def list_for(
    session: AsyncSession, user: User, pnr: str, role: str = "citizen"
) -> list[ApplicationOut]:
    """Applications of `pnr`, newest first: the user's own, or of the citizen they represent."""
    applications = await repository.list_for_applicant(session, pnr)
    catalogue_rows = await catalogue.by_codes(session, _codes(applications))
    await audit.record(session, _entry(user, "list", subject_pnr=pnr, role=role))
    return [_out(a, catalogue_rows) for a in applications]


async def list_own(session: AsyncSession, user: User) -> list[ApplicationOut]:
    """The citizen's own applications, newest first, each with its status history."""
    return await list_for(session, user, str(user.pnr))


async def _own(session: AsyncSession, user: User, application_id: uuid.UUID, action: str) -> Application:
    application = await repository.get(session, application_id)
    if application is None:
        raise NotFound("There is no such application.")
    if application.applicant_pnr != str(user.pnr):
        raise await audit.refuse(
            session,
            _entry(user, action, str(application_id), application.applicant_pnr),
            NotAllowed("This application is not yours."),
        )
    await audit.record(session, _entry(user, action, str(application_id)))
    return application


async def get_own(session: AsyncSession, user: User, application_id: uuid.UUID) -> ApplicationOut:
    """One of the citizen's own applications."""
    application = await _own(session, user, application_id, "read")
    return _out(application, await catalogue.by_codes(session, _codes([application])))


async def pdf_of_own(session: AsyncSession, user: User, application_id: uuid.UUID) -> ApplicationDocument:
    """What the PDF of the citizen's own application shows (IN-5). The endpoint
    renders it once the transaction is over, off the event loop."""
    application = await _own(session, user, application_id, "read_pdf")
    rows = await catalogue.by_codes(session, {s.service_code for s in application.services})
    return ApplicationDocument(
        application_id=str(application.id),
        entry=application.entry,
        applicant_name=application.applicant_name,
        applicant_pnr=application.applicant_pnr,
        services=[rows[s.service_code].name for s in application.services],
        description=application.description,
        submitted_at=application.submitted_at,
    )


# How far an application has come: its status moves only forward through these.
STAGE_RECEIVED = 1  # linked into an intake record: "Mottagen"
STAGE_INVESTIGATION = 2  # "Utredning pågår"
STAGE_CONCLUDED = 3  # a decision ("Beslut fattat"), or closed without investigation ("Avslutad")


async def _step(
    session: AsyncSession,
    envelope: Envelope,
    application_id: uuid.UUID,
    status: str,
    at: datetime,
    stage: int,
    *,
    service_code: str | None = None,
    source_id: uuid.UUID | None = None,
) -> None:
    """Add a step casework reported to the application's history, once, and make its
    status the application's unless the application is at a later stage."""
    application = await repository.get_locked(session, application_id)
    if application is None:
        # Casework only reports on what intake submitted; a gap here is a bug worth a dead letter.
        raise LookupError("application unknown to intake")
    if source_id is not None:
        seen = await repository.has_step_from(session, application.id, source_id)
    else:
        seen = await repository.has_status_change(session, application.id, status)
    if seen:
        return  # a replayed event (a new ce_id) adds no second step
    if stage >= application.status_stage:
        application.status, application.status_stage = status, stage
    repository.add_status_change(
        session,
        StatusChange(
            application_id=application.id,
            status=status,
            at=at,
            service_code=service_code,
            source_id=source_id,
        ),
    )
    await audit.record(
        session,
        audit.from_event(envelope, "update", "application", application.id, application.applicant_pnr),
    )


async def on_linked(session: AsyncSession, event: ApplicationLinked, envelope: Envelope) -> None:
    """Casework linked the application into an intake record: the citizen sees it as received."""
    await _step(session, envelope, event.application_id, event.status, event.linked_at, STAGE_RECEIVED)


async def on_investigation_started(
    session: AsyncSession, event: InvestigationStarted, envelope: Envelope
) -> None:
    """The investigation of the application's intake record started: "Utredning pågår"."""
    if event.application_id is not None:  # else a record not made from an e-application
        await _step(
            session, envelope, event.application_id, event.status, event.started_at, STAGE_INVESTIGATION
        )


async def on_record_closed(session: AsyncSession, event: IntakeRecordClosed, envelope: Envelope) -> None:
    """The intake record was closed without an investigation: "Avslutad"."""
    if event.application_id is not None:
        await _step(session, envelope, event.application_id, event.status, event.closed_at, STAGE_CONCLUDED)


async def on_decision_made(session: AsyncSession, event: DecisionMade, envelope: Envelope) -> None:
    """A decision on one of the services: "Beslut fattat" for that service, with its date
    (a correction adds another step)."""
    if event.application_id is not None:
        await _step(
            session,
            envelope,
            event.application_id,
            event.status,
            event.decided_at,
            STAGE_CONCLUDED,
            service_code=event.service_code,
            source_id=event.decision_id,
        )


def _out(application: Application, catalogue_rows: dict[str, CatalogueItem]) -> ApplicationOut:
    def name_of(code: str | None) -> str | None:
        row = catalogue_rows.get(code) if code is not None else None
        return row.name if row is not None else code

    # A service's own status: its latest decision, if any (the history is ordered by time).
    latest = {h.service_code: h for h in application.history if h.service_code is not None}
    services = [catalogue_rows[s.service_code] for s in application.services]
    return ApplicationOut(
        id=application.id,
        entry=application.entry,
        services=[
            ServiceOut(
                code=s.code,
                name=s.name,
                category=s.category,
                status=latest[s.code].status if s.code in latest else None,
                status_at=latest[s.code].at if s.code in latest else None,
            )
            for s in services
        ],
        description=application.description,
        status=application.status,
        submitted_at=application.submitted_at,
        history=[
            StatusChangeOut(
                status=h.status, at=h.at, service_code=h.service_code, service_name=name_of(h.service_code)
            )
            for h in application.history
        ],
    )


def _codes(applications: list[Application]) -> set[str]:
    """The catalogue codes an application's view names: its services and its decided ones."""
    return {s.service_code for a in applications for s in a.services} | {
        h.service_code for a in applications for h in a.history if h.service_code is not None
    }
