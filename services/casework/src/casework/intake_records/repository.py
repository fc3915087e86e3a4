"""Queries of intake records and their documents."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from casework.models import CoCaseworker, Document, IntakeRecord, RecordStatus
from shared import db


def add(session: AsyncSession, *rows: IntakeRecord | Document | CoCaseworker) -> None:
    session.add_all(rows)


async def get(session: AsyncSession, record_id: uuid.UUID) -> IntakeRecord | None:
    return await session.get(IntakeRecord, record_id)


async def get_locked(session: AsyncSession, record_id: uuid.UUID) -> IntakeRecord | None:
    """The record, its row locked and read afresh: every co-caseworker change of
    one record takes this lock, so their versions follow one another."""
    return await db.get_locked(session, IntakeRecord, record_id)


async def of_caseworker(
    session: AsyncSession, caseworker_id: str, units: list[str], status: RecordStatus
) -> list[IntakeRecord]:
    query = (
        select(IntakeRecord)
        .where(IntakeRecord.caseworker_id == caseworker_id, IntakeRecord.status == status)
        .where(IntakeRecord.unit.in_(units))
        .order_by(IntakeRecord.created_at.desc(), IntakeRecord.id.desc())
    )
    return list(await session.scalars(query))


async def for_person(session: AsyncSession, person_id: uuid.UUID) -> list[IntakeRecord]:
    query = (
        select(IntakeRecord)
        .where(IntakeRecord.person_id == person_id)
        .order_by(IntakeRecord.created_at.desc())
    )
    return list(await session.scalars(query))


async def units_of(session: AsyncSession, person_id: uuid.UUID) -> set[str]:
    """The units that hold an intake record of the person."""
    query = select(IntakeRecord.unit).where(IntakeRecord.person_id == person_id).distinct()
    return set(await session.scalars(query))


async def any_of(session: AsyncSession, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(IntakeRecord.person_id == person_id))))


async def any_investigation_of(session: AsyncSession, person_id: uuid.UUID) -> bool:
    query = exists().where(
        IntakeRecord.person_id == person_id, IntakeRecord.investigation_started_at.is_not(None)
    )
    return bool(await session.scalar(select(query)))


def person_ids_in(units: list[str]) -> Select[uuid.UUID]:
    """A subquery: the persons with an intake record in one of `units`."""
    return select(IntakeRecord.person_id).where(IntakeRecord.unit.in_(units))


async def documents_of(session: AsyncSession, record_ids: list[uuid.UUID]) -> list[Document]:
    """Documents without their content."""
    query = (
        select(Document)
        .where(Document.record_id.in_(record_ids))
        .options(defer(Document.content))
        .order_by(Document.created_at)
    )
    return list(await session.scalars(query))


async def document(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    return await session.get(Document, document_id)


async def co_caseworkers_of(session: AsyncSession, record_ids: list[uuid.UUID]) -> list[CoCaseworker]:
    query = (
        select(CoCaseworker)
        .where(CoCaseworker.record_id.in_(record_ids))
        .order_by(CoCaseworker.added_at, CoCaseworker.caseworker_id)
    )
    return list(await session.scalars(query))


async def co_caseworker(
    session: AsyncSession, record_id: uuid.UUID, caseworker_id: str
) -> CoCaseworker | None:
    query = select(CoCaseworker).where(
        CoCaseworker.record_id == record_id, CoCaseworker.caseworker_id == caseworker_id
    )
    return await session.scalar(query)


async def delete(session: AsyncSession, row: CoCaseworker) -> None:
    await session.delete(row)
