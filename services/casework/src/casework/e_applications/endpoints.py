"""The shared e-application inbox ("E-tjänster att hantera")."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from casework.e_applications import service
from casework.e_applications.schemas import IncomingApplicationDetail, IncomingApplicationPage
from shared.auth import Caseworker
from shared.contracts.intake import Entry
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["e-applications"])


@router.get("/e-applications", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def list_e_applications(
    user: Caseworker,
    session: Session,
    status: Annotated[str | None, Query(max_length=40, description="Ny or Kopplad")] = None,
    entry: Annotated[Entry | None, Query(description="entry point: sol or lss")] = None,
    category: Annotated[str | None, Query(max_length=100, description="Insatskategori")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(max_length=200, description="cursor from `next`")] = None,
) -> IncomingApplicationPage:
    """Incoming e-applications, newest first, for any caseworker."""
    return await service.list_inbox(
        session, user, status=status, entry=entry, category=category, limit=limit, after=after
    )


@router.get(
    "/e-applications/{application_id}", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound)
)
async def get_e_application(
    application_id: uuid.UUID, user: Caseworker, session: Session
) -> IncomingApplicationDetail:
    """One e-application with the applicant's text, as the link dialog shows it."""
    return await service.get_application(session, user, application_id)
