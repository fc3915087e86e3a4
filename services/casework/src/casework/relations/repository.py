"""Queries of relations and approvals."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import Approval, Relation


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


async def relation(session: AsyncSession, relation_id: uuid.UUID) -> Relation | None:
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


async def approval(
    session: AsyncSession, approval_id: uuid.UUID, *, for_update: bool = False
) -> Approval | None:
    query = select(Approval).where(Approval.id == approval_id)
    if for_update:
        # populate_existing: a locked read must overwrite what an earlier read of
        # this session left in the identity map, or a revocation committed while
        # we waited for the lock would go unseen.
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).one_or_none()
