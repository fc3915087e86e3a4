"""The providers (utförare) and units a caseworker can order from."""

from fastapi import APIRouter

from casework.providers import service
from casework.providers.schemas import ProviderOut
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["orders"])


@router.get("/providers", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_providers(user: Caseworker, session: Session) -> list[ProviderOut]:
    """The providers casework knows (from provider), each with the units that take orders."""
    return await service.list_providers(session)
