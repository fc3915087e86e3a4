"""Citizens' e-applications."""

from fastapi import APIRouter, status

from intake.applications import service
from intake.applications.schemas import ApplicationCreate, ApplicationOut
from shared.auth import Citizen
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["applications"])


@router.post("/applications", status_code=status.HTTP_201_CREATED,
             responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def submit_application(form: ApplicationCreate, user: Citizen, session: Session) -> ApplicationOut:
    """Apply for one or more services; the applicant is the logged-in citizen."""
    return await service.submit(session, user, form)


@router.get("/applications", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_applications(user: Citizen, session: Session) -> list[ApplicationOut]:
    """The logged-in citizen's own applications."""
    return await service.list_own(session, user)
