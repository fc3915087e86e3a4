"""Applying for a service (IN-2..IN-5) and following it in Mina sidor (IN-6):
validation against the catalogue, storage with the ApplicationSubmitted event in
the same transaction, the application PDF, and the status casework reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import repository
from intake.applications.schemas import ApplicationCreate, ApplicationOut, ServiceOut, StatusChangeOut
from intake.catalogue import service as catalogue
from intake.config import SOURCE, STATUS_NEW
from intake.models import Application, ApplicationService, CatalogueService, StatusChange
from shared import audit
from shared.auth import User
from shared.contracts.casework import ApplicationLinked
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
    application = Application(
        id=uuid.uuid4(),
        applicant_pnr=str(user.pnr),
        applicant_name=user.name,
        entry=form.entry,
        description=form.description,
        status=STATUS_NEW,
        submitted_at=now,
        services=[ApplicationService(service_code=c, position=i) for i, c in enumerate(codes)],
        history=[StatusChange(status=STATUS_NEW, at=now)],
    )
    repository.add(session, application)
    services = [known[c] for c in codes]
    await add_event(
        session,
        ApplicationSubmitted(
            application_id=application.id,
            entry=form.entry,
            services=[AppliedService(code=s.code, name=s.name, category=s.category) for s in services],
            description=application.description,
            applicant=Applicant(pnr=user.pnr, name=user.name),
            submitted_at=application.submitted_at,
        ),
        SOURCE,
    )
    await audit.record(session, _entry(user, "create", str(application.id)))
    await session.flush()
    return _out(application, services)


async def list_for(
    session: AsyncSession, user: User, pnr: str, role: str = "citizen"
) -> list[ApplicationOut]:
    """Applications of `pnr`, newest first: the user's own, or of the citizen they represent."""
    applications = await repository.list_for_applicant(session, pnr)
    catalogue_rows = await catalogue.by_codes(
        session, {s.service_code for a in applications for s in a.services}
    )
    await audit.record(session, _entry(user, "list", subject_pnr=pnr, role=role))
    return [_out(a, [catalogue_rows[s.service_code] for s in a.services]) for a in applications]


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
    rows = await catalogue.by_codes(session, {s.service_code for s in application.services})
    return _out(application, [rows[s.service_code] for s in application.services])


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


async def on_linked(session: AsyncSession, event: ApplicationLinked, envelope: Envelope) -> None:
    """Casework linked the application into an intake record: the citizen sees it as received."""
    application = await repository.get_locked(session, event.application_id)
    if application is None:
        # Casework only links what intake submitted; a gap here is a bug worth a dead letter.
        raise LookupError("linked application unknown to intake")
    if await repository.has_status_change(session, application.id, event.status):
        return  # an application is linked once: a replayed link (a new ce_id) adds no second step
    application.status = event.status
    repository.add_status_change(
        session, StatusChange(application_id=application.id, status=event.status, at=event.linked_at)
    )
    await audit.record(
        session,
        audit.from_event(envelope, "update", "application", application.id, application.applicant_pnr),
    )


def _out(application: Application, services: list[CatalogueService]) -> ApplicationOut:
    return ApplicationOut(
        id=application.id,
        entry=application.entry,
        services=[ServiceOut(code=s.code, name=s.name, category=s.category) for s in services],
        description=application.description,
        status=application.status,
        submitted_at=application.submitted_at,
        history=[StatusChangeOut(status=h.status, at=h.at) for h in application.history],
    )
