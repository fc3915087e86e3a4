"""Providers and units: registered by the municipality's admin."""

import uuid

from fastapi import APIRouter

from provider.providers import service
from provider.providers.schemas import ProviderForm, ProviderOut, UnitForm, UnitOut
from provider.roles import Admin, AdminOrProviderStaff
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["providers"])


@router.post(
    "/providers",
    status_code=201,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed, Conflict),
)
async def register_provider(form: ProviderForm, user: Admin, session: Session) -> ProviderOut:
    """Register a provider (municipal or LOV) with its first manager."""
    return await service.register_provider(session, user, form)


@router.get("/providers", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_providers(user: Admin, session: Session) -> list[ProviderOut]:
    """Every provider with its units."""
    return await service.list_providers(session, user)


@router.get("/providers/{provider_id}", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound))
async def get_provider(provider_id: uuid.UUID, user: AdminOrProviderStaff, session: Session) -> ProviderOut:
    """One provider with its units: the admin, or the provider's own users."""
    return await service.get_provider(session, user, provider_id)


@router.post(
    "/providers/{provider_id}/units",
    status_code=201,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict),
)
async def add_unit(provider_id: uuid.UUID, form: UnitForm, user: Admin, session: Session) -> UnitOut:
    """Add a unit that can take orders; its code is what provider tokens carry in `units`."""
    return await service.add_unit(session, user, provider_id, form)
