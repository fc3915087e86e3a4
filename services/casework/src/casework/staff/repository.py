"""Queries of the staff directory."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import StaffMember
from shared import projection

# A caseworker's row is refreshed at most this often unless their name or units change.
REFRESH = timedelta(minutes=10)


def _changed_or_stale(stmt: Insert) -> ColumnElement[bool]:
    seen = stmt.excluded
    return or_(
        StaffMember.name != seen.name,
        StaffMember.units != seen.units,
        StaffMember.last_seen_at < seen.last_seen_at - REFRESH,
    )


async def remember(session: AsyncSession, id_: str, name: str, units: list[str], now: datetime) -> None:
    """Keep the caseworker as their token shows them; an unchanged row is rewritten
    only every REFRESH, so frequent requests do not each write it."""
    values = {"id": id_, "name": name, "units": units, "last_seen_at": now}
    await projection.upsert(session, StaffMember, values, key=["id"], when=_changed_or_stale)


async def get(session: AsyncSession, id_: str) -> StaffMember | None:
    return await session.get(StaffMember, id_)


async def in_unit(session: AsyncSession, unit: str) -> list[StaffMember]:
    query = select(StaffMember).where(StaffMember.units.contains([unit])).order_by(StaffMember.name)
    return list(await session.scalars(query))
