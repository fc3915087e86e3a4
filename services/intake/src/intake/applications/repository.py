"""Queries of e-applications."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from intake.models import Application, StatusChange
from shared.contracts.intake import Entry
from shared.db import locked

_WITH_CHILDREN = (selectinload(Application.services), selectinload(Application.history))


@dataclass(frozen=True)
class NewApplication:
    """What a submit stores: the application, its services (codes in the applicant's order), Ny."""

    id: uuid.UUID
    applicant_pnr: str
    applicant_name: str
    entry: Entry
    description: str
    status: str
    submitted_at: datetime
    service_codes: tuple[str, ...]


# A new application, its services in the applicant's order and its first
# status step, in one statement: one round trip where the ORM's unit of work
# sends three (and reads back the step's generated id, which nobody needs).
# The foreign keys of the services and the step are checked at the end of the
# statement, when the application row is there.
_INSERT_NEW = text("""
    WITH application AS (
        INSERT INTO applications
            (id, applicant_pnr, applicant_name, entry, description, status, submitted_at)
        VALUES (:id, :applicant_pnr, :applicant_name, :entry, :description, :status, :submitted_at)
    ), services AS (
        INSERT INTO application_services (application_id, service_code, position)
        SELECT :id, code, position - 1
        FROM unnest(CAST(:codes AS varchar[])) WITH ORDINALITY AS s(code, position)
    )
    INSERT INTO application_status_history (application_id, status, at)
    VALUES (:id, :status, :submitted_at)
""")


async def insert_new(session: AsyncSession, new: NewApplication) -> None:
    """Store a new application with its services and its first status step."""
    await session.execute(
        _INSERT_NEW,
        {
            "id": new.id,
            "applicant_pnr": new.applicant_pnr,
            "applicant_name": new.applicant_name,
            "entry": new.entry,
            "description": new.description,
            "status": new.status,
            "submitted_at": new.submitted_at,
            "codes": list(new.service_codes),
        },
    )


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
