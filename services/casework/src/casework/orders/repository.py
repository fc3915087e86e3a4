"""Every SQL statement on orders."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.orders.models import Order, OrderStatus
from shared import db


def add(session: AsyncSession, order: Order) -> None:
    session.add(order)


async def get(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    return await session.get(Order, order_id)


async def get_locked(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """The order, its row locked and read afresh: provider's events apply one at a time."""
    return await db.get_locked(session, Order, order_id)


async def open_of_decision(session: AsyncSession, decision_id: uuid.UUID) -> Order | None:
    """The decision's order that has not ended, if any."""
    query = select(Order).where(Order.decision_id == decision_id, Order.status != OrderStatus.ENDED)
    return await session.scalar(query)


async def of_case(session: AsyncSession, case_id: uuid.UUID, limit: int) -> list[Order]:
    """The case's orders, newest first."""
    query = (
        select(Order).where(Order.case_id == case_id).order_by(Order.placed_at.desc(), Order.id).limit(limit)
    )
    return list(await session.scalars(query))


async def executions_overlapping(session: AsyncSession, first: date, last: date) -> list[Order]:
    """The orders whose execution runs on a day from `first` through `last`."""
    query = (
        select(Order)
        .where(
            Order.execution_date.is_not(None),
            Order.execution_date <= last,
            or_(Order.end_date.is_(None), Order.end_date >= first),
        )
        .order_by(Order.person_id, Order.execution_date, Order.id)
    )
    return list(await session.scalars(query))
