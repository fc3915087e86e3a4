"""Intake records (aktualiseringar), their documentation and co-caseworkers, and linking
e-applications. A document's file is served by casework.documents (GET /documents/{id})."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from casework.intake_records import service
from casework.intake_records.schemas import (
    CoCaseworkerAdd,
    CoCaseworkerOut,
    IntakeRecordOut,
    LinkApplication,
    LinkResult,
)
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    problem_responses,
)

router = APIRouter(tags=["intake records"])
_ON_OBJECT = problem_responses(NotAuthenticated, NotAllowed, NotFound)


@router.post(
    "/e-applications/{application_id}/link",
    status_code=status.HTTP_201_CREATED,
    responses={**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)},
)
async def link_application(
    application_id: uuid.UUID, form: LinkApplication, user: Caseworker, session: Session
) -> LinkResult:
    """Link an e-application into a new intake record (Koppla ansökan)."""
    return await service.link_application(session, user, application_id, form)


@router.get("/intake-records/new", responses=problem_responses(NotAuthenticated, NotAllowed))
async def new_intake_records(user: Caseworker, session: Session) -> list[IntakeRecordOut]:
    """The logged-in caseworker's "Nya aktualiseringar"."""
    return await service.new_records(session, user)


@router.get("/intake-records/{record_id}", responses=_ON_OBJECT)
async def get_intake_record(record_id: uuid.UUID, user: Caseworker, session: Session) -> IntakeRecordOut:
    """One intake record with its documentation."""
    return await service.get_record(session, user, record_id)


@router.get("/persons/{person_id}/intake-records", responses=_ON_OBJECT)
async def person_intake_records(
    person_id: uuid.UUID, user: Caseworker, session: Session
) -> list[IntakeRecordOut]:
    """The person's intake records in your units."""
    return await service.records_of_person(session, user, person_id)


@router.post(
    "/intake-records/{record_id}/co-caseworkers",
    status_code=status.HTTP_201_CREATED,
    responses={**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)},
)
async def add_co_caseworker(
    record_id: uuid.UUID, form: CoCaseworkerAdd, user: Caseworker, session: Session
) -> CoCaseworkerOut:
    """Add a co-caseworker (medhandläggare), who may then also message the citizen."""
    return await service.add_co_caseworker(session, user, record_id, form)


@router.delete(
    "/intake-records/{record_id}/co-caseworkers/{caseworker_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_ON_OBJECT,
)
async def remove_co_caseworker(
    record_id: uuid.UUID,
    caseworker_id: Annotated[str, Path(min_length=1, max_length=200)],
    user: Caseworker,
    session: Session,
) -> Response:
    """Take a co-caseworker off the record; their right to message the citizen ends at once."""
    await service.remove_co_caseworker(session, user, record_id, caseworker_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
