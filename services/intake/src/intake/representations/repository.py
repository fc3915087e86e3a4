"""Queries of the related-person approvals projection.

Ordered by the approval's version (carried in its events), never by timestamps
from casework's clock; a revocation is final (docs/event-ordering.md)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import Representation

_FACTS = (
    "person_id",
    "citizen_pnr",
    "citizen_name",
    "related_pnr",
    "related_name",
    "valid_from",
    "valid_to",
    "changed_at",
    "version",
)


async def for_related_person(session: AsyncSession, related_pnr: str) -> list[Representation]:
    query = (
        select(Representation)
        .where(Representation.related_pnr == related_pnr)
        .order_by(Representation.citizen_name, Representation.approval_id)
    )
    return list(await session.scalars(query))


async def get(session: AsyncSession, approval_id: uuid.UUID) -> Representation | None:
    return await session.get(Representation, approval_id)


def _newer(stmt: Insert) -> ColumnElement[bool]:
    """The incoming event is newer than what was applied: a higher version, or,
    while neither carries one (events from before versions), a later timestamp."""
    incoming = stmt.excluded
    return or_(
        incoming.version > Representation.version,
        and_(
            incoming.version == 0,
            Representation.version == 0,
            Representation.changed_at <= incoming.changed_at,
        ),
    )


async def apply_approval(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record or update an approval unless a newer event was applied or it was
    revoked (whatever the version); True if the row changed."""
    stmt = insert(Representation).values(**values, revoked_at=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=["approval_id"],
        set_={k: stmt.excluded[k] for k in _FACTS},
        where=and_(Representation.revoked_at.is_(None), _newer(stmt)),
    )
    return (await session.execute(stmt.returning(Representation.approval_id))).first() is not None


async def apply_revocation(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Mark an approval revoked for good, recording it if it is unknown (a revocation
    that overtook its approval); its facts replace older ones only. True if the row changed."""
    stmt = insert(Representation).values(**values)
    newer = _newer(stmt)
    facts = {
        k: case((newer, stmt.excluded[k]), else_=getattr(Representation, k)) for k in _FACTS if k != "version"
    }
    stmt = stmt.on_conflict_do_update(
        index_elements=["approval_id"],
        set_={
            **facts,
            "revoked_at": stmt.excluded.revoked_at,
            "version": func.greatest(Representation.version, stmt.excluded.version),
        },
        where=Representation.revoked_at.is_(None),
    )
    return (await session.execute(stmt.returning(Representation.approval_id))).first() is not None
