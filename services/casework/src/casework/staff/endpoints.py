"""The caseworkers one can assign an intake record to."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from casework.staff import service
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["staff"])


class CaseworkerOut(BaseModel):
    id: str
    name: str
    units: list[str]


@router.get("/caseworkers", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def list_caseworkers(
    user: Caseworker, session: Session, unit: Annotated[str, Query(min_length=1, max_length=100)]
) -> list[CaseworkerOut]:
    """Caseworkers of an organisation unit, for the "Handläggare" choice."""
    return [
        CaseworkerOut(id=m.id, name=m.name, units=m.units)
        for m in await service.list_unit(session, user, unit)
    ]
