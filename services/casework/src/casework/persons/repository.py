"""Queries of persons."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import CitizenContactDetails, IntakeRecord, Person, Relation


def _locked(query: Select[tuple[Person]]) -> Select[tuple[Person]]:
    # populate_existing: the locked read replaces what an earlier read of this
    # session left in the identity map, so versions are incremented from the truth.
    return query.with_for_update().execution_options(populate_existing=True)


async def get(session: AsyncSession, person_id: uuid.UUID, *, for_update: bool = False) -> Person | None:
    query = select(Person).where(Person.id == person_id)
    if for_update:
        query = _locked(query)
    return (await session.scalars(query)).one_or_none()


async def by_pnr(session: AsyncSession, pnr: str, *, for_update: bool = False) -> Person | None:
    query = select(Person).where(Person.pnr == pnr)
    if for_update:
        query = _locked(query)
    return (await session.scalars(query)).one_or_none()


async def find_or_create(session: AsyncSession, pnr: str, name: str) -> tuple[Person, bool]:
    """The person with this personnummer, created if new; safe under concurrent links."""
    inserted = await session.execute(
        insert(Person)
        .values(id=uuid.uuid4(), pnr=pnr, name=name)
        .on_conflict_do_nothing(index_elements=["pnr"])
        .returning(Person.id)
    )
    created = inserted.scalar_one_or_none() is not None
    person = await by_pnr(session, pnr, for_update=True)
    assert person is not None
    return person, created


async def units_of(session: AsyncSession, person_id: uuid.UUID) -> set[str]:
    """The units that hold an intake record of the person."""
    query = select(IntakeRecord.unit).where(IntakeRecord.person_id == person_id).distinct()
    rows = await session.scalars(query)
    return set(rows)


async def has_intake_record(session: AsyncSession, person_id: uuid.UUID) -> bool:
    count = await session.scalar(
        select(func.count()).select_from(IntakeRecord).where(IntakeRecord.person_id == person_id)
    )
    return bool(count)


async def search(
    session: AsyncSession,
    units: list[str],
    *,
    pnr: str | None = None,
    kundnummer: str | None = None,
    name: str | None = None,
    limit: int = 50,
) -> list[Person]:
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
    query = (
        select(Relation)
        .where(Relation.person_id == person_id)
        .where(Relation.sms_alerts | Relation.email_alerts)
        .where(Relation.valid_from <= today)
        .where(or_(Relation.valid_to.is_(None), Relation.valid_to >= today))
        .order_by(Relation.created_at)
    )
    return list(await session.scalars(query))


async def remember_citizen_contacts(
    session: AsyncSession, pnr: str, changes: dict[str, str | None], version: int, changed_at: datetime
) -> dict[str, str | None]:
    """Keep what the citizen set, field by field, and return the changes that were
    newer than what is kept: an older or replayed event changes nothing, while a
    newer change of the other field still applies. Events from before versions
    (version 0) apply only while nothing versioned is kept, in their old order."""
    await session.execute(
        insert(CitizenContactDetails)
        .values(pnr=pnr, changed_at=changed_at)
        .on_conflict_do_nothing(index_elements=["pnr"])
    )
    kept = (
        await session.scalars(
            select(CitizenContactDetails)
            .where(CitizenContactDetails.pnr == pnr)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    unversioned = kept.mobile_version == 0 and kept.email_version == 0
    applied: dict[str, str | None] = {}
    for field, value in changes.items():
        newer = (
            version > getattr(kept, f"{field}_version")
            if version
            else (unversioned and changed_at >= kept.changed_at)
        )
        if newer:
            setattr(kept, field, value)
            setattr(kept, f"{field}_version", version)
            applied[field] = value
    if applied:
        kept.changed_at = max(kept.changed_at, changed_at)
    await session.flush()
    return applied


async def citizen_contacts(session: AsyncSession, pnr: str) -> CitizenContactDetails | None:
    return await session.get(CitizenContactDetails, pnr)
