"""Queries of e-applications."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from intake.models import Application, StatusChange
from shared.db import locked

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


def _by_id(application_id: uuid.UUID) -> Select[Application]:
    return select(Application).where(Application.id == application_id).options(*_WITH_CHILDREN)


async def get(session: AsyncSession, application_id: uuid.UUID) -> Application | None:
    return (await session.scalars(_by_id(application_id))).one_or_none()


async def get_locked(session: AsyncSession, application_id: uuid.UUID) -> Application | None:
    """The application with its children, its row locked and freshly read."""
    return (await session.scalars(locked(_by_id(application_id)))).one_or_none()


def add_status_change(session: AsyncSession, change: StatusChange) -> None:
    session.add(change)


async def has_status_change(session: AsyncSession, application_id: uuid.UUID, status: str) -> bool:
    """Whether the application's history already holds a whole-application step with this status."""
    query = select(StatusChange.id).where(
        StatusChange.application_id == application_id,
        StatusChange.status == status,
        StatusChange.service_code.is_(None),
    )
    return (await session.scalars(query.limit(1))).first() is not None


async def has_step_from(session: AsyncSession, application_id: uuid.UUID, source_id: uuid.UUID) -> bool:
    """Whether the application's history already holds the step reporting `source_id` (a decision)."""
    query = select(StatusChange.id).where(
        StatusChange.application_id == application_id, StatusChange.source_id == source_id
    )
    return (await session.scalars(query.limit(1))).first() is not None
