"""Queries of persons and of the contact details citizens set in Mina sidor."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import CitizenContactDetails, Person
from shared import db


async def get(session: AsyncSession, person_id: uuid.UUID) -> Person | None:
    return await session.get(Person, person_id)


async def get_locked(session: AsyncSession, person_id: uuid.UUID) -> Person | None:
    # Locked and read afresh, so versions are incremented from the truth.
    return await db.get_locked(session, Person, person_id)


async def by_ids(session: AsyncSession, person_ids: Iterable[uuid.UUID]) -> list[Person]:
    return list(await session.scalars(select(Person).where(Person.id.in_(set(person_ids)))))


async def by_pnr_locked(session: AsyncSession, pnr: str) -> Person | None:
    return (await session.scalars(db.locked(select(Person).where(Person.pnr == pnr)))).one_or_none()


async def find_or_create(session: AsyncSession, pnr: str, name: str) -> tuple[Person, bool]:
    """The person with this personnummer, locked, created if new; safe under concurrent links."""
    inserted = await session.execute(
        insert(Person)
        .values(id=uuid.uuid4(), pnr=pnr, name=name)
        .on_conflict_do_nothing(index_elements=["pnr"])
        .returning(Person.id)
    )
    created = inserted.scalar_one_or_none() is not None
    person = await by_pnr_locked(session, pnr)
    assert person is not None
    return person, created


async def search(
    session: AsyncSession,
    among: Select[uuid.UUID],
    *,
    pnr: str | None = None,
    kundnummer: str | None = None,
    name: str | None = None,
    limit: int = 50,
) -> list[Person]:
    """Persons whose id is `among` (a subquery) matching one criterion."""
    query = select(Person).where(Person.id.in_(among))
    if pnr is not None:
        query = query.where(Person.pnr == pnr)
    elif kundnummer is not None:
        query = query.where(Person.kundnummer == kundnummer)
    elif name is not None:
        pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(Person.name).like(pattern, escape="\\"))
    return list(await session.scalars(query.order_by(Person.name, Person.id).limit(limit)))


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
    kept = await db.get_locked(session, CitizenContactDetails, pnr)
    assert kept is not None
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
    """The details the citizen set, read under a share lock: a contact change being
    applied right now (which holds the row for update, and cannot yet see a person
    created in this transaction) is waited for and read, never lost."""
    query = select(CitizenContactDetails).where(CitizenContactDetails.pnr == pnr)
    return await session.scalar(query.with_for_update(read=True).execution_options(populate_existing=True))
