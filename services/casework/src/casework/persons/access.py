"""Who may reach a person's data in casework: caseworkers of the units that hold
one of the person's intake records (the e-application inbox is shared by all,
see e_applications). Every access, allowed or refused, is audit-logged."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from casework.intake_records import service as intake_records
from casework.models import Person
from casework.persons import repository
from shared import audit
from shared.auth import Role, User
from shared.problems import NotAllowed, NotFound


async def reach_person(
    session: AsyncSession,
    user: User,
    person_id: uuid.UUID,
    action: str,
    object_type: str = "person",
    object_id: str | None = None,
    *,
    for_update: bool = False,
) -> Person:
    """The person (locked and read afresh `for_update`), if the caseworker's units hold
    one of their intake records; audited."""
    person = await (repository.get_locked if for_update else repository.get)(session, person_id)
    if person is None:
        raise NotFound("There is no such person.")
    entry = audit.AuditEntry(
        actor=user.sub,
        actor_role="caseworker",
        action=action,
        object_type=object_type,
        object_id=object_id or str(person_id),
        subject_pnr=person.pnr,
    )
    if not await intake_records.units_of(session, person_id) & set(user.units):
        raise await audit.refuse(
            session, entry, NotAllowed("This person has no intake record in any of your units.")
        )
    await audit.record(session, entry)
    return person


def may_see_protected_address(user: User) -> bool:
    return user.has(Role.PROTECTED_IDENTITY)
