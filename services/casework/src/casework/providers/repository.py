"""Every SQL statement on casework's copy of the providers and their units."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from casework.providers.models import KnownProvider, KnownProviderUnit
from shared import projection


def _not_older_provider(stmt: Insert) -> ColumnElement[bool]:
    return stmt.excluded.registered_at >= KnownProvider.registered_at


def _not_older_unit(stmt: Insert) -> ColumnElement[bool]:
    return stmt.excluded.added_at >= KnownProviderUnit.added_at


async def apply_provider(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record the provider, or its newer name; True if the row changed."""
    return await projection.upsert(session, KnownProvider, row, key=["id"], when=_not_older_provider)


async def apply_unit(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record the unit, or its newer name; True if the row changed."""
    return await projection.upsert(session, KnownProviderUnit, row, key=["code"], when=_not_older_unit)


async def unit(session: AsyncSession, code: str) -> KnownProviderUnit | None:
    return await session.get(KnownProviderUnit, code)


async def providers(session: AsyncSession, ids: Iterable[uuid.UUID] | None = None) -> list[KnownProvider]:
    """The providers (these ones, if `ids`), by name."""
    query = select(KnownProvider).order_by(KnownProvider.name, KnownProvider.id)
    if ids is not None:
        query = query.where(KnownProvider.id.in_(list(ids)))
    return list(await session.scalars(query))


async def units(session: AsyncSession, codes: Iterable[str] | None = None) -> list[KnownProviderUnit]:
    """The units (these ones, if `codes`), by name."""
    query = select(KnownProviderUnit).order_by(KnownProviderUnit.name, KnownProviderUnit.code)
    if codes is not None:
        query = query.where(KnownProviderUnit.code.in_(list(codes)))
    return list(await session.scalars(query))
