"""Projections: a service's copy of facts another service owns, kept from its
events. Events can arrive late (a dead letter replayed days later), so a
projection row is written only when the incoming fact is newer than the one it
holds, judged by the per-aggregate version the producer put in the event,
never by clocks on different hosts (docs/event-ordering.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, inspect
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

Condition = Callable[[Insert], ColumnElement[bool]]


def newer_version(model: type[DeclarativeBase], column: str = "version") -> Condition:
    """The incoming row's version is higher than the stored one's."""
    return lambda stmt: stmt.excluded[column] > getattr(model, column)


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    when: Condition | None = None,
    update: Iterable[str] | None = None,
) -> bool:
    """Insert the projection row, or update the existing one's `update` columns
    (all but the key by default) if `when` holds for it (always, if None).
    True if a row was written; False if a newer fact was there already."""
    stmt = insert(model).values(**values)
    columns = [c for c in (update if update is not None else values) if c not in key]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c: stmt.excluded[c] for c in columns},
        where=when(stmt) if when is not None else None,
    )
    written = await session.execute(stmt.returning(*inspect(model).primary_key))
    return written.first() is not None
