"""Queries of mailboxes, the staff directory and the e-service projection."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.models import EServicePerson, Mailbox, MailboxKind, StaffMember
from shared import projection

# A staff member's row is rewritten at most this often unless their name or units change.
REFRESH = timedelta(minutes=10)


def _changed_or_stale(stmt: Insert) -> ColumnElement[bool]:
    seen = stmt.excluded
    return or_(
        StaffMember.name != seen.name,
        StaffMember.units != seen.units,
        StaffMember.provider_id.is_distinct_from(seen.provider_id),
        StaffMember.last_seen_at < seen.last_seen_at - REFRESH,
    )


async def remember_staff(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await projection.upsert(session, StaffMember, values, key=["sub"], when=_changed_or_stale)


def _renamed(stmt: Insert) -> ColumnElement[bool]:
    return Mailbox.name != stmt.excluded.name


async def ensure_personal(session: AsyncSession, sub: str, name: str) -> Mailbox:
    """The staff member's personal mailbox, created on first use, renamed with them."""
    values = {"id": uuid.uuid4(), "kind": MailboxKind.PERSONAL, "name": name, "owner_sub": sub}
    await projection.upsert(session, Mailbox, values, key=["owner_sub"], when=_renamed, update=["name"])
    mailbox = await session.scalar(
        select(Mailbox).where(Mailbox.owner_sub == sub).execution_options(populate_existing=True)
    )
    assert mailbox is not None  # inserted above
    return mailbox


async def ensure_citizen(session: AsyncSession, person_id: uuid.UUID, name: str) -> None:
    values = {"id": uuid.uuid4(), "kind": MailboxKind.CITIZEN, "name": name, "person_id": person_id}
    await projection.upsert(session, Mailbox, values, key=["person_id"], when=_renamed, update=["name"])


async def get(session: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox | None:
    return await session.get(Mailbox, mailbox_id)


async def many(session: AsyncSession, ids: Collection[uuid.UUID]) -> list[Mailbox]:
    if not ids:
        return []
    return list(await session.scalars(select(Mailbox).where(Mailbox.id.in_(list(ids)))))


async def of_person(session: AsyncSession, person_id: uuid.UUID) -> Mailbox | None:
    return await session.scalar(select(Mailbox).where(Mailbox.person_id == person_id))


async def groups_of(session: AsyncSession, units: Collection[str]) -> list[Mailbox]:
    if not units:
        return []
    query = (
        select(Mailbox)
        .where(Mailbox.kind == MailboxKind.GROUP, Mailbox.unit.in_(list(units)))
        .order_by(Mailbox.name)
    )
    return list(await session.scalars(query))


async def apply_e_service(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    return await projection.upsert(
        session, EServicePerson, row, key=["person_id"], when=projection.newer_version(EServicePerson)
    )


async def e_service_person(session: AsyncSession, person_id: uuid.UUID) -> EServicePerson | None:
    return await session.get(EServicePerson, person_id)


async def e_service_persons(session: AsyncSession, ids: Collection[uuid.UUID]) -> list[EServicePerson]:
    if not ids:
        return []
    query = select(EServicePerson).where(EServicePerson.person_id.in_(list(ids)))
    return list(await session.scalars(query))


async def enabled_by_pnr(session: AsyncSession, pnr: str) -> EServicePerson | None:
    query = (
        select(EServicePerson)
        .where(EServicePerson.pnr == pnr, EServicePerson.messages_enabled.is_(True))
        .order_by(EServicePerson.changed_at.desc())
        .limit(1)
    )
    return await session.scalar(query)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_citizens(
    session: AsyncSession, *, pnr: str | None = None, name: str | None = None, limit: int = 20
) -> list[EServicePerson]:
    """Persons with the message function on, by exact personnummer or part of the name."""
    query = select(EServicePerson).where(EServicePerson.messages_enabled.is_(True))
    if pnr is not None:
        query = query.where(EServicePerson.pnr == pnr)
    if name is not None:
        query = query.where(EServicePerson.name.ilike(_like(name), escape="\\"))
    query = query.order_by(EServicePerson.name, EServicePerson.person_id).limit(limit)
    return list(await session.scalars(query))


async def search_staff(session: AsyncSession, name: str, limit: int = 20) -> list[Mailbox]:
    """Personal mailboxes of staff whose name matches."""
    query = (
        select(Mailbox)
        .where(Mailbox.kind == MailboxKind.PERSONAL, Mailbox.name.ilike(_like(name), escape="\\"))
        .order_by(Mailbox.name, Mailbox.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def search_groups(session: AsyncSession, name: str, limit: int = 20) -> list[Mailbox]:
    query = (
        select(Mailbox)
        .where(Mailbox.kind == MailboxKind.GROUP, Mailbox.name.ilike(_like(name), escape="\\"))
        .order_by(Mailbox.name)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def staff_member(session: AsyncSession, sub: str) -> StaffMember | None:
    return await session.get(StaffMember, sub)
