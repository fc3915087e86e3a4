"""The person record, search, e-service activation and log review."""

import uuid

from fastapi import APIRouter

from casework.persons import service
from casework.persons.schemas import (
    EServiceUpdate,
    PersonOut,
    PersonSearch,
    PersonSummary,
    PersonUpdate,
)
from shared.audit import AccessLogEntry
from shared.auth import Caseworker, LogReviewer
from shared.db import Session
from shared.problems import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    problem_responses,
)

router = APIRouter(tags=["persons"])
_ON_PERSON = problem_responses(NotAuthenticated, NotAllowed, NotFound)


@router.post("/persons/search", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def search_persons(form: PersonSearch, user: Caseworker, session: Session) -> list[PersonSummary]:
    """Search your units' persons by name, personnummer or customer number (in the body, never the URL)."""
    return await service.search(session, user, form)


@router.get("/persons/{person_id}", responses=_ON_PERSON)
async def get_person(person_id: uuid.UUID, user: Caseworker, session: Session) -> PersonOut:
    """The person record (personbild)."""
    return await service.get_person(session, user, person_id)


@router.patch("/persons/{person_id}", responses={**_ON_PERSON, **problem_responses(InvalidInput)})
async def update_person(
    person_id: uuid.UUID, update: PersonUpdate, user: Caseworker, session: Session
) -> PersonOut:
    """Change the person record: name, addresses, phones, e-mail, markers."""
    return await service.update_person(session, user, person_id, update)


@router.put(
    "/persons/{person_id}/e-service", responses={**_ON_PERSON, **problem_responses(InvalidInput, Conflict)}
)
async def set_e_service(
    person_id: uuid.UUID, update: EServiceUpdate, user: Caseworker, session: Session
) -> PersonOut:
    """Activate or change the e-service: message function, SMS and e-mail alerts."""
    return await service.set_e_service(session, user, person_id, update)


@router.get("/persons/{person_id}/access-log", responses=_ON_PERSON)
async def access_log(person_id: uuid.UUID, user: LogReviewer, session: Session) -> list[AccessLogEntry]:
    """Every access to the person's data in casework, newest first (loggkontroll)."""
    return await service.access_log(session, user, person_id)
