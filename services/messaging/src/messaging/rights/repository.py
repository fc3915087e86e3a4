"""Queries of the projections that say who may write to a person: caseworker
and co-caseworker assignments, provider-unit assignments and related persons'
approvals.

Co-caseworkers and approvals are ordered by their version, never by timestamps
from casework's clock; a revocation is final (docs/event-ordering.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.models import (
    CASEWORKER_ROWS,
    AssignmentRole,
    CaseworkerAssignment,
    ProviderAssignment,
    Representation,
)
from shared import projection


def _not_older_assignment(stmt: Insert) -> ColumnElement[bool]:
    # CaseworkerAssigned carries no version; one record's events share a Kafka
    # key, so only a replayed dead letter arrives late: it must not undo a newer one.
    return stmt.excluded.assigned_at >= CaseworkerAssignment.assigned_at


async def apply_assignment(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record who is the record's caseworker, unless a later assignment is there.
    One row per record (the partial unique index on the caseworker's role): a new
    caseworker replaces the former one's row."""
    stmt = insert(CaseworkerAssignment).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["record_id"],
        # A literal, as the index's predicate is: a bound parameter would not let a
        # generic (prepared) plan infer the partial index.
        index_where=text(CASEWORKER_ROWS),
        set_={c: stmt.excluded[c] for c in row if c not in ("record_id", "role")},
        where=_not_older_assignment(stmt),
    )
    written = await session.execute(stmt.returning(CaseworkerAssignment.record_id))
    return written.first() is not None


async def apply_co_caseworker(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record a co-caseworker added (`removed_at` None) or removed, unless an event
    with a newer version of the record's co-caseworkers was applied for them; True
    if the row changed. A removal that overtakes its addition is kept as removed."""
    return await projection.upsert(
        session,
        CaseworkerAssignment,
        row,
        key=["record_id", "role", "caseworker_id"],
        when=projection.newer_version(CaseworkerAssignment),
    )


async def assignments_of(session: AsyncSession, person_id: uuid.UUID) -> list[CaseworkerAssignment]:
    """The person's caseworkers and co-caseworkers who were not removed."""
    query = (
        select(CaseworkerAssignment)
        .where(CaseworkerAssignment.person_id == person_id, CaseworkerAssignment.removed_at.is_(None))
        .order_by(
            CaseworkerAssignment.assigned_at,
            CaseworkerAssignment.record_id,
            CaseworkerAssignment.caseworker_id,
        )
    )
    return list(await session.scalars(query))


async def an_assignment_of_record(session: AsyncSession, record_id: uuid.UUID) -> CaseworkerAssignment | None:
    """One assignment of the intake record, the caseworker's before any co-caseworker's."""
    query = (
        select(CaseworkerAssignment)
        .where(CaseworkerAssignment.record_id == record_id)
        .order_by(CaseworkerAssignment.role != AssignmentRole.CASEWORKER)
        .limit(1)
    )
    return await session.scalar(query)


async def apply_provider_assignment(
    session: AsyncSession, row: Mapping[str, Any], *, keep_valid_from: bool = False
) -> bool:
    """Record the assignment's newer facts (a higher version); True if the row changed.
    `keep_valid_from`: an existing row keeps its start (an end knows no start)."""
    return await projection.upsert(
        session,
        ProviderAssignment,
        row,
        key=["order_id"],
        when=projection.newer_version(ProviderAssignment),
        update=[c for c in row if c != "valid_from"] if keep_valid_from else None,
    )


async def set_provider_assignment_start(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Set the assignment's start (`valid_from`) whatever its version: the execution
    date never changes, so a start that arrives after the end is still right."""
    return await projection.upsert(session, ProviderAssignment, row, key=["order_id"], update=["valid_from"])


async def provider_assignments_of(
    session: AsyncSession, person_id: uuid.UUID, provider_id: str
) -> list[ProviderAssignment]:
    query = select(ProviderAssignment).where(
        ProviderAssignment.person_id == person_id, ProviderAssignment.provider_id == provider_id
    )
    return list(await session.scalars(query))


async def representation(session: AsyncSession, approval_id: uuid.UUID) -> Representation | None:
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
    """Mark an approval revoked for good, recording it if it is unknown; its facts
    replace older ones only. True if the row changed."""
    if await projection.upsert(
        session, Representation, row, key=["approval_id"], when=_newer_and_not_revoked
    ):
        return True
    # An older revocation still revokes, but keeps the newer facts (and their version).
    return await projection.upsert(
        session, Representation, row, key=["approval_id"], when=_not_revoked, update=["revoked_at"]
    )
