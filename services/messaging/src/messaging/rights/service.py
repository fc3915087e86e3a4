"""The right to write to a citizen (MS-3), kept from casework's facts:

- the caseworker and the co-caseworkers of any of the person's intake records
  (CaseworkerAssigned; CoCaseworkerAdded/Removed, ordered by the record's
  co-caseworker version) may send to the person's e-service; a removed
  co-caseworker is refused from their next request on;
- provider staff may send to a client their own unit has a running assignment
  for (ProviderAssignment, from provider's ExecutionStarted and ExecutionEnded:
  from the execution date through the end date, both included), and only staff
  of that provider and unit;
- an approved related person reads and writes in the citizen's e-service only
  inside the approval period, checked on every request against today's date in
  Sweden; a revocation is final (RelatedPersonApproved/Changed/Revoked).

Every refusal is audited (shared.audit.refuse)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.config import TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.models import AssignmentRole, CaseworkerAssignment, Representation
from messaging.people import staff_role
from messaging.rights import repository
from shared import audit
from shared.auth import PROVIDER_ROLES, Role, User
from shared.contracts.casework import (
    CaseworkerAssigned,
    CoCaseworkerAdded,
    CoCaseworkerRemoved,
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.contracts.provider import ExecutionEnded, ExecutionStarted
from shared.events import Envelope
from shared.problems import NotAllowed, NotFound


@dataclass(frozen=True)
class RecordRef:
    """An intake record as messaging knows it (from CaseworkerAssigned): its person and its unit."""

    record_id: uuid.UUID
    person_id: uuid.UUID
    unit: str


async def intake_record(session: AsyncSession, record_id: uuid.UUID) -> RecordRef | None:
    """The intake record, if a CaseworkerAssigned of it has arrived; None otherwise.
    Journaling asks this before it lets a message be journaled into the record."""
    row = await repository.an_assignment_of_record(session, record_id)
    return None if row is None else RecordRef(row.record_id, row.person_id, row.unit)


def _today() -> date:
    return datetime.now(TIME_ZONE).date()


async def may_write(session: AsyncSession, user: User, person_id: uuid.UUID) -> bool:
    """Whether the staff member may send to the person's e-service (MS-3)."""
    if user.has(Role.CASEWORKER):
        assignments = await repository.assignments_of(session, person_id)
        if any(a.caseworker_id == user.sub for a in assignments):
            return True
    if user.roles & PROVIDER_ROLES and user.provider_id:
        today = _today()
        for assignment in await repository.provider_assignments_of(session, person_id, user.provider_id):
            if assignment.unit in user.units and assignment.active_on(today):
                return True
    return False


async def check_may_write(
    session: AsyncSession, user: User, person_id: uuid.UUID, person_pnr: str, action: str
) -> None:
    """Refuse, audited, unless the staff member may send to the person."""
    if await may_write(session, user, person_id):
        return
    entry = audit.AuditEntry(
        actor=user.sub,
        actor_role=staff_role(user),
        action=action,
        object_type="e_service_mailbox",
        object_id=str(person_id),
        subject_pnr=person_pnr,
    )
    raise await audit.refuse(
        session,
        entry,
        NotAllowed(
            "Only the person's caseworker or co-caseworker, or a provider unit with an "
            "assignment for them, may send to their e-service."
        ),
    )


async def caseworkers_of(session: AsyncSession, person_id: uuid.UUID) -> list[CaseworkerAssignment]:
    """The person's caseworkers and co-caseworkers, each once, longest assigned first."""
    seen: dict[str, CaseworkerAssignment] = {}
    for assignment in await repository.assignments_of(session, person_id):
        seen.setdefault(assignment.caseworker_id, assignment)
    return list(seen.values())


async def acting_for(
    session: AsyncSession, user: User, approval_id: uuid.UUID, action: str
) -> Representation:
    """The approval, if the logged-in person may act on it today; else a refusal, audited."""
    representation = await repository.representation(session, approval_id)
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
    if not representation.active_on(_today()):
        raise await audit.refuse(
            session,
            entry,
            NotAllowed(
                f"The approval is valid {representation.valid_from} to {representation.valid_to}, not today."
            ),
        )
    return representation


async def record_provider_assignment(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    person_id: uuid.UUID,
    provider_id: str,
    unit: str,
    valid_from: date,
    valid_to: date | None,
    ended_at: datetime | None,
    version: int,
) -> bool:
    """Record a provider unit's assignment for a client, unless a newer version of
    the order was applied (the execution's start is version 1, its end 2)."""
    return await repository.apply_provider_assignment(
        session,
        {
            "order_id": order_id,
            "person_id": person_id,
            "provider_id": provider_id,
            "unit": unit,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "ended_at": ended_at,
            "version": version,
        },
    )


# The versions of an execution's two facts: its end is newer than its start.
EXECUTION_STARTED_VERSION = 1
EXECUTION_ENDED_VERSION = 2


def _assignment_row(event: ExecutionStarted | ExecutionEnded) -> dict[str, object]:
    return {
        "order_id": event.order_id,
        "person_id": event.person_id,
        # Tokens carry the provider id as text: compared as text.
        "provider_id": str(event.provider_id),
        "unit": event.unit,
    }


