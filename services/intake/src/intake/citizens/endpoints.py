"""Mina sidor: profile and contacts."""

from fastapi import APIRouter

from intake.citizens import service
from intake.citizens.schemas import ContactOut, ProfileOut, ProfileUpdate
from shared.auth import Citizen
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["mina sidor"])


@router.get("/profile", responses=problem_responses(NotAuthenticated, NotAllowed))
async def get_profile(user: Citizen, session: Session) -> ProfileOut:
    """The logged-in citizen's contact details."""
    return await service.get_profile(session, user)


@router.put("/profile", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def update_profile(update: ProfileUpdate, user: Citizen, session: Session) -> ProfileOut:
    """Change mobile number and e-mail; alerts follow the new details."""
    return await service.update_profile(session, user, update)


@router.get("/contacts", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_contacts(user: Citizen, session: Session) -> list[ContactOut]:
    """The caseworkers on the citizen's ongoing matters."""
    return await service.list_contacts(session, user)
