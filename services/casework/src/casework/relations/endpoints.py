"""Relations and approved related persons of a person."""

import uuid

from fastapi import APIRouter, Response, status

from casework.relations import service
from casework.relations.schemas import (
    ApprovalCreate,
    ApprovalOut,
    ApprovalUpdate,
    RelationCreate,
    RelationOut,
    RelationUpdate,
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

router = APIRouter(tags=["relations and approvals"])
_ON_OBJECT = problem_responses(NotAuthenticated, NotAllowed, NotFound)
_WRITE = {**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)}


@router.post("/persons/{person_id}/relations", status_code=status.HTTP_201_CREATED, responses=_WRITE)
async def add_relation(
    person_id: uuid.UUID, form: RelationCreate, user: Caseworker, session: Session
) -> RelationOut:
    """Register a relation (god man, godkänd för meddelande, ...)."""
    return await service.add_relation(session, user, person_id, form)


@router.get("/persons/{person_id}/relations", responses=_ON_OBJECT)
async def list_relations(person_id: uuid.UUID, user: Caseworker, session: Session) -> list[RelationOut]:
    """The person's relations."""
    return await service.list_relations(session, user, person_id)


@router.patch("/relations/{relation_id}", responses=_WRITE)
async def update_relation(
    relation_id: uuid.UUID, form: RelationUpdate, user: Caseworker, session: Session
) -> RelationOut:
    """Edit a relation's period, contact data or alert flags."""
    return await service.update_relation(session, user, relation_id, form)


@router.delete(
    "/relations/{relation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_ON_OBJECT,
)
async def remove_relation(relation_id: uuid.UUID, user: Caseworker, session: Session) -> Response:
    """Remove a relation."""
    await service.remove_relation(session, user, relation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/persons/{person_id}/approvals", status_code=status.HTTP_201_CREATED, responses=_WRITE)
async def approve_related_person(
    person_id: uuid.UUID, form: ApprovalCreate, user: Caseworker, session: Session
) -> ApprovalOut:
    """Approve a related person to act for the citizen (Godkänna närstående)."""
    return await service.approve(session, user, person_id, form)


@router.get("/persons/{person_id}/approvals", responses=_ON_OBJECT)
async def list_approvals(person_id: uuid.UUID, user: Caseworker, session: Session) -> list[ApprovalOut]:
    """The citizen's approved related persons."""
    return await service.list_approvals(session, user, person_id)


@router.patch("/approvals/{approval_id}", responses=_WRITE)
async def update_approval(
    approval_id: uuid.UUID, form: ApprovalUpdate, user: Caseworker, session: Session
) -> ApprovalOut:
    """Edit an approval; a revoked approval cannot be edited (409): approve anew instead."""
    return await service.update_approval(session, user, approval_id, form)


@router.delete(
    "/approvals/{approval_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_ON_OBJECT,
)
async def revoke_approval(approval_id: uuid.UUID, user: Caseworker, session: Session) -> Response:
    """Revoke an approval at once."""
    await service.revoke_approval(session, user, approval_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
