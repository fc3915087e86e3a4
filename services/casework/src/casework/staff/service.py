"""The staff directory: caseworkers as their tokens present them, so the link
dialog can offer "Handläggare" of an organisation without a separate HR feed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import StaffMember
from casework.staff import repository
from shared.auth import User


async def remember(session: AsyncSession, user: User) -> None:
    """Note the caseworker's name and units."""
    await repository.remember(session, user.sub, user.name, list(user.units), datetime.now(UTC))


async def caseworker_of_unit(session: AsyncSession, caseworker_id: str, unit: str) -> StaffMember | None:
    """The caseworker, if known and a member of `unit`."""
    member = await repository.get(session, caseworker_id)
    return member if member is not None and unit in member.units else None


async def list_unit(session: AsyncSession, user: User, unit: str) -> list[StaffMember]:
    """Caseworkers of a unit."""
    await remember(session, user)
    return await repository.in_unit(session, unit)
