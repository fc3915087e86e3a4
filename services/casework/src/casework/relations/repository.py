"""Queries of relations and approvals."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import Approval, Relation
from shared import db


def add(session: AsyncSession, row: Relation | Approval) -> None:
    session.add(row)


async def relations_of(session: AsyncSession, person_id: uuid.UUID) -> list[Relation]:
    query = select(Relation).where(Relation.person_id == person_id).order_by(Relation.created_at)
    return list(await session.scalars(query))


async def count_with_alerts(session: AsyncSession, person_id: uuid.UUID) -> int:
    """The person's relations with an alert flag set, whatever their period."""
    query = (
        select(func.count())
        .select_from(Relation)
        .where(Relation.person_id == person_id)
        .where(Relation.sms_alerts | Relation.email_alerts)
    )
    return int(await session.scalar(query) or 0)


async def alerted(session: AsyncSession, person_id: uuid.UUID, today: date) -> list[Relation]:
    """Relations valid today with an alert flag set: a former god man is not alerted."""
    query = (
        select(Relation)
        .where(Relation.person_id == person_id)
        .where(Relation.sms_alerts | Relation.email_alerts)
        .where(Relation.valid_from <= today)
        .where(or_(Relation.valid_to.is_(None), Relation.valid_to >= today))
        .order_by(Relation.created_at)
    )
    return list(await session.scalars(query))


async def relation(session: AsyncSession, relation_id: uuid.UUID, *, locked: bool = False) -> Relation | None:
    """The relation; `locked`: with its row lock, freshly read (not the copy an
    earlier read left in the session)."""
    if locked:
        return await db.get_locked(session, Relation, relation_id)
    return await session.get(Relation, relation_id)


async def delete(session: AsyncSession, row: Relation) -> None:
    await session.delete(row)


async def approvals_of(session: AsyncSession, person_id: uuid.UUID) -> list[Approval]:
    query = (
        select(Approval)
        .where(Approval.person_id == person_id, Approval.revoked_at.is_(None))
        .order_by(Approval.valid_from, Approval.created_at)
    )
    return list(await session.scalars(query))


async def approval(session: AsyncSession, approval_id: uuid.UUID) -> Approval | None:
    return await session.get(Approval, approval_id)


async def approval_locked(session: AsyncSession, approval_id: uuid.UUID) -> Approval | None:
    # Read afresh: a revocation committed while we waited for the lock must be seen.
    return await db.get_locked(session, Approval, approval_id)
