"""Acting for someone (IN-7): a related person, logged in with their own e-ID,
sees the citizens they are approved for and may act for one only inside the
approval period. Casework approves only once an investigation has started, so an
approval here means one has. Expiry and revocation apply at once: the period is
checked on every request against today's date in Sweden."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import service as applications
from intake.applications.schemas import ApplicationOut
from intake.config import TIME_ZONE
from intake.models import Representation
from intake.representations import repository
from intake.representations.schemas import RepresentationOut
from shared import audit
from shared.auth import User
from shared.contracts.casework import (
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.events import Envelope
from shared.problems import NotAllowed, NotFound


def _today() -> datetime:
    return datetime.now(TIME_ZONE)


async def list_mine(session: AsyncSession, user: User) -> list[RepresentationOut]:
    """Citizens the logged-in person is (or was) approved to act for."""
    rows = await repository.for_related_person(session, str(user.pnr))
    today = _today().date()
    await audit.record_each(
        session,
        user.sub,
        "related_person",
        "list",
        "representation",
        ((r.approval_id, r.citizen_pnr) for r in rows),
    )
    return [
        RepresentationOut(
            approval_id=r.approval_id,
            citizen_name=r.citizen_name,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            active=r.active_on(today),
        )
        for r in rows
        if r.revoked_at is None
    ]


async def acting_for(
    session: AsyncSession, user: User, approval_id: uuid.UUID, action: str
) -> Representation:
    """The approval, if the logged-in person may act on it now; else a refusal, audited."""
    representation = await repository.get(session, approval_id)
    if representation is None:
        raise NotFound("There is no such approval.")
    entry = audit.AuditEntry(
        actor=user.sub,
        actor_role="related_person",
        action=action,
        object_type="representation",
        object_id=str(approval_id),
        subject_pnr=representation.citizen_pnr,
    )
    if representation.related_pnr != str(user.pnr):
        raise await audit.refuse(session, entry, NotAllowed("This approval is not yours."))
    if representation.revoked_at is not None:
        raise await audit.refuse(session, entry, NotAllowed("The approval has been revoked."))
    if not representation.active_on(_today().date()):
        raise await audit.refuse(
            session,
            entry,
            NotAllowed(
                f"The approval is valid {representation.valid_from} to {representation.valid_to}, not today."
            ),
        )
    return representation


async def applications_of_represented(
    session: AsyncSession, user: User, approval_id: uuid.UUID
) -> list[ApplicationOut]:
    """The represented citizen's applications and their status, read by the related person."""
    representation = await acting_for(session, user, approval_id, "list")
    return await applications.list_for(session, user, representation.citizen_pnr, "related_person")


async def on_approved(
    session: AsyncSession, event: RelatedPersonApproved | RelatedPersonApprovalChanged, envelope: Envelope
) -> None:
    """Record or update an approval from casework, unless a newer version was applied
    already (a replayed or late event) or the approval was revoked: revocation is
    final, whatever the version or order of arrival."""
    if await repository.apply_approval(session, event.projection_row()):
        await _audit_projection(session, envelope, event)


async def _audit_projection(
    session: AsyncSession,
    envelope: Envelope,
    event: RelatedPersonApproved | RelatedPersonApprovalChanged | RelatedPersonApprovalRevoked,
) -> None:
    await audit.record(
        session, audit.from_event(envelope, "update", "representation", event.approval_id, event.citizen_pnr)
    )


async def on_revoked(session: AsyncSession, event: RelatedPersonApprovalRevoked, envelope: Envelope) -> None:
    """Mark an approval revoked: the related person's next request is refused. A
    revocation that arrives before its approval (say, one replayed from a dead
    letter later) is recorded revoked, so the late approval cannot revive it."""
    if await repository.apply_revocation(session, {**event.projection_row(), "revoked_at": event.revoked_at}):
        await _audit_projection(session, envelope, event)
