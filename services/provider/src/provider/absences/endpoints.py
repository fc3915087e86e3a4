"""Absences (frånvaro) for provider staff: register, end, the client's list and
the home box of current absences (PR-6)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from provider.absences import service
from provider.absences.schemas import AbsenceEndForm, AbsenceForm, AbsenceList, AbsenceOut
from shared.auth import CurrentUser
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["absences"])

UnitCode = Annotated[str, Path(min_length=1, max_length=100, description="the unit's code, as in the token")]
READ = problem_responses(NotAuthenticated, NotAllowed, NotFound)
WRITE = problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict)


@router.post("/orders/{order_id}/absences", status_code=201, responses=WRITE)
async def register_absence(
    order_id: uuid.UUID, form: AbsenceForm, user: CurrentUser, session: Session
) -> AbsenceOut:
    """Lägg till frånvaro: planned or unplanned, reason, description, from and
    optionally to; registered after it began it is accepted and marked late."""
    return await service.register(session, user, order_id, form)


@router.get("/orders/{order_id}/absences", responses=READ)
async def list_order_absences(order_id: uuid.UUID, user: CurrentUser, session: Session) -> AbsenceList:
    """Frånvaro in the client's file: the absences under this order, newest first."""
    return await service.of_order(session, user, order_id)


@router.get("/absences/{absence_id}", responses=READ)
async def get_absence(absence_id: uuid.UUID, user: CurrentUser, session: Session) -> AbsenceOut:
    """One absence."""
    return await service.read(session, user, absence_id)


@router.patch("/absences/{absence_id}", responses=WRITE)
async def end_absence(
    absence_id: uuid.UUID, form: AbsenceEndForm, user: CurrentUser, session: Session
) -> AbsenceOut:
    """Ändra: set the absence's to date, which ends it (or corrects the end)."""
    return await service.end(session, user, absence_id, form)


@router.get("/units/{unit}/absences", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_unit_absences(
    unit: UnitCode,
    user: CurrentUser,
    session: Session,
    current: Annotated[bool, Query(description="only absences not ended before today (the home box)")] = True,
) -> AbsenceList:
    """The home box: the unit's current absences (all of them with current=false)."""
    return await service.of_unit(session, user, unit, current)
