"""Queries of the orders table."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from provider.orders.models import Order, OrderStatus
from shared import db


async def add_if_new(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Insert the order unless one with its id is there already (a replayed OrderPlaced)."""
    stmt = insert(Order).values(**values).on_conflict_do_nothing(index_elements=["id"])
    return (await session.execute(stmt.returning(Order.id))).scalar_one_or_none() is not None


async def get(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    return await session.get(Order, order_id)


async def get_locked(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    return await db.get_locked(session, Order, order_id)


async def by_ids(session: AsyncSession, order_ids: Collection[uuid.UUID]) -> list[Order]:
    if not order_ids:
        return []
    return list(await session.scalars(select(Order).where(Order.id.in_(list(order_ids)))))


def _with_status(query: Select[Order], status: OrderStatus | None) -> Select[Order]:
    if status == OrderStatus.UNCONFIRMED:
        return query.where(Order.execution_date.is_(None))
    if status == OrderStatus.CONFIRMED:
        return query.where(Order.execution_date.is_not(None), Order.end_date.is_(None))
    if status == OrderStatus.ENDED:
        return query.where(Order.end_date.is_not(None))
    return query


async def page_of_unit(
    session: AsyncSession,
    provider_id: uuid.UUID,
    unit: str,
    status: OrderStatus | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Order]:
    """The unit's orders of one status, newest first; keyset on (placed_at, id)."""
    query = select(Order).where(Order.provider_id == provider_id, Order.unit == unit)
    query = _with_status(query, status)
    if after is not None:
        query = query.where(tuple_(Order.placed_at, Order.id) < tuple_(*after))
    query = query.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    return list(await session.scalars(query))


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_in_unit(
    session: AsyncSession,
    provider_id: uuid.UUID,
    unit: str,
    *,
    pnr: str | None,
    text: str,
    limit: int,
) -> list[Order]:
    """The unit's orders whose client has this personnummer, or this kundnummer,
    or a name containing `text` (any case); by name, newest first."""
    matches = [Order.kundnummer == text, Order.client_name.ilike(_like(text), escape="\\")]
    if pnr is not None:
        matches.append(Order.client_pnr == pnr)
    query = (
        select(Order)
        .where(Order.provider_id == provider_id, Order.unit == unit, or_(*matches))
        .order_by(Order.client_name, Order.placed_at.desc(), Order.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
