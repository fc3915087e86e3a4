"""Applying for a service (IN-2..IN-5): validation against the catalogue,
storage, and the ApplicationSubmitted event in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import repository
from intake.applications.schemas import ApplicationCreate, ApplicationOut, ServiceOut
from intake.catalogue import repository as catalogue
from intake.models import Application, ApplicationService, CatalogueService
from shared import audit
from shared.auth import User
from shared.contracts.intake import Applicant, ApplicationSubmitted, AppliedService
from shared.outbox import add_event
from shared.problems import InvalidInput

SOURCE = "/omsorg/intake"
STATUS_NEW = "Ny"


async def submit(session: AsyncSession, user: User, form: ApplicationCreate) -> ApplicationOut:
    """File a new application for the logged-in citizen themself."""
    assert user.pnr is not None  # the Citizen dependency guarantees it
    codes = list(dict.fromkeys(form.services))  # drop repeats, keep the applicant's order
    known = await catalogue.by_codes(session, codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"Unknown service code(s): {', '.join(unknown)}.", unknown=unknown)
    wrong_entry = [c for c in codes if known[c].entry != form.entry]
    if wrong_entry:
        raise InvalidInput(
            f"Service(s) {', '.join(wrong_entry)} cannot be applied for under the "
            f"{form.entry.upper()} entry point.", wrong_entry=wrong_entry)

    application = Application(
        id=uuid.uuid4(), applicant_pnr=str(user.pnr), applicant_name=user.name, entry=form.entry,
        description=form.description, status=STATUS_NEW, submitted_at=datetime.now(UTC),
        services=[ApplicationService(service_code=c, position=i) for i, c in enumerate(codes)],
    )
    repository.add(session, application)
    services = [known[c] for c in codes]
    await add_event(session, ApplicationSubmitted(
        application_id=application.id, entry=form.entry,
        services=[AppliedService(code=s.code, name=s.name, category=s.category) for s in services],
        description=application.description,
        applicant=Applicant(pnr=user.pnr, name=user.name),
        submitted_at=application.submitted_at,
    ), SOURCE)
    await audit.record(session, audit.AuditEntry(
        actor=user.sub, actor_role="citizen", action="create", object_type="application",
        object_id=str(application.id), subject_pnr=str(user.pnr)))
    await session.flush()
    return _out(application, services)


async def list_own(session: AsyncSession, user: User) -> list[ApplicationOut]:
    """The citizen's own applications, newest first."""
    assert user.pnr is not None
    applications = await repository.list_for_applicant(session, str(user.pnr))
    catalogue_rows = await catalogue.by_codes(
        session, {s.service_code for a in applications for s in a.services})
    await audit.record(session, audit.AuditEntry(
        actor=user.sub, actor_role="citizen", action="list", object_type="application",
        subject_pnr=str(user.pnr)))
    return [_out(a, [catalogue_rows[s.service_code] for s in a.services]) for a in applications]


def _out(application: Application, services: list[CatalogueService]) -> ApplicationOut:
    return ApplicationOut(
        id=application.id, entry=application.entry,  # type: ignore[arg-type]
        services=[ServiceOut(code=s.code, name=s.name, category=s.category) for s in services],
        description=application.description, status=application.status,
        submitted_at=application.submitted_at)
