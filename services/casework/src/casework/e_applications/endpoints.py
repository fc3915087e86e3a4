"""The shared e-application inbox ("E-tjänster att hantera")."""

from typing import Annotated

from fastapi import APIRouter, Query

from casework.e_applications import service
from casework.e_applications.schemas import IncomingApplicationPage
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["e-applications"])


@router.get("/e-applications", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def list_e_applications(
    user: Caseworker, session: Session,
    status: Annotated[str | None, Query(max_length=40, description="e.g. Ny")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(max_length=200, description="cursor from `next`")] = None,
) -> IncomingApplicationPage:
    """Incoming e-applications, newest first, for any caseworker."""
    return await service.list_inbox(session, user, status=status, limit=limit, after=after)
