"""What the rights projection knows of one intake record (from CaseworkerAssigned):
whose it is and which unit holds it. Journaling asks this before it lets a
message be journaled into the record (messaging.journal)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.models import AssignmentRole, CaseworkerAssignment


@dataclass(frozen=True)
class RecordRef:
    """An intake record as messaging knows it: its person and its unit."""

    record_id: uuid.UUID
    person_id: uuid.UUID
    unit: str


async def record(session: AsyncSession, record_id: uuid.UUID) -> RecordRef | None:
    """The intake record, if a CaseworkerAssigned of it has arrived; None otherwise."""
    query = (
        select(CaseworkerAssignment)
        .where(CaseworkerAssignment.record_id == record_id)
        .order_by(CaseworkerAssignment.role != AssignmentRole.CASEWORKER)
        .limit(1)
    )
    row = await session.scalar(query)
    if row is None:
        return None
    return RecordRef(row.record_id, row.person_id, row.unit)
