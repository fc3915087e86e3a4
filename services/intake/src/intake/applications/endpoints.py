"""Citizens' e-applications."""

import uuid

from fastapi import APIRouter, Response, status

from intake.applications import service
from intake.applications.document import ApplicationPdfResponse
from intake.applications.schemas import ApplicationCreate, ApplicationOut
from shared.auth import Citizen
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["applications"])


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed),
)
async def submit_application(form: ApplicationCreate, user: Citizen, session: Session) -> ApplicationOut:
    """Apply for one or more services; the applicant is the logged-in citizen."""
    return await service.submit(session, user, form)


@router.get("/applications", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_applications(user: Citizen, session: Session) -> list[ApplicationOut]:
    """The logged-in citizen's own applications with their status history (Mina sidor)."""
    return await service.list_own(session, user)


@router.get(
    "/applications/{application_id}", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound)
)
async def get_application(application_id: uuid.UUID, user: Citizen, session: Session) -> ApplicationOut:
    """One of the citizen's own applications."""
    return await service.get_own(session, user, application_id)


@router.get(
    "/applications/{application_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        **problem_responses(NotAuthenticated, NotAllowed, NotFound),
    },
)
async def get_application_pdf(application_id: uuid.UUID, user: Citizen, session: Session) -> Response:
    """The citizen's own application as PDF."""
    document = await service.pdf_of_own(session, user, application_id)
    return ApplicationPdfResponse(
        document,
        headers={"content-disposition": 'inline; filename="ansokan.pdf"', "cache-control": "no-store"},
    )
