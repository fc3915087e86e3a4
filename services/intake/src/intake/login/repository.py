"""Queries of the e-ID login and of the development simulator's orders."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.login.models import LoginTransaction, SimulatedOrder
from shared.db import get_locked


def add_login(session: AsyncSession, login: LoginTransaction) -> None:
    session.add(login)


async def get_login(session: AsyncSession, login_id: uuid.UUID) -> LoginTransaction | None:
    return await session.get(LoginTransaction, login_id)


async def get_login_locked(session: AsyncSession, login_id: uuid.UUID) -> LoginTransaction | None:
    """The login, its row locked: collect holds it while it asks the backend, so
    two concurrent collects (on any replica) cannot both hand out a token."""
    return await get_locked(session, LoginTransaction, login_id)


def add_simulated_order(session: AsyncSession, order: SimulatedOrder) -> None:
    session.add(order)


async def count_simulated_collect(session: AsyncSession, order_ref: str) -> SimulatedOrder | None:
    """Count one more collect of the order, and return it; None if unknown."""
    query = (
        update(SimulatedOrder)
        .where(SimulatedOrder.order_ref == order_ref)
        .values(collects=SimulatedOrder.collects + 1)
        .returning(SimulatedOrder)
    )
    return await session.scalar(query)


async def delete_simulated_order(session: AsyncSession, order_ref: str) -> bool:
    result = await session.execute(delete(SimulatedOrder).where(SimulatedOrder.order_ref == order_ref))
    return bool(getattr(result, "rowcount", 0))


async def purge_logins(session: AsyncSession, ended_before: datetime, started_before: datetime) -> int:
    """Delete logins that ended before `ended_before`, or started (and so expired) before `started_before`."""
    result = await session.execute(
        delete(LoginTransaction).where(
            or_(LoginTransaction.finished_at < ended_before, LoginTransaction.started_at < started_before)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_simulated_orders(session: AsyncSession, created_before: datetime) -> int:
    result = await session.execute(delete(SimulatedOrder).where(SimulatedOrder.created_at < created_before))
    return int(getattr(result, "rowcount", 0) or 0)
