"""Settings (Inställningar): one's own signature, absence and forwarding; an
administrator's unplanned absence for a colleague; what was forwarded to a group
mailbox for absent members."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from messaging.people import Staff
from messaging.settings import service
from messaging.settings.schemas import AbsenceForm, AbsenceOut, ForwardedOut, SettingsForm, SettingsOut
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["settings"])

READ = problem_responses(NotAuthenticated, NotAllowed, NotFound)
WRITE = problem_responses(InvalidInput, Conflict, NotAuthenticated, NotAllowed, NotFound)
StaffSub = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/settings", responses=READ)
async def get_settings(user: Staff, session: Session) -> SettingsOut:
    """One's settings: signature, absence message and forwarding, and the group
    mailboxes one has access to."""
    return await service.mine(session, user)


@router.put("/settings", responses=WRITE)
async def put_settings(form: SettingsForm, user: Staff, session: Session) -> SettingsOut:
    """Replace one's settings (planned absence: the absence message and forwarding
    to one of one's own group mailboxes)."""
    return await service.update_mine(session, user, form)


@router.get("/staff/{sub}/absence", responses=READ)
async def get_colleague_absence(sub: StaffSub, user: Staff, session: Session) -> AbsenceOut:
    """A colleague's absence (administrators with the permission)."""
    return await service.colleague_absence(session, user, sub)


@router.put("/staff/{sub}/absence", responses=WRITE)
async def put_colleague_absence(
    sub: StaffSub, form: AbsenceForm, user: Staff, session: Session
) -> AbsenceOut:
    """Unplanned absence: an administrator with the permission sets a colleague's
    absence message and forwarding to one of the colleague's group mailboxes."""
    return await service.set_colleague_absence(session, user, sub, form)


@router.get("/mailboxes/{mailbox_id}/forwarded", responses=WRITE)
async def list_forwarded(mailbox_id: uuid.UUID, user: Staff, session: Session) -> list[ForwardedOut]:
    """The messages in a group mailbox that were forwarded there for absent members, and for whom."""
    return await service.forwarded_in(session, user, mailbox_id)
