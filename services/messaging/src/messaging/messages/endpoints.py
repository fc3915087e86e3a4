"""Mailboxes and messages: staff (personal and group mailboxes) and the citizen's
e-service (a related person acts with `acting_for`, their approval's id)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from messaging.messages import service
from messaging.messages.schemas import (
    CitizenMailboxOut,
    CitizenMessageForm,
    CitizenReplyForm,
    DraftForm,
    ForwardForm,
    MailboxOut,
    MessageForm,
    MessageOut,
    MessageSummary,
    ReplyForm,
)
from messaging.models import Folder
from messaging.people import Staff
from shared.auth import Citizen
from shared.db import Session
from shared.pdf import PdfResponse
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["messages"])
citizen_router = APIRouter(tags=["e-service messages"])

READ = problem_responses(NotAuthenticated, NotAllowed, NotFound)
WRITE = problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict)
# Which of the user's mailboxes a message is opened in (default: the first holding it).
InMailbox = Annotated[uuid.UUID | None, Query()]
# A related person acting for the citizen: the approval's id (acting for someone).
ActingFor = Annotated[uuid.UUID | None, Query()]


@router.get("/mailboxes", responses=problem_responses(NotAuthenticated, NotAllowed))
async def list_mailboxes(user: Staff, session: Session) -> list[MailboxOut]:
    """The mailboxes the user may use (Min brevlåda, Gemensamma brevlådor), with unread counts."""
    return await service.overview(session, user)


@router.get("/mailboxes/{mailbox_id}/messages", responses=READ)
async def list_folder(
    mailbox_id: uuid.UUID, user: Staff, session: Session, folder: Folder = Folder.INBOX
) -> list[MessageSummary]:
    """A folder (inbox, sent, drafts) of one of the user's mailboxes, newest first."""
    return await service.list_folder(session, user, mailbox_id, folder)


@router.post("/messages", status_code=201, responses=WRITE)
async def send_message(form: MessageForm, user: Staff, session: Session) -> MessageOut:
    """Skriv nytt: from one of the user's mailboxes to staff or group mailboxes and/or
    the client's e-service (only their caseworker or co-caseworker, MS-3)."""
    return await service.send(session, user, form)


@router.post("/messages/{message_id}/send", responses=WRITE)
async def send_draft(message_id: uuid.UUID, user: Staff, session: Session) -> MessageOut:
    """Send a draft (Utkast)."""
    return await service.send_draft(session, user, message_id)


@router.get("/messages/{message_id}", responses=READ)
async def read_message(
    message_id: uuid.UUID, user: Staff, session: Session, mailbox_id: InMailbox = None
) -> MessageOut:
    """Open a message: marked read; the sender gets a receipt if they asked for one."""
    return await service.read(session, user, message_id, mailbox_id)


@router.delete("/messages/{message_id}", status_code=204, responses=READ)
async def delete_message(
    message_id: uuid.UUID, user: Staff, session: Session, mailbox_id: InMailbox = None
) -> Response:
    """Delete the message from the user's mailbox (others' copies stay)."""
    await service.delete(session, user, message_id, mailbox_id)
    return Response(status_code=204)


@router.post("/messages/{message_id}/reply", status_code=201, responses=WRITE)
async def reply(message_id: uuid.UUID, form: ReplyForm, user: Staff, session: Session) -> MessageOut:
    """Svara: to the sender."""
    return await service.reply(session, user, message_id, form, everyone=False)


@router.post("/messages/{message_id}/reply-all", status_code=201, responses=WRITE)
async def reply_all(message_id: uuid.UUID, form: ReplyForm, user: Staff, session: Session) -> MessageOut:
    """Svara alla: to the sender and every recipient."""
    return await service.reply(session, user, message_id, form, everyone=True)


@router.post("/messages/{message_id}/forward", status_code=201, responses=WRITE)
async def forward(message_id: uuid.UUID, form: ForwardForm, user: Staff, session: Session) -> MessageOut:
    """Vidarebefordra, attachments included."""
    return await service.forward(session, user, message_id, form)


@router.get(
    "/messages/{message_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses=READ,
)
async def download_attachment(
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    user: Staff,
    session: Session,
    mailbox_id: InMailbox = None,
) -> StreamingResponse:
    """An attachment of a message the user may read, streamed."""
    return await service.attachment(
        session, request.app.state.sessionmaker, user, message_id, attachment_id, mailbox_id
    )


