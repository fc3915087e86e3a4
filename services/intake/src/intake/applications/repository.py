"""Queries of e-applications."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from intake.models import Application, StatusChange

_WITH_CHILDREN = (selectinload(Application.services), selectinload(Application.history))


def add(session: AsyncSession, application: Application) -> None:
    session.add(application)


async def list_for_applicant(session: AsyncSession, pnr: str) -> list[Application]:
    query = (
        select(Application)
        .where(Application.applicant_pnr == pnr)
        .options(*_WITH_CHILDREN)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
    )
    return list(await session.scalars(query))


async def get(
    session: AsyncSession, application_id: uuid.UUID, *, for_update: bool = False
) -> Application | None:
    query = select(Application).where(Application.id == application_id).options(*_WITH_CHILDREN)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


def add_status_change(session: AsyncSession, change: StatusChange) -> None:
    session.add(change)
