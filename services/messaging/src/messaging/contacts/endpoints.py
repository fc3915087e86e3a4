"""Contact lists: a staff member's own named lists of recipients."""

import uuid

from fastapi import APIRouter, Response

from messaging.contacts import service
from messaging.contacts.schemas import ContactListForm, ContactListOut
from messaging.people import Staff
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["contact lists"])

READ = problem_responses(NotAuthenticated, NotAllowed, NotFound)
WRITE = problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict)


@router.get("/contact-lists", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_contact_lists(user: Staff, session: Session) -> list[ContactListOut]:
    """The user's own contact lists; a client is shown only while one may write to them."""
    return await service.list_mine(session, user)


@router.post("/contact-lists", status_code=201, responses=WRITE)
async def create_contact_list(form: ContactListForm, user: Staff, session: Session) -> ContactListOut:
    """A new list: staff and group mailboxes (by mailbox id), clients one may write to (by person id)."""
    return await service.create(session, user, form)


@router.get("/contact-lists/{list_id}", responses=READ)
async def get_contact_list(list_id: uuid.UUID, user: Staff, session: Session) -> ContactListOut:
    return await service.get(session, user, list_id)


@router.put("/contact-lists/{list_id}", responses=WRITE)
async def update_contact_list(
    list_id: uuid.UUID, form: ContactListForm, user: Staff, session: Session
) -> ContactListOut:
    """Rename one's list and replace its entries."""
    return await service.update(session, user, list_id, form)


@router.delete("/contact-lists/{list_id}", status_code=204, responses=READ)
async def delete_contact_list(list_id: uuid.UUID, user: Staff, session: Session) -> Response:
    await service.delete(session, user, list_id)
    return Response(status_code=204)