async def _audit_assignment(
    session: AsyncSession, envelope: Envelope, event: ExecutionStarted | ExecutionEnded
) -> None:
    # The events name the client by id only; messaging knows the personnummer of a
    # client with an e-service, and the entry names them when it can.
    person = await mailboxes.e_service_person(session, event.person_id)
    await audit.record(
        session,
        audit.from_event(
            envelope, "update", "provider_assignment", event.order_id, person.pnr if person else None
        ),
    )


async def on_execution_started(session: AsyncSession, event: ExecutionStarted, envelope: Envelope) -> None:
    """The provider confirmed the order: its unit's staff may write to the client
    from the execution date (a future one: not before it)."""
    row = {
        **_assignment_row(event),
        "valid_from": event.execution_date,
        "valid_to": None,
        "ended_at": None,
        "version": EXECUTION_STARTED_VERSION,
    }
    if not await repository.apply_provider_assignment(session, row):
        # The end came first (a replayed start): the end stays, the start is filled in.
        await repository.set_provider_assignment_start(session, row)
    await _audit_assignment(session, envelope, event)


async def on_execution_ended(session: AsyncSession, event: ExecutionEnded, envelope: Envelope) -> None:
    """The provider ended the execution: its unit's staff may write to the client
    through the end date, never after; a replayed start never reopens it."""
    row = {
        **_assignment_row(event),
        # Only if the start has not arrived: replaced by the execution date when it does.
        "valid_from": event.end_date,
        "valid_to": event.end_date,
        "ended_at": event.ended_at,
        "version": EXECUTION_ENDED_VERSION,
    }
    if await repository.apply_provider_assignment(session, row, keep_valid_from=True):
        await _audit_assignment(session, envelope, event)


async def on_caseworker_assigned(
    session: AsyncSession, event: CaseworkerAssigned, envelope: Envelope
) -> None:
    """The record's caseworker may now write to the person; an earlier one of the
    same record no longer may (through this record)."""
    row = {
        "record_id": event.record_id,
        "role": AssignmentRole.CASEWORKER,
        "person_id": event.person_id,
        "caseworker_id": event.caseworker_id,
        "caseworker_name": event.caseworker_name,
        "unit": event.unit,
        "assigned_at": event.assigned_at,
    }
    if await repository.apply_assignment(session, row):
        await audit.record(
            session,
            audit.from_event(envelope, "update", "caseworker_assignment", event.record_id, event.citizen_pnr),
        )


async def _apply_co_caseworker(
    session: AsyncSession,
    event: CoCaseworkerAdded | CoCaseworkerRemoved,
    envelope: Envelope,
    removed_at: datetime | None,
) -> None:
    row = {
        "record_id": event.record_id,
        "role": AssignmentRole.CO_CASEWORKER,
        "caseworker_id": event.caseworker_id,
        "person_id": event.person_id,
        "caseworker_name": event.caseworker_name,
        "unit": event.unit,
        "assigned_at": event.added_at if isinstance(event, CoCaseworkerAdded) else event.removed_at,
        "version": event.version,
        "removed_at": removed_at,
    }
    if await repository.apply_co_caseworker(session, row):
        await audit.record(
            session,
            audit.from_event(envelope, "update", "caseworker_assignment", event.record_id, event.citizen_pnr),
        )


async def on_co_caseworker_added(session: AsyncSession, event: CoCaseworkerAdded, envelope: Envelope) -> None:
    """The record's new co-caseworker may now write to the person, unless a newer
    version (their removal) was applied already."""
    await _apply_co_caseworker(session, event, envelope, removed_at=None)


async def on_co_caseworker_removed(
    session: AsyncSession, event: CoCaseworkerRemoved, envelope: Envelope
) -> None:
    """The co-caseworker may no longer write to the person through this record,
    from their next request on; a replayed older addition never brings them back."""
    await _apply_co_caseworker(session, event, envelope, removed_at=event.removed_at)


async def _audit_approval(
    session: AsyncSession,
    envelope: Envelope,
    event: RelatedPersonApproved | RelatedPersonApprovalChanged | RelatedPersonApprovalRevoked,
) -> None:
    await audit.record(
        session, audit.from_event(envelope, "update", "representation", event.approval_id, event.citizen_pnr)
    )


async def on_approved(
    session: AsyncSession, event: RelatedPersonApproved | RelatedPersonApprovalChanged, envelope: Envelope
) -> None:
    """Record or update an approval, unless a newer version was applied or it was revoked."""
    if await repository.apply_approval(session, event.projection_row()):
        await _audit_approval(session, envelope, event)


async def on_revoked(session: AsyncSession, event: RelatedPersonApprovalRevoked, envelope: Envelope) -> None:
    """Mark an approval revoked for good: the related person's next request is refused."""
    row = {**event.projection_row(), "revoked_at": event.revoked_at}
    if await repository.apply_revocation(session, row):
        await _audit_approval(session, envelope, event)
