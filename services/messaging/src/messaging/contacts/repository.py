"""Every SQL statement on the contact list tables."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.contacts.models import ContactList, ContactListEntry
from shared.db import get_locked

LIST_LIMIT = 200


async def of_owner(session: AsyncSession, owner_sub: str) -> list[ContactList]:
    query = (
        select(ContactList)
        .where(ContactList.owner_sub == owner_sub)
        .order_by(ContactList.name, ContactList.id)
        .limit(LIST_LIMIT)
    )
    return list(await session.scalars(query))


async def count_of_owner(session: AsyncSession, owner_sub: str) -> int:
    query = select(func.count()).select_from(ContactList).where(ContactList.owner_sub == owner_sub)
    return int(await session.scalar(query) or 0)


async def get(session: AsyncSession, list_id: uuid.UUID) -> ContactList | None:
    return await session.get(ContactList, list_id)


async def get_locked_list(session: AsyncSession, list_id: uuid.UUID) -> ContactList | None:
    return await get_locked(session, ContactList, list_id)


async def named(session: AsyncSession, owner_sub: str, name: str) -> ContactList | None:
    query = select(ContactList).where(ContactList.owner_sub == owner_sub, ContactList.name == name)
    return await session.scalar(query)


async def entries_of(
    session: AsyncSession, list_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[ContactListEntry]]:
    """Each list's entries, in their order."""
    found: dict[uuid.UUID, list[ContactListEntry]] = {i: [] for i in list_ids}
    if not list_ids:
        return found
    query = (
        select(ContactListEntry)
        .where(ContactListEntry.list_id.in_(list(list_ids)))
        .order_by(ContactListEntry.list_id, ContactListEntry.position)
    )
    for entry in await session.scalars(query):
        found[entry.list_id].append(entry)
    return found


async def add(session: AsyncSession, contact_list: ContactList) -> None:
    session.add(contact_list)
    await session.flush()


async def replace_entries(
    session: AsyncSession, list_id: uuid.UUID, entries: Sequence[ContactListEntry]
) -> None:
    # Synchronised (the default): the old entries leave the session before the new ones come.
    await session.execute(delete(ContactListEntry).where(ContactListEntry.list_id == list_id))
    session.add_all(entries)
    await session.flush()


async def remove(session: AsyncSession, contact_list: ContactList) -> None:
    """Delete the list; its entries cascade."""
    await session.delete(contact_list)
    await session.flush()
