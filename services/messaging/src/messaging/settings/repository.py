"""Queries of staff settings, the automatic-reply ledger and the forwarding records."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.settings.models import AbsenceForward, AutoReply, StaffSettings
from shared.db import get_locked

FORWARDED_LIMIT = 500


async def get(session: AsyncSession, sub: str) -> StaffSettings | None:
    return await session.get(StaffSettings, sub)


async def locked(session: AsyncSession, sub: str) -> StaffSettings:
    """The user's settings row, locked for a change; created (empty) if they have none."""
    await session.execute(
        insert(StaffSettings)
        .values(sub=sub, updated_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=[StaffSettings.sub])
    )
    row = await get_locked(session, StaffSettings, sub)
    assert row is not None  # inserted above
    return row


async def of_subs(session: AsyncSession, subs: Collection[str]) -> list[StaffSettings]:
    if not subs:
        return []
    query = select(StaffSettings).where(StaffSettings.sub.in_(list(subs)), StaffSettings.absence_enabled)
    return list(await session.scalars(query))


async def claim_auto_reply(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Note an automatic reply for its conversation and sender; False if one was sent already."""
    stmt = (
        insert(AutoReply)
        .values(**row)
        .on_conflict_do_nothing(
            index_elements=[AutoReply.absent_sub, AutoReply.conversation_id, AutoReply.sender_mailbox_id]
        )
        .returning(AutoReply.reply_id)
    )
    return (await session.scalar(stmt)) is not None


async def add_forward(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(AbsenceForward).values(**row).on_conflict_do_nothing())


async def forwarded_to(
    session: AsyncSession, mailbox_id: uuid.UUID, message_ids: Collection[uuid.UUID] | None = None
) -> list[AbsenceForward]:
    query = select(AbsenceForward).where(AbsenceForward.mailbox_id == mailbox_id)
    if message_ids is not None:
        query = query.where(AbsenceForward.message_id.in_(list(message_ids)))
    query = query.order_by(AbsenceForward.forwarded_at.desc()).limit(FORWARDED_LIMIT)
    return list(await session.scalars(query))
