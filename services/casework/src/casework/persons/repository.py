"""Queries of persons."""

from __future__ import annotations

import uuid

from sqlalchemy import distinct, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import IntakeRecord, Person, Relation


async def get(session: AsyncSession, person_id: uuid.UUID, *, for_update: bool = False) -> Person | None:
    query = select(Person).where(Person.id == person_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def by_pnr(session: AsyncSession, pnr: str, *, for_update: bool = False) -> Person | None:
    query = select(Person).where(Person.pnr == pnr)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def find_or_create(session: AsyncSession, pnr: str, name: str) -> tuple[Person, bool]:
    """The person with this personnummer, created if new; safe under concurrent links."""
    inserted = await session.execute(
        insert(Person).values(id=uuid.uuid4(), pnr=pnr, name=name)
        .on_conflict_do_nothing(index_elements=["pnr"]).returning(Person.id))
    created = inserted.scalar_one_or_none() is not None
    person = await by_pnr(session, pnr, for_update=True)
    assert person is not None
    return person, created


async def units_of(session: AsyncSession, person_id: uuid.UUID) -> set[str]:
    """The units that hold an intake record of the person."""
    query = select(distinct(IntakeRecord.unit)).where(IntakeRecord.person_id == person_id)
    rows = await session.scalars(query)
    return set(rows)


async def has_intake_record(session: AsyncSession, person_id: uuid.UUID) -> bool:
    count = await session.scalar(select(func.count()).select_from(IntakeRecord)
                                 .where(IntakeRecord.person_id == person_id))
    return bool(count)


async def search(session: AsyncSession, units: list[str], *, pnr: str | None = None,
                 kundnummer: str | None = None, name: str | None = None, limit: int = 50) -> list[Person]:
    """Persons with an intake record in one of `units` matching one criterion."""
    in_units = select(IntakeRecord.person_id).where(IntakeRecord.unit.in_(units))
    query = select(Person).where(Person.id.in_(in_units))
    if pnr is not None:
        query = query.where(Person.pnr == pnr)
    elif kundnummer is not None:
        query = query.where(Person.kundnummer == kundnummer)
    elif name is not None:
        pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(Person.name).like(pattern, escape="\\"))
    return list(await session.scalars(query.order_by(Person.name, Person.id).limit(limit)))


async def alerted_relations(session: AsyncSession, person_id: uuid.UUID) -> list[Relation]:
    """Relations with an alert flag set."""
    query = (select(Relation).where(Relation.person_id == person_id)
             .where(Relation.sms_alerts | Relation.email_alerts).order_by(Relation.created_at))
    return list(await session.scalars(query))
