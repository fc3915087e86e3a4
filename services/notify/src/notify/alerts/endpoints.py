"""Operations: the alert queue for operators (administrators), and one person's
alert history for the caseworkers of a unit handling the person."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from notify.alerts import service
from notify.alerts.schemas import AlertPage, PersonAlertsOut
from notify.models import AlertStatus, Channel
from shared.auth import Caseworker, Role, User, require_role
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["notifications"])

# No operator role exists (shared.auth): administrators watch the queue.
Operator = Annotated[User, Depends(require_role(Role.ADMIN))]


@router.get("/notifications", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def list_notifications(
    user: Operator,
    session: Session,
    status: Annotated[list[AlertStatus] | None, Query(description="one or more statuses")] = None,
    channel: Annotated[Channel | None, Query(description="sms or email")] = None,
    older_than: Annotated[
        int | None, Query(ge=0, le=525_600, description="created at least this many minutes ago")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(max_length=200, description="cursor from `next`")] = None,
) -> AlertPage:
    """Alerts newest first, filtered by status, channel and age; addresses masked."""
    return await service.list_alerts(
        session,
        user,
        statuses=status or [],
        channel=channel,
        older_than_minutes=older_than,
        after=after,
        limit=limit,
    )


@router.get("/persons/{person_id}/notifications", responses=problem_responses(NotAuthenticated, NotAllowed))
async def person_notifications(person_id: uuid.UUID, user: Caseworker, session: Session) -> PersonAlertsOut:
    """The person's alerts with their status histories (caseworkers of a unit handling the person)."""
    return await service.person_alerts(session, user, person_id)
