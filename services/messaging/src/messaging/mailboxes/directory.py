"""The staff directory read by sub: who a colleague is and which units (so which
group mailboxes) their token last showed. Part of the mailboxes module, which
owns `staff_members`; used by the settings module when an administrator sets a
colleague's absence (MS-7)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.mailboxes import repository
from messaging.models import Mailbox, StaffMember


async def staff_member(session: AsyncSession, sub: str) -> StaffMember | None:
    """The staff member as their token last showed them, or None if they never used messaging."""
    return await session.get(StaffMember, sub)


async def personal_mailbox(session: AsyncSession, sub: str) -> Mailbox | None:
    """The staff member's personal mailbox, if they have one (never created here)."""
    return await session.scalar(select(Mailbox).where(Mailbox.owner_sub == sub))


async def groups_of(session: AsyncSession, units: tuple[str, ...] | list[str]) -> list[Mailbox]:
    """The group mailboxes of these units (their members' gemensamma brevlådor)."""
    return await repository.groups_of(session, units)
