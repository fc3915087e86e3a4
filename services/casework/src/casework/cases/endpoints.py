"""Investigations of intake records and their cases (ärenden)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from casework.cases import service
from casework.cases.schemas import (
    CaseCreate,
    CaseOut,
    InvestigationOut,
    InvestigationStart,
    RecordClose,
    RecordClosedOut,
)
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["cases"])
_ON_OBJECT = problem_responses(NotAuthenticated, NotAllowed, NotFound)
_CHANGE = {**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)}


@router.post(
    "/intake-records/{record_id}/investigation", status_code=status.HTTP_201_CREATED, responses=_CHANGE
)
async def start_investigation(
    record_id: uuid.UUID, form: InvestigationStart, user: Caseworker, session: Session
) -> InvestigationOut:
    """Start the investigation (utredning): related persons can be approved from now on,
    and the citizen sees "Utredning pågår"."""
    return await service.start_investigation(session, user, record_id, form)


@router.post("/intake-records/{record_id}/close", responses=_CHANGE)
async def close_record(
    record_id: uuid.UUID, form: RecordClose, user: Caseworker, session: Session
) -> RecordClosedOut:
    """Close the intake record without an investigation (förenklad handläggning): the
    citizen sees "Avslutad"."""
    return await service.close_record(session, user, record_id, form)


@router.post("/intake-records/{record_id}/cases", status_code=status.HTTP_201_CREATED, responses=_CHANGE)
async def create_case(record_id: uuid.UUID, form: CaseCreate, user: Caseworker, session: Session) -> CaseOut:
    """Open a case (ärende) for a service under investigation, with its legal basis."""
    return await service.create_case(session, user, record_id, form)


@router.get("/intake-records/{record_id}/cases", responses=_ON_OBJECT)
async def record_cases(record_id: uuid.UUID, user: Caseworker, session: Session) -> list[CaseOut]:
    """The intake record's cases, oldest first."""
    return await service.cases_of_record(session, user, record_id)


@router.get("/cases/{case_id}", responses=_ON_OBJECT)
async def get_case(case_id: uuid.UUID, user: Caseworker, session: Session) -> CaseOut:
    """One case with its caseworkers and status history."""
    return await service.get_case(session, user, case_id)
