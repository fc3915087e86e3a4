"""Recipients: whom a message can be addressed to."""

from fastapi import APIRouter

from messaging.mailboxes import service
from messaging.mailboxes.schemas import RecipientOut, RecipientSearch
from messaging.people import Staff
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["mailboxes"])


@router.post("/recipients/search", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def search_recipients(form: RecipientSearch, user: Staff, session: Session) -> list[RecipientOut]:
    """Recipients by name (or a citizen by personnummer, which never goes in a URL):
    citizens with the message function on, shown "Name (YYYYMMDD-XXXX)" (MS-2);
    staff and group mailboxes."""
    return await service.search_recipients(session, user, form)
