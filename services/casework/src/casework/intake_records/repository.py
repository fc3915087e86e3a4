"""Queries of intake records and their documents."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from casework.models import Document, IntakeRecord, Person


def add(session: AsyncSession, *rows: IntakeRecord | Document) -> None:
    session.add_all(rows)


async def get(session: AsyncSession, record_id: uuid.UUID) -> IntakeRecord | None:
    return await session.get(IntakeRecord, record_id)


async def new_for_caseworker(
    session: AsyncSession, caseworker_id: str, units: list[str], status: str
) -> list[tuple[IntakeRecord, Person]]:
    query = (
        select(IntakeRecord, Person)
        .join(Person, Person.id == IntakeRecord.person_id)
        .where(IntakeRecord.caseworker_id == caseworker_id, IntakeRecord.status == status)
        .where(IntakeRecord.unit.in_(units))
        .order_by(IntakeRecord.created_at.desc(), IntakeRecord.id.desc())
    )
    return [(r, p) for r, p in (await session.execute(query)).all()]


async def for_person(session: AsyncSession, person_id: uuid.UUID) -> list[IntakeRecord]:
    query = (
        select(IntakeRecord)
        .where(IntakeRecord.person_id == person_id)
        .order_by(IntakeRecord.created_at.desc())
    )
    return list(await session.scalars(query))


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
