"""What the journal module (casework.journal) may ask of intake records: reach a
record under the records' own access rule (a unit of the caseworker's holds it;
audited), find one for a journal request, and file a document under it. Kept in
a file of its own beside service.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.intake_records import repository, service
from casework.models import Document, IntakeRecord, Person
from shared.auth import User


async def reach_record(
    session: AsyncSession,
    user: User,
    record_id: uuid.UUID,
    action: str,
    object_type: str,
    object_id: uuid.UUID | None = None,
) -> tuple[IntakeRecord, Person]:
    """The record and its person if a unit of the caseworker's holds it (NotFound, or
    a refusal audited, otherwise); the access is audited as `object_type` `object_id`
    (the record's id)."""
    return await service.reach_record(session, user, record_id, action, object_type, object_id)


async def get(session: AsyncSession, record_id: uuid.UUID) -> IntakeRecord | None:
    return await repository.get(session, record_id)


async def file_document(
    session: AsyncSession,
    record: IntakeRecord,
    *,
    doc_type: str,
    title: str,
    content_type: str,
    content: bytes,
    at: datetime,
) -> uuid.UUID:
    """File a document under the record's documentation; its id."""
    document = Document(
        id=uuid.uuid4(),
        person_id=record.person_id,
        record_id=record.id,
        doc_type=doc_type[:60],
        title=title[:200],
        content_type=content_type[:100],
        content=content,
        created_at=at,
    )
    repository.add(session, document)
    await session.flush()
    session.expunge(document)  # its bytes leave memory with it: one file at a time
    return document.id


async def documents(session: AsyncSession, record_id: uuid.UUID) -> dict[uuid.UUID, Document]:
    """The record's documents by id, without their content."""
    return {d.id: d for d in await repository.documents_of(session, [record_id])}
