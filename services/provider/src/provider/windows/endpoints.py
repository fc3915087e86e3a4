"""Service windows: announced by the municipality, shown to every provider user."""

import uuid

from fastapi import APIRouter, Response

from provider.roles import Admin, AdminOrProviderStaff
from provider.windows import service
from provider.windows.schemas import WindowForm, WindowOut
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["service windows"])


@router.post(
    "/service-windows",
    status_code=201,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed),
)
async def announce_service_window(form: WindowForm, user: Admin, session: Session) -> WindowOut:
    """Announce a planned service window: {from, to, text}."""
    return await service.announce(session, user, form)


@router.get("/service-windows", responses=problem_responses(NotAuthenticated, NotAllowed))
async def service_windows(user: AdminOrProviderStaff, session: Session) -> list[WindowOut]:
    """The current and coming service windows, the soonest first."""
    return await service.current_and_coming(session, user)


@router.delete(
    "/service-windows/{window_id}",
    status_code=204,
    responses=problem_responses(NotAuthenticated, NotAllowed, NotFound),
)
async def withdraw_service_window(window_id: uuid.UUID, user: Admin, session: Session) -> Response:
    """Withdraw a cancelled service window."""
    await service.withdraw(session, user, window_id)
    return Response(status_code=204)
