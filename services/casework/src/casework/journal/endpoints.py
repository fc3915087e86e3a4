"""The journal of an intake record, and of its cases."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from casework.journal import service
from casework.journal.schemas import CaseJournalOut, JournalCaseLink, JournalEntryOut, RecordJournalOut
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["journal"])


@router.get(
    "/intake-records/{record_id}/journal", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound)
)
async def record_journal(record_id: uuid.UUID, user: Caseworker, session: Session) -> RecordJournalOut:
    """The intake record's journal entries (journaled messages, attributed to their
    real author), newest first; their attachments are documents of the record
    (GET /documents/{id})."""
    return await service.of_record(session, user, record_id)


@router.get("/cases/{case_id}/journal", responses=problem_responses(NotAuthenticated, NotAllowed, NotFound))
async def case_journal(case_id: uuid.UUID, user: Caseworker, session: Session) -> CaseJournalOut:
    """The journal entries filed under the case (ärende), newest first."""
    return await service.of_case(session, user, case_id)


@router.put(
    "/journal-entries/{entry_id}/case",
    responses=problem_responses(NotAuthenticated, NotAllowed, NotFound, InvalidInput, Conflict),
)
async def file_under_case(
    entry_id: uuid.UUID, form: JournalCaseLink, user: Caseworker, session: Session
) -> JournalEntryOut:
    """File a journal entry under a case of its intake record (Knyt till ärende), its
    attachments becoming documents of the case; `case_id: null` files it under the record alone."""
    return await service.file_under_case(session, user, entry_id, form)
