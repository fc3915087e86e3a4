"""Queries of citizen profiles and contacts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CitizenContact, CitizenProfile


async def profile(session: AsyncSession, pnr: str, *, for_update: bool = False) -> CitizenProfile | None:
    query = select(CitizenProfile).where(CitizenProfile.pnr == pnr)
    if for_update:
        # populate_existing: the locked read must not return an earlier read's stale copy.
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).one_or_none()


async def create_profile_if_missing(session: AsyncSession, values: dict[str, object]) -> None:
    """Safe when two first saves of the same citizen race: one inserts, both go on."""
    await session.execute(
        insert(CitizenProfile).values(**values).on_conflict_do_nothing(index_elements=["pnr"])
    )


async def contacts(session: AsyncSession, pnr: str) -> list[CitizenContact]:
    query = (
        select(CitizenContact)
        .where(CitizenContact.citizen_pnr == pnr)
        .order_by(CitizenContact.assigned_at.desc())
    )
    return list(await session.scalars(query))


async def upsert_contact(session: AsyncSession, values: dict[str, object]) -> None:
    """One contact per intake record; a reassignment replaces the caseworker."""
    stmt = insert(CitizenContact).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["record_id"],
        set_={k: stmt.excluded[k] for k in ("caseworker_id", "caseworker_name", "unit", "assigned_at")},
        where=CitizenContact.assigned_at <= stmt.excluded.assigned_at,
    )
    await session.execute(stmt)
