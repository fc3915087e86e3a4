"""A provider's users: administered by its manager (or the municipality's admin)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from provider.roles import AdminOrProviderManager
from provider.users import service
from provider.users.schemas import ProviderUserOut, UserForm
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["provider users"])

Sub = Annotated[str, Path(min_length=1, max_length=200)]  # the staff IdP's id of the user
CHANGE = problem_responses(NotAuthenticated, NotAllowed, NotFound, Conflict)


@router.get(
    "/providers/{provider_id}/users", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound)
)
async def list_users(
    provider_id: uuid.UUID, user: AdminOrProviderManager, session: Session
) -> list[ProviderUserOut]:
    """The provider's users, active and deactivated."""
    return await service.list_users(session, user, provider_id)


@router.post(
    "/providers/{provider_id}/users",
    status_code=201,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict),
)
async def add_user(
    provider_id: uuid.UUID, form: UserForm, user: AdminOrProviderManager, session: Session
) -> ProviderUserOut:
    """Add a user (by the staff IdP's `sub`) to the provider."""
    return await service.add_user(session, user, provider_id, form)


@router.post("/users/{sub}/deactivate", responses=CHANGE)
async def deactivate_user(sub: Sub, user: AdminOrProviderManager, session: Session) -> ProviderUserOut:
    """Deactivate a user who left or is away long: their token opens nothing here any more."""
    return await service.deactivate(session, user, sub)


@router.post("/users/{sub}/reactivate", responses=CHANGE)
async def reactivate_user(sub: Sub, user: AdminOrProviderManager, session: Session) -> ProviderUserOut:
    """Let a deactivated user in again."""
    return await service.reactivate(session, user, sub)
