"""Queries of the related-person approvals projection.

Ordered by the approval's version (carried in its events), never by timestamps
from casework's clock; a revocation is final (docs/event-ordering.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import Representation
from shared import projection


async def for_related_person(session: AsyncSession, related_pnr: str) -> list[Representation]:
    query = (
        select(Representation)
        .where(Representation.related_pnr == related_pnr)
        .order_by(Representation.citizen_name, Representation.approval_id)
    )
    return list(await session.scalars(query))


async def get(session: AsyncSession, approval_id: uuid.UUID) -> Representation | None:
    return await session.get(Representation, approval_id)


def _not_revoked(stmt: Insert) -> ColumnElement[bool]:
    return Representation.revoked_at.is_(None)


def _newer_and_not_revoked(stmt: Insert) -> ColumnElement[bool]:
    """Not revoked, and the incoming event is newer than what was applied: a higher
    version, or, while neither carries one (events from before versions), a later timestamp."""
    incoming = stmt.excluded
    newer = or_(
        incoming.version > Representation.version,
        and_(
            incoming.version == 0,
            Representation.version == 0,
            Representation.changed_at <= incoming.changed_at,
        ),
    )
    return and_(_not_revoked(stmt), newer)


async def apply_approval(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record or update an approval unless a newer event was applied or it was
    revoked (whatever the version); True if the row changed."""
    return await projection.upsert(
        session, Representation, {**row, "revoked_at": None}, key=["approval_id"], when=_newer_and_not_revoked
    )


async def apply_revocation(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Mark an approval revoked for good, recording it if it is unknown (a revocation
    that overtook its approval); its facts replace older ones only. True if the row changed."""
    if await projection.upsert(
        session, Representation, row, key=["approval_id"], when=_newer_and_not_revoked
    ):
        return True
    # An older revocation still revokes, but keeps the newer facts (and their version).
    return await projection.upsert(
        session, Representation, row, key=["approval_id"], when=_not_revoked, update=["revoked_at"]
    )
