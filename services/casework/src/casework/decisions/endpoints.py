"""Decisions (beslut) on cases: draft, edit, sign, read, and the decision letter."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from casework.decisions import service
from casework.decisions.letter import Letterhead
from casework.decisions.schemas import DecisionCreate, DecisionOut, DecisionUpdate
from casework.decisions.settings import letterhead
from shared.auth import Caseworker
from shared.db import Session
from shared.pdf import PdfResponse
from shared.problems import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    problem_responses,
)

router = APIRouter(tags=["decisions"])
_ON_OBJECT = problem_responses(NotAuthenticated, NotAllowed, NotFound)
_CHANGE = {**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)}
LetterheadOf = Annotated[Letterhead, Depends(letterhead)]
PDF_HEADERS = {"content-disposition": 'inline; filename="beslut.pdf"', "cache-control": "no-store"}


@router.post("/cases/{case_id}/decisions", status_code=status.HTTP_201_CREATED, responses=_CHANGE)
async def create_decision(
    case_id: uuid.UUID, form: DecisionCreate, user: Caseworker, session: Session
) -> DecisionOut:
    """Draft a decision on a case under investigation, or a correction of its decision (`corrects`)."""
    return await service.create_decision(session, user, case_id, form)


@router.get("/cases/{case_id}/decisions", responses=_ON_OBJECT)
async def case_decisions(case_id: uuid.UUID, user: Caseworker, session: Session) -> list[DecisionOut]:
    """The case's decisions, drafts included, oldest first."""
    return await service.decisions_of_case(session, user, case_id)


@router.get("/decisions/{decision_id}", responses=_ON_OBJECT)
async def get_decision(decision_id: uuid.UUID, user: Caseworker, session: Session) -> DecisionOut:
    """One decision."""
    return await service.get_decision(session, user, decision_id)


@router.patch("/decisions/{decision_id}", responses=_CHANGE)
async def update_decision(
    decision_id: uuid.UUID, form: DecisionUpdate, user: Caseworker, session: Session
) -> DecisionOut:
    """Edit a draft; a signed decision is write-protected (409)."""
    return await service.update_decision(session, user, decision_id, form)


@router.put("/decisions/{decision_id}", responses=_CHANGE)
async def replace_decision(
    decision_id: uuid.UUID, form: DecisionCreate, user: Caseworker, session: Session
) -> DecisionOut:
    """Replace a draft's content; a signed decision is write-protected (409)."""
    return await service.replace_decision(session, user, decision_id, form)


@router.post("/decisions/{decision_id}/sign", responses=_CHANGE)
async def sign_decision(
    decision_id: uuid.UUID, user: Caseworker, session: Session, head: LetterheadOf
) -> DecisionOut:
    """Sign: the letter is filed and delivered to the e-service, or `delivery: "post"`."""
    return await service.sign_decision(session, user, decision_id, head)


@router.get(
    "/decisions/{decision_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **_ON_OBJECT},
)
async def decision_pdf(
    decision_id: uuid.UUID, user: Caseworker, session: Session, head: LetterheadOf
) -> Response:
    """The decision letter to print (a draft's preview): a protected address only with the permission."""
    document = await service.decision_letter_layout(session, user, decision_id, head)
    return PdfResponse(document, headers=PDF_HEADERS)
