"""The journal of an intake record."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from casework.journal import service
from casework.journal.schemas import RecordJournalOut
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["journal"])


@router.get(
    "/intake-records/{record_id}/journal", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound)
)
async def record_journal(record_id: uuid.UUID, user: Caseworker, session: Session) -> RecordJournalOut:
    """The intake record's journal entries (journaled messages, attributed to their
    real author), newest first; their attachments are documents of the record
    (GET /documents/{id})."""
    return await service.of_record(session, user, record_id)
