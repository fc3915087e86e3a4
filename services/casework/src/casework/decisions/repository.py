"""Queries of decisions."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.decisions.models import Decision
from shared import db


def add(session: AsyncSession, decision: Decision) -> None:
    session.add(decision)


async def get(session: AsyncSession, decision_id: uuid.UUID) -> Decision | None:
    return await session.get(Decision, decision_id)


async def get_locked(session: AsyncSession, decision_id: uuid.UUID) -> Decision | None:
    """The decision, its row locked and read afresh: an edit and a signing of one
    draft wait for each other, and the later one sees what the first did."""
    return await db.get_locked(session, Decision, decision_id)


async def of_case(session: AsyncSession, case_id: uuid.UUID, limit: int) -> list[Decision]:
    """The case's decisions, oldest first."""
    query = (
        select(Decision)
        .where(Decision.case_id == case_id)
        .order_by(Decision.created_at, Decision.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def signed_of_case(session: AsyncSession, case_id: uuid.UUID) -> list[Decision]:
    """The case's signed decisions, in the order they were signed."""
    query = (
        select(Decision)
        .where(Decision.case_id == case_id, Decision.signed_at.is_not(None))
        .order_by(Decision.signed_at, Decision.id)
    )
    return list(await session.scalars(query))
