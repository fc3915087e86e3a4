"""Journaling a message into an intake record (Journalför), its status, the
capability route casework fetches attachments through, and the retention rule."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from messaging.journal import service
from messaging.journal.schemas import JournalForm, JournalRequestOut, MessageJournalOut, RetentionOut
from messaging.journal.settings import JournalConfig, config
from shared.auth import Role, User, require_role
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["journal"])

# Who may journal from the message view: caseworkers, and provider staff under
# their assignment rule (see service).
Journaler = Annotated[User, Depends(require_role(Role.CASEWORKER, Role.PROVIDER, Role.PROVIDER_MANAGER))]
RetentionAdmin = Annotated[User, Depends(require_role(Role.MESSAGING_ADMIN, Role.ADMIN))]
Config = Annotated[JournalConfig, Depends(config)]
Token = Annotated[str, Query(min_length=1, max_length=200)]


@router.post(
    "/messages/{message_id}/journal",
    status_code=202,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict),
)
async def journal_message(
    message_id: uuid.UUID, form: JournalForm, user: Journaler, session: Session, journal_config: Config
) -> JournalRequestOut:
    """Journalför: journal the message (and file its attachments) into an intake
    record of the person it concerns, held by one of your units. Casework writes
    the entry; the message shows as journaled once it has (GET .../journal)."""
    return await service.journal(session, user, message_id, form, journal_config)


@router.get(
    "/messages/{message_id}/journal", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound)
)
async def message_journal(message_id: uuid.UUID, user: Journaler, session: Session) -> MessageJournalOut:
    """Whether the message is journaled, and into which intake records."""
    return await service.status(session, user, message_id)


@router.get(
    f"{service.FETCH_ROUTE}/{{attachment_id}}",
    response_class=StreamingResponse,
    responses=problem_responses(NotAllowed, NotFound),
)
async def journal_fetch(
    attachment_id: uuid.UUID, token: Token, request: Request, session: Session, journal_config: Config
) -> StreamingResponse:
    """An attachment of a message being journaled, for casework: the capability URL
    of MessageJournalRequested (no bearer token; the link is bound to the attachment
    and the journal request, expires, and is spent once the message is journaled)."""
    return await service.fetch(session, request.app.state.sessionmaker, attachment_id, token, journal_config)


@router.post("/admin/retention", responses=problem_responses(NotAuthenticated, NotAllowed))
async def run_retention(
    user: RetentionAdmin, session: Session, journal_config: Config, dry_run: bool = True
) -> RetentionOut:
    """The retention rule (MS-11): purge the messages journaled longer ago than
    MESSAGING_RETENTION_DAYS_AFTER_JOURNAL (90 days), with their attachments.
    `dry_run=true` (the default) only lists them. Every purge is audit-logged."""
    return await service.retention(session, user, dry_run, journal_config)
