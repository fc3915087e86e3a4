"""The fee administrator's work list of absences and the monthly fee basis (CW-15)."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from casework.fees import service
from casework.fees.schemas import (
    DEFAULT_BASIS_PAGE,
    DEFAULT_PAGE,
    MAX_BASIS_PAGE,
    MAX_PAGE,
    MONTH_PATTERN,
    FeeBasisOut,
    WorkItemOut,
    WorkListOut,
)
from shared.auth import Role, User, require_role
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(prefix="/fees", tags=["fees"])
FeeAdministrator = Annotated[User, Depends(require_role(Role.FEE_ADMINISTRATOR, Role.ADMIN))]
_LIST = problem_responses(NotAuthenticated, NotAllowed, InvalidInput)
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="The month: YYYY-MM")]


@router.get("/work-list", responses=_LIST)
async def work_list(
    user: FeeAdministrator,
    session: Session,
    done: bool = False,
    kundnummer: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    after: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> WorkListOut:
    """Absences registered and ended, by kundnummer: not done yet (or `done=true`);
    over 30 whole days without meals marked for manual handling."""
    return await service.work_list(session, user, done=done, kundnummer=kundnummer, after=after, limit=limit)


@router.post(
    "/work-list/{item_id}/done",
    responses=problem_responses(NotAuthenticated, NotAllowed, NotFound, Conflict),
)
async def mark_done(item_id: uuid.UUID, user: FeeAdministrator, session: Session) -> WorkItemOut:
    """Mark an item handled (409 if it was already)."""
    return await service.mark_done(session, user, item_id)


@router.get(
    "/basis",
    responses={200: {"content": {"text/csv": {}}}, **_LIST},
    response_model=FeeBasisOut,
)
async def fee_basis(
    user: FeeAdministrator,
    session: Session,
    month: MonthQuery,
    format: Literal["json", "csv"] = "json",
    after: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_BASIS_PAGE)] = DEFAULT_BASIS_PAGE,
) -> FeeBasisOut | Response:
    """The month's fee basis per client and execution: days of execution, whole
    absence days, the first invoice month. `format=csv`: the whole month as a file."""
    if format == "csv":
        content, filename = await service.fee_basis_csv(session, user, month)
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{filename}"',
                "cache-control": "no-store",
            },
        )
    return await service.fee_basis(session, user, month, after=after, limit=limit)
