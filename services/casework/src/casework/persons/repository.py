"""Queries of persons."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import CitizenContactDetails, IntakeRecord, Person, Relation


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


async def alerted_relations(session: AsyncSession, person_id: uuid.UUID, today: date) -> list[Relation]:
    """Relations valid today with an alert flag set: a former god man is not alerted."""
    query = (select(Relation).where(Relation.person_id == person_id)
             .where(Relation.sms_alerts | Relation.email_alerts)
             .where(Relation.valid_from <= today)
             .where(or_(Relation.valid_to.is_(None), Relation.valid_to >= today))
             .order_by(Relation.created_at))
    return list(await session.scalars(query))


async def remember_citizen_contacts(session: AsyncSession, pnr: str, changes: dict[str, str | None],
                                    changed_at: datetime) -> None:
    """Keep what the citizen set; an older change never overwrites a newer one."""
    stmt = insert(CitizenContactDetails).values(pnr=pnr, changed_at=changed_at, **changes)
    stmt = stmt.on_conflict_do_update(
        index_elements=["pnr"], set_={"changed_at": changed_at, **changes},
        where=CitizenContactDetails.changed_at <= changed_at)
    await session.execute(stmt)


async def citizen_contacts(session: AsyncSession, pnr: str) -> CitizenContactDetails | None:
    return await session.get(CitizenContactDetails, pnr)
