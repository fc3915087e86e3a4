"""Casework's copy of the providers (utförare) and their units (CW-13), kept from
provider's ProviderRegistered and ProviderUnitAdded: a caseworker orders only
from a unit casework knows, and sees providers and units by name. No personal
data: organisations only, so nothing here is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from casework.providers import repository
from casework.providers.schemas import MAX_UNITS, ProviderOut, ProviderUnitOut
from shared.contracts.provider import ProviderRegistered, ProviderUnitAdded
from shared.events import Envelope


@dataclass(frozen=True)
class UnitRef:
    """A provider unit as an order names it: its code and name, its provider's id and name."""

    code: str
    name: str
    provider_id: uuid.UUID
    provider_name: str | None  # None until the provider's own event has arrived


async def on_provider_registered(
    session: AsyncSession, event: ProviderRegistered, envelope: Envelope
) -> None:
    """Record the provider, or its new name (a replayed older event changes nothing)."""
    await repository.apply_provider(
        session,
        {
            "id": event.provider_id,
            "name": event.name,
            "organisation_number": event.organisation_number,
            "kind": event.kind,
            "registered_at": event.registered_at,
        },
    )


async def on_unit_added(session: AsyncSession, event: ProviderUnitAdded, envelope: Envelope) -> None:
    """Record the unit: orders may name it from now on."""
    await repository.apply_unit(
        session,
        {
            "code": event.unit,
            "provider_id": event.provider_id,
            "name": event.name,
            "added_at": event.added_at,
        },
    )


async def list_providers(session: AsyncSession) -> list[ProviderOut]:
    """The providers casework knows, each with its units, by name."""
    units = await repository.units(session)
    return [
        ProviderOut(
            id=p.id,
            name=p.name,
            organisation_number=p.organisation_number,
            kind=p.kind,
            units=[ProviderUnitOut(code=u.code, name=u.name) for u in units if u.provider_id == p.id][
                :MAX_UNITS
            ],
        )
        for p in await repository.providers(session)
    ]


async def unit_of(session: AsyncSession, code: str) -> UnitRef | None:
    """The unit with this code, with its provider's name; None if casework does not know it."""
    row = await repository.unit(session, code)
    if row is None:
        return None
    named = await repository.providers(session, [row.provider_id])
    return UnitRef(row.code, row.name, row.provider_id, named[0].name if named else None)


async def units_named(session: AsyncSession, codes: set[str]) -> dict[str, UnitRef]:
    """These units by code, with their providers' names (unknown codes left out)."""
    rows = await repository.units(session, codes)
    names = {p.id: p.name for p in await repository.providers(session, {r.provider_id for r in rows})}
    return {r.code: UnitRef(r.code, r.name, r.provider_id, names.get(r.provider_id)) for r in rows}
