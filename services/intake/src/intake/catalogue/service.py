"""The service catalogue: what a citizen can apply for. Other modules read it
through here, never through its repository.

The catalogue is reference data that only a migration changes, yet every
submitted application is checked against it: it is read from the database at
most once per CACHE_SECONDS per process and served from memory in between, so a
submit costs no catalogue query. A migration that changes it is seen within
CACHE_SECONDS without a restart."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from intake.catalogue import repository
from intake.models import CatalogueEntry

CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class CatalogueItem:
    """One catalogue service as read: immutable, so one copy serves every request."""

    code: str
    name: str
    entry: CatalogueEntry
    category: str


@dataclass(frozen=True)
class _Snapshot:
    items: tuple[CatalogueItem, ...]  # in the order the portal shows them
    by_code: dict[str, CatalogueItem]
    read_at: float  # time.monotonic()


_snapshot: _Snapshot | None = None


async def _current(session: AsyncSession) -> _Snapshot:
    global _snapshot
    snapshot = _snapshot
    if snapshot is None or time.monotonic() - snapshot.read_at >= CACHE_SECONDS:
        # Requests that find it stale together each read it once: harmless, and no lock to wait on.
        rows = await repository.list_all(session)
        items = tuple(CatalogueItem(r.code, r.name, r.entry, r.category) for r in rows)
        snapshot = _Snapshot(items, {i.code: i for i in items}, time.monotonic())
        _snapshot = snapshot
    return snapshot


async def list_all(session: AsyncSession) -> list[CatalogueItem]:
    """Every catalogue service, in the order the portal shows them."""
    return list((await _current(session)).items)


async def by_codes(session: AsyncSession, codes: Collection[str]) -> dict[str, CatalogueItem]:
    """The catalogue services with these codes, by code; unknown codes are left out."""
    known = (await _current(session)).by_code
    return {code: known[code] for code in codes if code in known}