@citizen_router.get("/e-service/mailbox", responses=READ)
async def citizen_mailbox(user: Citizen, session: Session, acting_for: ActingFor = None) -> CitizenMailboxOut:
    """The e-service mailbox (while the message function is on), its unread count and the
    caseworkers one may write to."""
    return await service.citizen_mailbox(session, user, acting_for)


@citizen_router.get("/e-service/messages", responses=READ)
async def citizen_messages(
    user: Citizen, session: Session, folder: Folder = Folder.INBOX, acting_for: ActingFor = None
) -> list[MessageSummary]:
    """The e-service mailbox's inbox (or sent), newest first."""
    return await service.citizen_list(session, user, acting_for, folder)


@citizen_router.post("/e-service/messages", status_code=201, responses=WRITE)
async def citizen_send(
    form: CitizenMessageForm, user: Citizen, session: Session, acting_for: ActingFor = None
) -> MessageOut:
    """Write to one's caseworker(s); a related person writes for the citizen, as themselves."""
    return await service.citizen_send(session, user, acting_for, form)


@citizen_router.get("/e-service/messages/{message_id}", responses=READ)
async def citizen_read(
    message_id: uuid.UUID, user: Citizen, session: Session, acting_for: ActingFor = None
) -> MessageOut:
    """Open a message in the e-service mailbox (marked read; a receipt if asked for)."""
    return await service.citizen_read(session, user, acting_for, message_id)


@citizen_router.delete("/e-service/messages/{message_id}", status_code=204, responses=READ)
async def citizen_delete(
    message_id: uuid.UUID, user: Citizen, session: Session, acting_for: ActingFor = None
) -> Response:
    await service.citizen_delete(session, user, acting_for, message_id)
    return Response(status_code=204)


@citizen_router.post("/e-service/messages/{message_id}/reply", status_code=201, responses=WRITE)
async def citizen_reply(
    message_id: uuid.UUID,
    form: CitizenReplyForm,
    user: Citizen,
    session: Session,
    acting_for: ActingFor = None,
) -> MessageOut:
    """Reply from the e-service to whoever wrote the message."""
    return await service.citizen_reply(session, user, acting_for, message_id, form)


@citizen_router.get(
    "/e-service/messages/{message_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses=READ,
)
async def citizen_attachment(
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    user: Citizen,
    session: Session,
    acting_for: ActingFor = None,
) -> StreamingResponse:
    return await service.citizen_attachment(
        session, request.app.state.sessionmaker, user, acting_for, message_id, attachment_id
    )


# ---- editing a draft, printing ---------------------------------------------

PDF = {200: {"content": {"application/pdf": {}}}, **READ}
PDF_HEADERS = {"content-disposition": 'inline; filename="meddelande.pdf"', "cache-control": "no-store"}


@router.put("/messages/{message_id}", responses=WRITE)
async def edit_draft(message_id: uuid.UUID, form: DraftForm, user: Staff, session: Session) -> MessageOut:
    """Save one's own draft (Utkast) again: Till, Till klient, Ämne, the text, Läskvitto,
    Bilagor (the ids it is to have). A sent message cannot be edited (409)."""
    return await service.edit_draft(session, user, message_id, form)


@router.get("/messages/{message_id}/pdf", response_class=Response, responses=PDF)
async def message_pdf(
    message_id: uuid.UUID, user: Staff, session: Session, mailbox_id: InMailbox = None
) -> Response:
    """The message as a printable PDF: Från, Till, Till klient, Ämne, Datum, the text, Bilagor."""
    document = await service.document(session, user, message_id, mailbox_id)
    return PdfResponse(document, headers=PDF_HEADERS)


@citizen_router.get("/e-service/messages/{message_id}/pdf", response_class=Response, responses=PDF)
async def citizen_message_pdf(
    message_id: uuid.UUID, user: Citizen, session: Session, acting_for: ActingFor = None
) -> Response:
    """A message in the e-service mailbox as a printable PDF."""
    document = await service.citizen_document(session, user, acting_for, message_id)
    return PdfResponse(document, headers=PDF_HEADERS)
