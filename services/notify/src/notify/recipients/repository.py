"""Queries of the projections of casework's facts: alert settings, approvals and
the units handling a person.

Settings and approvals are ordered by their version, never by timestamps from
casework's clock, and a revocation is final (docs/event-ordering.md)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.models import AlertSettings, Approval, PersonUnit
from shared import projection
from shared.db import get_locked


async def apply_settings(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record a person's alert settings unless a newer version was applied; True if written."""
    return await projection.upsert(
        session, AlertSettings, row, key=["person_id"], when=projection.newer_version(AlertSettings)
    )


async def settings_of(session: AsyncSession, person_id: uuid.UUID) -> AlertSettings | None:
    """The person's alert settings, unlocked."""
    return await session.get(AlertSettings, person_id)


async def locked_settings(session: AsyncSession, person_id: uuid.UUID) -> AlertSettings | None:
    """The person's alert settings, locked (FOR UPDATE): one person's triggers plan one at a time."""
    return await get_locked(session, AlertSettings, person_id)


def _not_revoked(stmt: Insert) -> ColumnElement[bool]:
    return Approval.revoked.is_(False)


def _newer_and_not_revoked(stmt: Insert) -> ColumnElement[bool]:
    """Not revoked, and the incoming event is newer: a higher version, or, while
    neither carries one (events from before versions), a later timestamp."""
    incoming = stmt.excluded
    newer = or_(
        incoming.version > Approval.version,
        and_(incoming.version == 0, Approval.version == 0, Approval.changed_at <= incoming.changed_at),
    )
    return and_(_not_revoked(stmt), newer)


async def apply_approval(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record or update an approval unless a newer event was applied or it was revoked."""
    return await projection.upsert(
        session, Approval, {**row, "revoked": False}, key=["approval_id"], when=_newer_and_not_revoked
    )


async def apply_revocation(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Mark an approval revoked for good, recording it if unknown; its facts replace older ones only."""
    values = {**row, "revoked": True}
    if await projection.upsert(session, Approval, values, key=["approval_id"], when=_newer_and_not_revoked):
        return True
    # An older revocation still revokes, but keeps the newer facts (and their version).
    return await projection.upsert(
        session, Approval, values, key=["approval_id"], when=_not_revoked, update=["revoked"]
    )


async def approvals_of(session: AsyncSession, person_id: uuid.UUID) -> list[Approval]:
    """Every approval recorded for the person (valid or not)."""
    query = select(Approval).where(Approval.person_id == person_id).order_by(Approval.approval_id)
    return list(await session.scalars(query))


def _not_older_assignment(stmt: Insert) -> ColumnElement[bool]:
    # CaseworkerAssigned carries no version; only a replayed dead letter arrives late.
    return stmt.excluded.assigned_at >= PersonUnit.assigned_at


async def apply_person_unit(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record that the unit handles the person; True if the row was written."""
    return await projection.upsert(
        session, PersonUnit, row, key=["person_id", "unit"], when=_not_older_assignment
    )


async def units_of(session: AsyncSession, person_id: uuid.UUID) -> list[PersonUnit]:
    """The units whose caseworkers handle the person."""
    query = select(PersonUnit).where(PersonUnit.person_id == person_id).order_by(PersonUnit.unit)
    return list(await session.scalars(query))


async def pnrs_of(session: AsyncSession, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The personnummer of each person notify knows (for the audit log's subject)."""
    if not person_ids:
        return {}
    ids = list(person_ids)
    found = {
        row.person_id: row.pnr
        for row in await session.execute(
            select(PersonUnit.person_id, PersonUnit.pnr).where(PersonUnit.person_id.in_(ids))
        )
    }
    for row in await session.execute(
        select(AlertSettings.person_id, AlertSettings.pnr).where(AlertSettings.person_id.in_(ids))
    ):
        found[row.person_id] = row.pnr
    return found
