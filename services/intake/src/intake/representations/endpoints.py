"""Acting for a citizen as an approved related person."""

import uuid

from fastapi import APIRouter

from intake.applications.schemas import ApplicationOut
from intake.representations import service
from intake.representations.schemas import RepresentationOut
from shared.auth import Citizen
from shared.db import Session
from shared.problems import NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["acting for someone"])


@router.get("/representations", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_representations(user: Citizen, session: Session) -> list[RepresentationOut]:
    """Citizens the logged-in person is approved to act for."""
    return await service.list_mine(session, user)


@router.get(
    "/representations/{approval_id}/applications",
    responses=problem_responses(NotAuthenticated, NotAllowed, NotFound),
)
async def represented_applications(
    approval_id: uuid.UUID, user: Citizen, session: Session
) -> list[ApplicationOut]:
    """The represented citizen's applications, inside the approval period only."""
    return await service.applications_of_represented(session, user, approval_id)
