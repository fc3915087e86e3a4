"""Queries of the staff directory."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import StaffMember

# A caseworker's row is refreshed at most this often unless their name or units change.
REFRESH = timedelta(minutes=10)


async def remember(session: AsyncSession, id_: str, name: str, units: list[str], now: datetime) -> None:
    stmt = insert(StaffMember).values(id=id_, name=name, units=units, last_seen_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={"name": name, "units": units, "last_seen_at": now},
        where=or_(
            StaffMember.name != name, StaffMember.units != units, StaffMember.last_seen_at < now - REFRESH
        ),
    )
    await session.execute(stmt)


async def get(session: AsyncSession, id_: str) -> StaffMember | None:
    return await session.get(StaffMember, id_)


async def in_unit(session: AsyncSession, unit: str) -> list[StaffMember]:
    query = select(StaffMember).where(StaffMember.units.any(unit)).order_by(StaffMember.name)
    return list(await session.scalars(query))
