"""Queries of the absences table."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from provider.absences.models import Absence
from shared import db

_CLIENT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def add(session: AsyncSession, absence: Absence) -> None:
    session.add(absence)
    await session.flush()


async def get(session: AsyncSession, absence_id: uuid.UUID) -> Absence | None:
    return await session.get(Absence, absence_id)


async def get_locked(session: AsyncSession, absence_id: uuid.UUID) -> Absence | None:
    return await db.get_locked(session, Absence, absence_id)


async def lock_client(session: AsyncSession, provider_id: uuid.UUID, person_id: uuid.UUID) -> None:
    """Serialize changes to one client's absences at one provider until the
    transaction ends, so two overlapping ones cannot both pass the check."""
    await session.execute(_CLIENT_LOCK, {"key": f"absences:{provider_id}:{person_id}"})


async def overlapping(
    session: AsyncSession,
    provider_id: uuid.UUID,
    person_id: uuid.UUID,
    from_date: date,
    to_date: date | None,
    except_id: uuid.UUID | None = None,
) -> Absence | None:
    """One of the client's absences at the provider sharing a day with from..to
    (both inclusive, an open end runs on for ever), other than `except_id`."""
    wanted = func.daterange(from_date, to_date, "[]")
    stored = func.daterange(Absence.from_date, Absence.to_date, "[]")
    query = select(Absence).where(
        Absence.provider_id == provider_id, Absence.person_id == person_id, stored.op("&&")(wanted)
    )
    if except_id is not None:
        query = query.where(Absence.id != except_id)
    return (await session.scalars(query.order_by(Absence.from_date).limit(1))).first()


async def of_order(session: AsyncSession, order_id: uuid.UUID, limit: int) -> list[Absence]:
    query = select(Absence).where(Absence.order_id == order_id)
    return list(await session.scalars(query.order_by(Absence.from_date.desc(), Absence.id).limit(limit)))


async def of_unit(
    session: AsyncSession, provider_id: uuid.UUID, unit: str, current_on: date | None, limit: int
) -> list[Absence]:
    """The unit's absences; with `current_on`, only those not ended before that day."""
    query = select(Absence).where(Absence.provider_id == provider_id, Absence.unit == unit)
    if current_on is not None:
        query = query.where(or_(Absence.to_date.is_(None), Absence.to_date >= current_on))
        query = query.order_by(Absence.from_date, Absence.id)  # the longest away first
    else:
        query = query.order_by(Absence.from_date.desc(), Absence.id)  # the newest first
    return list(await session.scalars(query.limit(limit)))
