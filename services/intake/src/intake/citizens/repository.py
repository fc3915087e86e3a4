"""Queries of citizen profiles and contacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CitizenContact, CitizenProfile
from shared import projection
from shared.db import locked


async def profile(session: AsyncSession, pnr: str) -> CitizenProfile | None:
    return (await session.scalars(select(CitizenProfile).where(CitizenProfile.pnr == pnr))).one_or_none()


async def locked_profile(session: AsyncSession, pnr: str) -> CitizenProfile | None:
    """The citizen's profile, its row locked and freshly read."""
    query = locked(select(CitizenProfile).where(CitizenProfile.pnr == pnr))
    return (await session.scalars(query)).one_or_none()


async def create_profile_if_missing(session: AsyncSession, values: Mapping[str, Any]) -> None:
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


def _assigned_later(stmt: Insert) -> ColumnElement[bool]:
    # CaseworkerAssigned carries no version: the later assignment wins.
    return CitizenContact.assigned_at <= stmt.excluded.assigned_at


async def upsert_contact(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """One contact per intake record; a later assignment replaces the caseworker."""
    return await projection.upsert(
        session,
        CitizenContact,
        values,
        key=["record_id"],
        when=_assigned_later,
        update=["caseworker_id", "caseworker_name", "unit", "assigned_at"],
    )
