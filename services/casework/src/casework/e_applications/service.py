"""The shared e-application inbox (CW-1): fed by ApplicationSubmitted, read by
every caseworker."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.e_applications import repository
from casework.e_applications.schemas import (
    IncomingApplicationDetail,
    IncomingApplicationOut,
    IncomingApplicationPage,
)
from casework.models import ApplicationStatus, IncomingApplication
from shared import audit
from shared.auth import User
from shared.contracts.intake import ApplicationSubmitted, AppliedService
from shared.events import Envelope
from shared.problems import InvalidInput, NotFound


async def receive_application(session: AsyncSession, event: ApplicationSubmitted, envelope: Envelope) -> None:
    """Put a submitted application into the inbox with status Ny."""
    added = await repository.add_if_new(
        session,
        {
            "id": event.application_id,
            "applicant_pnr": str(event.applicant.pnr),
            "applicant_name": event.applicant.name,
            "entry": event.entry,
            "services": [s.model_dump() for s in event.services],
            "categories": list(dict.fromkeys(s.category for s in event.services)),
            "description": event.description,
            "status": ApplicationStatus.NEW,
            "submitted_at": event.submitted_at,
        },
    )
    if added:
        await audit.record(
            session,
            audit.from_event(
                envelope, "create", "incoming_application", event.application_id, event.applicant.pnr
            ),
        )


async def find(session: AsyncSession, application_id: uuid.UUID) -> IncomingApplication:
    """The e-application, as read without a lock; NotFound if there is none."""
    application = await repository.get(session, application_id)
    if application is None:
        raise NotFound("There is no such e-application.")
    return application


async def lock(session: AsyncSession, application_id: uuid.UUID) -> IncomingApplication:
    """The e-application locked and read afresh: a concurrent link may have committed
    meanwhile. The copy the session already holds is refreshed in place."""
    application = await repository.get_locked(session, application_id)
    if application is None:
        raise NotFound("There is no such e-application.")
    return application


def mark_linked(application: IncomingApplication, record_id: uuid.UUID, linked_at: datetime) -> None:
    """The locked e-application now belongs to an intake record (status Kopplad)."""
    application.record_id, application.linked_at = record_id, linked_at
    application.status = ApplicationStatus.LINKED


def _services(application: IncomingApplication) -> list[AppliedService]:
    return [AppliedService.model_validate(s) for s in application.services]


def encode_cursor(submitted_at: datetime, id_: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{submitted_at.isoformat()}|{id_}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        when, id_ = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("cursor time without zone")
        return at.astimezone(UTC), uuid.UUID(id_)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("The 'after' cursor is not one this API gave out.") from None


async def list_inbox(
    session: AsyncSession,
    user: User,
    *,
    status: str | None,
    entry: str | None,
    category: str | None,
    limit: int,
    after: str | None,
) -> IncomingApplicationPage:
    """A page of the inbox, newest first; every caseworker sees every application."""
    rows = await repository.page(
        session,
        status=status,
        entry=entry,
        category=category,
        limit=limit + 1,
        after=decode_cursor(after) if after else None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    await audit.record_each(
        session,
        user.sub,
        "caseworker",
        "list",
        "incoming_application",
        ((r.id, r.applicant_pnr) for r in rows),
    )
    items = [
        IncomingApplicationOut(
            id=r.id,
            personnummer=r.applicant_pnr,
            name=r.applicant_name,
            entry=r.entry,
            categories=r.categories,
            services=_services(r),
            status=r.status,
            submitted_at=r.submitted_at,
        )
        for r in rows
    ]
    next_cursor = encode_cursor(rows[-1].submitted_at, rows[-1].id) if more and rows else None
    return IncomingApplicationPage(items=items, next=next_cursor)


async def get_application(
    session: AsyncSession, user: User, application_id: uuid.UUID
) -> IncomingApplicationDetail:
    """One e-application with the applicant's text; any caseworker may read it (CW-1)."""
    r = await find(session, application_id)
    await audit.record(
        session,
        audit.AuditEntry(
            actor=user.sub,
            actor_role="caseworker",
            action="read",
            object_type="incoming_application",
            object_id=str(r.id),
            subject_pnr=r.applicant_pnr,
        ),
    )
    return IncomingApplicationDetail(
        id=r.id,
        personnummer=r.applicant_pnr,
        name=r.applicant_name,
        entry=r.entry,
        categories=r.categories,
        services=_services(r),
        status=r.status,
        submitted_at=r.submitted_at,
        description=r.description,
        record_id=r.record_id,
        linked_at=r.linked_at,
    )
