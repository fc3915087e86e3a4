"""Every SQL statement on cases and their status history."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases.models import Case, CaseStatusChange
from shared import db


def add(session: AsyncSession, *rows: Case | CaseStatusChange) -> None:
    session.add_all(rows)


async def get(session: AsyncSession, case_id: uuid.UUID) -> Case | None:
    return await session.get(Case, case_id)


async def get_locked(session: AsyncSession, case_id: uuid.UUID) -> Case | None:
    """The case, its row locked and read afresh."""
    return await db.get_locked(session, Case, case_id)


async def of_record(session: AsyncSession, record_id: uuid.UUID) -> list[Case]:
    query = select(Case).where(Case.record_id == record_id).order_by(Case.created_at, Case.id)
    return list(await session.scalars(query))


async def count_of_record(session: AsyncSession, record_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(Case.record_id == record_id)) or 0)


async def of_service(session: AsyncSession, record_id: uuid.UUID, service_code: str) -> Case | None:
    query = select(Case).where(Case.record_id == record_id, Case.service_code == service_code)
    return await session.scalar(query)


async def history_of(session: AsyncSession, case_ids: list[uuid.UUID]) -> list[CaseStatusChange]:
    query = (
        select(CaseStatusChange)
        .where(CaseStatusChange.case_id.in_(case_ids))
        .order_by(CaseStatusChange.at, CaseStatusChange.id)
    )
    return list(await session.scalars(query))
